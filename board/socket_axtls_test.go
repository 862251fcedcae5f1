package board_test

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	boardnet "github.com/esp8266sim/esp8266sim/board/net"
	"github.com/esp8266sim/esp8266sim/netstack"
)

// clientHello is the parts of a ClientHello record the tests look at.
type clientHello struct {
	recordVersion, version uint16
	sessionID              int
	suites                 []uint16
	compression            []byte
	extensions             []uint16
	sni                    string
}

func parseClientHello(rec []byte) (clientHello, error) {
	var h clientHello
	if len(rec) < 5+4+2+32+1 || rec[0] != 22 || rec[5] != 1 {
		return h, fmt.Errorf("not a ClientHello record: % x", rec[:min(len(rec), 16)])
	}
	h.recordVersion = binary.BigEndian.Uint16(rec[1:])
	b := rec[9:]
	h.version = binary.BigEndian.Uint16(b)
	b = b[34:]
	h.sessionID = int(b[0])
	b = b[1+h.sessionID:]
	n := int(binary.BigEndian.Uint16(b))
	for i := 0; i < n; i += 2 {
		h.suites = append(h.suites, binary.BigEndian.Uint16(b[2+i:]))
	}
	b = b[2+n:]
	h.compression = b[1 : 1+int(b[0])]
	b = b[1+int(b[0]):]
	if len(b) < 2 {
		return h, nil
	}
	b = b[2:]
	for len(b) >= 4 {
		typ, l := binary.BigEndian.Uint16(b), int(binary.BigEndian.Uint16(b[2:]))
		h.extensions = append(h.extensions, typ)
		if typ == 0 {
			h.sni = string(b[4+5 : 4+l])
		}
		b = b[4+l:]
	}
	return h, nil
}

// readRecord reads one TLS record (or whatever 5+length bytes arrive).
func readRecord(c net.Conn) ([]byte, error) {
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(c, hdr); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint16(hdr[3:]))
	if _, err := io.ReadFull(c, body); err != nil {
		return nil, err
	}
	return append(hdr, body...), nil
}

// Row 13: the board's ClientHello is axTLS's: TLS 1.2, no session id, the
// four AES-CBC RSA suites in CONFIG_SSL_PROT_LOW order, null compression,
// signature_algorithms then server_name and nothing else.
func TestAxTLSClientHello(t *testing.T) {
	l := newLAN(t)
	pc, ln := l.listener("web", "10.0.0.1:443", 2, netstack.Impairments{})
	var rec []byte
	peer := goPeer(pc, func() error {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		defer c.Close()
		rec, err = readRecord(c)
		return err
	})
	r := l.start("esp1", 2, `
import socket, ssl
s = socket.socket()
s.connect(('10.0.0.1', 443))
try:
    ssl.wrap_socket(s, server_hostname='www.example.com')
except OSError as e:
    print('OSError', e.args)
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t)
	if err := <-peer; err != nil {
		t.Fatalf("peer: %v\n%s", err, out)
	}
	h, err := parseClientHello(rec)
	if err != nil {
		t.Fatal(err)
	}
	want := clientHello{
		recordVersion: 0x0303, version: 0x0303,
		suites:      []uint16{0x002f, 0x003c, 0x0035, 0x003d},
		compression: []byte{0},
		extensions:  []uint16{13, 0},
		sni:         "www.example.com",
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("ClientHello\n got %+v\nwant %+v", h, want)
	}
	// The peer closed without answering: axTLS's CONN_LOST.
	wantLines(t, "esp1", out, "OSError (-256, 'CONN_LOST')")
}

// Row 13: a plain-HTTP answer to the ClientHello is read as a record whose
// length field is "P/" (20527): axTLS prints its overflow line, then fails
// with RECORD_OVERFLOW. A page larger than axTLS's buffer in one record
// does the same after a good handshake.
func TestAxTLSPlainHTTPIsRecordOverflow(t *testing.T) {
	l := newLAN(t)
	pc, ln := l.listener("web", "10.0.0.1:443", 2, netstack.Impairments{})
	peer := goPeer(pc, func() error {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := readRecord(c); err != nil {
			return err
		}
		_, err = c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
		netstack.Sleep(l.ctx, pc.Actor, time.Second)
		return err
	})
	r := l.start("esp1", 2, `
import socket, ssl
s = socket.socket()
s.connect(('10.0.0.1', 443))
try:
    ssl.wrap_socket(s)
except OSError as e:
    print('OSError', e.args)
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t)
	if err := <-peer; err != nil {
		t.Fatalf("peer: %v\n%s", err, out)
	}
	wantLines(t, "esp1", out, "TLS buffer overflow, record size: 20527 (+5)", "OSError (-257, 'RECORD_OVERFLOW')")
}

