package board_test

import (
	"bytes"
	"testing"

	boardnet "github.com/esp8266sim/esp8266sim/board/net"
	"github.com/esp8266sim/esp8266sim/netstack"
)

// TestStreamReadsCappedAtHeap: a peer that sends 100 KB without a newline
// cannot make readline() or read() grow a host buffer past the board's
// heap: both raise MemoryError, as vstr growth does on the chip.
func TestStreamReadsCappedAtHeap(t *testing.T) {
	l := newLAN(t)
	pc, ln := l.listener("pc", "10.0.0.1:7", 4, netstack.Impairments{})
	peer := goPeer(pc, func() error {
		for i := 0; i < 2; i++ {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			c.Write(bytes.Repeat([]byte("x"), 100_000))
			c.Close()
		}
		return nil
	})
	r := l.start("esp1", 2, `
import socket
for how in ('readline', 'read'):
    s = socket.socket()
    s.connect(('10.0.0.1', 7))
    try:
        line = s.readline() if how == 'readline' else s.read()
        print(how, 'returned', len(line))
    except MemoryError as e:
        print(how, 'MemoryError')
    s.close()
`, boardnet.SocketEnv{}, netstack.Impairments{})
	out := r.wait(t, peer)
	wantLines(t, "esp1", out, "readline MemoryError", "read MemoryError")
}
