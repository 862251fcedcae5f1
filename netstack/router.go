package netstack

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// RouterConfig describes a Router: a node with one NIC on the LAN and one on
// the WAN (the simulated internet), forwarding between them.
type RouterConfig struct {
	// Name names the router node; "router" if empty.
	Name string
	// Clock, Seed and Trace are the world's (see NodeConfig).
	Clock *vclock.Clock
	Seed  uint64
	Trace *trace.Log
	// LAN is the medium of the boards; required.
	LAN *Medium
	// LANAddr is the router's LAN address and subnet ("192.168.1.1/24");
	// required.
	LANAddr netip.Prefix
	// LANMAC is the LAN NIC's MAC; empty means derived from the seed.
	LANMAC net.HardwareAddr
	// WAN is the medium of the simulated internet hosts; nil means no WAN.
	WAN *Medium
	// WANAddr is the router's address on the WAN ("100.64.0.1/32" is
	// enough: hosts get a route to it).
	WANAddr netip.Prefix
	// WANMAC is the WAN NIC's MAC; empty means derived from the seed.
	WANMAC net.HardwareAddr
}

// Router is a node forwarding between a LAN and the simulated internet.
// Internet hosts live on the WAN medium with their public addresses; the
// router has a host route to each, and each routes everything back through
// the router, so no NAT is needed and boards see the hosts' real addresses.
type Router struct {
	*Node
	// LAN and WAN are the router's NICs (WAN is nil without a WAN medium).
	LAN, WAN *NIC
	cfg      RouterConfig
}

// NewRouter builds the router node, its NICs and routes, with forwarding
// on.
func NewRouter(cfg RouterConfig) (*Router, error) {
	if cfg.Name == "" {
		cfg.Name = "router"
	}
	if cfg.LAN == nil {
		return nil, fmt.Errorf("netstack: router %s needs a LAN medium", cfg.Name)
	}
	if !cfg.LANAddr.IsValid() {
		return nil, fmt.Errorf("netstack: router %s needs a LAN address (like 192.168.1.1/24)", cfg.Name)
	}
	if cfg.WAN != nil && !cfg.WANAddr.IsValid() {
		return nil, fmt.Errorf("netstack: router %s has a WAN medium but no WAN address", cfg.Name)
	}
	n, err := NewNode(NodeConfig{Name: cfg.Name, Clock: cfg.Clock, Seed: cfg.Seed, Trace: cfg.Trace})
	if err != nil {
		return nil, err
	}
	r := &Router{Node: n, cfg: cfg}
	fail := func(err error) (*Router, error) {
		n.Close()
		return nil, err
	}
	if r.LAN, err = n.AddNIC(cfg.LAN, NICConfig{MAC: cfg.LANMAC, Addr: cfg.LANAddr}); err != nil {
		return fail(fmt.Errorf("router %s LAN: %w", cfg.Name, err))
	}
	if cfg.WAN != nil {
		if r.WAN, err = n.AddNIC(cfg.WAN, NICConfig{MAC: cfg.WANMAC, Addr: cfg.WANAddr}); err != nil {
			return fail(fmt.Errorf("router %s WAN: %w", cfg.Name, err))
		}
	}
	if err := n.SetForwarding(true); err != nil {
		return fail(err)
	}
	return r, nil
}

// InternetHostConfig describes a host on the simulated internet.
type InternetHostConfig struct {
	// Name names the host node ("example.com").
	Name string
	// Addr is its public address.
	Addr netip.Addr
	// MAC is its NIC's MAC; empty means derived from the seed.
	MAC net.HardwareAddr
	// Impairments apply to its attachment to the WAN (both directions).
	Impairments Impairments
}

// AddInternetHost builds a node on the router's WAN with a public address,
// routes it back through the router and gives the router a route to it.
// Services (HTTP, echo, …) are started on the returned node's stack by the
// caller.
func (r *Router) AddInternetHost(cfg InternetHostConfig) (*Node, error) {
	if r.WAN == nil {
		return nil, errors.New("netstack: the router has no WAN to put internet hosts on")
	}
	if !cfg.Addr.Is4() {
		return nil, fmt.Errorf("netstack: internet host %s: address %s is not IPv4", cfg.Name, cfg.Addr)
	}
	h, err := NewNode(NodeConfig{Name: cfg.Name, Clock: r.cfg.Clock, Seed: r.cfg.Seed, Trace: r.cfg.Trace})
	if err != nil {
		return nil, err
	}
	nic, err := h.AddNIC(r.cfg.WAN, NICConfig{MAC: cfg.MAC, Addr: netip.PrefixFrom(cfg.Addr, 32), Impairments: cfg.Impairments})
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("internet host %s: %w", cfg.Name, err)
	}
	gw := r.cfg.WANAddr.Addr()
	if err := h.AddRoute(netip.PrefixFrom(gw, 32), netip.Addr{}, nic); err != nil {
		h.Close()
		return nil, err
	}
	if err := h.SetDefaultGateway(gw, nic); err != nil {
		h.Close()
		return nil, err
	}
	if err := r.AddRoute(netip.PrefixFrom(cfg.Addr, 32), netip.Addr{}, r.WAN); err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}
