package netstack

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/esp8266sim/esp8266sim/internal/simrand"
	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/raw"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// DefaultMTU is a NIC's MTU (largest IP packet) unless NICConfig.MTU says
// otherwise.
const DefaultMTU = 1500

// NodeConfig describes a Node.
type NodeConfig struct {
	// Name names the node in traces, captures and random streams ("esp1",
	// "router"); required.
	Name string
	// Clock is the world's clock; every timer of the node's stack runs on it.
	// Required.
	Clock *vclock.Clock
	// Seed is the world's seed: the stack's random numbers (TCP initial
	// sequence numbers, ephemeral ports) come from streams derived from it and
	// Name, so a run is reproducible.
	Seed uint64
	// Trace, if set, learns the node's MAC and IP addresses so trace lines
	// use its name.
	Trace *trace.Log
	// SACK enables TCP selective acknowledgements (off by default, like the
	// ESP8266's lwIP).
	SACK bool
}

// Node is one network host: a gVisor stack (IPv4, ARP, TCP, UDP, ICMP) with
// Ethernet NICs that plug into media.
type Node struct {
	name  string
	clock *vclock.Clock
	seed  uint64
	trace *trace.Log
	stack *stack.Stack
	// nicCount is len(mu.nics), read by the receive filter (rxfilter.go).
	nicCount atomic.Int32
	// udpPorts are the UDP ports the node's endpoints were bound to, for
	// the receive filter (udpports.go).
	udpPorts *udpPorts

	mu struct {
		sync.Mutex
		nics   []*NIC
		routes []Route
		closed bool
		// forwarding is SetForwarding's state, for NICs added later.
		forwarding bool
		// installed are the routes applyRoutesLocked put in the stack.
		installed []tcpip.Route
	}
}

// NewNode builds a node with no NICs.
func NewNode(cfg NodeConfig) (*Node, error) {
	if cfg.Name == "" {
		return nil, errors.New("netstack: node needs a name")
	}
	if cfg.Clock == nil {
		return nil, fmt.Errorf("netstack: node %s needs a clock", cfg.Name)
	}
	// UDP endpoints record their ports for the receive filter (udpports.go).
	ports := &udpPorts{}
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, ports.protocol, icmp.NewProtocol4},
		// Raw endpoints: a board's SOCK_RAW (lwIP raw PCBs) needs them;
		// without a factory gVisor refuses and logs to stderr.
		RawFactory: raw.EndpointFactory{},
		Clock:      nodeClock{cfg.Clock},
		RandSource: simrand.Source(cfg.Seed, "node/"+cfg.Name+"/rand"),
		SecureRNG:  simrand.Reader(cfg.Seed, "node/"+cfg.Name+"/secure"),
	})
	// gVisor offers SACK unless told otherwise; set it either way so the
	// default is what NodeConfig promises. With SACK, gVisor's RACK arms a
	// tail-loss probe at 2·SRTT: behind a rate-limited queue at low latency
	// it fired before every flight's first ACK and retransmitted half the
	// segments of a lossless transfer (issue #14). lwIP 1.4 has neither.
	sack := tcpip.TCPSACKEnabled(cfg.SACK)
	if tcpipErr := s.SetTransportProtocolOption(tcp.ProtocolNumber, &sack); tcpipErr != nil {
		s.Destroy()
		return nil, fmt.Errorf("netstack: node %s: setting SACK: %w", cfg.Name, FromTCPIP(tcpipErr))
	}
	return &Node{name: cfg.Name, clock: cfg.Clock, seed: cfg.Seed, trace: cfg.Trace, stack: s, udpPorts: ports}, nil
}

// Name is the node's name.
func (n *Node) Name() string { return n.name }

// Clock is the node's clock.
func (n *Node) Clock() *vclock.Clock { return n.clock }

// Stack is the node's gVisor stack, for services that open their own
// endpoints (DHCP, DNS, simulated internet services).
func (n *Node) Stack() *stack.Stack { return n.stack }

// NICs lists the node's NICs in the order they were added.
func (n *Node) NICs() []*NIC {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.mu.nics)
}

// NICConfig describes a NIC.
type NICConfig struct {
	// MAC is the NIC's address; empty means a locally administered address
	// derived from the seed, the node's name and the NIC's index.
	MAC net.HardwareAddr
	// Addr, if valid, is assigned at once ("192.168.1.23/24") with an on-link
	// route to its subnet.
	Addr netip.Prefix
	// MTU is the largest IP packet the NIC sends; zero means DefaultMTU.
	MTU uint32
	// Impairments apply to both directions of the attachment, if the NIC is
	// attached at once.
	Impairments Impairments
}

