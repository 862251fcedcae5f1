package dhcp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/esp8266sim/esp8266sim/internal/simrand"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// Lease is what a client was granted.
type Lease struct {
	IP        netip.Addr
	Subnet    netip.Prefix // IP with the mask of option 1
	Router    netip.Addr   // invalid when the server sent none
	DNS       []netip.Addr
	Server    netip.Addr // option 54
	LeaseTime time.Duration
	T1, T2    time.Duration
	// Acquired is the simulator time (clock.Elapsed) of the ACK; T1, T2 and
	// LeaseTime count from it.
	Acquired time.Duration
}

// ClientConfig describes a DHCP client on one NIC.
type ClientConfig struct {
	// Stack and NIC are the interface to configure.
	Stack *stack.Stack
	NIC   tcpip.NICID
	// MAC is chaddr; empty means the NIC's link address.
	MAC tcpip.LinkAddress
	// Hostname is sent as option 12 (the board's dhcp_hostname); empty
	// leaves it out.
	Hostname string
	// Clock times retransmissions and the lease.
	Clock *vclock.Clock
	// Seed picks transaction ids and IP identification numbers.
	Seed uint64
	// Name labels trace lines and the client's actor; default "dhcp".
	Name string
	// Trace, when set, receives one readable line per event.
	Trace func(string)
	// OnBound is called (on the client's goroutine) when an address is
	// first bound or changes.
	OnBound func(Lease)
	// OnLost is called when a bound address is given up (NAK, expiry, Stop).
	OnLost func()
	// Addresses, when set, puts the leased address on the NIC and takes it
	// off, in place of Stack.AddProtocolAddress and Stack.RemoveAddress.
	// A netstack NIC must be given here: its receive filter answers ARP
	// from its own copy of the NIC's addresses, which only the NIC's
	// methods keep in step (netstack.NIC.AssignAddress).
	Addresses Addresser
}

// Addresser puts addresses on a NIC and takes them off; *netstack.NIC is
// one.
type Addresser interface {
	AssignAddress(netip.Prefix) error
	UnassignAddress(netip.Addr) error
}

// Client states, as lwIP names them.
const (
	StateOff        = "off"
	StateSelecting  = "selecting"
	StateRequesting = "requesting"
	StateBound      = "bound"
	StateRenewing   = "renewing"
	StateRebinding  = "rebinding"
)

// Client is a DHCP client with lwIP's (ESP8266 SDK, lwIP 1.4) behaviour:
//
//   - DISCOVER is broadcast from 0.0.0.0 with the broadcast flag clear (lwIP
//     receives the unicast OFFER/ACK before it has an address), and
//     retransmitted 2, 4, 8, 16, 32 s after each send, then every 60 s,
//     forever (dhcp_discover: (tries < 6 ? 1<<tries : 60) s).
//   - REQUEST (selecting) uses the same backoff, at most 6 sends, then
//     discovery starts over.
//   - At T1 a unicast REQUEST renews; retransmitted after 2, 4, … 18 s then
//     every 20 s (dhcp_renew: tries*2 s, 20 s from the 10th), until T2.
//   - At T2 a broadcast REQUEST rebinds; retransmitted after 1, 2, … 9 s
//     then every 10 s (dhcp_rebind), until the lease ends.
//   - A NAK or the end of the lease drops the address and restarts at once.
//
// One difference, on purpose: lwIP's coarse timer rounds T1/T2/lease to
// whole minutes; this client uses the exact seconds the server gave.
type Client struct {
	cfg ClientConfig

	// Owned by the client goroutine (or by a test driving input directly).
	rng        *rand.Rand
	xid        uint32
	tries      int
	deadline   time.Duration
	offerIP    netip.Addr
	offerSrv   netip.Addr
	promisc    bool // we switched promiscuous mode on
	wasPromisc bool
	sock       *udpSocket
	routes     []tcpip.Route

	releaseOnStop atomic.Bool
	started       atomic.Bool
	inCallback    atomic.Bool // OnBound/OnLost running on the client goroutine

	mu sync.Mutex
	// Guarded by mu.
	state string
	lease *Lease

	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// NewClient checks cfg and returns a stopped client.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.Stack == nil {
		return nil, errors.New("dhcp: ClientConfig.Stack is nil")
	}
	if cfg.Clock == nil {
		return nil, errors.New("dhcp: ClientConfig.Clock is nil")
	}
	if cfg.MAC == "" {
		if info, ok := cfg.Stack.NICInfo()[cfg.NIC]; ok {
			cfg.MAC = info.LinkAddress
		}
	}
	if len(cfg.MAC) != 6 {
		return nil, fmt.Errorf("dhcp: ClientConfig.MAC %q is not a 6-byte Ethernet address (is NIC %d on the stack?)", cfg.MAC, cfg.NIC)
	}
	if len(cfg.Hostname) > 255 {
		return nil, fmt.Errorf("dhcp: ClientConfig.Hostname is %d bytes, option 12 holds at most 255", len(cfg.Hostname))
	}
	if cfg.Name == "" {
		cfg.Name = "dhcp"
	}
	return &Client{
		cfg:   cfg,
		rng:   simrand.New(cfg.Seed, "dhcp-client/"+string(cfg.MAC)),
		state: StateOff,
	}, nil
}

