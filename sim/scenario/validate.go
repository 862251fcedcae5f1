package scenario

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"time"
)

// maxInstances bounds the boards of one scenario, replicas included.
const maxInstances = 100_000

// Validate checks a scenario (after ApplyDefaults) and returns every
// problem as an Errors list, each naming the file, line and field and
// saying how to fix it; nil when the scenario is valid.
func (s *Scenario) Validate() error {
	v := &validator{s: s, nodes: map[string]string{}}
	v.run()
	return errorsOrNil(v.errs)
}

type validator struct {
	s    *Scenario
	errs Errors
	// nodes maps every node name (boards, replicas, APs, hosts) to the
	// field that declared it.
	nodes map[string]string
	aps   map[string]int
	hosts map[string]bool
	// subnets are the valid AP subnets, by AP index.
	subnets map[int]netip.Prefix
}

func (v *validator) errf(field, format string, args ...any) {
	v.errs = append(v.errs, v.s.problem(field, fmt.Sprintf(format, args...)))
}

// Errorf returns a problem with a field, located in the scenario's file
// like Validate's, for errors found while building or running the world
// (a forward's port already in use, a page file that vanished):
//
//	return s.Errorf("forwards[0].host_port", "port %d is already in use; pick another", 8080)
func (s *Scenario) Errorf(field, format string, args ...any) *FieldError {
	return s.problem(field, fmt.Sprintf(format, args...))
}

