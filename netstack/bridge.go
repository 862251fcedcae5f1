package netstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// DefaultUDPIdle is how long a UDP flow through a bridge lives without
// traffic.
const DefaultUDPIdle = 60 * time.Second

// ErrNeedsRealtime is returned when a host bridge is opened on a fast clock:
// real programs on the host (a browser, curl) run in real time.
var ErrNeedsRealtime = errors.New("a host bridge needs a realtime clock (real programs on the host run in real time); run the world in realtime mode")

// bridgeOwner holds the goroutines and connections of a bridge.
type bridgeOwner struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	clock  *vclock.Clock
	trace  *trace.Log
	source string

	mu struct {
		sync.Mutex
		closers map[io.Closer]struct{}
		closed  bool
	}
}

func newBridgeOwner(clock *vclock.Clock, tr *trace.Log, source string) *bridgeOwner {
	o := &bridgeOwner{clock: clock, trace: tr, source: source}
	o.ctx, o.cancel = context.WithCancel(context.Background())
	o.mu.closers = make(map[io.Closer]struct{})
	return o
}

// track registers c to be closed by close; false if already closing.
func (o *bridgeOwner) track(c io.Closer) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.mu.closed {
		return false
	}
	o.mu.closers[c] = struct{}{}
	return true
}

func (o *bridgeOwner) untrack(c io.Closer) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.mu.closers, c)
}

func (o *bridgeOwner) go_(f func()) {
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		f()
	}()
}

// tryGo runs f on a goroutine the owner waits for, unless the owner is
// closing (then false): callers on gVisor's goroutines may race close.
func (o *bridgeOwner) tryGo(f func()) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.mu.closed {
		return false
	}
	o.go_(f)
	return true
}

func (o *bridgeOwner) logf(format string, args ...any) {
	o.trace.Addf(o.clock.Elapsed(), o.source, format, args...)
}

func (o *bridgeOwner) close() {
	o.mu.Lock()
	if o.mu.closed {
		o.mu.Unlock()
		o.wg.Wait()
		return
	}
	o.mu.closed = true
	cs := o.mu.closers
	o.mu.closers = nil
	o.mu.Unlock()
	o.cancel()
	for c := range cs {
		c.Close()
	}
	o.wg.Wait()
}

type closeWriter interface {
	CloseWrite() error
}

// splice copies both ways between a and b, passing half-closes on, and
// returns when both directions are done.
func splice(a, b net.Conn) {
	var wg sync.WaitGroup
	cp := func(dst, src net.Conn) {
		defer wg.Done()
		io.Copy(dst, src)
		if cw, ok := dst.(closeWriter); ok {
			cw.CloseWrite()
		} else {
			dst.Close()
		}
	}
	wg.Add(2)
	go cp(a, b)
	go cp(b, a)
	wg.Wait()
}

