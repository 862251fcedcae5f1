package board_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/board"
	boardnet "github.com/esp8266sim/esp8266sim/board/net"
	"github.com/esp8266sim/esp8266sim/internal/syncbuf"
	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"github.com/esp8266sim/esp8266sim/netstack"
)

// A minimal world for socket scripts: one LAN (10.0.0.0/24) on a fast clock,
// boards running the real firmware and peers written in Go.

type lan struct {
	t      testing.TB
	clock  *vclock.Clock
	medium *netstack.Medium
	ctx    context.Context
	fw     *board.Firmware
	// hold keeps simulator time still while the test builds the world
	// (boards and peers start at once and must not see time pass before
	// the others exist); the first wait releases it.
	hold     *vclock.Actor
	holdOnce sync.Once
}

// ready lets simulator time run: every board and peer exists.
func (l *lan) ready() { l.holdOnce.Do(l.hold.Close) }

func newLAN(t testing.TB) *lan {
	t.Helper()
	fw, err := board.DefaultFirmware()
	if err != nil {
		t.Fatalf("DefaultFirmware: %v", err)
	}
	clock := vclock.New(vclock.Config{Mode: vclock.Fast})
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	done := make(chan struct{})
	go func() {
		defer close(done)
		clock.Run(ctx)
	}()
	m, err := netstack.NewMedium(netstack.MediumConfig{Name: "lan", Clock: clock, Seed: 7, Trace: trace.New(trace.Config{Keep: 100})})
	if err != nil {
		t.Fatalf("NewMedium: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		<-done
		m.Close()
	})
	l := &lan{t: t, clock: clock, medium: m, ctx: ctx, fw: fw, hold: clock.NewActor("test-setup")}
	t.Cleanup(l.ready)
	return l
}

func (l *lan) node(name string, host byte, imp netstack.Impairments) (*netstack.Node, *netstack.NIC) {
	l.t.Helper()
	n, err := netstack.NewNode(netstack.NodeConfig{Name: name, Clock: l.clock, Seed: 7})
	if err != nil {
		l.t.Fatalf("NewNode(%s): %v", name, err)
	}
	l.t.Cleanup(n.Close)
	nic, err := n.AddNIC(l.medium, netstack.NICConfig{Addr: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, 0, host}), 24), Impairments: imp})
	if err != nil {
		l.t.Fatalf("AddNIC(%s): %v", name, err)
	}
	return n, nic
}

// peer is a Go program on its own node.
func (l *lan) peer(name string, host byte, imp netstack.Impairments) *netstack.Sockets {
	n, _ := l.node(name, host, imp)
	a := l.clock.NewActor(name)
	return &netstack.Sockets{Node: n, Actor: a, Ctx: l.ctx}
}

// goPeer runs f as the peer's program; the peer's actor closes when f ends.
func goPeer(s *netstack.Sockets, f func() error) <-chan error {
	errc := make(chan error, 1)
	go func() {
		defer s.Actor.Close()
		errc <- f()
	}()
	return errc
}

// capture records the medium's frames (pcapng) into the buffer until stop,
// which completes it.
func (l *lan) capture() (pcap *bytes.Buffer, stop func()) {
	l.t.Helper()
	pcap = &bytes.Buffer{}
	capt, err := netstack.NewCapture(pcap, l.clock)
	if err != nil {
		l.t.Fatal(err)
	}
	l.medium.SetCapture(capt)
	return pcap, func() {
		l.t.Helper()
		l.medium.SetCapture(nil)
		if err := capt.Close(); err != nil {
			l.t.Fatal(err)
		}
	}
}

// dialBoard connects the peer to a server on a board, trying once a
// second for 20 s while the board's script starts listening.
func (l *lan) dialBoard(pc *netstack.Sockets, addr string) (c net.Conn, err error) {
	for range 20 {
		netstack.Sleep(l.ctx, pc.Actor, time.Second)
		if c, err = pc.DialTCP(ap(addr)); err == nil {
			return c, nil
		}
	}
	return nil, err
}

