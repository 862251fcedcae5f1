package scenario

import (
	"fmt"
	"strings"

	"github.com/esp8266sim/esp8266sim/netstack"
)

// Internet says whether boards may leave the simulation for the host's
// real network, and where to.
type Internet struct {
	// Mode is "off" (default: nothing leaves the simulation) or
	// "passthrough": the routers NAT board flows that no simulated host
	// claims to the host's network through ordinary host sockets, and
	// names the scenario does not define resolve through the host's
	// resolver. Passthrough runs in realtime (the real network is real
	// time).
	Mode InternetMode `json:"mode,omitempty"`
	// Allow restricts where boards may go in passthrough: CIDR, ADDR,
	// ADDR:PORT or NAME:PORT entries; anything else is refused as by a
	// closed port. Empty: anywhere.
	Allow []string `json:"allow,omitempty"`
	// Resolve pins names as curl's --resolve does: NAME:ADDR. A pin to the
	// host's loopback (127.x) reaches a service on this computer.
	Resolve []string `json:"resolve,omitempty"`
	// UDPTimeout ends an idle UDP mapping; default 60s.
	UDPTimeout Duration `json:"udp_timeout,omitempty"`
	// TCPTimeout ends an idle TCP mapping; default 2h4m (RFC 5382).
	TCPTimeout Duration `json:"tcp_timeout,omitempty"`
	// MaxFlows bounds the mappings open at once, as a home router's table
	// does; default 4096.
	MaxFlows int `json:"max_flows,omitempty"`
}

// InternetMode says whether the real network is reachable.
type InternetMode string

const (
	// InternetOff keeps every flow inside the simulation.
	InternetOff InternetMode = "off"
	// InternetPassthrough NATs flows to the host's network.
	InternetPassthrough InternetMode = "passthrough"
)

func (InternetMode) enumValues() []string {
	return []string{string(InternetOff), string(InternetPassthrough)}
}
func (m *InternetMode) decodeScalar(s scalar) error {
	return decodeEnum(s, m.enumValues(), func(v string) { *m = InternetMode(v) })
}

// Passthrough reports whether boards reach the real network (false for
// a nil Internet: the section is absent).
func (in *Internet) Passthrough() bool { return in != nil && in.Mode == InternetPassthrough }

func (v *validator) internet() {
	in := v.s.Internet
	if in == nil {
		return
	}
	for i, a := range in.Allow {
		if _, err := netstack.ParseAllow(a); err != nil {
			v.errf(fmt.Sprintf("internet.allow[%d]", i), "%v", err)
		}
	}
	if len(in.Allow) > 0 && !in.Passthrough() {
		v.errf("internet.allow", "restricts the real network, which is off; add internet.mode: passthrough (--internet)")
	}
	declared := map[string]bool{}
	for _, h := range v.s.InternetHosts {
		declared[strings.ToLower(h.Name)] = true
		for _, a := range h.Aliases {
			declared[strings.ToLower(a)] = true
		}
	}
	for _, r := range v.s.DNS.Records {
		declared[strings.ToLower(r.Name)] = true
	}
	pinned := map[string]int{}
	for i, r := range in.Resolve {
		f := fmt.Sprintf("internet.resolve[%d]", i)
		p, err := netstack.ParsePin(r)
		if err != nil {
			v.errf(f, "%v", err)
			continue
		}
		if declared[p.Name] {
			v.errf(f, "%s is a name the scenario declares (an internet host or DNS record), and declared names win; pin another name", p.Name)
		}
		if j, dup := pinned[p.Name]; dup {
			v.errf(f, "%s is already pinned by internet.resolve[%d]", p.Name, j)
		}
		pinned[p.Name] = i
		if p.Addr.IsLoopback() && !in.Passthrough() {
			v.errf(f, "%s points at the host's loopback, which boards reach only through the real network; add internet.mode: passthrough (--internet)", r)
		}
	}
	if in.UDPTimeout < 0 {
		v.errf("internet.udp_timeout", "must not be negative, got %s", in.UDPTimeout)
	}
	if in.TCPTimeout < 0 {
		v.errf("internet.tcp_timeout", "must not be negative, got %s", in.TCPTimeout)
	}
	if in.MaxFlows < 0 {
		v.errf("internet.max_flows", "must not be negative, got %d", in.MaxFlows)
	}
	if _, written := v.s.lines["time_mode"]; written && v.s.TimeMode == Fast && in.Passthrough() {
		v.errf("time_mode", "fast time cannot be used with internet passthrough (the real network runs in real time); remove time_mode or set realtime")
	}
}