// resetHost closes a host TCP connection with RST, as a refused or reset
// connection looks to the host program.
func resetHost(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// ForwardConfig describes a port forward from the host into the world.
type ForwardConfig struct {
	// Spec is what to forward.
	Spec ForwardSpec
	// From is the node whose stack opens the simulated side, normally the
	// board's router: the board's accept() sees a LAN peer. Its clock must be
	// realtime.
	From *Node
	// Target returns the board's current address, asked for each new
	// connection or flow (a board gets its address by DHCP, maybe after the
	// forward opens); an error refuses the connection.
	Target func() (netip.Addr, error)
	// Trace, if set, gets a line per connection.
	Trace *trace.Log
	// UDPIdle ends a UDP flow after this long without traffic; zero means
	// DefaultUDPIdle.
	UDPIdle time.Duration
}

// Forward is an open port forward.
type Forward struct {
	cfg   ForwardConfig
	owner *bridgeOwner
	addr  netip.AddrPort
}

// StartForward opens the host side of a forward. A host port already in use
// is an error naming it.
func StartForward(cfg ForwardConfig) (*Forward, error) {
	spec := cfg.Spec
	if cfg.From == nil || cfg.Target == nil {
		return nil, fmt.Errorf("forward %s: needs a From node and a Target", spec)
	}
	if cfg.From.Clock().Mode() != vclock.Realtime {
		return nil, fmt.Errorf("forward %s: %w", spec, ErrNeedsRealtime)
	}
	if cfg.UDPIdle <= 0 {
		cfg.UDPIdle = DefaultUDPIdle
	}
	if !spec.HostAddr.IsValid() {
		spec.HostAddr = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		cfg.Spec = spec
	}
	f := &Forward{cfg: cfg, owner: newBridgeOwner(cfg.From.Clock(), cfg.Trace, "bridge")}
	hostAddr := netip.AddrPortFrom(spec.HostAddr, spec.HostPort)
	switch spec.Proto {
	case "tcp", "":
		ln, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(hostAddr))
		if err != nil {
			return nil, hostPortError(spec, err)
		}
		f.addr = ln.Addr().(*net.TCPAddr).AddrPort()
		f.owner.track(ln)
		f.owner.go_(func() { f.acceptTCP(ln) })
	case "udp":
		pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(hostAddr))
		if err != nil {
			return nil, hostPortError(spec, err)
		}
		f.addr = pc.LocalAddr().(*net.UDPAddr).AddrPort()
		f.owner.track(pc)
		f.owner.go_(func() { f.serveUDP(pc) })
	default:
		return nil, fmt.Errorf("forward %s: protocol %q: use tcp or udp", spec, spec.Proto)
	}
	f.owner.logf("forward %s open: %s → %s:%d", spec.Proto, f.addr, spec.Board, spec.BoardPort)
	return f, nil
}

func hostPortError(spec ForwardSpec, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("forward %s: host port %d is already in use on %s; pick another HOSTPORT: %w", spec, spec.HostPort, spec.HostAddr, err)
	}
	return fmt.Errorf("forward %s: cannot listen on %s:%d: %w", spec, spec.HostAddr, spec.HostPort, err)
}

// HostAddr is the host address the forward listens on (with the real port
// when HostPort was 0).
func (f *Forward) HostAddr() netip.AddrPort { return f.addr }

// String reads "tcp 127.0.0.1:8080 → esp1:80".
func (f *Forward) String() string {
	return fmt.Sprintf("%s %s → %s:%d", f.cfg.Spec.Proto, f.addr, f.cfg.Spec.Board, f.cfg.Spec.BoardPort)
}

// URL is a clickable form for TCP forwards: "http://127.0.0.1:8080".
func (f *Forward) URL() string {
	if f.cfg.Spec.Proto == "udp" {
		return "udp://" + f.addr.String()
	}
	return "http://" + f.addr.String()
}

// Close stops listening, ends every forwarded connection and waits for its
// goroutines. Idempotent.
func (f *Forward) Close() error {
	f.owner.close()
	return nil
}

func (f *Forward) target() (tcpip.FullAddress, netip.AddrPort, error) {
	ip, err := f.cfg.Target()
	if err != nil {
		return tcpip.FullAddress{}, netip.AddrPort{}, err
	}
	if !ip.Is4() {
		return tcpip.FullAddress{}, netip.AddrPort{}, fmt.Errorf("%s has no IPv4 address", f.cfg.Spec.Board)
	}
	ap := netip.AddrPortFrom(ip, f.cfg.Spec.BoardPort)
	return fullAddr(ap), ap, nil
}

func (f *Forward) acceptTCP(ln *net.TCPListener) {
	// Each connection's SYN waits for the previous one's (bridge_order.go).
	prev := make(chan struct{})
	close(prev)
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		if !f.owner.track(c) {
			c.Close()
			return
		}
		wait, sent := prev, make(chan struct{})
		prev = sent
		f.owner.go_(func() {
			defer f.owner.untrack(c)
			f.handleTCP(c, wait, sent)
		})
	}
}