// problem builds a FieldError for a field, locating it in the file.
func (s *Scenario) problem(field, msg string) *FieldError {
	e := &FieldError{File: s.File, Field: field, Msg: msg}
	for p := field; p != ""; p = parentPath(p) {
		if o, ok := s.origins[p]; ok {
			e.File = o
			return e
		}
		if l := s.lines[p]; l > 0 {
			e.Line = l
			return e
		}
	}
	if s.defaultAP && strings.HasPrefix(field, "wifi.access_points[0]") {
		e.Msg += " (in the default access point)"
	}
	return e
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

var (
	boardNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
	dnsNameRE   = regexp.MustCompile(`^(?i:[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(?:\.(?i:[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?))*\.?$`)
	hexRE       = regexp.MustCompile(`^[0-9A-Fa-f]+$`)
)

func (v *validator) run() {
	s := v.s
	if s.Duration < 0 {
		v.errf("duration", "must be positive, got %s", s.Duration)
	}
	v.aps = map[string]int{}
	v.hosts = map[string]bool{}
	v.subnets = map[int]netip.Prefix{}
	v.accessPoints()
	v.boards()
	v.hostList("lan_peers", s.LANPeers, true)
	v.hostList("internet_hosts", s.InternetHosts, false)
	v.addresses()
	v.dns()
	for i, l := range s.Links {
		f := fmt.Sprintf("links[%d]", i)
		if l.Node == "" {
			v.errf(f+".node", "missing: name the board, access point or host whose link this is")
		} else if _, ok := v.nodes[l.Node]; !ok {
			v.errf(f+".node", "unknown node %q%s", l.Node, v.known(v.nodes))
		}
		v.impairment(f, &s.Links[i].Impairment)
		for j := range i {
			if s.Links[j].Node == l.Node && (s.Links[j].Direction == l.Direction || s.Links[j].Direction == Both || l.Direction == Both) {
				v.errf(f, "node %q already has a link impairment (links[%d]); merge them into one entry", l.Node, j)
				break
			}
		}
	}
	v.forwards()
	v.internet()
	v.faults()
	for i, c := range s.ConsoleInput {
		f := fmt.Sprintf("console_input[%d]", i)
		v.at(f+".at", c.At)
		v.boardRef(f+".board", c.Board)
		if (c.Text == "") == (c.Line == "") {
			v.errf(f, "set exactly one of text (sent as is) and line (sent with Enter)")
		}
	}
	for i := range s.Expect {
		v.expect(fmt.Sprintf("expect[%d]", i), &s.Expect[i])
	}
}

// known lists valid names for an error message.
func (v *validator) known(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	if len(names) > 10 {
		names = append(names[:10], "…")
	}
	return "; known: " + strings.Join(names, ", ")
}

func (v *validator) declare(name, field, what string) {
	if prev, dup := v.nodes[name]; dup {
		v.errf(field, "%s name %q is already used by %s; boards, access points and hosts need distinct names", what, name, prev)
		return
	}
	v.nodes[name] = field
}

func (v *validator) accessPoints() {
	s := v.s
	bssids := map[uint64]int{}
	for i := range s.WiFi.AccessPoints {
		ap := &s.WiFi.AccessPoints[i]
		f := fmt.Sprintf("wifi.access_points[%d]", i)
		if ap.SSID == "" {
			v.errf(f+".ssid", "missing: give the network a name (1 to 32 bytes)")
		} else if len(ap.SSID) > 32 {
			v.errf(f+".ssid", "%q is %d bytes long; an SSID has at most 32", ap.SSID, len(ap.SSID))
		}
		if ap.Name != "" {
			if j, dup := v.aps[ap.Name]; dup {
				v.errf(f+".name", "wifi.access_points[%d] is also named %q; give each access point a distinct name: (one SSID may be served by several)", j, ap.Name)
			} else {
				v.declare(ap.Name, f+".name", "access point")
				v.aps[ap.Name] = i
			}
		}
		v.passphrase(f, ap)
		if ap.Channel < 1 || ap.Channel > 14 {
			v.errf(f+".channel", "%d is not a 2.4 GHz channel; use 1 to 14", ap.Channel)
		}
		if mac, ok := v.mac(f+".bssid", ap.BSSID); ok {
			if j, dup := bssids[mac]; dup {
				v.errf(f+".bssid", "%s is also the BSSID of wifi.access_points[%d]; each access point needs its own", ap.BSSID, j)
			}
			bssids[mac] = i
		}
		v.rssi(f+".rssi", ap.RSSI)
		for j, r := range ap.RSSIByBoard {
			v.boardRef(fmt.Sprintf("%s.rssi_by_board[%d].board", f, j), r.Board)
			v.rssi(fmt.Sprintf("%s.rssi_by_board[%d].rssi", f, j), r.RSSI)
		}
		if ap.MaxStations < 0 {
			v.errf(f+".max_stations", "must be 0 (no limit) or more, got %d", ap.MaxStations)
		}
		v.subnet(i, f, ap)
	}
}

func (v *validator) passphrase(f string, ap *AccessPoint) {
	p := ap.Passphrase
	switch ap.Security {
	case SecOpen:
		if p != "" {
			v.errf(f+".passphrase", "an open network takes no passphrase; remove it or set security: wpa2-psk")
		}
	case SecWEP:
		if !(len(p) == 5 || len(p) == 13 || (len(p) == 10 || len(p) == 26) && hexRE.MatchString(p)) {
			v.errf(f+".passphrase", "a WEP key is 5 or 13 characters, or 10 or 26 hex digits; got %d characters", len(p))
		}
	case SecWPA, SecWPA2, SecWPAWPA2:
		switch {
		case len(p) == 64 && hexRE.MatchString(p):
		case len(p) < 8 || len(p) > 63:
			v.errf(f+".passphrase", "a %s passphrase is 8 to 63 characters, got %d", ap.Security, len(p))
		default:
			for _, c := range []byte(p) {
				if c < 0x20 || c > 0x7e {
					v.errf(f+".passphrase", "a WPA passphrase is printable ASCII only")
					break
				}
			}
		}
	}
}

func (v *validator) subnet(i int, f string, ap *AccessPoint) {
	p, err := netip.ParsePrefix(ap.Subnet)
	if err != nil || !p.Addr().Is4() {
		v.errf(f+".subnet", "%q is not an IPv4 subnet in CIDR notation, e.g. 192.168.1.0/24", ap.Subnet)
		return
	}
	if p.Bits() < 8 || p.Bits() > 29 {
		v.errf(f+".subnet", "prefix /%d is out of range; use /8 to /29", p.Bits())
		return
	}
	if p.Masked() != p {
		v.errf(f+".subnet", "%s has host bits set; write %s", ap.Subnet, p.Masked())
		p = p.Masked()
	}
	for j, q := range v.subnets {
		if q.Overlaps(p) {
			v.errf(f+".subnet", "%s overlaps %s of wifi.access_points[%d]; give each access point its own subnet", p, q, j)
		}
	}
	v.subnets[i] = p
	router, ok := v.hostAddr(f+".router", ap.Router, p)
	start, ok1 := v.hostAddr(f+".dhcp.range_start", ap.DHCP.RangeStart, p)
	end, ok2 := v.hostAddr(f+".dhcp.range_end", ap.DHCP.RangeEnd, p)
	if ok1 && ok2 {
		if end.Less(start) {
			v.errf(f+".dhcp.range_end", "%s is before range_start %s", end, start)
		} else if ok && !router.Less(start) && !end.Less(router) {
			v.errf(f+".dhcp", "the pool %s–%s contains the router address %s; move the pool or the router", start, end, router)
		}
	}
	if ap.DHCP.Lease < Duration(time.Minute) {
		v.errf(f+".dhcp.lease", "%s is too short; use at least 1m", ap.DHCP.Lease)
	}
}

// hostAddr checks that a is a usable host address of p.
func (v *validator) hostAddr(field, a string, p netip.Prefix) (netip.Addr, bool) {
	addr, err := netip.ParseAddr(a)
	if err != nil || !addr.Is4() {
		v.errf(field, "%q is not an IPv4 address", a)
		return netip.Addr{}, false
	}
	if !p.Contains(addr) {
		v.errf(field, "%s is outside the subnet %s", addr, p)
		return addr, false
	}
	last := addrAdd(p.Addr(), uint32(1)<<(32-p.Bits())-1)
	if addr == p.Addr() || addr == last {
		v.errf(field, "%s is the subnet's network or broadcast address; use an address in between", addr)
		return addr, false
	}
	return addr, true
}

func (v *validator) mac(field, m string) (uint64, bool) {
	mac, ok := parseMAC(m)
	if !ok {
		v.errf(field, "%q is not a MAC address; write six hex bytes like \"5c:cf:7f:01:02:03\"", m)
		return 0, false
	}
	if mac>>40&1 == 1 {
		v.errf(field, "%s is a multicast address; the first byte must be even", m)
		return 0, false
	}
	return mac, true
}

func (v *validator) rssi(field string, r int) {
	if r < -100 || r > 0 {
		v.errf(field, "%d dBm is out of range; use -100 (no signal) to 0", r)
	}
}

func (v *validator) boards() {
	s := v.s
	if len(s.Boards) == 0 {
		v.errf("boards", "no boards: add at least one, e.g. boards: [{name: esp1, script: main.py}]")
	}
	for i := range s.Boards {
		b := &s.Boards[i]
		f := fmt.Sprintf("boards[%d]", i)
		if b.Name == "" {
			v.errf(f+".name", "missing: give the board a name like esp1")
		} else if !boardNameRE.MatchString(b.Name) {
			v.errf(f+".name", "%q: use letters, digits, '-' and '_'", b.Name)
		}
		if b.Profile != DefaultProfile {
			v.errf(f+".profile", "unknown profile %q; the only profile is %q", b.Profile, DefaultProfile)
		}
		if b.Script != "" && b.Code != "" {
			v.errf(f, "set script or code, not both")
		}
		if b.Heap != 0 && (b.Heap < 8*1024 || b.Heap > 4*1024*1024) {
			v.errf(f+".heap", "%d bytes is out of range; use 8192 to 4194304, or leave it out for the board's 38 KiB", b.Heap)
		}
		if b.Replicas < 1 {
			v.errf(f+".replicas", "must be 1 or more, got %d", b.Replicas)
		}
		if b.MAC != "" {
			v.mac(f+".mac", b.MAC)
		}
		if b.RSSI != 0 {
			v.rssi(f+".rssi", b.RSSI)
		}
		v.devices(f, b)
		if b.WiFi != nil && b.WiFi.SSID == "" {
			v.errf(f+".wifi.ssid", "missing: the remembered network needs an ssid")
		}
		paths := map[string]int{}
		for j, fl := range b.Files {
			ff := fmt.Sprintf("%s.files[%d]", f, j)
			switch {
			case !strings.HasPrefix(fl.Path, "/"):
				v.errf(ff+".path", "%q: write an absolute flash path like \"/data.txt\"", fl.Path)
			case fl.Path == "/.frozen" || strings.HasPrefix(fl.Path, "/.frozen/"):
				v.errf(ff+".path", "%s: /.frozen holds the board's frozen modules and is read-only; put libraries in /lib", fl.Path)
			case fl.Path == "/main.py" && (b.Script != "" || b.Code != ""):
				v.errf(ff+".path", "/main.py is already the board's script; remove one")
			}
			if k, dup := paths[fl.Path]; dup {
				v.errf(ff+".path", "%s is also files[%d]", fl.Path, k)
			}
			paths[fl.Path] = j
			if (fl.From == "") == (fl.Content == "") {
				v.errf(ff, "set exactly one of from (a file) and content (inline)")
			}
		}
	}
	total := 0
	for _, b := range s.Boards {
		total += max(b.Replicas, 1)
	}
	if total > maxInstances {
		v.errf("boards", "%d boards in all (with replicas) are too many; use at most %d", total, maxInstances)
		return
	}
	seen := map[uint64]string{}
	for _, in := range s.Instances() {
		f := fmt.Sprintf("boards[%d]", in.Index)
		if in.Board.Name == "" {
			continue
		}
		if in.Name != "" && (in.Replica == 0 || in.Board.Replicas > 1) {
			v.declare(in.Name, f+".name", "board")
		}
		if in.Board.Replicas > 1 && in.Replica == 0 && in.Board.Name != "" {
			v.declare(in.Board.Name, f+".name", "board")
		}
		if mac, ok := parseMAC(in.MAC); ok {
			if prev, dup := seen[mac]; dup {
				v.errf(f+".mac", "board %s gets MAC %s, already used by %s; every board needs its own MAC", in.Name, in.MAC, prev)
			}
			seen[mac] = in.Name
		}
	}
}

// boardRef checks a reference to a board (a name, or one replica's name).
func (v *validator) boardRef(field, name string) {
	if name == "" {
		v.errf(field, "missing: name the board (there are %d)", len(v.s.Boards))
		return
	}
	if _, ok := v.s.InstancesOf(name); !ok {
		v.errf(field, "unknown board %q%s", name, v.known(v.boardNames()))
	}
}

func (v *validator) boardNames() map[string]string {
	m := map[string]string{}
	for _, b := range v.s.Boards {
		m[b.Name] = ""
	}
	return m
}

func (v *validator) hostRef(field, name string) {
	if name == "" {
		v.errf(field, "missing: name the host")
		return
	}
	if !v.hosts[name] {
		m := map[string]string{}
		for k := range v.hosts {
			m[k] = ""
		}
		hint := v.known(m)
		if hint == "" {
			hint = "; the scenario has no lan_peers or internet_hosts"
		}
		v.errf(field, "unknown host %q%s", name, hint)
	}
}

func (v *validator) apRef(field, name string) {
	if len(v.s.WiFi.AccessPoints) == 0 {
		v.errf(field, "the scenario has no access points (wifi.access_points is empty)")
		return
	}
	if name == "" {
		v.errf(field, "missing: name the access point (there are %d)", len(v.s.WiFi.AccessPoints))
		return
	}
	if _, ok := v.aps[name]; !ok {
		m := map[string]string{}
		for k := range v.aps {
			m[k] = ""
		}
		v.errf(field, "unknown access point %q%s", name, v.known(m))
	}
}

func (v *validator) hostList(list string, hs []Host, lan bool) {
	for i := range hs {
		h := &hs[i]
		f := fmt.Sprintf("%s[%d]", list, i)
		switch {
		case h.Name == "":
			v.errf(f+".name", "missing: give the host a name")
		case !lan && !dnsNameRE.MatchString(h.Name):
			v.errf(f+".name", "%q is not a DNS name; an internet host's name is how boards find it", h.Name)
		case lan && !boardNameRE.MatchString(h.Name) && !dnsNameRE.MatchString(h.Name):
			v.errf(f+".name", "%q: use letters, digits, '-', '_' and '.'", h.Name)
		default:
			v.declare(h.Name, f+".name", "host")
			v.hosts[h.Name] = true
		}
		if lan {
			v.apRef(f+".ap", h.AP)
		} else if h.AP != "" {
			v.errf(f+".ap", "an internet host is not on an access point's LAN; remove ap or move the host to lan_peers")
		}
		for j, a := range h.Aliases {
			if !dnsNameRE.MatchString(a) {
				v.errf(fmt.Sprintf("%s.aliases[%d]", f, j), "%q is not a DNS name", a)
			}
		}
		v.services(f+".services", h)
		for j := range h.Faults {
			v.hostFault(fmt.Sprintf("%s.faults[%d]", f, j), &h.Faults[j])
		}
	}
}

func (v *validator) port(field string, p int) bool {
	if p < 1 || p > 65535 {
		v.errf(field, "port %d is out of range; use 1 to 65535", p)
		return false
	}
	return true
}

// headers checks response headers: a name is an HTTP token, a value has no
// line break (it would end the header block).
func (v *validator) headers(f string, hs []Header) {
	for _, h := range hs {
		k, val := h.Name, h.Value
		if k == "" || strings.ContainsAny(k, " \t\r\n:()<>@,;\\\"/[]?={}") {
			v.errf(f, "%q is not an HTTP header name", k)
		}
		if strings.ContainsAny(val, "\r\n") {
			v.errf(f, "header %s: a value cannot contain a line break", k)
		}
	}
}

func (v *validator) services(f string, h *Host) {
	sv := &h.Services
	tcp := map[int]string{}
	udp := map[int]string{}
	claim := func(m map[int]string, field string, p int) {
		if !v.port(field, p) {
			return
		}
		if prev, dup := m[p]; dup {
			v.errf(field, "port %d is already used by %s", p, prev)
			return
		}
		m[p] = field
	}
	for _, site := range []struct {
		name string
		s    *Site
	}{{"http", sv.HTTP}, {"https", sv.HTTPS}} {
		if site.s == nil {
			continue
		}
		sf := f + "." + site.name
		claim(tcp, sf+".port", site.s.Port)
		v.headers(sf+".headers", site.s.Headers)
		if t := site.s.TLS; t != nil {
			tf := sf + ".tls"
			if site.name == "http" {
				v.errf(tf, "tls applies to https sites only")
			}
			for j, cs := range t.CipherSuites {
				if _, err := ParseCipherSuite(cs); err != nil {
					v.errf(fmt.Sprintf("%s.cipher_suites[%d]", tf, j), "%v", err)
				}
			}
			if t.MaxVersion != "" && t.MaxVersion != "1.2" && t.MaxVersion != "1.3" {
				v.errf(tf+".max_version", "%q: use 1.2 or 1.3", t.MaxVersion)
			}
			if t.Key != "" && t.Key != "rsa" && t.Key != "ecdsa" {
				v.errf(tf+".key", "%q: use rsa or ecdsa (or leave it out for both)", t.Key)
			}
			if t.Intermediates < 0 || t.Intermediates > 8 {
				v.errf(tf+".intermediates", "%d: use 0 to 8", t.Intermediates)
			}
			if t.SelfSigned && t.Intermediates > 0 {
				v.errf(tf, "a self-signed certificate has no intermediate CAs")
			}
		}
		paths := map[string]int{}
		for j, p := range site.s.Pages {
			pf := fmt.Sprintf("%s.pages[%d]", sf, j)
			if !strings.HasPrefix(p.Path, "/") {
				v.errf(pf+".path", "%q: a URL path starts with /", p.Path)
			}
			if k, dup := paths[p.Path]; dup {
				v.errf(pf+".path", "%s is also pages[%d]", p.Path, k)
			}
			paths[p.Path] = j
			if p.Body != "" && p.File != "" {
				v.errf(pf, "set body or file, not both")
			}
			if p.Status < 100 || p.Status > 599 {
				v.errf(pf+".status", "%d is not an HTTP status; use 100 to 599", p.Status)
			}
			v.headers(pf+".headers", p.Headers)
		}
	}
	if sv.TCPEcho != 0 {
		claim(tcp, f+".tcp_echo", sv.TCPEcho)
	}
	if sv.TCPDiscard != 0 {
		claim(tcp, f+".tcp_discard", sv.TCPDiscard)
	}
	if sv.UDPEcho != 0 {
		claim(udp, f+".udp_echo", sv.UDPEcho)
	}
	if sv.NTP {
		claim(udp, f+".ntp", 123)
	}
	v.netlibServices(f, sv, func(field string, p int) { claim(tcp, field, p) })
	if c := sv.Chat; c != nil {
		cf := f + ".chat"
		switch c.Mode {
		case Listen:
			claim(tcp, cf+".port", c.Port)
			if c.Board != "" {
				v.errf(cf+".board", "a listening chat peer waits for boards; remove board or set mode: connect")
			}
		case Connect:
			v.port(cf+".port", c.Port)
			v.boardRef(cf+".board", c.Board)
		}
		if c.Start < 0 {
			v.errf(cf+".start", "must not be negative, got %s", c.Start)
		}
		for j, st := range c.Steps {
			n := 0
			for _, set := range []bool{st.Send != "", st.Expect != "", st.Wait != 0, st.Close} {
				if set {
					n++
				}
			}
			if n != 1 {
				v.errf(fmt.Sprintf("%s.steps[%d]", cf, j), "set exactly one of send, expect, wait and close")
			}
			if st.Wait < 0 {
				v.errf(fmt.Sprintf("%s.steps[%d].wait", cf, j), "must not be negative, got %s", st.Wait)
			}
		}
	}
}

func (v *validator) hostFault(f string, h *HostFault) {
	if h.Port != 0 {
		v.port(f+".port", h.Port)
	}
	if h.Probability != nil {
		v.percent(f+".probability", *h.Probability)
	}
	for _, d := range []struct {
		name string
		d    Duration
	}{{"after", h.After}, {"delay", h.Delay}, {"jitter", h.Jitter}} {
		if d.d < 0 {
			v.errf(f+"."+d.name, "must not be negative, got %s", d.d)
		}
	}
	if h.Bytes < 0 {
		v.errf(f+".bytes", "must not be negative, got %d", h.Bytes)
	}
	if h.Rate < 0 {
		v.errf(f+".rate", "must not be negative")
	}
	// Parameters that the kind needs, and those it does not use.
	need := func(name string, set bool, what string) {
		if !set {
			v.errf(f+"."+name, "missing: %s needs %s", h.Kind, what)
		}
	}
	unused := func(names ...string) {
		for _, n := range names {
			set := map[string]bool{"after": h.After != 0, "bytes": h.Bytes != 0, "delay": h.Delay != 0,
				"jitter": h.Jitter != 0, "rate": h.Rate != 0}[n]
			if set {
				v.errf(f+"."+n, "%s does not use %s; remove it", h.Kind, n)
			}
		}
	}
	switch h.Kind {
	case "":
		v.errf(f+".kind", "missing: one of %s", quoteList(HostFaultKind("").enumValues()))
	case Refuse, Blackhole:
		unused("after", "bytes", "delay", "jitter", "rate")
	case ResetAfter:
		if h.After == 0 && h.Bytes == 0 {
			v.errf(f, "reset_after needs after (a time, e.g. 2s) or bytes (e.g. 1024)")
		}
		unused("delay", "jitter", "rate")
	case SlowClose:
		need("delay", h.Delay != 0, "a delay (e.g. 5s)")
		unused("after", "bytes", "jitter", "rate")
	case Throttle:
		need("rate", h.Rate != 0, `a rate (e.g. "10kbit")`)
		unused("after", "bytes", "delay", "jitter")
	case Slice:
		need("bytes", h.Bytes != 0, "the size of a slice in bytes (e.g. 10)")
		unused("after", "jitter", "rate")
	case Latency:
		need("delay", h.Delay != 0, "a delay (e.g. 200ms)")
		unused("after", "bytes", "rate")
	}
}

func (v *validator) percent(field string, p Percent) {
	if p < 0 || p > 100 {
		v.errf(field, "%s is out of range; use 0 to 100", p)
	}
}

// addresses checks that every node address is unique and in place.
func (v *validator) addresses() {
	s := v.s
	seen := map[netip.Addr]string{}
	use := func(field string, a netip.Addr) {
		if prev, dup := seen[a]; dup {
			v.errf(field, "address %s is also %s; every node needs its own address", a, prev)
			return
		}
		seen[a] = field
	}
	for i, ap := range s.WiFi.AccessPoints {
		if a, err := netip.ParseAddr(ap.Router); err == nil {
			use(fmt.Sprintf("wifi.access_points[%d].router", i), a)
		}
	}
	for i, h := range s.LANPeers {
		f := fmt.Sprintf("lan_peers[%d].ip", i)
		a, err := netip.ParseAddr(h.IP)
		if err != nil || !a.Is4() {
			v.errf(f, "%q is not an IPv4 address", h.IP)
			continue
		}
		use(f, a)
		if j, ok := v.aps[h.AP]; ok {
			if p, ok := v.subnets[j]; ok {
				if !p.Contains(a) {
					v.errf(f, "%s is outside the subnet %s of access point %q", a, p, h.AP)
				} else if st, err1 := netip.ParseAddr(s.WiFi.AccessPoints[j].DHCP.RangeStart); err1 == nil {
					if en, err2 := netip.ParseAddr(s.WiFi.AccessPoints[j].DHCP.RangeEnd); err2 == nil && !a.Less(st) && !en.Less(a) {
						v.errf(f, "%s is inside the DHCP pool %s–%s; a board could be given it too", a, st, en)
					}
				}
			}
		}
	}
	for i, h := range s.InternetHosts {
		f := fmt.Sprintf("internet_hosts[%d].ip", i)
		a, err := netip.ParseAddr(h.IP)
		if err != nil || !a.Is4() {
			v.errf(f, "%q is not an IPv4 address", h.IP)
			continue
		}
		use(f, a)
		for j, p := range v.subnets {
			if p.Contains(a) {
				v.errf(f, "%s is inside the LAN %s of wifi.access_points[%d]; put LAN computers in lan_peers", a, p, j)
			}
		}
		if a.IsLoopback() || a.IsMulticast() || a.IsUnspecified() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			v.errf(f, "%s cannot be a host address", a)
		}
	}
}