// State is the client's current state (one of the State* constants).
func (c *Client) State() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Lease returns the bound lease, if any.
func (c *Client) Lease() (Lease, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lease == nil {
		return Lease{}, false
	}
	l := *c.lease
	l.DNS = slices.Clone(l.DNS)
	return l, true
}

func (c *Client) setState(s string) {
	c.mu.Lock()
	c.state = s
	c.mu.Unlock()
}

func (c *Client) trace(format string, args ...any) {
	if c.cfg.Trace != nil {
		c.cfg.Trace(c.cfg.Name + ": " + fmt.Sprintf(format, args...))
	}
}

// Start binds 0.0.0.0:68 on the NIC and begins discovery.
//
// Until it is bound the client puts the NIC in promiscuous mode: that is
// gVisor's way to accept an IPv4 unicast addressed to an address the NIC
// does not have yet (the OFFER/ACK to yiaddr), which lwIP does for port 68
// (LWIP_IP_ACCEPT_UDP_PORT). With no address on the NIC gVisor cannot
// answer anything it accepts that way (no route has a source address), so
// nothing leaks. ARP is unaffected: gVisor answers ARP only for assigned
// addresses.
func (c *Client) Start(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return errors.New("dhcp: Client.Start called twice; make a new Client")
	}
	// In line behind the caller (a board joining a network, in its
	// turn): the DISCOVER leaves in that turn, not when the goroutine
	// first runs.
	actor := c.cfg.Clock.NewActorInLine(c.cfg.Name)
	sock, err := listenUDP(c.cfg.Stack, c.cfg.NIC, ClientPort, actor.Wake)
	if err != nil {
		actor.Close()
		return err
	}
	c.sock = sock
	if info, ok := c.cfg.Stack.NICInfo()[c.cfg.NIC]; ok {
		c.wasPromisc = info.Flags.Promiscuous
	}
	ctx, cancel := context.WithCancel(ctx)
	c.cancel = cancel
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer actor.Close()
		if actor.WaitTurn(ctx) != nil {
			return
		}
		c.discover()
		for {
			for {
				payload, _, ok := sock.read()
				if !ok {
					break
				}
				c.input(payload)
			}
			now := c.cfg.Clock.Elapsed()
			if now >= c.deadline {
				c.timeout()
				continue
			}
			if err := actor.Park(ctx, c.deadline-now); err != nil {
				break
			}
		}
		if c.releaseOnStop.Load() {
			c.sendRelease()
		}
		c.shutdown()
		sock.close()
	}()
	return nil
}

// Stop ends the client without a RELEASE (lwIP's dhcp_stop): the address
// leaves the NIC and OnLost runs if one was bound. It waits for the
// client's goroutine (except when called from OnBound/OnLost, which run on
// it) and is idempotent.
func (c *Client) Stop() {
	c.once.Do(func() {
		if c.cancel != nil {
			c.cancel()
		}
	})
	if c.inCallback.Load() {
		return
	}
	c.wg.Wait()
}

// Release sends a RELEASE for the bound address (lwIP's dhcp_release), then
// stops like Stop.
func (c *Client) Release() {
	c.releaseOnStop.Store(true)
	c.Stop()
}