// NIC is one Ethernet interface of a node. It can be attached to one medium
// at a time, detached, and attached again elsewhere (a WiFi station moving
// between access points).
type NIC struct {
	node *Node
	id   tcpip.NICID
	mac  [6]byte
	ep   *endpoint
	// mtu is the NIC's own MTU (NICConfig.MTU); an attachment's egress
	// MTU lowers it while attached (setLinkMTU).
	mtu uint32
	att atomic.Pointer[Attachment]
	// hooks are the owner's frame hooks (SetFrameHooks), or nil.
	hooks atomic.Pointer[frameHooks]
	// dropUnheard is DropUnheardBroadcasts' switch (rxfilter.go).
	dropUnheard atomic.Bool
	// local is the receive filter's copy of the addresses the NIC answers
	// ARP for (localaddr.go), replaced whole under addrMu.
	local atomic.Pointer[localAddrs]

	// addrMu serialises changes of the NIC's addresses on the stack with
	// the updates of local.
	addrMu sync.Mutex
	// spoofing is set while the stack spoofs on the NIC (a NAT's).
	spoofing bool

	mu struct {
		sync.Mutex
		addrs []netip.Prefix
	}
}

// AddNIC adds a NIC and, if m is not nil, attaches it to m.
func (n *Node) AddNIC(m *Medium, cfg NICConfig) (*NIC, error) {
	n.mu.Lock()
	if n.mu.closed {
		n.mu.Unlock()
		return nil, fmt.Errorf("netstack: node %s is closed", n.name)
	}
	index := len(n.mu.nics)
	n.mu.Unlock()

	nic := &NIC{node: n, id: tcpip.NICID(index + 1)}
	switch len(cfg.MAC) {
	case 0:
		v := simrand.Uint64(n.seed, fmt.Sprintf("mac/%s/%d", n.name, index))
		nic.mac = [6]byte{0x02, byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	case 6:
		nic.mac = [6]byte(cfg.MAC)
		if nic.mac[0]&1 != 0 {
			return nil, fmt.Errorf("netstack: node %s: MAC %s is a multicast address; a NIC needs a unicast MAC", n.name, cfg.MAC)
		}
	default:
		return nil, fmt.Errorf("netstack: node %s: MAC %s has %d bytes, want 6", n.name, cfg.MAC, len(cfg.MAC))
	}
	if err := cfg.Impairments.Validate(); err != nil {
		return nil, fmt.Errorf("netstack: node %s: %w", n.name, err)
	}
	mtu := cfg.MTU
	if mtu == 0 {
		mtu = DefaultMTU
	}
	nic.mtu = mtu
	nic.ep = newEndpoint(nic, mtu)
	if tcpipErr := n.stack.CreateNICWithOptions(nic.id, nic.ep, stack.NICOptions{Name: fmt.Sprintf("%s-eth%d", n.name, index)}); tcpipErr != nil {
		return nil, fmt.Errorf("netstack: node %s: creating NIC: %w", n.name, FromTCPIP(tcpipErr))
	}
	// The enabled NIC already has IPv4's broadcast address.
	nic.addrMu.Lock()
	nic.syncLocalLocked()
	nic.addrMu.Unlock()
	n.trace.Names().SetMAC(nic.mac[:], n.name)

	n.mu.Lock()
	nic.ep.offload.Store(n.mu.forwarding)
	n.mu.nics = append(n.mu.nics, nic)
	n.nicCount.Store(int32(len(n.mu.nics)))
	n.mu.Unlock()

	if cfg.Addr.IsValid() {
		if err := nic.AddAddress(cfg.Addr); err != nil {
			return nil, err
		}
	}
	if m != nil {
		if _, err := nic.Attach(m, cfg.Impairments); err != nil {
			return nil, err
		}
	}
	return nic, nil
}

// setLinkMTU makes the NIC's MTU the link's (mtu > 0) or its own: the
// stack then sizes what it sends to the link, as an interface configured
// with the link's MTU does.
func (c *NIC) setLinkMTU(mtu int) {
	m := c.mtu
	if mtu > 0 && uint32(mtu) < m {
		m = uint32(mtu)
	}
	c.ep.SetMTU(m)
}

// Node is the NIC's node.
func (c *NIC) Node() *Node { return c.node }

// ID is the NIC's ID in the node's gVisor stack.
func (c *NIC) ID() tcpip.NICID { return c.id }

// MAC is the NIC's hardware address.
func (c *NIC) MAC() net.HardwareAddr { return net.HardwareAddr(slices.Clone(c.mac[:])) }

// LinkAddress is the NIC's hardware address as gVisor spells it.
func (c *NIC) LinkAddress() tcpip.LinkAddress { return tcpip.LinkAddress(c.mac[:]) }

// Attachment is the NIC's current attachment, or nil when detached.
func (c *NIC) Attachment() *Attachment { return c.att.Load() }

// Attach plugs the NIC into m. A NIC is on at most one medium at a time.
func (c *NIC) Attach(m *Medium, imp Impairments) (*Attachment, error) {
	if m == nil {
		return nil, fmt.Errorf("netstack: attaching %s: no medium", c.node.name)
	}
	if cur := c.att.Load(); cur != nil {
		return nil, fmt.Errorf("netstack: %s is already attached to %s; detach it first", c.node.name, cur.medium.name)
	}
	a, err := m.attach(c, imp)
	if err != nil {
		return nil, fmt.Errorf("netstack: %w", err)
	}
	if !c.att.CompareAndSwap(nil, a) {
		a.detached.Store(true)
		m.detach(a)
		return nil, fmt.Errorf("netstack: %s was attached concurrently", c.node.name)
	}
	return a, nil
}

// Detach unplugs the NIC from its medium, if any.
func (c *NIC) Detach() {
	if a := c.att.Load(); a != nil {
		a.Detach()
	}
}

// SetNeighbor records ip's link address on this NIC as a static entry of
// the neighbour table: no ARP is sent for it and it is never evicted.
func (c *NIC) SetNeighbor(ip netip.Addr, mac net.HardwareAddr) error {
	if !ip.Is4() || len(mac) != 6 {
		return fmt.Errorf("netstack: neighbour %v at %v: want an IPv4 address and a 6-byte MAC", ip, mac)
	}
	if err := c.node.stack.AddStaticNeighbor(c.id, ipv4.ProtocolNumber, tcpip.AddrFrom4(ip.As4()), tcpip.LinkAddress(mac)); err != nil {
		return fmt.Errorf("netstack: neighbour %v on NIC %d: %s", ip, c.id, err)
	}
	return nil
}

// Neighbor looks ip up in this NIC's neighbour table: its link address and
// whether the entry is static (SetNeighbor) rather than learnt by ARP.
func (c *NIC) Neighbor(ip netip.Addr) (mac net.HardwareAddr, static, ok bool) {
	if !ip.Is4() {
		return nil, false, false
	}
	entries, err := c.node.stack.Neighbors(c.id, ipv4.ProtocolNumber)
	if err != nil {
		return nil, false, false
	}
	want := tcpip.AddrFrom4(ip.As4())
	for _, e := range entries {
		if e.Addr == want && e.LinkAddr != "" {
			return net.HardwareAddr(e.LinkAddr), e.State == stack.Static, true
		}
	}
	return nil, false, false
}

// AddAddress assigns p's address to the NIC and adds an on-link route to p's
// subnet.
func (c *NIC) AddAddress(p netip.Prefix) error {
	if !p.Addr().Is4() {
		return fmt.Errorf("netstack: %s: address %s is not IPv4", c.node.name, p)
	}
	if err := c.AssignAddress(p); err != nil {
		return err
	}
	c.mu.Lock()
	c.mu.addrs = append(c.mu.addrs, p)
	c.mu.Unlock()
	c.node.trace.Names().SetIP(p.Addr(), c.node.name)
	if p.Bits() < 32 {
		return c.node.AddRoute(p.Masked(), netip.Addr{}, c)
	}
	return nil
}

// RemoveAddress removes an address and the on-link route AddAddress added.
func (c *NIC) RemoveAddress(a netip.Addr) error {
	c.mu.Lock()
	i := slices.IndexFunc(c.mu.addrs, func(p netip.Prefix) bool { return p.Addr() == a })
	var p netip.Prefix
	if i >= 0 {
		p = c.mu.addrs[i]
		c.mu.addrs = slices.Delete(c.mu.addrs, i, i+1)
	}
	c.mu.Unlock()
	if i < 0 {
		return fmt.Errorf("netstack: %s has no address %s", c.node.name, a)
	}
	if err := c.UnassignAddress(a); err != nil {
		return err
	}
	c.node.trace.Names().ForgetIP(a)
	if p.Bits() < 32 {
		c.node.removeRoutes(func(r Route) bool { return r.NIC == c && r.Dst == p.Masked() && !r.Gateway.IsValid() })
	}
	return nil
}

// Addresses lists the NIC's addresses.
func (c *NIC) Addresses() []netip.Prefix {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.mu.addrs)
}

