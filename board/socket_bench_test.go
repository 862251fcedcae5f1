package board_test

import (
	"io"
	"testing"

	"github.com/esp8266sim/esp8266sim/board"
	"github.com/esp8266sim/esp8266sim/netstack"
)

// BenchmarkTCPBoardToHost measures TCP throughput from a board to a host on
// the LAN, in wall-clock MB/s: "board" is a MicroPython send loop through
// the socket module, the lwIP model, gVisor and the medium; "raw-gvisor" is
// a Go program sending the same bytes over the same medium, for comparison.
func BenchmarkTCPBoardToHost(b *testing.B) {
	const total = 1 << 20
	b.Run("board", func(b *testing.B) {
		b.SetBytes(total)
		for i := 0; i < b.N; i++ {
			l := newLAN(b)
			pc := l.peer("host", 1, netstack.Impairments{})
			ln, err := pc.ListenTCP(ap("10.0.0.1:5001"), 4)
			if err != nil {
				b.Fatal(err)
			}
			var n int64
			peer := goPeer(pc, func() error {
				c, err := ln.Accept()
				if err != nil {
					return err
				}
				n, err = io.Copy(io.Discard, c)
				return err
			})
			r := l.start("esp1", 2, `
import socket
s = socket.socket()
s.connect(('10.0.0.1', 5001))
buf = bytes(1024)
for i in range(1024):
    s.sendall(buf)
s.close()
`, board.SocketEnv{}, netstack.Impairments{})
			r.wait(b)
			if err := <-peer; err != nil || n != total {
				b.Fatalf("peer got %d bytes: %v\n%s", n, err, r.console.String())
			}
		}
	})
	b.Run("raw-gvisor", func(b *testing.B) {
		b.SetBytes(total)
		for i := 0; i < b.N; i++ {
			l := newLAN(b)
			pc := l.peer("host", 1, netstack.Impairments{})
			ln, err := pc.ListenTCP(ap("10.0.0.1:5001"), 4)
			if err != nil {
				b.Fatal(err)
			}
			var n int64
			peer := goPeer(pc, func() error {
				c, err := ln.Accept()
				if err != nil {
					return err
				}
				n, err = io.Copy(io.Discard, c)
				return err
			})
			src := l.peer("sender", 2, netstack.Impairments{})
			done := goPeer(src, func() error {
				c, err := src.DialTCP(ap("10.0.0.1:5001"))
				if err != nil {
					return err
				}
				buf := make([]byte, 1024)
				for k := 0; k < 1024; k++ {
					if _, err := c.Write(buf); err != nil {
						return err
					}
				}
				return c.Close()
			})
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			if err := <-peer; err != nil || n != total {
				b.Fatalf("peer got %d bytes: %v", n, err)
			}
		}
	})
}