// Row 13: keys and certificates are DER only, the key is checked before the
// certificate, a key without a certificate is a TypeError, there is no
// CERT_REQUIRED, wrap_socket takes any stream, and the SSLSocket has only
// axTLS's stream methods. A server given no key presents axTLS's built-in
// certificate (O=axTLS Project, CN=localhost).
func TestAxTLSModuleSurface(t *testing.T) {
	pki := newPKI(t)
	certDER := pki.server.Certificate[0]
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER})
	keyDER := x509.MarshalPKCS1PrivateKey(pki.server.PrivateKey.(*rsa.PrivateKey))
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: keyDER})
	l := newLAN(t)
	pc := l.peer("client", 1, netstack.Impairments{})
	var subject pkix.Name
	var suite uint16
	var got []byte
	peer := goPeer(pc, func() error {
		c, err := l.dialBoard(pc, "10.0.0.2:443")
		if err != nil {
			return err
		}
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, Time: l.clock.Now, CipherSuites: withAxTLSSuites()})
		if _, err := tc.Write([]byte("hello\n")); err != nil {
			return err
		}
		st := tc.ConnectionState()
		subject, suite = st.PeerCertificates[0].Subject, st.CipherSuite
		got, err = io.ReadAll(tc)
		return err
	})
	r := l.start("esp1", 2, fmt.Sprintf(`
import io, socket, ssl, tls
KEY = %s
CERT = %s
KEYPEM = %s
CERTPEM = %s
def t(name, f):
    try:
        f()
        print(name, 'ok')
    except Exception as e:
        print(name, type(e).__name__, e.args)
t('pem key', lambda: ssl.wrap_socket(io.BytesIO(), key=KEYPEM, cert=CERT))
t('bad key and cert', lambda: ssl.wrap_socket(io.BytesIO(), key=b'!', cert=b'!'))
t('pem cert', lambda: ssl.wrap_socket(io.BytesIO(), key=KEY, cert=CERTPEM))
t('no cert', lambda: ssl.wrap_socket(io.BytesIO(), key=KEY))
t('der', lambda: ssl.wrap_socket(io.BytesIO(), key=KEY, cert=CERT, server_side=True))
t('bytesio client', lambda: ssl.wrap_socket(io.BytesIO()))
print('CERT_REQUIRED', hasattr(ssl, 'CERT_REQUIRED'), hasattr(tls, 'CERT_REQUIRED'))
s = socket.socket()
s.bind(('', 443))
s.listen(1)
c, addr = s.accept()
ss = ssl.wrap_socket(c, server_side=True)
print('methods', sorted(n for n in dir(ss) if not n.startswith('_')))
print('got', ss.readline())
# mp_stream_write_obj, as the socket's: write(buf, max_len), write(buf, off, max_len).
print('wrote', ss.write(b'bye!', 3), ss.write(b'xx\n', 2, 1))
ss.close()
s.close()
`, pyBytes(keyDER), pyBytes(certDER), pyBytes(keyPEM), pyBytes(certPEM)), boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t)
	if err := <-peer; err != nil {
		t.Fatalf("client: %v\n%s", err, out)
	}
	wantLines(t, "esp1", out,
		"pem key ValueError ('invalid key',)",
		"bad key and cert ValueError ('invalid key',)",
		"pem cert ValueError ('invalid cert',)",
		"no cert TypeError (\"can't convert 'NoneType' object to str implicitly\",)",
		"der ok",
		"bytesio client OSError (-256, 'CONN_LOST')",
		"CERT_REQUIRED False False",
		"methods ['close', 'read', 'readinto', 'readline', 'setblocking', 'write']",
		"got b'hello\\n'",
		"wrote 3 1",
	)
	if string(got) != "bye\n" {
		t.Errorf("the client got %q after hello, want the board's two partial writes, \"bye\\n\"", got)
	}
	if len(subject.Organization) != 1 || subject.Organization[0] != "axTLS Project" || subject.CommonName != "localhost" {
		t.Errorf("built-in certificate subject %v, want O=axTLS Project, CN=localhost", subject)
	}
	if suite != tls.TLS_RSA_WITH_AES_128_CBC_SHA && suite != tls.TLS_RSA_WITH_AES_128_CBC_SHA256 && suite != tls.TLS_RSA_WITH_AES_256_CBC_SHA {
		t.Errorf("negotiated %s, want one of axTLS's RSA suites", tls.CipherSuiteName(suite))
	}
}

// pyBytes writes b as a Python bytes literal.
func pyBytes(b []byte) string {
	var sb strings.Builder
	sb.WriteString("b'")
	for _, c := range b {
		fmt.Fprintf(&sb, "\\x%02x", c)
	}
	sb.WriteString("'")
	return sb.String()
}

// Row 13: wrap_socket over a stream object that is not a board socket runs
// the same axTLS client through the object's write and readinto: here a
// Python class relaying to a socket, against a crypto/tls server.
func TestAxTLSOverAnyStream(t *testing.T) {
	pki := newPKI(t)
	l := newLAN(t)
	pc := l.peer("web", 1, netstack.Impairments{})
	peer := httpsPeer(t, l, pc, pki, 1)
	r := l.start("esp1", 2, `
import socket, ssl
class Relay:
    def __init__(self, s):
        self.s = s
        self.wrote = 0
    def write(self, b):
        self.wrote += len(b)
        return self.s.write(b)
    def readinto(self, b):
        return self.s.readinto(b)
    def close(self):
        print("relay closed, wrote", self.wrote > 0)
        self.s.close()
s = socket.socket()
s.connect(('10.0.0.1', 443))
ss = ssl.wrap_socket(Relay(s), server_hostname='www.example.com')
print(ss)
ss.write(b'GET / HTTP/1.0\r\nHost: www.example.com\r\n\r\n')
print(ss.readline())
print(ss.read())
ss.close()
try:
    ss.read(1)
except OSError as e:
    print('closed', e.args)
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t)
	if err := <-peer; err != nil {
		t.Fatalf("peer: %v\n%s", err, out)
	}
	wantLines(t, "esp1", out,
		"<SSLSocket>",
		`b'HTTP/1.0 200 OK\r\n'`,
		`b'Content-Length: 36\r\n\r\nhello over TLS from www.example.com\n'`,
		"relay closed, wrote True",
		"closed (9,)",
	)
}