// sendRelease unicasts a RELEASE to the server. The server's MAC was
// resolved when the lease was bound, so the message goes out at once even
// though the address leaves the NIC right after.
func (c *Client) sendRelease() {
	l, ok := c.Lease()
	if !ok {
		return
	}
	c.newXID()
	b := c.newMsg(layers.DHCPMsgTypeRelease)
	b.ciaddr = l.IP
	b.addAddr(layers.DHCPOptServerID, l.Server)
	p, err := b.bytes()
	if err != nil {
		return
	}
	if mac, ok := c.neighbor(l.Server); ok {
		err = sendRaw(c.cfg.Stack, c.cfg.NIC, mac, l.IP, l.Server, ClientPort, ServerPort, uint16(c.rng.Uint32()), p)
	} else {
		err = c.sock.writeTo(c.cfg.NIC, l.Server, ServerPort, p)
	}
	if err != nil {
		c.trace("RELEASE not sent: %v", err)
		return
	}
	c.cfg.Clock.Poke()
	c.trace("RELEASE %v to %v", l.IP, l.Server)
}

// neighbor returns the resolved link address of a, if gVisor knows it.
func (c *Client) neighbor(a netip.Addr) (tcpip.LinkAddress, bool) {
	ns, tcpipErr := c.cfg.Stack.Neighbors(c.cfg.NIC, ipv4.ProtocolNumber)
	if tcpipErr != nil {
		return "", false
	}
	want := tcpAddr(a)
	for _, n := range ns {
		if n.Addr == want && len(n.LinkAddr) == 6 {
			return n.LinkAddr, true
		}
	}
	return "", false
}

func backoff(tries int) time.Duration {
	if tries < 6 {
		return time.Duration(1<<tries) * time.Second
	}
	return 60 * time.Second
}

func (c *Client) newXID() { c.xid = c.rng.Uint32() }

func (c *Client) newMsg(t layers.DHCPMsgType) *builder {
	b := &builder{op: layers.DHCPOpRequest, xid: c.xid, chaddr: net.HardwareAddr(c.cfg.MAC)}
	b.add(layers.DHCPOptMessageType, []byte{byte(t)})
	if t != layers.DHCPMsgTypeRelease && t != layers.DHCPMsgTypeDecline {
		b.add(layers.DHCPOptMaxMessageSize, []byte{1500 >> 8, 1500 & 0xff})
	}
	return b
}

func (c *Client) addCommon(b *builder) {
	if c.cfg.Hostname != "" {
		b.add(layers.DHCPOptHostname, []byte(c.cfg.Hostname))
	}
	b.add(layers.DHCPOptParamsRequest, []byte{
		byte(layers.DHCPOptSubnetMask), byte(layers.DHCPOptRouter),
		byte(layers.DHCPOptBroadcastAddr), byte(layers.DHCPOptDNS),
	})
}

var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

func (c *Client) broadcast(b *builder, src netip.Addr) {
	p, err := b.bytes()
	if err == nil {
		err = sendRaw(c.cfg.Stack, c.cfg.NIC, broadcastMAC, src, limitedBroadcast, ClientPort, ServerPort, uint16(c.rng.Uint32()), p)
	}
	if err != nil {
		c.trace("send failed: %v", err)
	}
	c.cfg.Clock.Poke()
}

func (c *Client) setPromisc(on bool) {
	if on == c.promisc {
		return
	}
	c.promisc = on
	if c.wasPromisc {
		return // someone else wants it on; leave it
	}
	c.cfg.Stack.SetPromiscuousMode(c.cfg.NIC, on)
}

// discover starts (or restarts) acquisition.
func (c *Client) discover() {
	c.setState(StateSelecting)
	c.setPromisc(true)
	c.tries = 0
	c.newXID()
	c.sendDiscover()
}

func (c *Client) sendDiscover() {
	b := c.newMsg(layers.DHCPMsgTypeDiscover)
	c.addCommon(b)
	c.trace("DISCOVER xid=%#08x (try %d)", c.xid, c.tries+1)
	c.broadcast(b, netip.IPv4Unspecified())
	c.tries++
	c.deadline = c.cfg.Clock.Elapsed() + backoff(c.tries)
}