func (v *validator) dns() {
	d := &v.s.DNS
	names := map[string]string{}
	for i, h := range v.s.InternetHosts {
		names[strings.ToLower(h.Name)] = fmt.Sprintf("internet_hosts[%d]", i)
		for _, a := range h.Aliases {
			names[strings.ToLower(a)] = fmt.Sprintf("internet_hosts[%d]", i)
		}
	}
	for i, r := range d.Records {
		f := fmt.Sprintf("dns.records[%d]", i)
		if !dnsNameRE.MatchString(r.Name) {
			v.errf(f+".name", "%q is not a DNS name", r.Name)
		} else if prev, dup := names[strings.ToLower(r.Name)]; dup {
			v.errf(f+".name", "%s already has an address from %s; remove one", r.Name, prev)
		} else {
			names[strings.ToLower(r.Name)] = f
		}
		switch {
		case (r.A == "") == (r.CNAME == ""):
			v.errf(f, "set exactly one of a (an address) and cname (another name)")
		case r.A != "":
			if a, err := netip.ParseAddr(r.A); err != nil || !a.Is4() {
				v.errf(f+".a", "%q is not an IPv4 address", r.A)
			}
		case !dnsNameRE.MatchString(r.CNAME):
			v.errf(f+".cname", "%q is not a DNS name", r.CNAME)
		}
	}
	if a, err := netip.ParseAddr(d.WrongAddress); err != nil || !a.Is4() {
		v.errf("dns.wrong_address", "%q is not an IPv4 address", d.WrongAddress)
	}
	if d.TTL < 0 {
		v.errf("dns.ttl", "must not be negative, got %s", d.TTL)
	}
}