// SetImpairments changes both directions of the NIC's current attachment;
// it fails when the NIC is detached.
func (c *NIC) SetImpairments(imp Impairments) error {
	a := c.att.Load()
	if a == nil {
		return fmt.Errorf("netstack: %s is not attached to a medium", c.node.name)
	}
	return a.SetImpairments(imp)
}

// Route is one entry of a node's routing table.
type Route struct {
	// Dst is the destination subnet; 0.0.0.0/0 is the default route.
	Dst netip.Prefix
	// Gateway is the next hop; invalid means on-link.
	Gateway netip.Addr
	// NIC sends the packets.
	NIC *NIC
}

func (r Route) String() string {
	via := "on-link"
	if r.Gateway.IsValid() {
		via = "via " + r.Gateway.String()
	}
	return fmt.Sprintf("%s %s dev %s", r.Dst, via, r.NIC.node.name)
}

// AddRoute adds a route; gateway may be the zero Addr for on-link routes.
func (n *Node) AddRoute(dst netip.Prefix, gateway netip.Addr, nic *NIC) error {
	if nic == nil || nic.node != n {
		return fmt.Errorf("netstack: route %s on %s: the NIC does not belong to this node", dst, n.name)
	}
	if !dst.IsValid() || !dst.Addr().Is4() {
		return fmt.Errorf("netstack: route on %s: destination %s is not an IPv4 prefix", n.name, dst)
	}
	if gateway.IsValid() && !gateway.Is4() {
		return fmt.Errorf("netstack: route %s on %s: gateway %s is not IPv4", dst, n.name, gateway)
	}
	r := Route{Dst: dst.Masked(), Gateway: gateway, NIC: nic}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, o := range n.mu.routes {
		if o == r {
			return nil
		}
	}
	n.mu.routes = append(n.mu.routes, r)
	n.applyRoutesLocked()
	return nil
}

