package sim

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	boardnet "github.com/esp8266sim/esp8266sim/board/net"
	"github.com/esp8266sim/esp8266sim/board/sockets"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"github.com/esp8266sim/esp8266sim/netstack/dns"
	"github.com/esp8266sim/esp8266sim/netstack/services"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// buildDNS starts a DNS server on every router, serving the internet hosts'
// names and the scenario's records.
func (w *World) buildDNS() error {
	var records []dns.Record
	for _, h := range w.sc.InternetHosts {
		ip := w.hosts[h.Name].ip
		records = append(records, dns.A(h.Name, ip))
		for _, alias := range h.Aliases {
			records = append(records, dns.A(alias, ip))
		}
	}
	for _, r := range w.sc.DNS.Records {
		if r.CNAME != "" {
			records = append(records, dns.CNAME(r.Name, r.CNAME))
			continue
		}
		a, err := netip.ParseAddr(r.A)
		if err != nil {
			return fmt.Errorf("dns record %s: %w", r.Name, err)
		}
		records = append(records, dns.A(r.Name, a))
	}
	ttl := uint32(w.sc.DNS.TTL.D() / time.Second)
	for i := range records {
		records[i].TTL = ttl
	}
	wrong, err := netip.ParseAddr(w.sc.DNS.WrongAddress)
	if err != nil {
		return fmt.Errorf("dns.wrong_address: %w", err)
	}
	initial, err := dnsFault(w.sc.DNS.Fail)
	if err != nil {
		return err
	}
	for _, a := range w.aps {
		name := a.cfg.Name
		srv, err := dns.NewServer(dns.ServerConfig{
			Stack: a.router.Stack(), NIC: a.lanNIC.ID(), Addr: a.routerIP,
			Records: records, WrongAddr: wrong, Clock: w.clock, Name: name,
			Upstream: w.upstream(),
			Trace:    w.traceTo(name, "DNS server: "),
		})
		if err != nil {
			return fmt.Errorf("DNS server of %s: %w", name, err)
		}
		srv.SetFault(initial)
		if err := srv.Start(w.ctx); err != nil {
			return fmt.Errorf("DNS server of %s: %w", name, err)
		}
		w.onClose(srv.Close)
		a.dns = srv
	}
	return nil
}

func dnsFault(m scenario.DNSFailMode) (dns.Fault, error) {
	if m == "" || m == scenario.DNSNone {
		return dns.FaultNone, nil
	}
	return dns.ParseFault(string(m))
}

// buildServices starts every host's services. It runs after the boards
// exist, because a chat peer in connect mode dials a board.
func (w *World) buildServices() error {
	ca, err := services.NewCA(w.sc.Seed, w.clock.Now())
	if err != nil {
		return fmt.Errorf("certificate authority: %w", err)
	}
	w.ca = ca
	for _, list := range [][]scenario.Host{w.sc.InternetHosts, w.sc.LANPeers} {
		for _, h := range list {
			if err := w.startServices(w.hosts[h.Name]); err != nil {
				return fmt.Errorf("services of %s: %w", h.Name, err)
			}
		}
	}
	return nil
}

func (w *World) startServices(hn *hostNode) error {
	name := hn.cfg.Name
	host, err := services.NewHost(services.HostConfig{
		Name: name, Stack: hn.node.Stack(), NIC: hn.nic.ID(), Addr: hn.ip,
		Clock: w.clock, Seed: w.sc.Seed,
		Trace: w.traceTo(name, ""),
	})
	if err != nil {
		return err
	}
	hn.host = host
	w.onClose(host.Close)
	sv := hn.cfg.Services
	if hn.cfg.Blackhole {
		host.Blackhole()
	}
	if sv.HTTP != nil {
		site, err := w.site(sv.HTTP)
		if err != nil {
			return fmt.Errorf("http: %w", err)
		}
		if err := host.AddHTTPWith(sv.HTTP.Port, site, services.HTTPOptions{Headers: headerList(sv.HTTP.Headers), AlwaysHTTP11: sv.HTTP.HTTP11}); err != nil {
			return fmt.Errorf("http: %w", err)
		}
	}
	if sv.HTTPS != nil {
		site, err := w.site(sv.HTTPS)
		if err != nil {
			return fmt.Errorf("https: %w", err)
		}
		names := append([]string{name}, hn.cfg.Aliases...)
		o, err := httpsOptions(sv.HTTPS)
		if err != nil {
			return fmt.Errorf("https: %w", err)
		}
		if err := host.AddHTTPSWith(sv.HTTPS.Port, site, w.ca, names, o); err != nil {
			return fmt.Errorf("https: %w", err)
		}
	}
	if sv.TCPEcho != 0 {
		if err := host.AddTCPEcho(sv.TCPEcho); err != nil {
			return fmt.Errorf("tcp_echo: %w", err)
		}
	}
	if sv.TCPDiscard != 0 {
		if err := host.AddTCPDiscard(sv.TCPDiscard); err != nil {
			return fmt.Errorf("tcp_discard: %w", err)
		}
	}
	if sv.UDPEcho != 0 {
		if err := host.AddUDPEcho(sv.UDPEcho); err != nil {
			return fmt.Errorf("udp_echo: %w", err)
		}
	}
	if sv.NTP {
		if err := host.AddNTP(); err != nil {
			return fmt.Errorf("ntp: %w", err)
		}
	}
	if err := w.startNetlibServices(hn); err != nil {
		return err
	}
	if c := sv.Chat; c != nil {
		if err := w.startChat(hn, c); err != nil {
			return fmt.Errorf("chat: %w", err)
		}
	}
	if len(hn.cfg.Faults) > 0 {
		fs, err := hostFaults(hn.cfg.Faults)
		if err != nil {
			return err
		}
		hn.baseFaults = fs
		if err := host.SetFaults(fs); err != nil {
			return err
		}
	}
	return nil
}

