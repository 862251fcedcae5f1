package board_test

import (
	"bytes"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"

	boardnet "github.com/esp8266sim/esp8266sim/board/net"
	"github.com/esp8266sim/esp8266sim/netstack"
)

func TestSelectAndPollOverSockets(t *testing.T) {
	l := newLAN(t)
	a := l.start("esp1", 2, `
import socket, select
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(('', 6000))
srv = socket.socket()
srv.bind(('', 6001))
srv.listen(2)
r, w, x = select.select([u, srv], [], [], 0)
print('idle', len(r), len(w), len(x))
r, w, x = select.select([u, srv], [u], [], 5)
print('udp writable', w == [u])
got = 0
while got < 2:
    r, w, x = select.select([u, srv], [], [], 10)
    for s in r:
        if s is u:
            print('udp', u.recv(20))
        else:
            c, addr = srv.accept()
            print('tcp from', addr[0])
            c.close()
        got += 1
p = select.poll()
p.register(u, select.POLLIN)
print('poll timeout', p.poll(250))
c = socket.socket()
p.register(c)
print('new socket', p.poll(0)[0][1] & select.POLLHUP)
c.close()
print('closed socket', p.poll(0)[0][1] & 0x20)  # select has no POLLNVAL
p.unregister(c)
try:
    p.modify(c, select.POLLIN)
except OSError as e:
    print('modify', e.errno)
`, boardnet.SocketEnv{}, netstack.Impairments{})
	b := l.start("esp2", 3, `
import socket, time
time.sleep(1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b'datagram', ('10.0.0.2', 6000))
time.sleep(1)
s = socket.socket()
s.connect(('10.0.0.2', 6001))
time.sleep(1)
s.close()
`, boardnet.SocketEnv{}, netstack.Impairments{})
	outA := a.wait(t)
	b.wait(t)
	wantLines(t, "esp1", outA, "idle 0 0 0", "udp writable True", "udp b'datagram'", "tcp from 10.0.0.3",
		"poll timeout []", "new socket 16", "closed socket 32", "modify 2")
}

func TestTLSServerOnBoardAndPeerCert(t *testing.T) {
	pki := newPKI(t)
	l := newLAN(t)
	// axTLS loads DER only: a PKCS #1 key and a DER certificate.
	leafDER := pki.server.Certificate[0]
	keyDER := x509.MarshalPKCS1PrivateKey(pki.server.PrivateKey.(*rsa.PrivateKey))
	pc := l.peer("client", 1, netstack.Impairments{})
	var got []byte
	peer := goPeer(pc, func() error {
		// The board may start listening later than a second in: retry a
		// refused connection, as a client would.
		c, err := l.dialBoard(pc, "10.0.0.2:443")
		if err != nil {
			return err
		}
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, Time: l.clock.Now, CipherSuites: withAxTLSSuites()})
		if _, err := tc.Write([]byte("GET / HTTP/1.0\r\n\r\n")); err != nil {
			return err
		}
		got, err = io.ReadAll(tc)
		return err
	})
	r := l.start("esp1", 2, fmt.Sprintf(`
import socket, ssl
CERT = %s
KEY = %s
s = socket.socket()
s.bind(('', 443))
s.listen(1)
c, addr = s.accept()
ss = ssl.wrap_socket(c, server_side=True, cert=CERT, key=KEY)
print('request', ss.readline())
ss.write(b'HTTP/1.0 200 OK\r\n\r\nsecret page\n')
ss.close()
s.close()
`, pyBytes(leafDER), pyBytes(keyDER)), boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t)
	if err := <-peer; err != nil {
		t.Fatalf("client: %v\n%s", err, out)
	}
	if !bytes.HasSuffix(got, []byte("secret page\n")) {
		t.Errorf("client got %q\n%s", got, out)
	}
	wantLines(t, "esp1", out, `request b'GET / HTTP/1.0\r\n'`)

	// getpeercert(True) on the mbedTLS flavour returns the server's DER.
	pc2 := l.peer("web", 4, netstack.Impairments{})
	ln, err := pc2.ListenTCP(ap("10.0.0.4:443"), 2)
	if err != nil {
		t.Fatal(err)
	}
	peer2 := goPeer(pc2, func() error {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{pki.server}, Time: l.clock.Now})
		if err := tc.Handshake(); err != nil {
			return err
		}
		io.Copy(io.Discard, tc)
		return tc.Close()
	})
	r2 := l.start("esp2", 5, `
import socket, ssl, binascii
s = socket.socket()
s.connect(('10.0.0.4', 443))
ss = ssl.wrap_socket(s, server_hostname='www.example.com')
print('peer cert', binascii.hexlify(ss.getpeercert(True)).decode())
ss.close()
`, boardnet.SocketEnv{TLS: "mbedtls"}, netstack.Impairments{})
	out2 := r2.wait(t)
	if err := <-peer2; err != nil {
		t.Fatalf("server: %v\n%s", err, out2)
	}
	wantLines(t, "esp2", out2, "peer cert "+hex.EncodeToString(pki.server.Certificate[0]))
	_ = strings.TrimSpace
}

// A script spinning on a non-blocking socket lets simulator time move (each
// empty call costs a little), so the data it waits for arrives.
func TestBusyLoopOnNonBlockingSocket(t *testing.T) {
	l := newLAN(t)
	a := l.start("esp1", 2, `
import socket, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(('', 6100))
u.setblocking(False)
t0 = time.ticks_ms()
n = 0
while True:
    try:
        data = u.recv(32)
        break
    except OSError as e:
        n += 1
print('got', data, 'after', time.ticks_diff(time.ticks_ms(), t0) // 1000, 's', n > 100)
`, boardnet.SocketEnv{}, netstack.Impairments{})
	b := l.start("esp2", 3, `
import socket, time
time.sleep(2)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b'finally', ('10.0.0.2', 6100))
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := a.wait(t)
	b.wait(t)
	wantLines(t, "esp1", out, "got b'finally' after 2 s True")
}