func (v *validator) impairment(f string, im *Impairment) {
	if im.Latency < 0 {
		v.errf(f+".latency", "must not be negative, got %s", im.Latency)
	}
	if im.Jitter < 0 {
		v.errf(f+".jitter", "must not be negative, got %s", im.Jitter)
	}
	for _, p := range []struct {
		name string
		p    Percent
	}{{"loss", im.Loss}, {"duplicate", im.Duplicate}, {"reorder", im.Reorder}, {"corrupt", im.Corrupt}} {
		v.percent(f+"."+p.name, p.p)
	}
	if ge := im.GilbertElliott; ge != nil {
		v.percent(f+".gilbert_elliott.p", ge.P)
		v.percent(f+".gilbert_elliott.r", ge.R)
		if ge.H != nil {
			v.percent(f+".gilbert_elliott.h", *ge.H)
		}
		if ge.K != nil {
			v.percent(f+".gilbert_elliott.k", *ge.K)
		}
		if im.Loss != 0 {
			v.errf(f, "set loss or gilbert_elliott, not both")
		}
	}
	if im.Bandwidth < 0 {
		v.errf(f+".bandwidth", "must not be negative")
	}
	if im.QueueLimit < 0 {
		v.errf(f+".queue_limit", "must not be negative, got %d", im.QueueLimit)
	}
	if im.MTU != 0 && (im.MTU < 576 || im.MTU > 9000) {
		v.errf(f+".mtu", "%d is out of range; use 576 to 9000", im.MTU)
	}
}