func (c *Client) sendSelect() {
	b := c.newMsg(layers.DHCPMsgTypeRequest)
	b.addAddr(layers.DHCPOptRequestIP, c.offerIP)
	b.addAddr(layers.DHCPOptServerID, c.offerSrv)
	c.addCommon(b)
	c.trace("REQUEST %v from %v xid=%#08x (try %d)", c.offerIP, c.offerSrv, c.xid, c.tries+1)
	c.broadcast(b, netip.IPv4Unspecified())
	c.tries++
	c.deadline = c.cfg.Clock.Elapsed() + backoff(c.tries)
}

func (c *Client) sendRenew(l Lease) {
	b := c.newMsg(layers.DHCPMsgTypeRequest)
	b.ciaddr = l.IP
	c.addCommon(b)
	c.trace("REQUEST (renew) %v to %v xid=%#08x (try %d)", l.IP, l.Server, c.xid, c.tries+1)
	if p, err := b.bytes(); err == nil {
		if err := c.sock.writeTo(c.cfg.NIC, l.Server, ServerPort, p); err != nil {
			c.trace("renew not sent: %v", err)
		}
	}
	c.cfg.Clock.Poke()
	c.tries++
	d := 20 * time.Second
	if c.tries < 10 {
		d = time.Duration(c.tries) * 2 * time.Second
	}
	c.deadline = min(c.cfg.Clock.Elapsed()+d, l.Acquired+l.T2)
}

func (c *Client) sendRebind(l Lease) {
	b := c.newMsg(layers.DHCPMsgTypeRequest)
	b.ciaddr = l.IP
	c.addCommon(b)
	c.trace("REQUEST (rebind) %v xid=%#08x (try %d)", l.IP, c.xid, c.tries+1)
	c.broadcast(b, l.IP)
	c.tries++
	d := 10 * time.Second
	if c.tries < 10 {
		d = time.Duration(c.tries) * time.Second
	}
	c.deadline = min(c.cfg.Clock.Elapsed()+d, l.Acquired+l.LeaseTime)
}

// timeout handles the deadline of the current state.
func (c *Client) timeout() {
	state := c.State()
	if _, ok := c.Lease(); !ok && (state == StateBound || state == StateRenewing || state == StateRebinding) {
		c.discover() // cannot happen in normal operation; recover anyway
		return
	}
	switch state {
	case StateSelecting:
		c.sendDiscover()
	case StateRequesting:
		if c.tries <= 5 {
			c.sendSelect()
		} else {
			c.trace("no ACK after %d REQUESTs: discovering again", c.tries)
			c.discover()
		}
	case StateBound:
		l, _ := c.Lease()
		c.setState(StateRenewing)
		c.tries = 0
		c.newXID()
		c.sendRenew(l)
	case StateRenewing:
		l, _ := c.Lease()
		if c.cfg.Clock.Elapsed() >= l.Acquired+l.T2 {
			c.setState(StateRebinding)
			c.tries = 0
			c.newXID()
			c.sendRebind(l)
			return
		}
		c.sendRenew(l)
	case StateRebinding:
		l, _ := c.Lease()
		if c.cfg.Clock.Elapsed() >= l.Acquired+l.LeaseTime {
			c.trace("lease of %v expired", l.IP)
			c.unbind()
			c.discover()
			return
		}
		c.sendRebind(l)
	default:
		c.deadline = c.cfg.Clock.Elapsed() + time.Hour
	}
}

