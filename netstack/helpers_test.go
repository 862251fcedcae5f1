package netstack

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// world is a test fixture: a running clock, a medium, a trace.
type world struct {
	t      testing.TB
	clock  *vclock.Clock
	medium *Medium
	trace  *trace.Log
	ctx    context.Context
}

func newWorld(t testing.TB, mode vclock.Mode, seed uint64) *world {
	t.Helper()
	clock := vclock.New(vclock.Config{Mode: mode})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		clock.Run(ctx)
	}()
	tr := trace.New(trace.Config{Keep: 200_000})
	m, err := NewMedium(MediumConfig{Name: "lan", Clock: clock, Seed: seed, Trace: tr})
	if err != nil {
		t.Fatalf("NewMedium: %v", err)
	}
	w := &world{t: t, clock: clock, medium: m, trace: tr, ctx: ctx}
	t.Cleanup(func() {
		cancel()
		<-done
		m.Close()
	})
	return w
}

// node adds a node with one NIC on the world's medium at 10.0.0.<host>/24.
func (w *world) node(name string, host byte, seed uint64, imp Impairments) (*Node, *NIC) {
	w.t.Helper()
	n, err := NewNode(NodeConfig{Name: name, Clock: w.clock, Seed: seed, Trace: w.trace})
	if err != nil {
		w.t.Fatalf("NewNode(%s): %v", name, err)
	}
	w.t.Cleanup(n.Close)
	nic, err := n.AddNIC(w.medium, NICConfig{Addr: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, 0, host}), 24), Impairments: imp})
	if err != nil {
		w.t.Fatalf("AddNIC(%s): %v", name, err)
	}
	return n, nic
}

func addr(host byte, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, host}), port)
}

// actor returns a Sockets for a new actor on n; the actor is closed at
// cleanup.
func (w *world) sockets(n *Node, name string) *Sockets {
	a := w.clock.NewActor(name)
	w.t.Cleanup(a.Close)
	return &Sockets{Node: n, Actor: a, Ctx: w.ctx}
}

func payload(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// echoServer accepts one connection on l and echoes it until EOF; it runs as
// its own actor and reports its error on the returned channel.
func echoServer(s *Sockets, l *Listener) <-chan error {
	errc := make(chan error, 1)
	go func() {
		defer s.Actor.Close()
		c, err := l.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer c.Close()
		_, err = io.Copy(c, c)
		if err == nil {
			err = c.CloseWrite()
		}
		errc <- err
	}()
	return errc
}

// echo sends data through an echo server and returns what came back.
func echo(t testing.TB, client *Sockets, to netip.AddrPort, data []byte) []byte {
	t.Helper()
	c, err := client.DialTCP(to)
	if err != nil {
		t.Fatalf("DialTCP(%s): %v", to, err)
	}
	defer c.Close()
	// The client is one actor: write a chunk, read what is available, so
	// neither side's buffers fill up.
	var got bytes.Buffer
	buf := make([]byte, 64*1024)
	const chunk = 16 * 1024
	for off := 0; off < len(data); off += chunk {
		end := min(off+chunk, len(data))
		if _, err := c.Write(data[off:end]); err != nil {
			t.Fatalf("Write at %d: %v", off, err)
		}
		for got.Len() < end {
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("Read after %d bytes: %v", got.Len(), err)
			}
			got.Write(buf[:n])
		}
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatalf("CloseWrite: %v", err)
	}
	rest, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading to EOF: %v", err)
	}
	got.Write(rest)
	return got.Bytes()
}

var _ = time.Second
