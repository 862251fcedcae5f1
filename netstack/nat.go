package netstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// NAT limits as a home router has them. Linux's conntrack keeps an
// unanswered UDP mapping 30 s and an answered one 120 s (consumer routers
// range from 30 s to 180 s); RFC 4787 asks for at least 2 minutes, so 60 s
// sits where the cheap routers boards meet are. RFC 5382 asks that an
// established TCP mapping live at least 2 h 4 min idle. A small router's
// table holds a few thousand entries.
const (
	DefaultNATUDPIdle  = 60 * time.Second
	DefaultNATTCPIdle  = 2*time.Hour + 4*time.Minute
	DefaultNATMaxFlows = 4096
	// natDialTimeout bounds a host connect; the board's own SYN
	// retransmissions go on meanwhile, as behind a slow path.
	natDialTimeout = 20 * time.Second
	// natFlowLog bounds the flows kept for the report.
	natFlowLog = 1000
)

// NATConfig describes the gateway between the simulated internet and the
// host's real network.
type NATConfig struct {
	// NIC is the gateway's interface on the simulated internet; routers
	// send it whatever no simulated host claims. Its node's clock must be
	// realtime and the node must not forward.
	NIC *NIC
	// Allow restricts where boards may go; empty means anywhere. A flow
	// the list does not allow is refused as by a closed port.
	Allow []AllowRule
	// Aliases maps addresses inside the world to host addresses, for
	// host addresses a board could not route to itself (the host's
	// loopback, pinned with --resolve NAME:127.0.0.2).
	Aliases map[netip.Addr]netip.Addr
	// MaxFlows bounds the mappings open at once; a new flow beyond it is
	// dropped, as a full conntrack table drops. Zero: DefaultNATMaxFlows.
	MaxFlows int
	// UDPIdle ends a UDP mapping after this long without traffic; zero:
	// DefaultNATUDPIdle.
	UDPIdle time.Duration
	// TCPIdle ends a TCP mapping after this long without traffic (both
	// ends are reset); zero: DefaultNATTCPIdle.
	TCPIdle time.Duration
	// Dial opens host connections; nil means a net.Dialer.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// Trace, if set, gets a line per flow naming the host endpoint.
	Trace *trace.Log
}

// FlowInfo is one NAT mapping, open or ended, for the report.
type FlowInfo struct {
	// Proto is "tcp" or "udp".
	Proto string
	// Board is the board's side (its address and port).
	Board netip.AddrPort
	// Dst is the destination as the board addressed it.
	Dst netip.AddrPort
	// Name is the name the board resolved Dst from, if known.
	Name string
	// Host is the real destination dialed (Dst, or its alias target).
	Host netip.AddrPort
	// Local is the host socket's own address.
	Local netip.AddrPort
	// Opened and Ended are simulated times (Ended zero while open).
	Opened, Ended time.Duration
	// Sent and Received count payload bytes board→host and host→board.
	Sent, Received int64
	// End says how the flow ended: "closed", "idle timeout", "refused:
	// not allowed", "refused by host", "unreachable: …", "table full",
	// or "" while open.
	End string
}

// dst is the destination as the board addressed it, with its name.
func (f FlowInfo) dst() string {
	if f.Name != "" {
		return fmt.Sprintf("%s (%s)", f.Name, f.Dst)
	}
	return f.Dst.String()
}

func (f FlowInfo) String() string {
	dst := f.dst()
	host := ""
	if f.Host.IsValid() {
		host = " via host " + f.Host.String()
	}
	end := f.End
	if end == "" {
		end = "open"
	}
	return fmt.Sprintf("%s %s → %s%s: %d B out, %d B in, %s", f.Proto, f.Board, dst, host, f.Sent, f.Received, end)
}

type natFlow struct {
	mu   sync.Mutex
	info FlowInfo
	// ended is set by the first finish.
	ended          bool
	sent, received atomic.Int64
}

// NAT relays board flows that leave the simulated internet to the host's
// network through ordinary host sockets (no root, no TAP): the gateway's
// gVisor stack terminates each board TCP connection and the NAT dials the
// real destination; UDP is relayed per flow (board address and port,
// destination).
type NAT struct {
	cfg   NATConfig
	owner *bridgeOwner
	stack *stack.Stack

	mu struct {
		sync.Mutex
		active  int
		flows   []*natFlow
		dropped int
		names   map[netip.Addr][]string
	}
}

