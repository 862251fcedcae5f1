package board_test

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	boardnet "github.com/esp8266sim/esp8266sim/board/net"
	"github.com/esp8266sim/esp8266sim/netstack"
)

func TestScriptTCPClientHelloEcho(t *testing.T) {
	l := newLAN(t)
	var heard []byte
	peer := l.tcpPeer("10.0.0.1:8888", netstack.Impairments{}, func(pc *netstack.Sockets, c *netstack.Conn) error {
		buf := make([]byte, 64)
		for !bytes.Contains(heard, []byte("IP.")) {
			n, err := c.Read(buf)
			if err != nil {
				return err
			}
			heard = append(heard, buf[:n]...)
		}
		if _, err := c.Write([]byte("ping 1")); err != nil {
			return err
		}
		got := make([]byte, 6)
		if _, err := io.ReadFull(c, got); err != nil {
			return err
		}
		if string(got) != "ping 1" {
			return fmt.Errorf("echo = %q", got)
		}
		return c.Close()
	})
	r := l.start("esp1", 2, `
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.connect(("10.0.0.1", 8888))
print("TCP Connected")
s.send('Hello')
s.send('This is my IP.')
while True:
    data = s.recv(1024)
    if len(data) == 0:
        print("Close socket")
        s.close()
        break
    print(data)
    ret = s.send(data)
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t)
	if err := <-peer; err != nil {
		t.Fatalf("peer: %v\nconsole:\n%s", err, out)
	}
	want := "TCP Connected\nb'ping 1'\nClose socket\n"
	if strings.ReplaceAll(out, "\r\n", "\n") != want {
		t.Errorf("console = %q, want %q", out, want)
	}
	if string(heard) != "HelloThis is my IP." {
		t.Errorf("peer heard %q", heard)
	}
	if !strings.Contains(r.trace(), "esp1 socket.connect(('10.0.0.1', 8888))") {
		t.Errorf("trace lacks the connect line:\n%s", r.trace())
	}
}