// headerList turns a scenario's headers into the service's.
func headerList(hs []scenario.Header) []services.Header {
	var out []services.Header
	for _, h := range hs {
		out = append(out, services.Header{Name: h.Name, Value: h.Value})
	}
	return out
}

// httpsOptions turns an https site's fields into the service's options.
func httpsOptions(s *scenario.Site) (services.HTTPSOptions, error) {
	o := services.HTTPSOptions{HTTP: services.HTTPOptions{Headers: headerList(s.Headers), AlwaysHTTP11: s.HTTP11}}
	t := s.TLS
	if t == nil {
		return o, nil
	}
	for _, name := range t.CipherSuites {
		id, err := scenario.ParseCipherSuite(name)
		if err != nil {
			return o, err
		}
		o.CipherSuites = append(o.CipherSuites, id)
	}
	o.MaxTLS12 = t.MaxVersion == "1.2"
	o.FullRecords = t.FullRecords
	o.Cert = services.CertOptions{Key: services.KeyType(t.Key), SelfSigned: t.SelfSigned, Intermediates: t.Intermediates}
	return o, nil
}

func (w *World) site(s *scenario.Site) (services.Site, error) {
	site := services.Site{}
	for _, p := range s.Pages {
		body := []byte(p.Body)
		if p.File != "" {
			data, err := w.sc.ReadFile(p.File)
			if err != nil {
				return nil, err
			}
			body = data
		}
		site[p.Path] = services.Page{Body: body, ContentType: p.ContentType, Status: p.Status, Headers: headerList(p.Headers)}
	}
	return site, nil
}

// startChat starts a chat peer. In connect mode the peer dials a board whose
// address comes from DHCP, so it waits (in simulator time) until the board
// has one.
func (w *World) startChat(hn *hostNode, c *scenario.Chat) error {
	cfg := services.ChatConfig{Port: c.Port, Echo: c.Echo}
	for _, s := range c.Steps {
		cfg.Steps = append(cfg.Steps, services.ChatStep{Send: s.Send, Expect: s.Expect, Wait: s.Wait.D(), Close: s.Close})
	}
	if c.Mode != scenario.Connect {
		_, err := hn.host.AddChat(cfg)
		return err
	}
	names, ok := w.sc.InstancesOf(c.Board)
	if !ok {
		return fmt.Errorf("unknown board %q", c.Board)
	}
	bn := w.byName[names[0]]
	var poll func()
	poll = func() {
		ip := bn.station.IPConfig().IP
		if !ip.IsValid() || ip.IsUnspecified() || w.clock.Elapsed() < c.Start.D() {
			w.clock.AfterFunc(250*time.Millisecond, poll)
			return
		}
		cfg.Connect = ip
		if _, err := hn.host.AddChat(cfg); err != nil {
			w.trace.Add(w.clock.Elapsed(), hn.cfg.Name, "chat peer not started: "+err.Error())
		}
	}
	w.clock.AfterFunc(0, poll)
	return nil
}

func hostFaults(list []scenario.HostFault) ([]services.Fault, error) {
	var out []services.Fault
	for i, f := range list {
		kind, err := services.ParseFaultKind(string(f.Kind))
		if err != nil {
			return nil, fmt.Errorf("faults[%d]: %w", i, err)
		}
		sf := services.Fault{
			Kind: kind, Port: f.Port, Probability: 1,
			After: f.After.D(), Bytes: int64(f.Bytes), Delay: f.Delay.D(), Jitter: f.Jitter.D(),
		}
		if f.Rate > 0 {
			// The scenario writes rates in bits per second (1mbit); the
			// proxy paces bytes.
			sf.Rate = max(f.Rate.BitsPerSecond()/8, 1)
		}
		if f.Probability != nil {
			sf.Probability = f.Probability.Fraction()
		}
		switch f.Direction {
		case scenario.Upstream:
			sf.Direction = services.Upstream
		case scenario.Downstream:
			sf.Direction = services.Downstream
		}
		if err := sf.Validate(); err != nil {
			return nil, fmt.Errorf("faults[%d]: %w", i, err)
		}
		out = append(out, sf)
	}
	return out, nil
}