// ErrNATForwarding is returned when the gateway's node forwards packets:
// the NAT must terminate them instead.
var ErrNATForwarding = errors.New("the NAT gateway's node must not forward packets")

// StartNAT turns cfg.NIC's node into the gateway: it accepts every TCP and
// UDP flow the routers send it, whatever the destination address.
func StartNAT(cfg NATConfig) (*NAT, error) {
	if cfg.NIC == nil {
		return nil, errors.New("netstack: the NAT needs a NIC on the simulated internet")
	}
	node := cfg.NIC.node
	if node.Clock().Mode() != vclock.Realtime {
		return nil, fmt.Errorf("NAT to the real network: the real network runs in real time: %w", ErrNeedsRealtime)
	}
	if cfg.MaxFlows <= 0 {
		cfg.MaxFlows = DefaultNATMaxFlows
	}
	if cfg.UDPIdle <= 0 {
		cfg.UDPIdle = DefaultNATUDPIdle
	}
	if cfg.TCPIdle <= 0 {
		cfg.TCPIdle = DefaultNATTCPIdle
	}
	if cfg.Dial == nil {
		d := &net.Dialer{Timeout: natDialTimeout}
		cfg.Dial = d.DialContext
	}
	n := &NAT{cfg: cfg, owner: newBridgeOwner(node.Clock(), cfg.Trace, "nat"), stack: node.stack}
	n.mu.names = map[netip.Addr][]string{}
	s := node.stack
	// Promiscuous: packets to any address are this stack's; spoofing:
	// replies leave from the address the board wrote to.
	if e := s.SetPromiscuousMode(cfg.NIC.id, true); e != nil {
		return nil, fmt.Errorf("NAT: %w", FromTCPIP(e))
	}
	if e := cfg.NIC.setSpoofing(true); e != nil {
		return nil, fmt.Errorf("NAT: %w", FromTCPIP(e))
	}
	tf := tcp.NewForwarder(s, 0, cfg.MaxFlows, n.handleTCP)
	s.SetTransportProtocolHandler(tcp.ProtocolNumber, tf.HandlePacket)
	uf := udp.NewForwarder(s, n.handleUDP)
	s.SetTransportProtocolHandler(udp.ProtocolNumber, uf.HandlePacket)
	return n, nil
}

// Close ends every flow and waits for the relays. Idempotent.
func (n *NAT) Close() error {
	n.owner.close()
	return nil
}

// Learn records that name resolved to addrs for the boards, so allow rules
// by name match and flows are listed by name.
func (n *NAT) Learn(name string, addrs []netip.Addr) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range addrs {
		if !slices.Contains(n.mu.names[a], name) {
			n.mu.names[a] = append(n.mu.names[a], name)
		}
	}
}

// Flows lists the mappings in the order they were made (at most the first
// thousand), and how many more were not kept.
func (n *NAT) Flows() (flows []FlowInfo, more int) {
	n.mu.Lock()
	fl := slices.Clone(n.mu.flows)
	more = n.mu.dropped
	n.mu.Unlock()
	for _, f := range fl {
		f.mu.Lock()
		info := f.info
		f.mu.Unlock()
		info.Sent, info.Received = f.sent.Load(), f.received.Load()
		flows = append(flows, info)
	}
	return flows, more
}

// Active is how many mappings are open.
func (n *NAT) Active() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mu.active
}

func (n *NAT) nameOf(a netip.Addr) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ns := n.mu.names[a]; len(ns) > 0 {
		return ns[0]
	}
	return ""
}

// simulatedRanges are addresses that exist only inside the world; a flow
// to one that no simulated host claims has nowhere real to go.
var simulatedRanges = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),  // the routers' transit network
	netip.MustParsePrefix("198.18.0.0/15"),  // host.sim.internal and aliases
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("224.0.0.0/3"),    // multicast and reserved
	netip.MustParsePrefix("127.0.0.0/8"),    // a board's own loopback
	netip.MustParsePrefix("169.254.0.0/16"), // link-local
}

// target decides where a flow to dst goes on the host: the host address
// to dial, or why it is refused.
func (n *NAT) target(dst netip.AddrPort) (netip.AddrPort, string) {
	host := dst.Addr()
	if a, ok := n.cfg.Aliases[host]; ok {
		host = a
	} else {
		for _, p := range simulatedRanges {
			if p.Contains(host) {
				return netip.AddrPort{}, "no such host outside the simulation"
			}
		}
	}
	hp := netip.AddrPortFrom(host, dst.Port())
	if !n.allowed(dst.Addr(), hp) {
		return hp, "not allowed"
	}
	return hp, ""
}

