package sockets_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/board/sockets"
	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"github.com/esp8266sim/esp8266sim/netstack"
)

// world is a LAN with a running fast clock.
type world struct {
	t      testing.TB
	clock  *vclock.Clock
	medium *netstack.Medium
	ctx    context.Context
	seed   uint64
}

func newWorld(t testing.TB) *world {
	t.Helper()
	clock := vclock.New(vclock.Config{Mode: vclock.Fast})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	done := make(chan struct{})
	go func() {
		defer close(done)
		clock.Run(ctx)
	}()
	m, err := netstack.NewMedium(netstack.MediumConfig{Name: "lan", Clock: clock, Seed: 1, Trace: trace.New(trace.Config{Keep: 1000})})
	if err != nil {
		t.Fatalf("NewMedium: %v", err)
	}
	w := &world{t: t, clock: clock, medium: m, ctx: ctx, seed: 1}
	t.Cleanup(func() {
		cancel()
		<-done
		m.Close()
	})
	return w
}

func (w *world) node(name string, host byte, imp netstack.Impairments) (*netstack.Node, *netstack.NIC) {
	w.t.Helper()
	n, err := netstack.NewNode(netstack.NodeConfig{Name: name, Clock: w.clock, Seed: w.seed})
	if err != nil {
		w.t.Fatalf("NewNode(%s): %v", name, err)
	}
	w.t.Cleanup(n.Close)
	nic, err := n.AddNIC(w.medium, netstack.NICConfig{Addr: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, 0, host}), 24), Impairments: imp})
	if err != nil {
		w.t.Fatalf("AddNIC(%s): %v", name, err)
	}
	return n, nic
}

// board is a socket table on its own node, driven by one actor.
type board struct {
	*sockets.Table
	actor *vclock.Actor
	node  *netstack.Node
	lines []string
}

func (w *world) board(name string, host byte, cfg sockets.Config, imp netstack.Impairments) *board {
	w.t.Helper()
	n, nic := w.node(name, host, imp)
	b := &board{node: n}
	b.actor = w.clock.NewActor(name)
	w.t.Cleanup(b.actor.Close)
	cfg.Stack, cfg.NIC, cfg.Link, cfg.Clock, cfg.Actor = n.Stack(), nic.ID(), nic, w.clock, b.actor
	cfg.Trace = func(l string) { b.lines = append(b.lines, l) }
	tb, err := sockets.New(cfg)
	if err != nil {
		w.t.Fatalf("sockets.New: %v", err)
	}
	b.Table = tb
	w.t.Cleanup(tb.CloseAll)
	return b
}

// peer is a plain program on a node (the PC), with its own actor.
func (w *world) peer(name string, host byte, imp netstack.Impairments) *netstack.Sockets {
	n, _ := w.node(name, host, imp)
	a := w.clock.NewActor(name)
	w.t.Cleanup(a.Close)
	return &netstack.Sockets{Node: n, Actor: a, Ctx: w.ctx}
}

// run runs f as the goroutine of actor a; the actor is parked (closed) when f
// returns. The result arrives on the channel.
func run(a *vclock.Actor, f func() error) <-chan error {
	errc := make(chan error, 1)
	go func() {
		defer a.Close()
		errc <- f()
	}()
	return errc
}

func wantErrno(t testing.TB, what string, err error, errno int) {
	t.Helper()
	if got := sockets.Errno(err); got != errno || err == nil {
		t.Errorf("%s: err = %v (errno %d), want OSError(%d)", what, err, got, errno)
	}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
