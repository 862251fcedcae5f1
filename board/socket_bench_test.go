package board_test

import (
	"io"
	"testing"

	"github.com/esp8266sim/esp8266sim/board"
	"github.com/esp8266sim/esp8266sim/netstack"
)

// BenchmarkTCPBoardToHost measures TCP throughput from a board to a host on
// the LAN in wall-clock MB/s: a MicroPython sendall loop through the socket
// module, the lwIP model (TCP_SND_BUF of 2920 bytes, Nagle on), gVisor and
// the medium. `make bench` compares it with netstack's raw gVisor figure
// (BenchmarkTCPThroughputDirect).
func BenchmarkTCPBoardToHost(b *testing.B) {
	const total = 1 << 20
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
}
