package sim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/esp8266sim/esp8266sim/netstack"
	"github.com/esp8266sim/esp8266sim/sim/report"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// GatewayName names the node that stands for the real network on the
// simulated internet when the scenario asks for it (internet passthrough).
const GatewayName = "internet-gateway"

// gatewayIP is the gateway's address on the routers' transit network.
var gatewayIP = netip.MustParseAddr("100.127.255.254")

// aliasBase is where host loopback addresses pinned with --resolve appear
// inside the world: a board cannot route to the host's 127.x (to it that
// is its own loopback), so it gets an address of the benchmarking range,
// which no real network routes, and the gateway dials the pinned one.
var aliasBase = netip.MustParseAddr("198.19.0.1")

// hostLookupTimeout bounds a host resolver lookup; a slower answer is
// treated as no answer.
const hostLookupTimeout = 3 * time.Second

// hostLookupCache bounds the names remembered for a run: a script asking
// for endless distinct names costs lookups, not host memory (names beyond
// it are looked up each time, and allow rules by name do not match them).
const hostLookupCache = 1024

// internetState is the world's door to the real network.
type internetState struct {
	nat *netstack.NAT
	// resolver is the host's resolver (resolv.conf, /etc/hosts).
	resolver *net.Resolver

	mu    sync.Mutex
	cache map[string]lookupResult
}

type lookupResult struct {
	addrs []netip.Addr
	ok    bool
}

// buildPins adds the scenario's pinned names to the DNS records (with an
// alias for pins to the host's loopback) and returns the aliases. It runs
// before the DNS servers are built.
func (w *World) buildPins() (map[netip.Addr]netip.Addr, []netstack.Pin, error) {
	in := w.sc.Internet
	if in == nil {
		return nil, nil, nil
	}
	aliases := map[netip.Addr]netip.Addr{}
	next := aliasBase
	var pins []netstack.Pin
	for i, r := range in.Resolve {
		p, err := netstack.ParsePin(r)
		if err != nil {
			return nil, nil, fmt.Errorf("internet.resolve[%d]: %w", i, err)
		}
		world := p.Addr
		if p.Addr.IsLoopback() {
			world = next
			next = next.Next()
			aliases[world] = p.Addr
			w.announcements = append(w.announcements, fmt.Sprintf("boards reach %s (host %s) as %s", p.Name, p.Addr, world))
		}
		w.trace.Names().SetIP(world, p.Name)
		w.sc.DNS.Records = append(w.sc.DNS.Records, scenario.DNSRecord{Name: p.Name, A: world.String()})
		pins = append(pins, netstack.Pin{Name: p.Name, Addr: world})
	}
	return aliases, pins, nil
}

// buildInternetGateway puts the gateway on the simulated internet, routes
// every router's unclaimed traffic to it and starts the NAT. Declared
// internet hosts keep their host routes, so they win for their addresses.
func (w *World) buildInternetGateway() error {
	aliases, pins, err := w.buildPins()
	if err != nil {
		return err
	}
	in := w.sc.Internet
	if !in.Passthrough() {
		return nil
	}
	var allow []netstack.AllowRule
	for i, a := range in.Allow {
		r, err := netstack.ParseAllow(a)
		if err != nil {
			return fmt.Errorf("internet.allow[%d]: %w", i, err)
		}
		allow = append(allow, r)
	}
	node, err := w.newNode(GatewayName)
	if err != nil {
		return err
	}
	nic, err := node.AddNIC(w.internet, netstack.NICConfig{Addr: netip.PrefixFrom(gatewayIP, wanPrefix.Bits())})
	if err != nil {
		return err
	}
	w.nics[GatewayName] = append(w.nics[GatewayName], nic)
	for _, a := range w.aps {
		if err := node.AddRoute(a.subnet, a.wanIP, nic); err != nil {
			return err
		}
		if err := a.router.SetDefaultGateway(gatewayIP, a.wanNIC); err != nil {
			return err
		}
	}
	nat, err := netstack.StartNAT(netstack.NATConfig{
		NIC: nic, Allow: allow, Aliases: aliases,
		MaxFlows: in.MaxFlows, UDPIdle: in.UDPTimeout.D(), TCPIdle: in.TCPTimeout.D(),
		Trace: w.trace,
	})
	if err != nil {
		return err
	}
	w.onClose(func() { nat.Close() })
	for _, p := range pins {
		nat.Learn(p.Name, []netip.Addr{p.Addr})
	}
	resolver := w.opts.HostResolver
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	w.real = &internetState{nat: nat, resolver: resolver, cache: map[string]lookupResult{}}
	msg := "boards reach the real network through the host (NAT)"
	if len(allow) > 0 {
		var rs []string
		for _, r := range allow {
			rs = append(rs, r.String())
		}
		msg += "; allowed: " + strings.Join(rs, ", ")
	}
	w.announcements = append(w.announcements, msg)
	return nil
}

// upstream is the routers' DNS fallback for names the scenario does not
// define: the host's resolver, or nil when the real network is off.
func (w *World) upstream() func(string) ([]netip.Addr, bool) {
	if w.real == nil {
		return nil
	}
	return w.hostLookup
}

// hostLookup asks the host's resolver for name's IPv4 addresses. The
// host's loopback addresses are left out: a board cannot reach this
// computer's 127.x by a name the host knows (pin it with --resolve). It
// blocks the DNS server for at most hostLookupTimeout, which a realtime
// world affords; answers are cached for the run.
func (w *World) hostLookup(name string) ([]netip.Addr, bool) {
	st := w.real
	st.mu.Lock()
	if r, ok := st.cache[name]; ok {
		st.mu.Unlock()
		return r.addrs, r.ok
	}
	st.mu.Unlock()
	ctx, cancel := context.WithTimeout(w.ctx, hostLookupTimeout)
	defer cancel()
	ips, err := st.resolver.LookupNetIP(ctx, "ip4", name)
	var res lookupResult
	switch {
	case err == nil:
		res.ok = true
		for _, a := range ips {
			a = a.Unmap()
			if a.Is4() && !a.IsLoopback() && !a.IsUnspecified() {
				res.addrs = append(res.addrs, a)
			}
		}
	default:
		var de *net.DNSError
		if errors.As(err, &de) && !de.IsNotFound {
			// No answer at all (a timeout): not cached, the board may ask
			// again.
			return nil, false
		}
	}
	st.mu.Lock()
	if len(st.cache) < hostLookupCache {
		st.cache[name] = res
		st.nat.Learn(name, res.addrs)
	}
	st.mu.Unlock()
	return res.addrs, res.ok
}

// internetReport says whether the run used the real network and lists its
// flows; nil when it did not.
func (w *World) internetReport() *report.Internet {
	if w.real == nil {
		return nil
	}
	flows, more := w.real.nat.Flows()
	out := &report.Internet{More: more}
	for _, f := range flows {
		out.Flows = append(out.Flows, f.String())
	}
	return out
}