// listener is a peer at 10.0.0.1 listening on addr (TCP) with backlog.
func (l *lan) listener(name, addr string, backlog int, imp netstack.Impairments) (*netstack.Sockets, *netstack.Listener) {
	l.t.Helper()
	pc := l.peer(name, 1, imp)
	ln, err := pc.ListenTCP(ap(addr), backlog)
	if err != nil {
		l.t.Fatal(err)
	}
	return pc, ln
}

// tcpPeer is a Go program on "pc" (10.0.0.1) serving the first connection
// to addr with serve; the channel carries serve's result.
func (l *lan) tcpPeer(addr string, imp netstack.Impairments, serve func(pc *netstack.Sockets, c *netstack.Conn) error) <-chan error {
	l.t.Helper()
	pc, ln := l.listener("pc", addr, 4, imp)
	return goPeer(pc, func() error {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		return serve(pc, c)
	})
}

// syncBuf is a board console tests read while the board writes it.
type syncBuf = syncbuf.Buffer

// boardRun is a board running a script.
type boardRun struct {
	l       *lan
	b       *board.Board
	console *syncBuf
	res     board.Result
	err     error
	done    chan struct{}
	traces  []string
	mu      sync.Mutex
}

// start boots a board at 10.0.0.<host> running main and returns at once.
func (l *lan) start(name string, host byte, main string, env boardnet.SocketEnv, imp netstack.Impairments) *boardRun {
	return l.startHeap(name, host, main, env, imp, 0)
}

// startHeap is start with a GC heap of heap bytes (0: the ESP8266's 38 KiB).
func (l *lan) startHeap(name string, host byte, main string, env boardnet.SocketEnv, imp netstack.Impairments, heap int) *boardRun {
	l.t.Helper()
	return l.startTyped(name, host, main, env, imp, heap, "")
}

// startTyped is startHeap for a board at whose REPL keys are typed (the
// board is interactive when keys is not empty; the input then ends).
func (l *lan) startTyped(name string, host byte, main string, env boardnet.SocketEnv, imp netstack.Impairments, heap int, keys string) *boardRun {
	l.t.Helper()
	n, nic := l.node(name, host, imp)
	r := &boardRun{l: l, console: &syncBuf{}, done: make(chan struct{})}
	env.Stack, env.NIC, env.Link = n.Stack(), nic.ID(), nic
	env.Trace = func(s string) {
		r.mu.Lock()
		r.traces = append(r.traces, name+" "+s)
		r.mu.Unlock()
	}
	b, err := board.New(board.Config{
		Name:      name,
		Files:     map[string][]byte{"main.py": []byte(main)},
		Console:   r.console,
		HeapBytes: heap,
		Env:       map[any]any{boardnet.SocketEnvKey{}: &env},
		Stdin:     stdinOf(keys),
		// These tests pin lwIP's timings to the millisecond; the CPU
		// model (cputime_test.go) would add the code's time to each.
		CPU: board.CPUNative,
	}, l.fw, l.clock)
	if err != nil {
		l.t.Fatalf("board.New: %v", err)
	}
	r.b = b
	idle := make(chan struct{})
	idleCtx, stopIdle := context.WithCancel(l.ctx)
	go func() {
		defer close(idle)
		r.res, r.err = b.Run(l.ctx)
		close(r.done)
		// Like a board left at its REPL, it idles: its sockets keep running
		// (a close completes, TIME_WAIT ends) while time goes on.
		for b.Actor().Park(idleCtx, -1) == nil {
		}
	}()
	l.t.Cleanup(func() { stopIdle(); b.Close(); <-idle })
	return r
}

// wait waits for the script to end and returns its console; then for each
// of peers (goPeer's channels), failing the test with its error.
func (r *boardRun) wait(t testing.TB, peers ...<-chan error) string {
	t.Helper()
	r.l.ready()
	<-r.done
	if r.err != nil {
		t.Fatalf("Run: %v\nconsole:\n%s", r.err, r.console.String())
	}
	for _, p := range peers {
		if err := <-p; err != nil {
			t.Fatal(err)
		}
	}
	return r.console.String()
}

func (r *boardRun) trace() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.traces, "\n")
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// stdinOf is a board's typed input (nil: not interactive).
func stdinOf(keys string) io.Reader {
	if keys == "" {
		return nil
	}
	return strings.NewReader(keys)
}
