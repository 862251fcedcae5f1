package services

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// Conn is a net.Conn over a gVisor TCP endpoint that waits in simulated
// time: whenever it would block (read, write, connect) it parks its
// vclock actor and a gVisor waiter callback wakes it. In fast mode the
// clock can therefore jump while a conn waits, and never while its owner
// computes.
//
// A Conn is used by one goroutine, the owner of its actor: the goroutine
// that dialed it (with its own actor) or the service goroutine an accepted
// conn was handed to. Close may be called from any goroutine.
type Conn struct {
	ep       tcpip.Endpoint
	wq       *waiter.Queue
	clock    *vclock.Clock
	actor    *vclock.Actor
	ownActor bool
	// turnTaken: WaitTurn has run (only the owner goroutine uses it).
	turnTaken bool
	local     *net.TCPAddr
	remote    *net.TCPAddr

	readDeadline, writeDeadline time.Time // simulated wall-clock times; zero: none

	closeOnce sync.Once
	closed    atomic.Bool
}

var _ net.Conn = (*Conn)(nil)

func fullToTCP(a tcpip.FullAddress) *net.TCPAddr {
	return &net.TCPAddr{IP: net.IP(a.Addr.AsSlice()), Port: int(a.Port)}
}

func newConn(ep tcpip.Endpoint, wq *waiter.Queue, clock *vclock.Clock, actor *vclock.Actor, own bool) *Conn {
	c := &Conn{ep: ep, wq: wq, clock: clock, actor: actor, ownActor: own}
	if a, err := ep.GetLocalAddress(); err == nil {
		c.local = fullToTCP(a)
	}
	if a, err := ep.GetRemoteAddress(); err == nil {
		c.remote = fullToTCP(a)
	}
	return c
}

// translate turns a gVisor error into a Go error with the matching errno,
// so callers can use errors.Is(err, syscall.ECONNRESET) and the like.
func translate(tcpipErr tcpip.Error) error {
	switch tcpipErr.(type) {
	case *tcpip.ErrConnectionRefused:
		return syscall.ECONNREFUSED
	case *tcpip.ErrConnectionReset:
		return syscall.ECONNRESET
	case *tcpip.ErrConnectionAborted:
		return syscall.ECONNABORTED
	case *tcpip.ErrTimeout:
		return syscall.ETIMEDOUT
	case *tcpip.ErrNotConnected:
		return syscall.ENOTCONN
	case *tcpip.ErrClosedForSend:
		return syscall.EPIPE
	case *tcpip.ErrHostUnreachable:
		return syscall.EHOSTUNREACH
	case *tcpip.ErrNetworkUnreachable:
		return syscall.ENETUNREACH
	case *tcpip.ErrPortInUse:
		return syscall.EADDRINUSE
	}
	return errors.New(tcpipErr.String())
}

func (c *Conn) opError(op string, err error) error {
	var local, remote net.Addr
	if c.local != nil {
		local = c.local
	}
	if c.remote != nil {
		remote = c.remote
	}
	return &net.OpError{Op: op, Net: "tcp", Source: local, Addr: remote, Err: err}
}

// park waits until the actor is woken or until deadline (simulated wall
// clock; zero: none). It reports os.ErrDeadlineExceeded when the deadline
// has passed.
func park(clock *vclock.Clock, a *vclock.Actor, deadline time.Time) error {
	timeout := time.Duration(-1)
	if !deadline.IsZero() {
		timeout = deadline.Sub(clock.Now())
		if timeout <= 0 {
			return os.ErrDeadlineExceeded
		}
	}
	if err := a.Park(context.Background(), timeout); err != nil {
		return net.ErrClosed
	}
	return nil
}

// Read implements net.Conn.
func (c *Conn) Read(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, c.opError("read", net.ErrClosed)
	}
	if len(p) == 0 {
		return 0, nil
	}
	entry := waiter.NewFunctionEntry(waiter.ReadableEvents|waiter.EventHUp|waiter.EventErr, func(waiter.EventMask) { c.actor.Wake() })
	c.wq.EventRegister(&entry)
	defer c.wq.EventUnregister(&entry)
	for {
		w := tcpip.SliceWriter(p)
		res, tcpipErr := c.ep.Read(&w, tcpip.ReadOptions{})
		if tcpipErr == nil {
			c.ep.ModerateRecvBuf(res.Count)
			c.clock.Poke()
			return res.Count, nil
		}
		switch tcpipErr.(type) {
		case *tcpip.ErrWouldBlock:
		case *tcpip.ErrClosedForReceive:
			if c.closed.Load() {
				return 0, c.opError("read", net.ErrClosed)
			}
			return 0, io.EOF
		default:
			return 0, c.opError("read", translate(tcpipErr))
		}
		if c.closed.Load() {
			return 0, c.opError("read", net.ErrClosed)
		}
		if err := park(c.clock, c.actor, c.readDeadline); err != nil {
			return 0, c.opError("read", err)
		}
	}
}