func (v *validator) forwards() {
	s := v.s
	bound := map[string]int{}
	for i, fw := range s.Forwards {
		f := fmt.Sprintf("forwards[%d]", i)
		a, err := netip.ParseAddr(fw.HostAddr)
		if err != nil {
			v.errf(f+".host_addr", "%q is not an IP address", fw.HostAddr)
		}
		v.port(f+".host_port", fw.HostPort)
		v.port(f+".board_port", fw.BoardPort)
		if names, ok := s.InstancesOf(fw.Board); !ok {
			v.boardRef(f+".board", fw.Board)
		} else if len(names) > 1 {
			v.errf(f+".board", "%q has %d replicas; forward to one of them, e.g. %q", fw.Board, len(names), names[0])
		}
		key := fmt.Sprintf("%s %s %d", fw.Proto, a, fw.HostPort)
		if j, dup := bound[key]; dup {
			v.errf(f+".host_port", "%s port %d on %s is already forwarded by forwards[%d]", fw.Proto, fw.HostPort, fw.HostAddr, j)
		}
		bound[key] = i
	}
	ports := map[int]int{}
	for i, p := range s.AllowHostPorts {
		f := fmt.Sprintf("allow_host_ports[%d]", i)
		v.port(f, p)
		if j, dup := ports[p]; dup {
			v.errf(f, "port %d is already allowed by allow_host_ports[%d]", p, j)
		}
		ports[p] = i
	}
	// An explicit fast mode with bridges is a contradiction; an implicit
	// one (bridges added in Go after ApplyDefaults) is the runner's to
	// override.
	if _, written := s.lines["time_mode"]; written && s.TimeMode == Fast && (len(s.Forwards) > 0 || len(s.AllowHostPorts) > 0) {
		v.errf("time_mode", "fast time cannot be used with forwards or allow_host_ports (real programs run in real time); remove time_mode or set realtime")
	}
}