// handleTCP splices host to a connection to the board, dialled in its turn:
// after prev is closed; it closes sent once its SYN is out.
func (f *Forward) handleTCP(host net.Conn, prev <-chan struct{}, sent chan struct{}) {
	spec := f.cfg.Spec
	fa, ap, err := f.target()
	if err != nil {
		// No SYN: the turn passes on once the previous one's is out.
		select {
		case <-prev:
		case <-f.owner.ctx.Done():
		}
		close(sent)
		f.owner.logf("forward %s → %s:%d refused: %v", host.RemoteAddr(), spec.Board, spec.BoardPort, err)
		resetHost(host)
		return
	}
	sim, err := dialTCPInTurn(f.owner.ctx, f.cfg.From.stack, fa, prev, sent)
	if err != nil {
		f.owner.logf("forward %s → %s (%s) failed: %v", host.RemoteAddr(), spec.Board, ap, err)
		resetHost(host)
		return
	}
	if !f.owner.track(sim) {
		sim.Close()
		host.Close()
		return
	}
	defer f.owner.untrack(sim)
	f.owner.logf("forward %s → %s (%s) connected", host.RemoteAddr(), spec.Board, ap)
	splice(host, sim)
	host.Close()
	sim.Close()
	f.owner.logf("forward %s → %s (%s) closed", host.RemoteAddr(), spec.Board, ap)
}

// udpFlow is one host client's conversation through a UDP forward.
type udpFlow struct {
	sim   *gonet.UDPConn
	timer tcpip.Timer
}

func (f *Forward) serveUDP(pc *net.UDPConn) {
	var mu sync.Mutex
	flows := make(map[netip.AddrPort]*udpFlow)
	end := func(client netip.AddrPort, fl *udpFlow) {
		mu.Lock()
		if flows[client] == fl {
			delete(flows, client)
		}
		mu.Unlock()
		fl.timer.Stop()
		fl.sim.Close()
	}
	buf := make([]byte, 65536)
	for {
		n, client, err := pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			mu.Lock()
			for c, fl := range flows {
				delete(flows, c)
				fl.timer.Stop()
				fl.sim.Close()
			}
			mu.Unlock()
			return
		}
		mu.Lock()
		fl := flows[client]
		mu.Unlock()
		if fl == nil {
			fa, ap, err := f.target()
			if err != nil {
				f.owner.logf("forward udp %s → %s dropped: %v", client, f.cfg.Spec.Board, err)
				continue
			}
			sim, err := gonet.DialUDP(f.cfg.From.stack, nil, &fa, ipv4.ProtocolNumber)
			if err != nil {
				f.owner.logf("forward udp %s → %s failed: %v", client, ap, err)
				continue
			}
			fl = &udpFlow{sim: sim}
			c := client
			flow := fl
			fl.timer = f.owner.clock.AfterFunc(f.cfg.UDPIdle, func() { end(c, flow) })
			if !f.owner.track(sim) {
				sim.Close()
				return
			}
			mu.Lock()
			flows[client] = fl
			mu.Unlock()
			f.owner.logf("forward udp %s → %s (%s) flow opened", client, f.cfg.Spec.Board, ap)
			f.owner.go_(func() {
				defer f.owner.untrack(sim)
				rb := make([]byte, 65536)
				for {
					n, err := sim.Read(rb)
					if err != nil {
						end(c, flow)
						return
					}
					flow.timer.Reset(f.cfg.UDPIdle)
					pc.WriteToUDPAddrPort(rb[:n], c)
				}
			})
		}
		fl.timer.Reset(f.cfg.UDPIdle)
		fl.sim.Write(buf[:n])
	}
}