func (n *NAT) allowed(world netip.Addr, host netip.AddrPort) bool {
	if len(n.cfg.Allow) == 0 {
		return true
	}
	n.mu.Lock()
	names := slices.Clone(n.mu.names[world])
	n.mu.Unlock()
	for _, r := range n.cfg.Allow {
		if r.Port != 0 && r.Port != host.Port() {
			continue
		}
		if r.Prefix.IsValid() && r.Prefix.Contains(host.Addr()) {
			return true
		}
		if r.Name != "" && slices.Contains(names, r.Name) {
			return true
		}
	}
	return false
}

// open records a new flow; false when the table is full (then the flow is
// recorded as dropped).
func (n *NAT) open(info FlowInfo) (*natFlow, bool) {
	info.Opened = n.owner.clock.Elapsed()
	info.Name = n.nameOf(info.Dst.Addr())
	f := &natFlow{info: info}
	n.mu.Lock()
	full := n.mu.active >= n.cfg.MaxFlows
	if !full && info.End == "" {
		n.mu.active++
	}
	if len(n.mu.flows) < natFlowLog {
		n.mu.flows = append(n.mu.flows, f)
	} else {
		n.mu.dropped++
	}
	n.mu.Unlock()
	if full && info.End == "" {
		n.finish(f, "table full", false)
		return f, false
	}
	return f, true
}

// finish ends a flow once; active says it held a table slot.
func (n *NAT) finish(f *natFlow, end string, active bool) {
	f.mu.Lock()
	if f.ended {
		f.mu.Unlock()
		return
	}
	f.ended = true
	f.info.End = end
	f.info.Ended = n.owner.clock.Elapsed()
	info := f.info
	f.mu.Unlock()
	if active {
		n.mu.Lock()
		n.mu.active--
		n.mu.Unlock()
	}
	info.Sent, info.Received = f.sent.Load(), f.received.Load()
	n.owner.logf("%s", info)
}

func fromID(id stack.TransportEndpointID) (board, dst netip.AddrPort) {
	return netip.AddrPortFrom(addrTo(id.RemoteAddress), id.RemotePort), netip.AddrPortFrom(addrTo(id.LocalAddress), id.LocalPort)
}

func (n *NAT) handleTCP(r *tcp.ForwarderRequest) {
	board, dst := fromID(r.ID())
	host, refused := n.target(dst)
	if refused != "" {
		f, _ := n.open(FlowInfo{Proto: "tcp", Board: board, Dst: dst, Host: host, End: "refused: " + refused})
		n.finish(f, "refused: "+refused, false)
		r.Complete(true) // RST, as a closed port answers
		return
	}
	f, ok := n.open(FlowInfo{Proto: "tcp", Board: board, Dst: dst, Host: host})
	if !ok {
		r.Complete(false) // dropped: the board's connect times out
		return
	}
	if !n.owner.tryGo(func() { n.relayTCP(r, f, host) }) {
		r.Complete(false)
		n.finish(f, "closed", true)
	}
}

func (n *NAT) relayTCP(r *tcp.ForwarderRequest, f *natFlow, host netip.AddrPort) {
	hc, err := n.cfg.Dial(n.owner.ctx, "tcp", host.String())
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			r.Complete(true)
			n.finish(f, "refused by host", true)
		} else {
			// No answer or no route on the real network: the board
			// hears nothing and its connect times out.
			r.Complete(false)
			n.finish(f, "unreachable: "+unwrapOp(err), true)
		}
		return
	}
	var wq waiter.Queue
	ep, tErr := r.CreateEndpoint(&wq)
	r.Complete(false)
	if tErr != nil {
		hc.Close()
		n.finish(f, "closed: "+FromTCPIP(tErr).Error(), true)
		return
	}
	sc := gonet.NewTCPConn(&wq, ep)
	if !n.owner.track(sc) || !n.owner.track(hc) {
		sc.Close()
		hc.Close()
		n.finish(f, "closed", true)
		return
	}
	defer n.owner.untrack(sc)
	defer n.owner.untrack(hc)
	if la, ok := hc.LocalAddr().(*net.TCPAddr); ok {
		f.mu.Lock()
		f.info.Local = la.AddrPort()
		f.mu.Unlock()
	}
	f.mu.Lock()
	n.owner.logf("tcp %s → %s connected via host %s (local %s)", f.info.Board, f.info.dst(), host, f.info.Local)
	f.mu.Unlock()
	var expired atomic.Bool
	timer := n.owner.clock.AfterFunc(n.cfg.TCPIdle, func() {
		// Idle too long: the mapping is forgotten and both ends learn
		// it by a reset.
		expired.Store(true)
		ep.SocketOptions().SetLinger(tcpip.LingerOption{Enabled: true, Timeout: 0})
		sc.Close()
		resetHost(hc)
	})
	touch := func() { timer.Reset(n.cfg.TCPIdle) }
	splice(&countConn{Conn: sc, n: &f.sent, touch: touch}, &countConn{Conn: hc, n: &f.received, touch: touch})
	timer.Stop()
	sc.Close()
	hc.Close()
	end := "closed"
	if expired.Load() {
		end = "idle timeout"
	}
	n.finish(f, end, true)
}

