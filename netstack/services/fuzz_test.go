package services

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"github.com/esp8266sim/esp8266sim/netstack/internal/lantest"
)

// memConn is a net.Conn reading a fixed input and collecting output.
type memConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (m *memConn) Read(p []byte) (int, error)       { return m.in.Read(p) }
func (m *memConn) Write(p []byte) (int, error)      { return m.out.Write(p) }
func (m *memConn) Close() error                     { return nil }
func (m *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (m *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (m *memConn) SetDeadline(time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

// Whatever a script sends to the HTTP server, it answers or closes; it never
// panics or loops.
func FuzzHTTPRequest(f *testing.F) {
	for _, s := range []string{
		"GET /ks/test.html HTTP/1.0\r\nHost: micropython.org\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /a HTTP/1.1\r\nConnection: close\r\n\r\n",
		"POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
		"HEAD /ks/test.html HTTP/1.1\r\n\r\n",
		"GET /\x00 HTTP/9.9\r\n\r\n",
		"\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	lan := lantest.New(f, vclock.Fast)
	n := lan.AddNode(f, "host", netip.PrefixFrom(hostIP, 24), netip.Addr{})
	h, err := NewHost(HostConfig{Stack: n.Stack, Clock: lan.Clock})
	if err != nil {
		f.Fatal(err)
	}
	site := Site{"/ks/test.html": {Body: []byte(testPage)}, "/a": {Body: []byte("a"), Status: 201}}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &memConn{in: bytes.NewReader(data)}
		h.serveHTTP(c, site, HTTPOptions{})
		if c.out.Len() > 0 && !bytes.HasPrefix(c.out.Bytes(), []byte("HTTP/1.")) {
			t.Fatalf("answer does not start with a status line: %.40q", c.out.Bytes())
		}
	})
}

func FuzzNTPAnswer(f *testing.F) {
	q := make([]byte, 48)
	q[0] = 0x1b
	f.Add(q)
	f.Add([]byte{0x23})
	now := vclock.DefaultStart
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NTPAnswer(data, now)
		if r == nil {
			return
		}
		got, err := NTPTime(r)
		if err != nil || !got.Equal(now) {
			t.Fatalf("NTP time %v, %v; want %v", got, err, now)
		}
	})
}
