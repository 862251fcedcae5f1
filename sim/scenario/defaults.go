package scenario

import (
	"fmt"
	"net/netip"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Defaults, applied by ApplyDefaults. They are documented here and in the
// field comments; the README quotes this list.
const (
	// DefaultSeed seeds a scenario that sets no seed.
	DefaultSeed = 1
	// DefaultDuration is the longest run when duration is not set.
	DefaultDuration = 5 * time.Minute
	// DefaultSSID is the network of the access point created when a
	// scenario has no wifi key (and of ad-hoc runs without --wifi).
	DefaultSSID = "SimNet"
	// DefaultPassphrase is its WPA2 passphrase.
	DefaultPassphrase = "esp8266sim"
	// DefaultChannel is an access point's channel.
	DefaultChannel = 6
	// DefaultRSSI is the signal strength of an access point, in dBm.
	DefaultRSSI = -55
	// DefaultLease is the DHCP lease time.
	DefaultLease = 2 * time.Hour
	// DefaultProfile is the board profile.
	DefaultProfile = "esp8266"
	// DefaultHostAddr is where forwards listen on the host.
	DefaultHostAddr = "127.0.0.1"
	// DefaultWrongAddress is the answer of a DNS server failing in "wrong"
	// mode (TEST-NET-2, routes nowhere).
	DefaultWrongAddress = "198.51.100.66"
	// DefaultDNSTTL is the TTL of DNS answers.
	DefaultDNSTTL = 5 * time.Minute
	// DefaultMTU is a link's MTU.
	DefaultMTU = 1500
	// DefaultQueueLimit is a rate-limited link's queue, in frames.
	DefaultQueueLimit = 1000
	// bigFleet is the number of board instances above which default
	// subnets are /16 instead of /24, so DHCP pools fit the fleet.
	bigFleet = 150
)

// defaultHostBase is the first default address of internet hosts
// (TEST-NET-3).
var defaultHostBase = netip.MustParseAddr("203.0.113.10")

// ApplyDefaults fills every unset field with its default. It is idempotent
// and never overwrites a set field. Load, Parse and ParseFS call it; call
// it yourself on a Scenario built in Go, before Validate.
//
// The defaults: seed 1; duration 5m; time_mode fast (realtime with
// forwards or allow_host_ports); name from the file name. With no wifi
// key, one access point "SimNet", wpa2-psk, passphrase "esp8266sim".
// Access points: name = ssid; security wpa2-psk with a passphrase, open
// without; channel 6; rssi -55 dBm; BSSID 02:5e:51:00:00:N; subnet the
// first free of 192.168.1.0/24, 192.168.2.0/24, … (10.1.0.0/16, … when
// there are more than 150 board instances); router the subnet's first
// address; DHCP pool from the 100th address (the middle for small
// subnets) to the last usable one, lease 2h. LAN peers: first access
// point, addresses from the subnet's second up. Internet hosts:
// 203.0.113.10 up. Sites: port 80/443, status 200, content type from the
// extension. Chat: listen. Host faults: probability 100, both directions.
// DNS: fail none, wrong answers 198.51.100.66, TTL 5m. Boards: profile
// esp8266, 1 replica, heap 0 (the profile's own budget). Links: both
// directions, uniform jitter, MTU 1500, queue 1000 frames when rate
// limited, Gilbert-Elliott h 0 and k 100. Forwards: tcp on 127.0.0.1.
// Faults, console input and expectations about "the board", "the access
// point": the only one, when there is exactly one. dns_fail mode: timeout.
func (s *Scenario) ApplyDefaults() {
	if s.Seed == 0 {
		s.Seed = DefaultSeed
	}
	if s.Duration == 0 {
		s.Duration = Duration(DefaultDuration)
	}
	if s.TimeMode == "" {
		s.TimeMode = Fast
		if len(s.Forwards) > 0 || len(s.AllowHostPorts) > 0 || s.Internet.Passthrough() {
			s.TimeMode = Realtime
		}
	}
	if s.Name == "" {
		base := path.Base(filepath.ToSlash(s.File))
		s.Name = strings.TrimSuffix(base, path.Ext(base))
		if s.Name == "" || s.Name == "." || s.Name == "/" {
			s.Name = "scenario"
		}
	}
	if s.WiFi.AccessPoints == nil {
		s.WiFi.AccessPoints = []AccessPoint{{SSID: DefaultSSID, Security: SecWPA2, Passphrase: DefaultPassphrase}}
		s.defaultAP = true
	}
	for i := range s.Boards {
		b := &s.Boards[i]
		if b.Profile == "" {
			b.Profile = DefaultProfile
		}
		if _, written := s.lines[fmt.Sprintf("boards[%d].replicas", i)]; b.Replicas == 0 && !written {
			b.Replicas = 1
		}
	}
	s.defaultAPs()
	s.defaultHosts()
	if s.Internet != nil && s.Internet.Mode == "" {
		s.Internet.Mode = InternetOff
	}
	if s.DNS.Fail == "" {
		s.DNS.Fail = DNSNone
	}
	if s.DNS.WrongAddress == "" {
		s.DNS.WrongAddress = DefaultWrongAddress
	}
	if s.DNS.TTL == 0 {
		s.DNS.TTL = Duration(DefaultDNSTTL)
	}
	for i := range s.Links {
		if s.Links[i].Direction == "" {
			s.Links[i].Direction = Both
		}
		s.Links[i].Impairment.applyDefaults()
	}
	for i := range s.Forwards {
		f := &s.Forwards[i]
		if f.Proto == "" {
			f.Proto = TCP
		}
		if f.HostAddr == "" {
			f.HostAddr = DefaultHostAddr
		}
	}
	onlyBoard := ""
	if len(s.Boards) == 1 {
		onlyBoard = s.Boards[0].Name
	}
	onlyAP := ""
	if len(s.WiFi.AccessPoints) == 1 {
		onlyAP = s.WiFi.AccessPoints[0].Name
	}
	for i := range s.Faults {
		f := &s.Faults[i]
		if f.Target == "" {
			switch f.Kind {
			case APDown, APUp, DNSFail, DNSOK, DHCPSilent, DHCPNak:
				f.Target = onlyAP
			case Deauth, RSSIChange, BoardReset:
				f.Target = onlyBoard
			}
		}
		if f.Kind == DNSFail && f.Mode == "" {
			f.Mode = DNSTimeout
		}
		if f.Link != nil {
			f.Link.applyDefaults()
		}
		if f.HostFault != nil {
			f.HostFault.applyDefaults()
		}
	}
	for i := range s.ConsoleInput {
		if s.ConsoleInput[i].Board == "" {
			s.ConsoleInput[i].Board = onlyBoard
		}
	}
	for i := range s.Expect {
		e := &s.Expect[i]
		if e.Board == "" && e.boardScoped() {
			e.Board = onlyBoard
		}
		if c := e.Capture; c != nil && c.TCPHandshake != nil && c.TCPHandshake.From == "" {
			c.TCPHandshake.From = onlyBoard
		}
	}
}

// boardScoped reports whether the expectation is about one board.
func (e *Expect) boardScoped() bool {
	return e.ConsoleContains != "" || e.ConsoleMatches != "" || e.ConsoleNotContains != "" ||
		e.Exit != nil || e.SocketsEmptyAtEnd || e.Pin != nil || e.ResetCause != nil ||
		e.NeoPixel != nil || e.Display != nil || e.PWM != nil
}

func (im *Impairment) applyDefaults() {
	if im.Distribution == "" {
		im.Distribution = Uniform
	}
	if im.MTU == 0 {
		im.MTU = DefaultMTU
	}
	if im.QueueLimit == 0 && im.Bandwidth != 0 {
		im.QueueLimit = DefaultQueueLimit
	}
	if ge := im.GilbertElliott; ge != nil {
		if ge.H == nil {
			h := Percent(0)
			ge.H = &h
		}
		if ge.K == nil {
			k := Percent(100)
			ge.K = &k
		}
	}
}

func (h *HostFault) applyDefaults() {
	if h.Probability == nil {
		p := Percent(100)
		h.Probability = &p
	}
	if h.Direction == "" {
		h.Direction = BothWays
	}
}

func (s *Scenario) defaultAPs() {
	fleet := 0
	for _, b := range s.Boards {
		fleet += max(b.Replicas, 1)
	}
	var taken []netip.Prefix
	for _, ap := range s.WiFi.AccessPoints {
		if p, err := netip.ParsePrefix(ap.Subnet); err == nil {
			taken = append(taken, p.Masked())
		}
	}
	next := 1
	for i := range s.WiFi.AccessPoints {
		ap := &s.WiFi.AccessPoints[i]
		if ap.Name == "" {
			ap.Name = ap.SSID
		}
		if ap.Security == "" {
			ap.Security = SecWPA2
			if ap.Passphrase == "" {
				ap.Security = SecOpen
			}
		}
		if ap.Channel == 0 {
			ap.Channel = DefaultChannel
		}
		if ap.RSSI == 0 {
			ap.RSSI = DefaultRSSI
		}
		if ap.BSSID == "" {
			ap.BSSID = fmt.Sprintf("02:5e:51:00:%02x:%02x", (i+1)>>8&0xff, (i+1)&0xff)
		}
		if ap.Subnet == "" {
			for ; next < 255; next++ {
				p := netip.MustParsePrefix(fmt.Sprintf("192.168.%d.0/24", next))
				if fleet > bigFleet {
					p = netip.MustParsePrefix(fmt.Sprintf("10.%d.0.0/16", next))
				}
				if !overlapsAny(p, taken) {
					ap.Subnet = p.String()
					taken = append(taken, p)
					next++
					break
				}
			}
		}
		subnet, err := netip.ParsePrefix(ap.Subnet)
		if err != nil || !subnet.Addr().Is4() {
			continue // Validate reports it.
		}
		subnet = subnet.Masked()
		size := uint32(1) << (32 - subnet.Bits())
		if ap.Router == "" && size >= 4 {
			ap.Router = addrAdd(subnet.Addr(), 1).String()
		}
		if ap.DHCP.RangeStart == "" && size >= 8 {
			off := uint32(100)
			if size < 256 {
				off = size / 2
			}
			ap.DHCP.RangeStart = addrAdd(subnet.Addr(), off).String()
		}
		if ap.DHCP.RangeEnd == "" && size >= 8 {
			ap.DHCP.RangeEnd = addrAdd(subnet.Addr(), size-2).String()
		}
		if ap.DHCP.Lease == 0 {
			ap.DHCP.Lease = Duration(DefaultLease)
		}
	}
}

func (s *Scenario) defaultHosts() {
	used := map[netip.Addr]bool{}
	for _, ap := range s.WiFi.AccessPoints {
		if a, err := netip.ParseAddr(ap.Router); err == nil {
			used[a] = true
		}
	}
	for _, list := range [][]Host{s.LANPeers, s.InternetHosts} {
		for _, h := range list {
			if a, err := netip.ParseAddr(h.IP); err == nil {
				used[a] = true
			}
		}
	}
	nextFree := func(a netip.Addr, limit netip.Addr) string {
		for ; a.IsValid() && (!limit.IsValid() || a.Less(limit)); a = a.Next() {
			if !used[a] {
				used[a] = true
				return a.String()
			}
		}
		return ""
	}
	for i := range s.LANPeers {
		h := &s.LANPeers[i]
		if h.AP == "" && len(s.WiFi.AccessPoints) > 0 {
			h.AP = s.WiFi.AccessPoints[0].Name
		}
		h.applyDefaults()
		if h.IP != "" {
			continue
		}
		for _, ap := range s.WiFi.AccessPoints {
			if ap.Name != h.AP {
				continue
			}
			subnet, err := netip.ParsePrefix(ap.Subnet)
			if err != nil || !subnet.Addr().Is4() {
				break
			}
			limit := netip.Addr{}
			if a, err := netip.ParseAddr(ap.DHCP.RangeStart); err == nil {
				limit = a
			}
			last := addrAdd(subnet.Masked().Addr(), uint32(1)<<(32-subnet.Bits())-1)
			if !limit.IsValid() || !subnet.Contains(limit) {
				limit = last
			}
			h.IP = nextFree(addrAdd(subnet.Masked().Addr(), 2), limit)
			break
		}
	}
	for i := range s.InternetHosts {
		h := &s.InternetHosts[i]
		h.applyDefaults()
		if h.IP == "" {
			h.IP = nextFree(defaultHostBase, netip.Addr{})
		}
	}
}

func (h *Host) applyDefaults() {
	sv := &h.Services
	for _, site := range []struct {
		s    *Site
		port int
	}{{sv.HTTP, 80}, {sv.HTTPS, 443}} {
		if site.s == nil {
			continue
		}
		if site.s.Port == 0 {
			site.s.Port = site.port
		}
		for j := range site.s.Pages {
			p := &site.s.Pages[j]
			if p.Status == 0 {
				p.Status = 200
			}
			if p.ContentType == "" {
				p.ContentType = contentType(p.Path)
			}
		}
	}
	sv.netlibDefaults()
	if sv.Chat != nil && sv.Chat.Mode == "" {
		sv.Chat.Mode = Listen
	}
	for i := range h.Faults {
		h.Faults[i].applyDefaults()
	}
}

func contentType(p string) string {
	switch strings.ToLower(path.Ext(p)) {
	case ".txt", ".py":
		return "text/plain; charset=utf-8"
	case ".json":
		return "application/json"
	case ".css":
		return "text/css"
	case ".js":
		return "text/javascript"
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".bin":
		return "application/octet-stream"
	}
	return "text/html; charset=utf-8"
}

func addrAdd(a netip.Addr, n uint32) netip.Addr {
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += n
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func overlapsAny(p netip.Prefix, list []netip.Prefix) bool {
	for _, q := range list {
		if p.Overlaps(q) {
			return true
		}
	}
	return false
}

// Instance is one simulated board: a Board entry, or one of its replicas.
type Instance struct {
	// Board is the scenario entry it comes from.
	Board *Board
	// Index is the position of Board in Scenario.Boards.
	Index int
	// Name is the board's name: Board.Name, or Board.Name-N for replica N
	// (1-based) when Board.Replicas > 1.
	Name string
	// Replica is the replica index from 0.
	Replica int
	// MAC is the station MAC: Board.MAC plus the replica index, or an
	// Espressif (5c:cf:7f) address numbered by the instance's position.
	MAC string
}

// Instances expands replicas into the boards the runner creates, in
// order. Call it after ApplyDefaults; an invalid MAC is left as written.
func (s *Scenario) Instances() []Instance {
	var out []Instance
	for i := range s.Boards {
		b := &s.Boards[i]
		n := max(b.Replicas, 1)
		for r := range n {
			in := Instance{Board: b, Index: i, Name: b.Name, Replica: r}
			if n > 1 {
				in.Name = fmt.Sprintf("%s-%d", b.Name, r+1)
			}
			if b.MAC != "" {
				in.MAC = b.MAC
				if mac, ok := parseMAC(b.MAC); ok {
					in.MAC = formatMAC(mac + uint64(r))
				}
			} else {
				in.MAC = formatMAC(0x5ccf7f_a00001 + uint64(len(out)))
			}
			out = append(out, in)
		}
	}
	return out
}

// InstancesOf returns the instance names a reference means: a board name
// (all its replicas) or one replica's name. ok is false for unknown names.
func (s *Scenario) InstancesOf(name string) (names []string, ok bool) {
	for i := range s.Boards {
		b := &s.Boards[i]
		n := max(b.Replicas, 1)
		switch {
		case b.Name == "":
		case n == 1 && name == b.Name:
			names = append(names, name)
		case n > 1 && name == b.Name:
			for r := range n {
				names = append(names, fmt.Sprintf("%s-%d", b.Name, r+1))
			}
		case n > 1 && strings.HasPrefix(name, b.Name+"-"):
			suffix := name[len(b.Name)+1:]
			if r, err := strconv.Atoi(suffix); err == nil && r >= 1 && r <= n && strconv.Itoa(r) == suffix {
				names = append(names, name)
			}
		}
	}
	return names, len(names) > 0
}

func parseMAC(s string) (uint64, bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		parts = strings.Split(s, "-")
	}
	if len(parts) != 6 {
		return 0, false
	}
	var v uint64
	for _, p := range parts {
		if len(p) != 2 {
			return 0, false
		}
		var b byte
		for _, c := range []byte(strings.ToLower(p)) {
			switch {
			case c >= '0' && c <= '9':
				b = b<<4 | (c - '0')
			case c >= 'a' && c <= 'f':
				b = b<<4 | (c - 'a' + 10)
			default:
				return 0, false
			}
		}
		v = v<<8 | uint64(b)
	}
	return v, true
}

func formatMAC(v uint64) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
