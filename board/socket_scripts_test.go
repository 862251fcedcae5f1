package board_test

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	boardnet "github.com/esp8266sim/esp8266sim/board/net"
	"github.com/esp8266sim/esp8266sim/netstack"
)

// page is the HTTP page the simulated web host serves.
var page = "<html><body>" + strings.Repeat("MicroPython on a simulated ESP8266. ", 30) + "</body></html>\n"

// httpPeer serves one HTTP/1.0 request per connection with page, n times.
func httpPeer(t *testing.T, pc *netstack.Sockets, addr string, n int) <-chan error {
	ln, err := pc.ListenTCP(ap(addr), 4)
	if err != nil {
		t.Fatal(err)
	}
	return goPeer(pc, func() error {
		for i := 0; i < n; i++ {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			var req []byte
			buf := make([]byte, 512)
			for !bytes.Contains(req, []byte("\r\n\r\n")) {
				k, err := c.Read(buf)
				if err != nil {
					return fmt.Errorf("reading request: %w (got %q)", err, req)
				}
				req = append(req, buf[:k]...)
			}
			if !bytes.HasPrefix(req, []byte("GET /ks/test.html HTTP/1.0\r\nHost: ")) {
				return fmt.Errorf("request %q", req)
			}
			resp := fmt.Sprintf("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(page), page)
			if _, err := c.Write([]byte(resp)); err != nil {
				return err
			}
			c.Close()
		}
		return nil
	})
}

func TestScriptHTTPGetInChunks(t *testing.T) {
	l := newLAN(t)
	pc := l.peer("web", 1, netstack.Impairments{Latency: 20 * time.Millisecond})
	peer := httpPeer(t, pc, "10.0.0.1:80", 1)
	r := l.start("esp1", 2, `
def http_get(url):
    import socket
    _, _, host, path = url.split('/', 3)
    addr = socket.getaddrinfo(host, 80)[0][-1]
    s = socket.socket()
    s.connect(addr)
    s.send(bytes('GET /%s HTTP/1.0\r\nHost: %s\r\n\r\n' % (path, host), 'utf8'))
    n = 0
    while True:
        data = s.recv(200)
        if data:
            n += 1
            assert len(data) <= 200
            print(str(data, 'utf8'), end='')
        else:
            break
    s.close()
    print('chunks', n)

http_get('http://10.0.0.1/ks/test.html')
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t)
	if err := <-peer; err != nil {
		t.Fatalf("peer: %v\nconsole:\n%s", err, out)
	}
	out = strings.ReplaceAll(out, "\r\n", "\n")
	if !strings.Contains(out, "HTTP/1.0 200 OK\nContent-Type: text/html") || !strings.Contains(out, page) {
		t.Errorf("console lacks the page:\n%s", out)
	}
	if !strings.Contains(out, "chunks ") {
		t.Errorf("script did not finish:\n%s", out)
	}
}

func TestScriptWebServerAnswersBrowser(t *testing.T) {
	l := newLAN(t)
	pc := l.peer("browser", 1, netstack.Impairments{Latency: 5 * time.Millisecond})
	var got []byte
	peer := goPeer(pc, func() error {
		// Give the board time to listen, then act like a browser.
		pc.Actor.Sleep(l.ctx, time.Second)
		c, err := pc.DialTCP(ap("10.0.0.2:80"))
		if err != nil {
			return err
		}
		req := "GET / HTTP/1.1\r\nHost: 10.0.0.2\r\nUser-Agent: Mozilla/5.0\r\nAccept: text/html\r\nConnection: keep-alive\r\n\r\n"
		if _, err := c.Write([]byte(req)); err != nil {
			return err
		}
		got, err = io.ReadAll(c)
		c.Close()
		return err
	})
	r := l.start("esp1", 2, `
html = """<!DOCTYPE html>
<html>
<head> <title>ESP8266 Server</title> </head>
<body>
<h1>Welcome to ESP8266 Server</h1>
</body>
</html>
"""
import socket
addr = socket.getaddrinfo('0.0.0.0', 80)[0][-1]
s = socket.socket()
s.bind(addr)
s.listen(1)
print('listening on', addr)
cl, addr = s.accept()
print('client connected from', addr)
cl_file = cl.makefile('rwb', 0)
while True:
    line = cl_file.readline()
    if not line or line == b'\r\n':
        break
cl.send('HTTP/1.0 200 OK\r\nContent-type: text/html\r\n\r\n')
cl.send(html)
cl.close()
s.close()
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t)
	if err := <-peer; err != nil {
		t.Fatalf("browser: %v\nconsole:\n%s", err, out)
	}
	if !strings.HasPrefix(string(got), "HTTP/1.0 200 OK\r\nContent-type: text/html\r\n\r\n<!DOCTYPE html>") || !strings.Contains(string(got), "<h1>Welcome to ESP8266 Server</h1>") {
		t.Errorf("browser got %q", got)
	}
	out = strings.ReplaceAll(out, "\r\n", "\n")
	if !strings.Contains(out, "listening on ('0.0.0.0', 80)\nclient connected from ('10.0.0.1', ") {
		t.Errorf("console:\n%s", out)
	}
}