func (v *validator) at(field string, d Duration) {
	switch {
	case d < 0:
		v.errf(field, "must not be negative, got %s", d)
	case d > v.s.Duration:
		v.errf(field, "%s is after the end of the scenario (duration %s); it would never happen", d, v.s.Duration)
	}
}

func (v *validator) faults() {
	for i := range v.s.Faults {
		ft := &v.s.Faults[i]
		f := fmt.Sprintf("faults[%d]", i)
		v.at(f+".at", ft.At)
		if ft.For != 0 {
			if !ft.Kind.Reversible() && ft.Kind != "" {
				v.errf(f+".for", "%s cannot be undone; remove for (reversible kinds: ap_down, rssi, link, dns_fail, dhcp_silent, dhcp_nak, host_fault)", ft.Kind)
			} else if ft.For < 0 {
				v.errf(f+".for", "must be positive, got %s", ft.For)
			}
		}
		// Which optional fields each kind takes.
		uses := map[string]bool{}
		switch ft.Kind {
		case "":
			v.errf(f+".kind", "missing: one of %s", quoteList(FaultKind("").enumValues()))
			continue
		case APDown, APUp, DNSOK, DHCPSilent, DHCPNak:
			v.apRef(f+".target", ft.Target)
		case DNSFail:
			v.apRef(f+".target", ft.Target)
			uses["mode"], uses["name"] = true, true
			if ft.Mode == DNSNone {
				v.errf(f+".mode", "dns_fail needs a failure: timeout, servfail, nxdomain or wrong")
			}
		case Deauth:
			v.boardRef(f+".target", ft.Target)
			uses["ap"] = true
		case RSSIChange:
			v.boardRef(f+".target", ft.Target)
			uses["ap"], uses["rssi"] = true, true
			v.rssi(f+".rssi", ft.RSSI)
		case BoardReset:
			v.boardRef(f+".target", ft.Target)
		case LinkChange:
			if _, ok := v.nodes[ft.Target]; !ok {
				if ft.Target == "" {
					v.errf(f+".target", "missing: name the node whose link changes")
				} else {
					v.errf(f+".target", "unknown node %q%s", ft.Target, v.known(v.nodes))
				}
			}
			uses["link"] = true
			if ft.Link == nil {
				v.errf(f+".link", "missing: the new impairment, e.g. link: {loss: 30}")
			} else {
				v.impairment(f+".link", ft.Link)
			}
		case HostFaultOn:
			v.hostRef(f+".target", ft.Target)
			uses["host_fault"] = true
			if ft.HostFault == nil {
				v.errf(f+".host_fault", "missing: the fault, e.g. host_fault: {kind: refuse}")
			} else {
				v.hostFault(f+".host_fault", ft.HostFault)
			}
		case HostOK:
			v.hostRef(f+".target", ft.Target)
		}
		if ft.AP != "" {
			if uses["ap"] {
				v.apRef(f+".ap", ft.AP)
			}
		}
		for _, o := range []struct {
			name string
			set  bool
		}{{"ap", ft.AP != ""}, {"rssi", ft.RSSI != 0}, {"link", ft.Link != nil}, {"mode", ft.Mode != ""},
			{"name", ft.Name != ""}, {"host_fault", ft.HostFault != nil}} {
			if o.set && !uses[o.name] {
				v.errf(f+"."+o.name, "%s does not use %s; remove it", ft.Kind, o.name)
			}
		}
	}
}