// Write implements net.Conn: it returns when all of p is queued.
func (c *Conn) Write(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, c.opError("write", net.ErrClosed)
	}
	entry := waiter.NewFunctionEntry(waiter.WritableEvents|waiter.EventHUp|waiter.EventErr, func(waiter.EventMask) { c.actor.Wake() })
	c.wq.EventRegister(&entry)
	defer c.wq.EventUnregister(&entry)
	total := 0
	for total < len(p) {
		r := bytes.NewReader(p[total:])
		n, tcpipErr := c.ep.Write(r, tcpip.WriteOptions{})
		total += int(n)
		if n > 0 {
			c.clock.Poke()
		}
		if tcpipErr == nil {
			continue
		}
		if _, ok := tcpipErr.(*tcpip.ErrWouldBlock); !ok {
			return total, c.opError("write", translate(tcpipErr))
		}
		if c.closed.Load() {
			return total, c.opError("write", net.ErrClosed)
		}
		if err := park(c.clock, c.actor, c.writeDeadline); err != nil {
			return total, c.opError("write", err)
		}
	}
	return total, nil
}

// Close closes the connection with a FIN (graceful).
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.ep.Close()
		c.clock.Poke()
		c.actor.Wake()
		if c.ownActor {
			c.actor.Close()
		}
	})
	return nil
}

// Reset aborts the connection with an RST (SO_LINGER with a zero timeout,
// then close), as a fault-injection proxy's "reset peer" does.
func (c *Conn) Reset() {
	c.ep.SocketOptions().SetLinger(tcpip.LingerOption{Enabled: true, Timeout: 0})
	c.Close()
}

// CloseWrite sends a FIN but keeps reading.
func (c *Conn) CloseWrite() error {
	if tcpipErr := c.ep.Shutdown(tcpip.ShutdownWrite); tcpipErr != nil {
		return c.opError("close", translate(tcpipErr))
	}
	c.clock.Poke()
	return nil
}

// LocalAddr implements net.Conn.
func (c *Conn) LocalAddr() net.Addr { return c.local }

// RemoteAddr implements net.Conn.
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

// SetDeadline implements net.Conn; t is in simulated wall-clock time
// (clock.Now()), not the host's.
func (c *Conn) SetDeadline(t time.Time) error {
	c.readDeadline, c.writeDeadline = t, t
	return nil
}

// SetReadDeadline implements net.Conn (simulated time).
func (c *Conn) SetReadDeadline(t time.Time) error { c.readDeadline = t; return nil }

// SetWriteDeadline implements net.Conn (simulated time).
func (c *Conn) SetWriteDeadline(t time.Time) error { c.writeDeadline = t; return nil }

// SetNoDelay turns Nagle's algorithm off (on = true) or on.
func (c *Conn) SetNoDelay(on bool) { c.ep.SocketOptions().SetDelayOption(!on) }

// Actor is the actor the conn parks while it waits.
func (c *Conn) Actor() *vclock.Actor { return c.actor }

// Clock is the conn's clock.
func (c *Conn) Clock() *vclock.Clock { return c.clock }

// sleep parks the conn's actor for d of simulated time.
func (c *Conn) sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	if err := c.actor.Sleep(context.Background(), d); err != nil {
		return net.ErrClosed
	}
	return nil
}

// DialTCP connects to addr from stack s, parking actor while the handshake
// runs. The conn belongs to actor's goroutine.
func DialTCP(ctx context.Context, s *stack.Stack, addr netip.AddrPort, actor *vclock.Actor) (*Conn, error) {
	if actor == nil {
		return nil, errors.New("services: DialTCP needs an actor")
	}
	if !addr.Addr().Is4() {
		return nil, fmt.Errorf("services: DialTCP %v: not an IPv4 address", addr)
	}
	wq := new(waiter.Queue)
	ep, tcpipErr := s.NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, wq)
	if tcpipErr != nil {
		return nil, fmt.Errorf("services: new TCP endpoint: %w", translate(tcpipErr))
	}
	entry := waiter.NewFunctionEntry(waiter.WritableEvents|waiter.EventHUp|waiter.EventErr, func(waiter.EventMask) { actor.Wake() })
	wq.EventRegister(&entry)
	defer wq.EventUnregister(&entry)
	to := tcpip.FullAddress{Addr: tcpip.AddrFrom4(addr.Addr().As4()), Port: addr.Port()}
	tcpipErr = ep.Connect(to)
	actor.Clock().Poke()
	if _, ok := tcpipErr.(*tcpip.ErrConnectStarted); ok {
		for {
			if err := actor.Park(ctx, -1); err != nil {
				ep.Close()
				return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(addr), Err: err}
			}
			if ep.Readiness(waiter.WritableEvents|waiter.EventHUp|waiter.EventErr) != 0 {
				break
			}
		}
		tcpipErr = ep.LastError()
	}
	if tcpipErr != nil {
		ep.Close()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(addr), Err: translate(tcpipErr)}
	}
	return newConn(ep, wq, actor.Clock(), actor, false), nil
}