// input handles one datagram that arrived on port 68. It never panics.
func (c *Client) input(payload []byte) {
	m, err := parseMessage(payload)
	if err != nil {
		c.trace("ignored a malformed message (%d bytes): %v", len(payload), err)
		return
	}
	if m.op != layers.DHCPOpReply || m.xid != c.xid || string(m.chaddr) != string(c.cfg.MAC) {
		return // not for us
	}
	state := c.State()
	switch m.msgType {
	case layers.DHCPMsgTypeOffer:
		if state != StateSelecting {
			return
		}
		srv, ok := m.optAddr(layers.DHCPOptServerID)
		if !ok || !m.yiaddr.Is4() || m.yiaddr.IsUnspecified() {
			c.trace("OFFER without server id or address ignored")
			return
		}
		c.offerIP, c.offerSrv = m.yiaddr, srv
		c.trace("OFFER %v from %v", m.yiaddr, srv)
		c.setState(StateRequesting)
		c.tries = 0
		c.newXID()
		c.sendSelect()
	case layers.DHCPMsgTypeAck:
		if state != StateRequesting && state != StateRenewing && state != StateRebinding {
			return
		}
		c.ack(m, state)
	case layers.DHCPMsgTypeNak:
		if state != StateRequesting && state != StateRenewing && state != StateRebinding {
			return
		}
		c.trace("NAK (%s): starting over", m.opts[layers.DHCPOptMessage])
		c.unbind()
		c.discover()
	}
}

func (c *Client) ack(m *message, state string) {
	if !m.yiaddr.Is4() || m.yiaddr.IsUnspecified() {
		c.trace("ACK without an address ignored")
		return
	}
	now := c.cfg.Clock.Elapsed()
	l := Lease{IP: m.yiaddr, Acquired: now}
	bits := 24
	if mask, ok := m.opts[layers.DHCPOptSubnetMask]; ok && len(mask) == 4 {
		if ones, total := net.IPMask(mask).Size(); total == 32 {
			bits = ones
		}
	} else if m.yiaddr.As4()[0] < 128 {
		bits = 8 // classful default, as lwIP does without option 1
	} else if m.yiaddr.As4()[0] < 192 {
		bits = 16
	}
	l.Subnet = netip.PrefixFrom(m.yiaddr, bits)
	if r := m.optAddrs(layers.DHCPOptRouter); len(r) > 0 {
		l.Router = r[0]
	}
	l.DNS = m.optAddrs(layers.DHCPOptDNS)
	if srv, ok := m.optAddr(layers.DHCPOptServerID); ok {
		l.Server = srv
	} else {
		l.Server = c.offerSrv
	}
	secs := func(o layers.DHCPOpt) (time.Duration, bool) {
		v, ok := m.optUint32(o)
		return time.Duration(v) * time.Second, ok
	}
	var ok bool
	if l.LeaseTime, ok = secs(layers.DHCPOptLeaseTime); !ok || v0(l.LeaseTime) {
		l.LeaseTime = 24 * time.Hour
	}
	if l.T1, ok = secs(layers.DHCPOptT1); !ok || l.T1 <= 0 || l.T1 > l.LeaseTime {
		l.T1 = l.LeaseTime / 2
	}
	if l.T2, ok = secs(layers.DHCPOptT2); !ok || l.T2 < l.T1 || l.T2 > l.LeaseTime {
		l.T2 = l.LeaseTime * 7 / 8
	}
	old, had := c.Lease()
	changed := !had || old.IP != l.IP || old.Subnet != l.Subnet || old.Router != l.Router
	if changed && had {
		c.unconfigure()
	}
	c.mu.Lock()
	c.lease = &l
	c.state = StateBound
	c.mu.Unlock()
	c.deadline = now + l.T1
	c.tries = 0
	if changed {
		c.configure(l)
		c.gratuitousARP(l.IP)
		// lwIP 1.4 (ETHARP_TRUST_IP_MAC) learns the server's MAC from its
		// unicast ACK; gVisor's UDP endpoints do not expose it, so resolve
		// it now: renewals are unicast to the server, and a RELEASE must
		// leave before the address is gone.
		if l.Server.Is4() {
			c.cfg.Stack.GetLinkAddress(c.cfg.NIC, tcpAddr(l.Server), tcpAddr(l.IP), ipv4.ProtocolNumber, nil)
		}
	}
	c.setPromisc(false)
	c.trace("ACK (%s): bound to %v/%d router %v dns %v lease %v", state, l.IP, l.Subnet.Bits(), l.Router, l.DNS, l.LeaseTime)
	if changed && c.cfg.OnBound != nil {
		c.inCallback.Store(true)
		c.cfg.OnBound(l)
		c.inCallback.Store(false)
	}
}

func v0(d time.Duration) bool { return d <= 0 }

