package wifi

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/esp8266sim/esp8266sim/internal/simrand"
	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"github.com/esp8266sim/esp8266sim/netstack"
	"github.com/esp8266sim/esp8266sim/netstack/dhcp"
)

// This file adapts the station's two small interfaces to netstack: an
// Uplink that moves a board's NIC onto the medium behind the access point it
// joins, and an Addressing that runs netstack's lwIP-like DHCP client (or a
// static configuration) on that NIC.

// LANs maps access points to the medium (the wired LAN) behind each. The sim
// layer registers one per access point; a soft-AP's LAN is the medium of
// the board's second NIC. Safe for concurrent use.
type LANs struct {
	mu sync.Mutex
	m  map[*AccessPoint]*netstack.Medium
}

// Set registers the medium behind ap.
func (l *LANs) Set(ap *AccessPoint, m *netstack.Medium) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = make(map[*AccessPoint]*netstack.Medium)
	}
	l.m[ap] = m
}

// Get returns the medium behind ap.
func (l *LANs) Get(ap *AccessPoint) (*netstack.Medium, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if m, ok := l.m[ap]; ok {
		return m, nil
	}
	return nil, fmt.Errorf("access point %q has no LAN", ap.Name())
}

// NICUplink is the Uplink of a station whose interface is a netstack NIC:
// joining attaches the NIC to the access point's LAN, leaving detaches it.
type NICUplink struct {
	// NIC is the board's station interface.
	NIC *netstack.NIC
	// LANs finds the medium behind an access point.
	LANs *LANs
	// Impairments apply to the station's attachment (the radio link).
	Impairments netstack.Impairments
}

var _ Uplink = (*NICUplink)(nil)

// Join implements Uplink.
func (u *NICUplink) Join(ap *AccessPoint) error {
	m, err := u.LANs.Get(ap)
	if err != nil {
		return err
	}
	if a := u.NIC.Attachment(); a != nil && a.Medium() == m {
		a.SetUp(true)
		return nil
	}
	u.NIC.Detach()
	if _, err := u.NIC.Attach(m, u.Impairments); err != nil {
		return fmt.Errorf("attaching to the LAN of %q: %w", ap.Name(), err)
	}
	return nil
}

// Leave implements Uplink.
func (u *NICUplink) Leave() { u.NIC.Detach() }

// NetAddressingConfig describes a NetAddressing.
type NetAddressingConfig struct {
	// Ctx bounds the DHCP client's goroutine (the world's lifetime).
	Ctx context.Context
	// NIC is the board's station interface. Required.
	NIC *netstack.NIC
	// Clock is the world's clock. Required.
	Clock *vclock.Clock
	// Seed picks DHCP transaction ids.
	Seed uint64
	// Name labels trace lines ("esp1").
	Name string
	// Trace receives the DHCP client's lines.
	Trace *trace.Log
}

// NetAddressing runs netstack's DHCP client on a board's NIC, or puts a
// static configuration on it.
type NetAddressing struct {
	cfg NetAddressingConfig

	mu     sync.Mutex
	client *dhcp.Client
	starts int
	static IPConfig // configured static, zero if none
	closed bool
}

var _ Addressing = (*NetAddressing)(nil)

// NewNetAddressing checks cfg.
func NewNetAddressing(cfg NetAddressingConfig) (*NetAddressing, error) {
	if cfg.NIC == nil || cfg.Clock == nil {
		return nil, errors.New("wifi: NetAddressingConfig needs NIC and Clock")
	}
	if cfg.Ctx == nil {
		cfg.Ctx = context.Background()
	}
	return &NetAddressing{cfg: cfg}, nil
}

// StartDHCP implements Addressing.
func (n *NetAddressing) StartDHCP(hostname string, bound func(IPConfig), lost func()) {
	n.StopDHCP()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	n.starts++
	name := n.cfg.Name
	c, err := dhcp.NewClient(dhcp.ClientConfig{
		Stack:    n.cfg.NIC.Node().Stack(),
		NIC:      n.cfg.NIC.ID(),
		Hostname: hostname,
		Clock:    n.cfg.Clock,
		Seed:     simrand.Uint64(n.cfg.Seed, fmt.Sprintf("wifi/dhcp/%s/%d", name, n.starts)),
		Name:     name + " dhcp",
		Trace: func(s string) {
			if n.cfg.Trace != nil {
				n.cfg.Trace.Add(n.cfg.Clock.Elapsed(), name, s)
			}
		},
		OnBound: func(l dhcp.Lease) { bound(leaseConfig(l)) },
		OnLost:  lost,
		// Through the NIC, so its receive filter answers ARP for the lease.
		Addresses: n.cfg.NIC,
	})
	if err == nil {
		err = c.Start(n.cfg.Ctx)
	}
	if err != nil {
		if n.cfg.Trace != nil {
			n.cfg.Trace.Add(n.cfg.Clock.Elapsed(), name, fmt.Sprintf("%s dhcp client cannot start: %v", name, err))
		}
		return
	}
	n.client = c
}

func leaseConfig(l dhcp.Lease) IPConfig {
	c := IPConfig{IP: l.IP, Gateway: l.Router}
	if l.Subnet.IsValid() {
		c.Mask = maskAddr(l.Subnet.Bits())
	}
	if len(l.DNS) > 0 {
		c.DNS = l.DNS[0]
	}
	return c
}

// maskAddr is the dotted mask of a prefix length.
func maskAddr(bits int) netip.Addr {
	var b [4]byte
	for i := 0; i < bits && i < 32; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(b)
}

// maskBits is the prefix length of a dotted mask (counting leading ones).
func maskBits(m netip.Addr) int {
	if !m.Is4() {
		return 0
	}
	n := 0
	for _, b := range m.As4() {
		for i := 7; i >= 0; i-- {
			if b&(1<<i) == 0 {
				return n
			}
			n++
		}
	}
	return n
}

// StopDHCP implements Addressing. It waits for the client to finish.
func (n *NetAddressing) StopDHCP() {
	n.mu.Lock()
	c := n.client
	n.client = nil
	n.mu.Unlock()
	if c != nil {
		c.Stop()
	}
}

// SetStatic implements Addressing: the address with its subnet route and a
// default route via the gateway.
func (n *NetAddressing) SetStatic(cfg IPConfig) {
	n.mu.Lock()
	old := n.static
	n.static = cfg
	n.mu.Unlock()
	nic, node := n.cfg.NIC, n.cfg.NIC.Node()
	if !old.IsZero() {
		nic.RemoveAddress(old.IP)
		if old.Gateway.IsValid() && !old.Gateway.IsUnspecified() {
			node.RemoveRoute(netip.PrefixFrom(netip.IPv4Unspecified(), 0))
		}
	}
	if cfg.IsZero() {
		return
	}
	if err := nic.AddAddress(netip.PrefixFrom(cfg.IP, maskBits(cfg.Mask))); err != nil && n.cfg.Trace != nil {
		n.cfg.Trace.Add(n.cfg.Clock.Elapsed(), n.cfg.Name, fmt.Sprintf("%s cannot set %v: %v", n.cfg.Name, cfg.IP, err))
	}
	if cfg.Gateway.IsValid() && !cfg.Gateway.IsUnspecified() {
		node.SetDefaultGateway(cfg.Gateway, nic)
	}
}

// Close stops the DHCP client for good.
func (n *NetAddressing) Close() {
	n.StopDHCP()
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
}
