package netstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// WaitFor is the pattern every program-like goroutine uses to block on a
// gVisor endpoint without holding simulator time still: it registers a
// waiter entry for mask on wq whose callback wakes actor, then calls try
// until it reports done, parking the actor in between. deadline is in
// simulator time since the start of the world (<0: none); when it passes,
// WaitFor returns os.ErrDeadlineExceeded. ctx ends the wait early.
//
// try must be non-blocking; it reports done=true when the operation
// completed (with its own error, returned as is) and false when it would
// block.
func WaitFor(ctx context.Context, actor *vclock.Actor, wq *waiter.Queue, mask waiter.EventMask, deadline time.Duration, try func() (done bool, err error)) error {
	if done, err := try(); done {
		return err
	}
	entry := waiter.NewFunctionEntry(mask, func(waiter.EventMask) { actor.Wake() })
	wq.EventRegister(&entry)
	defer wq.EventUnregister(&entry)
	clock := actor.Clock()
	for {
		if done, err := try(); done {
			return err
		}
		// Before this actor stops holding time, let the stack finish what
		// the last call handed to its goroutines (segments queued while
		// the endpoint was locked go to a processor on unlock).
		quiesce()
		timeout := time.Duration(-1)
		if deadline >= 0 {
			timeout = deadline - clock.Elapsed()
			if timeout <= 0 {
				return os.ErrDeadlineExceeded
			}
		}
		if err := parkFor(ctx, actor, timeout); err != nil {
			return err
		}
	}
}

// parkFor parks actor until a Wake or until timeout (<0: none) of simulator
// time. Unlike Actor.Park with a timeout, it sets the timeout's timer while
// the actor still counts as running: vclock's Park arms its timer only after
// marking the actor parked, and if the goroutine is descheduled in between,
// fast mode can jump time past the timeout (seen under -race on a loaded
// machine). A timer that fires after the wait leaves a remembered Wake; its
// only effect is one spurious early return, which callers tolerate.
func parkFor(ctx context.Context, actor *vclock.Actor, timeout time.Duration) error {
	if timeout < 0 {
		return actor.Park(ctx, -1)
	}
	t := actor.Clock().AfterFunc(timeout, actor.Wake)
	err := actor.Park(ctx, -1)
	t.Stop()
	return err
}

// Sleep parks actor for d of simulator time; use it instead of Actor.Sleep
// (see parkFor for why).
func Sleep(ctx context.Context, actor *vclock.Actor, d time.Duration) error {
	clock := actor.Clock()
	deadline := clock.Elapsed() + d
	for {
		left := deadline - clock.Elapsed()
		if left <= 0 {
			return nil
		}
		if err := parkFor(ctx, actor, left); err != nil {
			return err
		}
	}
}

// Sockets opens blocking TCP and UDP sockets on a node for one actor (a
// test goroutine or a board playing a program). Every blocking call parks
// the actor, so fast mode can advance time while it waits, and returns
// ctx's error once Ctx is done. A Sockets and its sockets are used by the
// actor's goroutine only.
type Sockets struct {
	// Node is where the sockets live.
	Node *Node
	// Actor parks while a call blocks.
	Actor *vclock.Actor
	// Ctx bounds every blocking call; nil means context.Background().
	Ctx context.Context
}

func (s *Sockets) ctx() context.Context {
	if s.Ctx == nil {
		return context.Background()
	}
	return s.Ctx
}

func fullAddr(ap netip.AddrPort) tcpip.FullAddress {
	fa := tcpip.FullAddress{Port: ap.Port()}
	if ap.Addr().IsValid() && !ap.Addr().IsUnspecified() {
		fa.Addr = addrFrom(ap.Addr())
	}
	return fa
}

func addrPort(fa tcpip.FullAddress) netip.AddrPort {
	return netip.AddrPortFrom(addrTo(fa.Addr), fa.Port)
}

// DialTCP connects to remote.
func (s *Sockets) DialTCP(remote netip.AddrPort) (*Conn, error) {
	var wq waiter.Queue
	ep, tcpipErr := s.Node.stack.NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if tcpipErr != nil {
		return nil, fmt.Errorf("dial %s: %w", remote, FromTCPIP(tcpipErr))
	}
	started := false
	err := WaitFor(s.ctx(), s.Actor, &wq, waiter.WritableEvents|waiter.EventHUp|waiter.EventErr, -1, func() (bool, error) {
		if !started {
			started = true
			tcpipErr := ep.Connect(fullAddr(remote))
			if _, ok := tcpipErr.(*tcpip.ErrConnectStarted); ok {
				return false, nil
			}
			return true, FromTCPIP(tcpipErr)
		}
		if ep.Readiness(waiter.WritableEvents|waiter.EventHUp|waiter.EventErr) == 0 {
			return false, nil
		}
		return true, FromTCPIP(ep.LastError())
	})
	if err != nil {
		ep.Close()
		return nil, fmt.Errorf("dial %s: %w", remote, err)
	}
	return newConn(s, ep, &wq), nil
}

