package board_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	boardnet "github.com/esp8266sim/esp8266sim/board/net"
	"github.com/esp8266sim/esp8266sim/netstack"
)

// testPKI is a CA and a server certificate for "www.example.com", valid
// around the simulator's start date.
type testPKI struct {
	caDER  []byte
	server tls.Certificate
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	notBefore := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "esp8266sim test CA"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	// RSA: the ESP8266's axTLS speaks RSA only.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "www.example.com"},
		DNSNames:     []string{"www.example.com", "example.com"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return &testPKI{caDER: caDER, server: tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key}}
}

// withAxTLSSuites is crypto/tls's default suites plus the RSA key-exchange
// ones the ESP8266's axTLS offers (crypto/tls leaves them out by default;
// most public servers still accept them).
func withAxTLSSuites() []uint16 {
	var out []uint16
	for _, cs := range tls.CipherSuites() {
		out = append(out, cs.ID)
	}
	return append(out, tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA, tls.TLS_RSA_WITH_AES_128_CBC_SHA256)
}

// httpsPeer answers n HTTPS requests with a small page; handshake errors
// (a board that rejects the certificate) count as served.
func httpsPeer(t *testing.T, l *lan, pc *netstack.Sockets, pki *testPKI, n int) <-chan error {
	ln, err := pc.ListenTCP(ap("10.0.0.1:443"), 4)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{pki.server}, Time: l.clock.Now, CipherSuites: withAxTLSSuites()}
	return goPeer(pc, func() error {
		for i := 0; i < n; i++ {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			tc := tls.Server(c, cfg)
			if err := tc.Handshake(); err != nil {
				c.Close()
				continue
			}
			req, err := http.ReadRequest(bufio.NewReader(tc))
			if err != nil {
				tc.Close()
				continue
			}
			body := "hello over TLS from " + req.Host + "\n"
			fmt.Fprintf(tc, "HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
			tc.Close()
		}
		return nil
	})
}

const httpsClient = `
import socket, ssl
def get(**kw):
    s = socket.socket()
    s.connect(('10.0.0.1', 443))
    try:
        ss = ssl.wrap_socket(s, **kw)
    except Exception as e:
        print('wrap failed:', type(e).__name__, repr(e.args[0]) if e.args else '')
        s.close()
        return
    ss.write(b'GET / HTTP/1.0\r\nHost: www.example.com\r\n\r\n')
    resp = b''
    while True:
        d = ss.read(64)
        if not d:
            break
        resp += d
    ss.close()
    print(resp.split(b'\r\n\r\n')[1])
`

func TestTLSAxTLSNoVerification(t *testing.T) {
	pki := newPKI(t)
	l := newLAN(t)
	pc := l.peer("web", 1, netstack.Impairments{})
	peer := httpsPeer(t, l, pc, pki, 2)
	r := l.start("esp1", 2, httpsClient+`
get()
get(server_hostname='www.example.com')
print(hasattr(ssl, 'CERT_REQUIRED'))
`, boardnet.SocketEnv{}, netstack.Impairments{Latency: 10 * time.Millisecond})
	out := r.wait(t, peer)
	if n := strings.Count(out, "b'hello over TLS from www.example.com\\n'"); n != 2 {
		t.Errorf("want two pages over TLS:\n%s", out)
	}
	wantLines(t, "esp1", out, "False")
}

func TestTLSMbedTLSVerification(t *testing.T) {
	pki := newPKI(t)
	l := newLAN(t)
	pc := l.peer("web", 1, netstack.Impairments{})
	peer := httpsPeer(t, l, pc, pki, 4)
	ca := fmt.Sprintf("%q", pki.caDER)
	_ = ca
	var hexCA strings.Builder
	for _, b := range pki.caDER {
		fmt.Fprintf(&hexCA, "%02x", b)
	}
	r := l.start("esp1", 2, "import binascii\nCA = binascii.unhexlify('"+hexCA.String()+"')\n"+httpsClient+`
get(cert_reqs=ssl.CERT_REQUIRED, cadata=CA, server_hostname='www.example.com')
get()
get(cert_reqs=ssl.CERT_REQUIRED, cadata=CA, server_hostname='wrong.example.org')
get(cert_reqs=ssl.CERT_REQUIRED, server_hostname='www.example.com')
s = socket.socket()
s.connect(('10.0.0.1', 443))
try:
    ssl.wrap_socket(s, cert_reqs=ssl.CERT_REQUIRED, cadata=CA)
except ValueError as e:
    print(e)
`, boardnet.SocketEnv{TLS: "mbedtls"}, netstack.Impairments{Latency: 10 * time.Millisecond})
	out := r.wait(t)
	pc.Actor.Wake()
	if n := strings.Count(out, "b'hello over TLS from www.example.com\\n'"); n != 2 {
		t.Errorf("want two pages (verified, unverified):\n%s", out)
	}
	wantLines(t, "esp1", out,
		`wrap failed: ValueError '\nThe certificate Common Name (CN) does not match with the expected CN\n'`,
		`wrap failed: ValueError '\nThe certificate is not correctly signed by the trusted CA\n'`,
		"CERT_REQUIRED requires server_hostname")
	_ = peer
}

func TestAsyncioOverTLS(t *testing.T) {
	pki := newPKI(t)
	l := newLAN(t)
	pc := l.peer("web", 1, netstack.Impairments{})
	peer := httpsPeer(t, l, pc, pki, 1)
	r := l.start("esp1", 2, `
import asyncio

async def main():
    reader, writer = await asyncio.open_connection('10.0.0.1', 443, ssl=True, server_hostname='www.example.com')
    writer.write(b'GET / HTTP/1.0\r\nHost: www.example.com\r\n\r\n')
    await writer.drain()
    status = await reader.readline()
    body = await reader.read()
    print(status, body.split(b'\r\n\r\n')[-1])
    await writer.wait_closed()

asyncio.run(main())
`, boardnet.SocketEnv{}, netstack.Impairments{Latency: 5 * time.Millisecond})
	out := r.wait(t, peer)
	wantLines(t, "esp1", out, `b'HTTP/1.0 200 OK\r\n' b'hello over TLS from www.example.com\n'`)
}