// SetDefaultGateway replaces the default route with one via gw on nic.
func (n *Node) SetDefaultGateway(gw netip.Addr, nic *NIC) error {
	n.removeRoutes(func(r Route) bool { return r.Dst.Bits() == 0 })
	return n.AddRoute(netip.PrefixFrom(netip.IPv4Unspecified(), 0), gw, nic)
}

// RemoveRoute removes routes to dst (all gateways and NICs).
func (n *Node) RemoveRoute(dst netip.Prefix) {
	n.removeRoutes(func(r Route) bool { return r.Dst == dst.Masked() })
}

func (n *Node) removeRoutes(match func(Route) bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.mu.routes = slices.DeleteFunc(n.mu.routes, match)
	n.applyRoutesLocked()
}

// Routes lists the routing table, most specific first.
func (n *Node) Routes() []Route {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.mu.routes)
}

// applyRoutesLocked replaces the routes the node installed in the stack by
// its current list. Routes others put in the stack (a DHCP client's) stay:
// replacing the whole table dropped a board's default route whenever its
// soft-AP interface was configured after the station got its lease.
func (n *Node) applyRoutesLocked() {
	slices.SortStableFunc(n.mu.routes, func(a, b Route) int { return b.Dst.Bits() - a.Dst.Bits() })
	old := n.mu.installed
	n.stack.RemoveRoutes(func(r tcpip.Route) bool {
		return slices.ContainsFunc(old, func(o tcpip.Route) bool {
			return o.Destination == r.Destination && o.Gateway == r.Gateway && o.NIC == r.NIC
		})
	})
	table := make([]tcpip.Route, 0, len(n.mu.routes))
	for _, r := range n.mu.routes {
		tr := tcpip.Route{
			Destination: prefixSubnet(r.Dst),
			NIC:         r.NIC.id,
		}
		if r.Gateway.IsValid() {
			tr.Gateway = addrFrom(r.Gateway)
		}
		table = append(table, tr)
		n.stack.AddRoute(tr)
	}
	n.mu.installed = table
}

// SetForwarding turns IPv4 forwarding between the node's NICs on or off
// (a router).
func (n *Node) SetForwarding(on bool) error {
	n.mu.Lock()
	n.mu.forwarding = on
	for _, c := range n.mu.nics {
		c.ep.offload.Store(on)
	}
	n.mu.Unlock()
	if tcpipErr := n.stack.SetForwardingDefaultAndAllNICs(ipv4.ProtocolNumber, on); tcpipErr != nil {
		return fmt.Errorf("netstack: %s: setting forwarding: %w", n.name, FromTCPIP(tcpipErr))
	}
	return nil
}

// Close detaches every NIC and stops the stack and its goroutines.
// Idempotent.
func (n *Node) Close() {
	n.mu.Lock()
	if n.mu.closed {
		n.mu.Unlock()
		return
	}
	n.mu.closed = true
	nics := n.mu.nics
	n.mu.Unlock()
	for _, c := range nics {
		c.Detach()
	}
	n.stack.Close()
	n.stack.Wait()
}

func addrFrom(a netip.Addr) tcpip.Address {
	return tcpip.AddrFrom4(a.Unmap().As4())
}

func addrTo(a tcpip.Address) netip.Addr {
	if a.Len() == 4 {
		return netip.AddrFrom4(a.As4())
	}
	return netip.Addr{}
}

func prefixSubnet(p netip.Prefix) tcpip.Subnet {
	p = p.Masked()
	return tcpip.AddressWithPrefix{Address: addrFrom(p.Addr()), PrefixLen: p.Bits()}.Subnet()
}