// Listener accepts TCP connections.
type Listener struct {
	s  *Sockets
	ep tcpip.Endpoint
	wq *waiter.Queue
}

// ListenTCP listens on local (the zero address means all addresses).
func (s *Sockets) ListenTCP(local netip.AddrPort, backlog int) (*Listener, error) {
	var wq waiter.Queue
	ep, tcpipErr := s.Node.stack.NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if tcpipErr != nil {
		return nil, fmt.Errorf("listen %s: %w", local, FromTCPIP(tcpipErr))
	}
	ep.SocketOptions().SetReuseAddress(true)
	if tcpipErr := ep.Bind(fullAddr(local)); tcpipErr != nil {
		ep.Close()
		return nil, fmt.Errorf("listen %s: bind: %w", local, FromTCPIP(tcpipErr))
	}
	if backlog <= 0 {
		backlog = 16
	}
	if tcpipErr := ep.Listen(backlog); tcpipErr != nil {
		ep.Close()
		return nil, fmt.Errorf("listen %s: %w", local, FromTCPIP(tcpipErr))
	}
	return &Listener{s: s, ep: ep, wq: &wq}, nil
}

// Addr is the listening address.
func (l *Listener) Addr() netip.AddrPort {
	fa, _ := l.ep.GetLocalAddress()
	return addrPort(fa)
}

// Accept waits for a connection.
func (l *Listener) Accept() (*Conn, error) {
	var (
		nep tcpip.Endpoint
		nwq *waiter.Queue
	)
	err := WaitFor(l.s.ctx(), l.s.Actor, l.wq, waiter.ReadableEvents|waiter.EventHUp|waiter.EventErr, -1, func() (bool, error) {
		var tcpipErr tcpip.Error
		nep, nwq, tcpipErr = l.ep.Accept(nil)
		if _, ok := tcpipErr.(*tcpip.ErrWouldBlock); ok {
			return false, nil
		}
		return true, FromTCPIP(tcpipErr)
	})
	if err != nil {
		return nil, fmt.Errorf("accept on %s: %w", l.Addr(), err)
	}
	return newConn(l.s, nep, nwq), nil
}

// Close stops listening.
func (l *Listener) Close() error {
	l.ep.Close()
	return nil
}

// Conn is a TCP connection whose blocking calls park an actor. It implements
// net.Conn; deadlines are simulator wall-clock times (the clock's Now).
type Conn struct {
	s  *Sockets
	ep tcpip.Endpoint
	wq *waiter.Queue

	mu struct {
		sync.Mutex
		readDeadline  time.Time
		writeDeadline time.Time
	}
}

var _ net.Conn = (*Conn)(nil)

func newConn(s *Sockets, ep tcpip.Endpoint, wq *waiter.Queue) *Conn {
	return &Conn{s: s, ep: ep, wq: wq}
}

// deadline converts an absolute simulator wall time to the WaitFor form.
func (c *Conn) deadline(t time.Time) time.Duration {
	if t.IsZero() {
		return -1
	}
	clock := c.s.Actor.Clock()
	d := clock.Elapsed() + t.Sub(clock.Now())
	if d < 0 {
		return 0
	}
	return d
}

// Read implements io.Reader; it returns io.EOF after the peer's FIN.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.mu.Lock()
	dl := c.deadline(c.mu.readDeadline)
	c.mu.Unlock()
	var n int
	err := WaitFor(c.s.ctx(), c.s.Actor, c.wq, waiter.ReadableEvents|waiter.EventHUp|waiter.EventErr, dl, func() (bool, error) {
		w := tcpip.SliceWriter(p)
		res, tcpipErr := c.ep.Read(&w, tcpip.ReadOptions{})
		switch tcpipErr.(type) {
		case nil:
			n = res.Count
			return true, nil
		case *tcpip.ErrWouldBlock:
			return false, nil
		case *tcpip.ErrClosedForReceive:
			return true, io.EOF
		}
		return true, FromTCPIP(tcpipErr)
	})
	return n, err
}

// Write implements io.Writer; it blocks until all of p is queued.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	dl := c.deadline(c.mu.writeDeadline)
	c.mu.Unlock()
	total := 0
	err := WaitFor(c.s.ctx(), c.s.Actor, c.wq, waiter.WritableEvents|waiter.EventHUp|waiter.EventErr, dl, func() (bool, error) {
		for total < len(p) {
			var r bytesReader
			r.b = p[total:]
			n, tcpipErr := c.ep.Write(&r, tcpip.WriteOptions{})
			total += int(n)
			switch tcpipErr.(type) {
			case nil:
				continue
			case *tcpip.ErrWouldBlock:
				return false, nil
			}
			return true, FromTCPIP(tcpipErr)
		}
		return true, nil
	})
	return total, err
}

