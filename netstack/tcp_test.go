package netstack

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

func TestTCPEcho(t *testing.T) {
	tests := []struct {
		name string
		imp  Impairments
	}{
		{"perfect", Impairments{}},
		{"loss 5%", Impairments{Loss: 5, Latency: 2 * time.Millisecond}},
		{"loss 20%", Impairments{Loss: 20, Latency: 2 * time.Millisecond}},
		{"duplicate and reorder", Impairments{Duplicate: 5, Reorder: 5, Latency: 2 * time.Millisecond, Jitter: time.Millisecond}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, vclock.Fast, uint64(100+i))
			a, _ := w.node("a", 1, 1, Impairments{})
			b, _ := w.node("b", 2, 1, tt.imp)
			server := w.sockets(b, "server")
			// A backlog of 1 makes gVisor answer with a SYN cookie, and a
			// reordered data segment that overtakes the handshake's last
			// ACK then fails the cookie check and is reset (as on Linux
			// under SYN cookies); a real server's backlog is larger.
			l, err := server.ListenTCP(addr(2, 7), 4)
			if err != nil {
				t.Fatal(err)
			}
			errc := echoServer(server, l)
			client := w.sockets(a, "client")
			data := payload(uint64(i), 1<<20)
			wall := time.Now()
			got := echo(t, client, addr(2, 7), data)
			if !bytes.Equal(got, data) {
				t.Fatalf("echoed %d bytes, want the %d sent intact (first difference at %d)", len(got), len(data), firstDiff(got, data))
			}
			if err := <-errc; err != nil {
				t.Fatalf("echo server: %v", err)
			}
			eg, in := b.NICs()[0].Attachment().Stats()
			t.Logf("sim %v, wall %v, b egress %+v, b ingress %+v, retrans %d", w.clock.Elapsed(), time.Since(wall), eg, in, w.medium.Retransmissions())
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

var _ = fmt.Sprint