// HostAccessConfig describes access from the world to the host's loopback.
type HostAccessConfig struct {
	// Node stands for the host inside the world (give it a well-known name
	// such as host.sim.internal, e.g. with Router.AddInternetHost). Its clock
	// must be realtime.
	Node *Node
	// TCPPorts are the host TCP ports boards may reach; connections to any
	// other port of Node are refused as by a closed port.
	TCPPorts []uint16
	// UDPPorts are the host UDP ports boards may reach; each board socket
	// gets its own host socket (a flow), so replies find their way back.
	UDPPorts []uint16
	// UDPIdle ends a UDP flow after this long without traffic; zero means
	// DefaultUDPIdle.
	UDPIdle time.Duration
	// HostAddr is where the host services are; 127.0.0.1 unless set.
	HostAddr netip.Addr
	// Trace, if set, gets a line per connection.
	Trace *trace.Log
}

// HostAccess relays connections from the world to allow-listed host ports.
type HostAccess struct {
	cfg   HostAccessConfig
	owner *bridgeOwner
}

// StartHostAccess listens on Node for each allowed port.
func StartHostAccess(cfg HostAccessConfig) (*HostAccess, error) {
	if cfg.Node == nil {
		return nil, errors.New("host access needs a node to stand for the host")
	}
	if cfg.Node.Clock().Mode() != vclock.Realtime {
		return nil, fmt.Errorf("host access: %w", ErrNeedsRealtime)
	}
	if !cfg.HostAddr.IsValid() {
		cfg.HostAddr = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	h := &HostAccess{cfg: cfg, owner: newBridgeOwner(cfg.Node.Clock(), cfg.Trace, "bridge")}
	for _, port := range cfg.TCPPorts {
		if port == 0 {
			h.Close()
			return nil, errors.New("host access: port 0 cannot be allowed; list real port numbers")
		}
		var wq waiter.Queue
		ep, tcpipErr := cfg.Node.stack.NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
		if tcpipErr != nil {
			h.Close()
			return nil, fmt.Errorf("host access port %d: %w", port, FromTCPIP(tcpipErr))
		}
		if tcpipErr := ep.Bind(tcpip.FullAddress{Port: port}); tcpipErr != nil {
			ep.Close()
			h.Close()
			return nil, fmt.Errorf("host access port %d: %w", port, FromTCPIP(tcpipErr))
		}
		if tcpipErr := ep.Listen(16); tcpipErr != nil {
			ep.Close()
			h.Close()
			return nil, fmt.Errorf("host access port %d: %w", port, FromTCPIP(tcpipErr))
		}
		l := &epCloser{ep}
		h.owner.track(l)
		port := port
		h.owner.go_(func() { h.accept(ep, &wq, port) })
	}
	if h.cfg.UDPIdle <= 0 {
		h.cfg.UDPIdle = DefaultUDPIdle
	}
	for _, port := range cfg.UDPPorts {
		if port == 0 {
			h.Close()
			return nil, errors.New("host access: UDP port 0 cannot be allowed; list real port numbers")
		}
		pc, err := gonet.DialUDP(cfg.Node.stack, &tcpip.FullAddress{Port: port}, nil, ipv4.ProtocolNumber)
		if err != nil {
			h.Close()
			return nil, fmt.Errorf("host access UDP port %d: %w", port, err)
		}
		h.owner.track(pc)
		port := port
		h.owner.go_(func() { h.serveUDP(pc, port) })
	}
	return h, nil
}

// serveUDP relays datagrams from boards to a host UDP port, one host socket
// per board socket.
func (h *HostAccess) serveUDP(sim *gonet.UDPConn, port uint16) {
	target := net.UDPAddrFromAddrPort(netip.AddrPortFrom(h.cfg.HostAddr, port))
	type flow struct {
		host  *net.UDPConn
		timer tcpip.Timer
	}
	var mu sync.Mutex
	flows := make(map[string]*flow)
	end := func(key string, fl *flow) {
		mu.Lock()
		if flows[key] == fl {
			delete(flows, key)
		}
		mu.Unlock()
		fl.timer.Stop()
		fl.host.Close()
	}
	buf := make([]byte, 65536)
	for {
		n, from, err := sim.ReadFrom(buf)
		if err != nil {
			mu.Lock()
			for k, fl := range flows {
				delete(flows, k)
				fl.timer.Stop()
				fl.host.Close()
			}
			mu.Unlock()
			return
		}
		key := from.String()
		mu.Lock()
		fl := flows[key]
		mu.Unlock()
		if fl == nil {
			host, err := net.DialUDP("udp", nil, target)
			if err != nil {
				h.owner.logf("host access udp %s → host %s failed: %v", from, target, err)
				continue
			}
			if !h.owner.track(host) {
				host.Close()
				return
			}
			fl = &flow{host: host}
			f := fl
			fl.timer = h.owner.clock.AfterFunc(h.cfg.UDPIdle, func() { end(key, f) })
			mu.Lock()
			flows[key] = fl
			mu.Unlock()
			h.owner.logf("host access udp %s → host %s flow opened", from, target)
			peer := from
			h.owner.go_(func() {
				defer h.owner.untrack(host)
				rb := make([]byte, 65536)
				for {
					n, err := host.Read(rb)
					if err != nil {
						// A closed host port shows up as ECONNREFUSED on
						// the next read; the board just gets no answer,
						// as from a real closed UDP port.
						if errors.Is(err, syscall.ECONNREFUSED) {
							continue
						}
						end(key, f)
						return
					}
					f.timer.Reset(h.cfg.UDPIdle)
					sim.WriteTo(rb[:n], peer)
				}
			})
		}
		fl.timer.Reset(h.cfg.UDPIdle)
		fl.host.Write(buf[:n])
	}
}

type epCloser struct{ ep tcpip.Endpoint }

func (c *epCloser) Close() error { c.ep.Close(); return nil }

// Close stops accepting, ends relayed connections and waits. Idempotent.
func (h *HostAccess) Close() error {
	h.owner.close()
	return nil
}

func (h *HostAccess) accept(ep tcpip.Endpoint, wq *waiter.Queue, port uint16) {
	entry, ch := waiter.NewChannelEntry(waiter.ReadableEvents | waiter.EventHUp | waiter.EventErr)
	wq.EventRegister(&entry)
	defer wq.EventUnregister(&entry)
	for {
		nep, nwq, tcpipErr := ep.Accept(nil)
		if _, ok := tcpipErr.(*tcpip.ErrWouldBlock); ok {
			select {
			case <-ch:
				continue
			case <-h.owner.ctx.Done():
				return
			}
		}
		if tcpipErr != nil {
			return
		}
		sim := gonet.NewTCPConn(nwq, nep)
		if !h.owner.track(sim) {
			sim.Close()
			return
		}
		h.owner.go_(func() {
			defer h.owner.untrack(sim)
			h.relay(sim, nep, port)
		})
	}
}

func (h *HostAccess) relay(sim *gonet.TCPConn, ep tcpip.Endpoint, port uint16) {
	target := netip.AddrPortFrom(h.cfg.HostAddr, port)
	var d net.Dialer
	d.Timeout = 5 * time.Second
	host, err := d.DialContext(h.owner.ctx, "tcp", target.String())
	if err != nil {
		h.owner.logf("host access %s → host %s refused: %v", sim.RemoteAddr(), target, err)
		// As a closed port would: reset the board's connection.
		ep.SocketOptions().SetLinger(tcpip.LingerOption{Enabled: true, Timeout: 0})
		sim.Close()
		return
	}
	if !h.owner.track(host) {
		host.Close()
		sim.Close()
		return
	}
	defer h.owner.untrack(host)
	h.owner.logf("host access %s → host %s connected", sim.RemoteAddr(), target)
	splice(sim, host)
	sim.Close()
	host.Close()
	h.owner.logf("host access %s → host %s closed", sim.RemoteAddr(), target)
}