// Listener is a listening TCP endpoint whose Accept parks an actor.
type Listener struct {
	ep     tcpip.Endpoint
	wq     *waiter.Queue
	clock  *vclock.Clock
	actor  *vclock.Actor
	shared bool // actor is the caller's, shared with accepted conns
	addr   *net.TCPAddr
	closed atomic.Bool
	once   sync.Once
}

// serviceBacklog is a simulated server's accept queue: Linux's SOMAXCONN,
// which web servers ask for. A fleet's boards connect at the same simulated
// instant, before the accepting goroutine runs, and a short queue would
// turn that into SYN cookies and resets a real server would not send.
const serviceBacklog = 4096

// ListenTCP listens on addr:port (addr invalid: every address) of nic (0:
// every NIC). Accept must be called from one goroutine.
//
// With actor nil the listener makes its own actor (owned by the accepting
// goroutine) and every accepted conn gets a fresh one, for a service that
// hands each conn to its own goroutine. With an actor, Accept parks it and
// accepted conns share it: one goroutine doing everything, like a board's
// script.
func ListenTCP(s *stack.Stack, nic tcpip.NICID, addr netip.Addr, port uint16, clock *vclock.Clock, actor *vclock.Actor, name string) (*Listener, error) {
	wq := new(waiter.Queue)
	ep, tcpipErr := s.NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, wq)
	if tcpipErr != nil {
		return nil, fmt.Errorf("services: new TCP endpoint: %w", translate(tcpipErr))
	}
	ep.SocketOptions().SetReuseAddress(true)
	fa := tcpip.FullAddress{NIC: nic, Port: port}
	if addr.Is4() && !addr.IsUnspecified() {
		fa.Addr = tcpip.AddrFrom4(addr.As4())
	}
	if tcpipErr := ep.Bind(fa); tcpipErr != nil {
		ep.Close()
		return nil, fmt.Errorf("services: bind %v:%d: %w", addr, port, translate(tcpipErr))
	}
	if tcpipErr := ep.Listen(serviceBacklog); tcpipErr != nil {
		ep.Close()
		return nil, fmt.Errorf("services: listen %v:%d: %w", addr, port, translate(tcpipErr))
	}
	l := &Listener{ep: ep, wq: wq, clock: clock, actor: actor, shared: actor != nil, addr: fullToTCP(fa)}
	if actor == nil {
		l.actor = clock.NewTurnActor(name)
	}
	return l, nil
}

// Accept waits for a connection. The conn gets its own actor (running, in
// line behind the listener's in vclock's turnstile): hand it to one
// goroutine, which must call WaitTurn first, then use it or Close it.
func (l *Listener) Accept() (*Conn, error) {
	entry := waiter.NewFunctionEntry(waiter.ReadableEvents|waiter.EventHUp|waiter.EventErr, func(waiter.EventMask) { l.actor.Wake() })
	l.wq.EventRegister(&entry)
	defer l.wq.EventUnregister(&entry)
	for {
		if l.closed.Load() {
			return nil, net.ErrClosed
		}
		ep, wq, tcpipErr := l.ep.Accept(nil)
		if tcpipErr == nil {
			l.clock.Poke()
			if l.shared {
				return newConn(ep, wq, l.clock, l.actor, false), nil
			}
			a := l.clock.NewActorInLine(l.actor.Name() + "/conn")
			return newConn(ep, wq, l.clock, a, true), nil
		}
		if _, ok := tcpipErr.(*tcpip.ErrWouldBlock); !ok {
			return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: translate(tcpipErr)}
		}
		if err := l.actor.Park(context.Background(), -1); err != nil {
			return nil, net.ErrClosed
		}
	}
}

// WaitTurn waits until the accepted conn's actor has its turn: the
// conns accepted at one instant then serve in the order they were
// accepted, not in the order their goroutines first ran. A conn that was
// not accepted, or already waited, returns at once.
func (c *Conn) WaitTurn() {
	if c.ownActor && !c.turnTaken {
		c.turnTaken = true
		c.actor.WaitTurn(context.Background())
	}
}

// Close stops listening; a blocked Accept returns net.ErrClosed. Pending
// connections are reset; new SYNs are refused with an RST.
func (l *Listener) Close() error {
	l.once.Do(func() {
		l.closed.Store(true)
		l.ep.Close()
		l.actor.Wake()
	})
	return nil
}

// closeActor releases the listener's own actor; call it from the accepting
// goroutine once it is done with Accept.
func (l *Listener) closeActor() {
	if !l.shared {
		l.actor.Close()
	}
}

// Addr is the bound address.
func (l *Listener) Addr() net.Addr { return l.addr }