func unwrapOp(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

// countConn counts the bytes read from a connection and notes activity.
type countConn struct {
	net.Conn
	n     *atomic.Int64
	touch func()
}

func (c *countConn) Read(p []byte) (int, error) {
	k, err := c.Conn.Read(p)
	if k > 0 {
		c.n.Add(int64(k))
		c.touch()
	}
	return k, err
}

func (c *countConn) CloseWrite() error {
	if cw, ok := c.Conn.(closeWriter); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
}

func (n *NAT) handleUDP(r *udp.ForwarderRequest) bool {
	board, dst := fromID(r.ID())
	host, refused := n.target(dst)
	if refused != "" {
		f, _ := n.open(FlowInfo{Proto: "udp", Board: board, Dst: dst, Host: host, End: "refused: " + refused})
		n.finish(f, "refused: "+refused, false)
		return false // ICMP port unreachable, as a closed port answers
	}
	f, ok := n.open(FlowInfo{Proto: "udp", Board: board, Dst: dst, Host: host})
	if !ok {
		return true // dropped silently
	}
	hc, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(host))
	if err != nil {
		n.finish(f, "unreachable: "+unwrapOp(err), true)
		return true
	}
	var wq waiter.Queue
	ep, tErr := r.CreateEndpoint(&wq)
	if tErr != nil {
		hc.Close()
		n.finish(f, "closed: "+FromTCPIP(tErr).Error(), true)
		return true
	}
	sc := gonet.NewUDPConn(&wq, ep)
	if !n.owner.track(sc) || !n.owner.track(hc) {
		sc.Close()
		hc.Close()
		n.finish(f, "closed", true)
		return true
	}
	f.mu.Lock()
	f.info.Local = hc.LocalAddr().(*net.UDPAddr).AddrPort()
	n.owner.logf("udp %s → %s mapped via host %s (local %s)", f.info.Board, f.info.dst(), host, f.info.Local)
	f.mu.Unlock()
	var once sync.Once
	var expired atomic.Bool
	end := func() {
		once.Do(func() {
			sc.Close()
			hc.Close()
			n.owner.untrack(sc)
			n.owner.untrack(hc)
			e := "closed"
			if expired.Load() {
				e = "idle timeout"
			}
			n.finish(f, e, true)
		})
	}
	timer := n.owner.clock.AfterFunc(n.cfg.UDPIdle, func() {
		expired.Store(true)
		end()
	})
	touch := func() { timer.Reset(n.cfg.UDPIdle) }
	started := n.owner.tryGo(func() {
		buf := make([]byte, 65536)
		for {
			k, err := sc.Read(buf)
			if err != nil {
				end()
				return
			}
			f.sent.Add(int64(k))
			touch()
			hc.Write(buf[:k])
		}
	}) && n.owner.tryGo(func() {
		buf := make([]byte, 65536)
		for {
			k, err := hc.Read(buf)
			if err != nil {
				// A closed host port answers ICMP; a real NAT passes
				// nothing on that a board's lwIP would act on.
				if errors.Is(err, syscall.ECONNREFUSED) {
					continue
				}
				end()
				return
			}
			f.received.Add(int64(k))
			touch()
			sc.Write(buf[:k])
		}
	})
	if !started {
		timer.Stop()
		end()
	}
	return true
}

var _ io.Closer = (*NAT)(nil)
