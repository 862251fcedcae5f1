// Package lantest wires a few gVisor stacks onto a tiny in-memory Ethernet hub
// for the tests of netstack's protocol packages (dhcp, dns, services). It is
// not the simulator's medium (that is netstack's switch with impairments); it
// only carries real Ethernet frames between real stacks, on the simulator
// clock, and records them so tests can assert what crossed the wire.
package lantest

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"

	"github.com/esp8266sim/esp8266sim/internal/simrand"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// NIC is the NIC id every node's single Ethernet interface gets.
const NIC tcpip.NICID = 1

// Frame is one Ethernet frame seen on the hub.
type Frame struct {
	At   time.Duration // simulator time it was sent
	From string        // sending node's name
	Data []byte        // the whole Ethernet frame
}

// LAN is a hub: every frame a node sends reaches every other node whose MAC
// matches the destination (or all of them for broadcast), after Latency.
type LAN struct {
	Clock   *vclock.Clock
	Latency time.Duration

	mu sync.Mutex
	// Guarded by mu.
	nodes  []*Node
	frames []Frame
	drop   func(from string, frame []byte) bool
}

// Node is one stack on the LAN.
type Node struct {
	Name  string
	Stack *stack.Stack
	NIC   tcpip.NICID
	MAC   tcpip.LinkAddress
	lan   *LAN
	ep    *channel.Endpoint
}

// New starts a clock of the given mode and an empty LAN; both stop at the end
// of the test.
func New(t testing.TB, mode vclock.Mode) *LAN {
	t.Helper()
	c := vclock.New(vclock.Config{Mode: mode})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx)
	}()
	l := &LAN{Clock: c, Latency: time.Millisecond}
	t.Cleanup(func() {
		l.mu.Lock()
		nodes := l.nodes
		l.mu.Unlock()
		for _, n := range nodes {
			n.Stack.Close()
		}
		cancel()
		<-done
		for _, n := range nodes {
			n.Stack.Wait()
		}
	})
	return l
}

// SetDrop installs a filter; a frame for which it returns true is lost.
func (l *LAN) SetDrop(f func(from string, frame []byte) bool) {
	l.mu.Lock()
	l.drop = f
	l.mu.Unlock()
}

// Frames returns a copy of every frame sent so far.
func (l *LAN) Frames() []Frame {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Frame(nil), l.frames...)
}

// AddNode creates a stack with one Ethernet NIC (MAC 02:00:00:00:00:<n>) and,
// if addr is valid, that address plus a route for its subnet (and a default
// route via gw when gw is valid).
func (l *LAN) AddNode(t testing.TB, name string, addr netip.Prefix, gw netip.Addr) *Node {
	t.Helper()
	l.mu.Lock()
	idx := len(l.nodes) + 1
	l.mu.Unlock()
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4},
		Clock:              l.Clock,
		RandSource:         simrand.Source(1, "lantest/"+name),
		SecureRNG:          simrand.Reader(1, "lantest/secure/"+name),
	})
	mac := tcpip.LinkAddress([]byte{2, 0, 0, 0, 0, byte(idx)})
	ep := channel.New(512, 1500, mac)
	if err := s.CreateNICWithOptions(NIC, ethernet.New(ep), stack.NICOptions{Name: name}); err != nil {
		t.Fatalf("CreateNIC(%s): %v", name, err)
	}
	n := &Node{Name: name, Stack: s, NIC: NIC, MAC: mac, lan: l, ep: ep}
	if addr.IsValid() {
		n.Configure(t, addr, gw)
	}
	ep.AddNotify(n)
	l.mu.Lock()
	l.nodes = append(l.nodes, n)
	l.mu.Unlock()
	return n
}

// Configure puts addr on the node's NIC with a subnet route and an optional
// default route.
func (n *Node) Configure(t testing.TB, addr netip.Prefix, gw netip.Addr) {
	t.Helper()
	pa := tcpip.ProtocolAddress{
		Protocol: ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{
			Address:   tcpip.AddrFrom4(addr.Addr().As4()),
			PrefixLen: addr.Bits(),
		},
	}
	if err := n.Stack.AddProtocolAddress(n.NIC, pa, stack.AddressProperties{}); err != nil {
		t.Fatalf("AddProtocolAddress(%s, %v): %v", n.Name, addr, err)
	}
	n.Stack.AddRoute(tcpip.Route{Destination: pa.AddressWithPrefix.Subnet(), NIC: n.NIC})
	if gw.IsValid() {
		n.Stack.AddRoute(tcpip.Route{Destination: header.IPv4EmptySubnet, Gateway: tcpip.AddrFrom4(gw.As4()), NIC: n.NIC})
	}
}

// WriteNotify implements channel.Notification: it runs on the sender's
// goroutine right after the frame was queued, so the frame is in flight
// (the clock sees a timer) before the sender can park.
func (n *Node) WriteNotify() {
	pkt := n.ep.Read()
	if pkt == nil {
		return
	}
	data := pkt.ToView().AsSlice()
	frame := append([]byte(nil), data...)
	pkt.DecRef()
	l := n.lan
	l.Clock.Poke()
	l.mu.Lock()
	l.frames = append(l.frames, Frame{At: l.Clock.Elapsed(), From: n.Name, Data: frame})
	drop := l.drop
	targets := append([]*Node(nil), l.nodes...)
	l.mu.Unlock()
	if drop != nil && drop(n.Name, frame) {
		return
	}
	if len(frame) < header.EthernetMinimumSize {
		return
	}
	dst := header.Ethernet(frame).DestinationAddress()
	for _, m := range targets {
		if m == n {
			continue
		}
		if dst != m.MAC && dst != header.EthernetBroadcastAddress && !header.IsMulticastEthernetAddress(dst) {
			continue
		}
		m := m
		l.Clock.AfterFunc(l.Latency, func() {
			p := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(frame)})
			m.ep.InjectInbound(0, p)
			p.DecRef()
			l.Clock.Poke()
		})
	}
}