// gratuitousARP announces ip, as lwIP does when an interface comes up with
// an address (etharp_gratuitous from netif_set_up/netif_set_ipaddr).
func (c *Client) gratuitousARP(ip netip.Addr) {
	a := &layers.ARP{
		AddrType:          layers.LinkTypeEthernet,
		Protocol:          layers.EthernetTypeIPv4,
		HwAddressSize:     6,
		ProtAddressSize:   4,
		Operation:         layers.ARPRequest,
		SourceHwAddress:   []byte(c.cfg.MAC),
		SourceProtAddress: ipOrZero(ip),
		DstHwAddress:      make([]byte, 6),
		DstProtAddress:    ipOrZero(ip),
	}
	buf := gopacket.NewSerializeBuffer()
	if err := a.SerializeTo(buf, gopacket.SerializeOptions{}); err != nil {
		return
	}
	if tcpipErr := c.cfg.Stack.WritePacketToRemote(c.cfg.NIC, broadcastMAC, arp.ProtocolNumber, buffer.MakeWithData(buf.Bytes())); tcpipErr != nil {
		c.trace("gratuitous ARP not sent: %s", tcpipErr)
	}
	c.cfg.Clock.Poke()
}

// configure puts the address, the subnet route and the default route on
// the NIC.
func (c *Client) configure(l Lease) {
	pa := tcpip.ProtocolAddress{
		Protocol: ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{
			Address:   tcpAddr(l.IP),
			PrefixLen: l.Subnet.Bits(),
		},
	}
	if a := c.cfg.Addresses; a != nil {
		if err := a.AssignAddress(netip.PrefixFrom(l.IP, l.Subnet.Bits())); err != nil {
			c.trace("cannot add %v to NIC %d: %v", l.IP, c.cfg.NIC, err)
		}
	} else if tcpipErr := c.cfg.Stack.AddProtocolAddress(c.cfg.NIC, pa, stack.AddressProperties{}); tcpipErr != nil {
		c.trace("cannot add %v to NIC %d: %s", l.IP, c.cfg.NIC, tcpipErr)
	}
	c.routes = []tcpip.Route{{Destination: pa.AddressWithPrefix.Subnet(), NIC: c.cfg.NIC}}
	if l.Router.IsValid() {
		c.routes = append(c.routes, tcpip.Route{Destination: header.IPv4EmptySubnet, Gateway: tcpAddr(l.Router), NIC: c.cfg.NIC})
	}
	for _, r := range c.routes {
		c.cfg.Stack.AddRoute(r)
	}
}

func (c *Client) unconfigure() {
	l, ok := c.Lease()
	if !ok {
		return
	}
	if a := c.cfg.Addresses; a != nil {
		a.UnassignAddress(l.IP)
	} else {
		c.cfg.Stack.RemoveAddress(c.cfg.NIC, tcpAddr(l.IP))
	}
	ours := c.routes
	// Match on what a route says, not with ==: a tcpip.Route embeds its
	// list links, so the table's copy never equals ours and the old
	// default route outlived a roam to another subnet (issue #14).
	c.cfg.Stack.RemoveRoutes(func(r tcpip.Route) bool {
		return slices.ContainsFunc(ours, func(o tcpip.Route) bool { return sameRoute(o, r) })
	})
	c.routes = nil
}

// sameRoute compares the destination, gateway and NIC of two routes.
func sameRoute(a, b tcpip.Route) bool {
	return a.Destination == b.Destination && a.Gateway == b.Gateway && a.NIC == b.NIC
}

// unbind drops the lease, if any, and tells OnLost.
func (c *Client) unbind() {
	_, had := c.Lease()
	c.unconfigure()
	c.mu.Lock()
	c.lease = nil
	c.mu.Unlock()
	if had && c.cfg.OnLost != nil {
		c.inCallback.Store(true)
		c.cfg.OnLost()
		c.inCallback.Store(false)
	}
}

func (c *Client) shutdown() {
	c.unbind()
	c.setPromisc(false)
	c.setState(StateOff)
}

// tcpAddr converts an IPv4 address; anything else becomes the empty address.
func tcpAddr(a netip.Addr) tcpip.Address {
	if !a.Is4() {
		return tcpip.Address{}
	}
	return tcpip.AddrFrom4(a.As4())
}