// bytesReader is a tcpip.Payloader over a slice, without bytes.Reader's
// allocation.
type bytesReader struct{ b []byte }

func (r *bytesReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func (r *bytesReader) Len() int { return len(r.b) }

// CloseWrite sends FIN.
func (c *Conn) CloseWrite() error {
	return FromTCPIP(c.ep.Shutdown(tcpip.ShutdownWrite))
}

// Close closes the connection.
func (c *Conn) Close() error {
	c.ep.Close()
	return nil
}

// LocalAddr implements net.Conn.
func (c *Conn) LocalAddr() net.Addr {
	fa, _ := c.ep.GetLocalAddress()
	return net.TCPAddrFromAddrPort(addrPort(fa))
}

// RemoteAddr implements net.Conn.
func (c *Conn) RemoteAddr() net.Addr {
	fa, _ := c.ep.GetRemoteAddress()
	return net.TCPAddrFromAddrPort(addrPort(fa))
}

// SetDeadline implements net.Conn (simulator time).
func (c *Conn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.readDeadline, c.mu.writeDeadline = t, t
	return nil
}

// SetReadDeadline implements net.Conn (simulator time).
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.readDeadline = t
	return nil
}

// SetWriteDeadline implements net.Conn (simulator time).
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.writeDeadline = t
	return nil
}

// Endpoint exposes the gVisor endpoint (socket options, statistics).
func (c *Conn) Endpoint() tcpip.Endpoint { return c.ep }

// PacketConn is a UDP socket whose blocking calls park an actor.
type PacketConn struct {
	s  *Sockets
	ep tcpip.Endpoint
	wq *waiter.Queue
}

// ListenUDP opens a UDP socket bound to local (port 0: any free port).
func (s *Sockets) ListenUDP(local netip.AddrPort) (*PacketConn, error) {
	var wq waiter.Queue
	ep, tcpipErr := s.Node.stack.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if tcpipErr != nil {
		return nil, fmt.Errorf("udp %s: %w", local, FromTCPIP(tcpipErr))
	}
	ep.SocketOptions().SetBroadcast(true)
	if tcpipErr := ep.Bind(fullAddr(local)); tcpipErr != nil {
		ep.Close()
		return nil, fmt.Errorf("udp %s: bind: %w", local, FromTCPIP(tcpipErr))
	}
	return &PacketConn{s: s, ep: ep, wq: &wq}, nil
}

// LocalAddr is the bound address.
func (c *PacketConn) LocalAddr() netip.AddrPort {
	fa, _ := c.ep.GetLocalAddress()
	return addrPort(fa)
}

// WriteTo sends one datagram; it does not block (a full buffer is an error).
func (c *PacketConn) WriteTo(p []byte, to netip.AddrPort) (int, error) {
	fa := fullAddr(to)
	var r bytesReader
	r.b = p
	n, tcpipErr := c.ep.Write(&r, tcpip.WriteOptions{To: &fa})
	if tcpipErr != nil {
		return int(n), fmt.Errorf("udp send to %s: %w", to, FromTCPIP(tcpipErr))
	}
	return int(n), nil
}

// ReadFrom waits for one datagram until timeout of simulator time passes
// (timeout < 0: no limit), then os.ErrDeadlineExceeded.
func (c *PacketConn) ReadFrom(p []byte, timeout time.Duration) (int, netip.AddrPort, error) {
	dl := time.Duration(-1)
	if timeout >= 0 {
		dl = c.s.Actor.Clock().Elapsed() + timeout
	}
	var (
		n    int
		from netip.AddrPort
	)
	err := WaitFor(c.s.ctx(), c.s.Actor, c.wq, waiter.ReadableEvents|waiter.EventErr, dl, func() (bool, error) {
		w := tcpip.SliceWriter(p)
		res, tcpipErr := c.ep.Read(&w, tcpip.ReadOptions{NeedRemoteAddr: true})
		switch tcpipErr.(type) {
		case nil:
			n, from = res.Count, addrPort(res.RemoteAddr)
			return true, nil
		case *tcpip.ErrWouldBlock:
			return false, nil
		}
		return true, FromTCPIP(tcpipErr)
	})
	return n, from, err
}

// Close closes the socket.
func (c *PacketConn) Close() error {
	c.ep.Close()
	return nil
}

// IsTimeout reports whether err is a deadline or ETIMEDOUT.
func IsTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, syscall.ETIMEDOUT)
}