// boardResolver answers a board's getaddrinfo with the DNS server its
// interface was configured with (DHCP option 6 or a static ifconfig).
type boardResolver struct {
	w  *World
	bn *boardNode
}

func (r boardResolver) Lookup(ctx context.Context, name string, actor *vclock.Actor) (netip.Addr, error) {
	server := r.bn.radio.DNS()
	if !server.IsValid() || server.IsUnspecified() {
		return netip.Addr{}, dns.ErrTimeout
	}
	return dns.Resolve(ctx, r.bn.node.Stack(), server, name, 0, actor)
}

// boardEnv is the extension configuration a board's network layers read
// (its stack, its resolver, its radio).
func (w *World) boardEnv(bn *boardNode) map[any]any {
	name := bn.inst.Name
	env := map[any]any{
		boardnet.SocketEnvKey{}: &boardnet.SocketEnv{
			Stack:    bn.node.Stack(),
			NIC:      bn.nic.ID(),
			Link:     bn.nic,
			Resolver: boardResolver{w: w, bn: bn},
			Trace:    w.traceTo(name, ""),
		},
	}
	if bn.radio != nil {
		env[boardnet.WLANKey{}] = bn.radio
	}
	return env
}

// socketLines describes a board's socket table, one line a socket.
func (w *World) socketLines(bn *boardNode) []string {
	var out []string
	for _, s := range w.socketsOf(bn) {
		line := fmt.Sprintf("%s %s %s", s.Proto, s.Local, s.State)
		if s.Remote.IsValid() {
			line = fmt.Sprintf("%s %s → %s %s", s.Proto, s.Local, s.Remote, s.State)
		}
		out = append(out, line+fmt.Sprintf(" in=%d out=%d", s.BytesIn, s.BytesOut))
	}
	return out
}

// socketsOf is the board's socket table: as the run left it once the run
// has ended, live before.
func (w *World) socketsOf(bn *boardNode) []sockets.SocketInfo {
	if bn == nil || bn.board == nil {
		return nil
	}
	bn.mu.Lock()
	snap := bn.sockets
	bn.mu.Unlock()
	if snap != nil {
		return snap
	}
	return bn.board.Sockets()
}

// peerReceived is everything a host's services received (on port, or on
// every port when port is 0).
func (w *World) peerReceived(host string, port int) string {
	hn := w.hosts[host]
	if hn == nil || hn.host == nil {
		return ""
	}
	return string(hn.host.Received(port))
}

// serviceFaultActions handles DNS and host faults.
func (w *World) serviceFaultActions(f scenario.Fault) (do, undo func(), err error) {
	switch f.Kind {
	case scenario.DNSFail, scenario.DNSOK:
		a := w.apByName[f.Target]
		if a == nil || a.dns == nil {
			return nil, nil, fmt.Errorf("unknown access point %q", f.Target)
		}
		mode := dns.FaultNone
		if f.Kind == scenario.DNSFail {
			if mode, err = dnsFault(f.Mode); err != nil {
				return nil, nil, err
			}
		}
		if f.Name != "" {
			// One name fails (or, for dns_ok, follows the server again);
			// the others answer as before.
			if f.Kind == scenario.DNSOK {
				return func() { a.dns.ClearNameFault(f.Name) }, nil, nil
			}
			return func() { a.dns.SetNameFault(f.Name, mode) }, func() { a.dns.ClearNameFault(f.Name) }, nil
		}
		before, _ := dnsFault(w.sc.DNS.Fail)
		if f.Kind == scenario.DNSOK {
			return func() { a.dns.SetFault(mode); a.dns.ClearNameFaults() }, func() { a.dns.SetFault(before) }, nil
		}
		return func() { a.dns.SetFault(mode) }, func() { a.dns.SetFault(before) }, nil
	case scenario.HostFaultOn, scenario.HostOK:
		hn := w.hosts[f.Target]
		if hn == nil {
			return nil, nil, fmt.Errorf("unknown host %q", f.Target)
		}
		var add []services.Fault
		if f.Kind == scenario.HostFaultOn {
			if f.HostFault == nil {
				return nil, nil, fmt.Errorf("host_fault needs a host_fault")
			}
			if add, err = hostFaults([]scenario.HostFault{*f.HostFault}); err != nil {
				return nil, nil, err
			}
		}
		set := func(fs []services.Fault) {
			if hn.host != nil {
				if err := hn.host.SetFaults(fs); err != nil {
					w.trace.Add(w.clock.Elapsed(), hn.cfg.Name, "host fault not set: "+err.Error())
				}
			}
		}
		with := append(append([]services.Fault{}, hn.baseFaults...), add...)
		if f.Kind == scenario.HostOK {
			with = nil
		}
		return func() { set(with) }, func() { set(hn.baseFaults) }, nil
	}
	return nil, nil, fmt.Errorf("fault kind %q is not supported", f.Kind)
}