func (v *validator) expect(f string, e *Expect) {
	kinds := []struct {
		name string
		set  bool
	}{
		{"console_contains", e.ConsoleContains != ""}, {"console_matches", e.ConsoleMatches != ""},
		{"console_not_contains", e.ConsoleNotContains != ""}, {"peer_received", e.PeerReceived != nil},
		{"exit", e.Exit != nil}, {"sockets_empty_at_end", e.SocketsEmptyAtEnd},
		{"capture", e.Capture != nil}, {"sim_time", e.SimTime != nil},
		{"http_requested", e.HTTPRequested != nil}, {"mqtt_published", e.MQTTPublished != nil},
		{"pin", e.Pin != nil}, {"reset_cause", e.ResetCause != nil},
		{"neopixel", e.NeoPixel != nil}, {"display", e.Display != nil}, {"pwm", e.PWM != nil},
	}
	var set []string
	for _, k := range kinds {
		if k.set {
			set = append(set, k.name)
		}
	}
	if len(set) != 1 {
		if len(set) == 0 {
			v.errf(f, "no check: set one of console_contains, console_matches, console_not_contains, peer_received, exit, sockets_empty_at_end, capture, sim_time, http_requested, mqtt_published, pin, reset_cause, neopixel, display, pwm")
		} else {
			v.errf(f, "%s are separate checks; put each in its own list entry", strings.Join(set, " and "))
		}
		return
	}
	if e.boardScoped() {
		v.boardRef(f+".board", e.Board)
	} else if e.Board != "" {
		v.errf(f+".board", "%s is not about one board; remove board", set[0])
	}
	if e.Within != 0 {
		switch set[0] {
		case "console_contains", "console_matches", "peer_received", "capture", "http_requested", "mqtt_published":
			v.at(f+".within", e.Within)
		default:
			v.errf(f+".within", "%s has no deadline; remove within", set[0])
		}
	}
	v.hardwareExpect(f, e)
	if e.ConsoleMatches != "" {
		if _, err := regexp.Compile(e.ConsoleMatches); err != nil {
			v.errf(f+".console_matches", "bad regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
	}
	v.netlibExpect(f, e)
	if p := e.PeerReceived; p != nil {
		v.hostRef(f+".peer_received.peer", p.Peer)
		if p.Text == "" {
			v.errf(f+".peer_received.text", "missing: the text the peer must receive")
		}
		if p.Port != 0 {
			v.port(f+".peer_received.port", p.Port)
		}
	}
	if x := e.Exit; x != nil {
		if x.Kind == "" {
			v.errf(f+".exit.kind", "missing: clean, exception or running")
		}
		if x.Kind != ExitException && (x.Type != "" || x.Message != "") {
			v.errf(f+".exit", "type and message are for kind: exception")
		}
	}
	if c := e.Capture; c != nil {
		n := 0
		if h := c.TCPHandshake; h != nil {
			n++
			v.boardRef(f+".capture.tcp_handshake.from", h.From)
			if _, err := netip.ParseAddr(h.To); err != nil && !v.hosts[h.To] {
				if _, ok := v.s.InstancesOf(h.To); !ok {
					v.errf(f+".capture.tcp_handshake.to", "unknown host %q; name a host, a board or an IPv4 address", h.To)
				}
			}
			v.port(f+".capture.tcp_handshake.port", h.Port)
		}
		if c.DHCPDORA != "" {
			n++
			v.boardRef(f+".capture.dhcp_dora", c.DHCPDORA)
		}
		if c.DNSQuery != "" {
			n++
			if !dnsNameRE.MatchString(c.DNSQuery) {
				v.errf(f+".capture.dns_query", "%q is not a DNS name", c.DNSQuery)
			}
		}
		if n != 1 {
			v.errf(f+".capture", "set exactly one of tcp_handshake, dhcp_dora and dns_query")
		}
	}
	if t := e.SimTime; t != nil {
		if t.Min < 0 || t.Max < 0 {
			v.errf(f+".sim_time", "bounds must not be negative")
		}
		if t.Min == 0 && t.Max == 0 {
			v.errf(f+".sim_time", "set min, max or both")
		}
		if t.Max != 0 && t.Min > t.Max {
			v.errf(f+".sim_time", "min %s is after max %s", t.Min, t.Max)
		}
	}
}
