package wifi

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/simrand"
)

// Uplink connects a station's network interface to the LAN behind an access
// point. The sim layer implements it over netstack (moving the board's NIC
// onto the access point's medium and setting its link up or down).
type Uplink interface {
	// Join puts the interface on ap's LAN with its link up.
	Join(ap *AccessPoint) error
	// Leave takes the link down.
	Leave()
}

// Addressing configures the station's IPv4 address: its DHCP client, or a
// static configuration. The sim layer implements it over netstack's DHCP
// client.
type Addressing interface {
	// StartDHCP starts the DHCP client (sending hostname as option 12). It
	// calls bound, on any goroutine, each time a lease is bound (first and
	// renewals with changes), and lost when the lease ends without renewal.
	StartDHCP(hostname string, bound func(IPConfig), lost func())
	// StopDHCP stops the client and removes the address it configured.
	StopDHCP()
	// SetStatic puts cfg on the interface (a zero cfg removes it).
	SetStatic(cfg IPConfig)
}

// StationConfig describes a board's station interface.
type StationConfig struct {
	// Name is the board's name ("esp1"); traces and per-station signal
	// overrides use it. Required.
	Name string
	// MAC is the station's MAC address (6 bytes). Required.
	MAC net.HardwareAddr
	// Position places the station for signal strength by distance.
	Position *Position
	// Uplink carries the station's frames to the LAN of the access point it
	// joins; nil means the 802.11 steps happen but no frames flow.
	Uplink Uplink
	// Addressing runs DHCP and static configuration; nil means the station
	// never gets an address unless a static one is set.
	Addressing Addressing
	// Hostname is sent in DHCP requests; empty means "mpy-esp8266", the
	// ESP8266 port's default network.hostname().
	Hostname string
	// Active starts the station interface switched on.
	Active bool
}

// DefaultHostname is MicroPython's MICROPY_PY_NETWORK_HOSTNAME_DEFAULT on
// the ESP8266 port.
const DefaultHostname = "mpy-esp8266"

// JoinConfig is the network a station joins: what connect(ssid, key,
// bssid=) stores in the SDK's station config.
type JoinConfig struct {
	// SSID is the network name (up to 32 bytes).
	SSID string
	// Key is the passphrase; empty for an open network.
	Key string
	// BSSID, when set, restricts the join to that access point.
	BSSID net.HardwareAddr
}

// ErrInactive is returned by operations that need the station interface on.
var ErrInactive = errors.New("station interface is not active")

// phase is where a join attempt is.
type phase int

const (
	phIdle phase = iota
	phScan
	phAuth
	phAssoc
	phHandshake
	phDHCP
	phUp
)

// Station is a board's station (STA_IF) interface.
type Station struct {
	air   *Air
	name  string
	mac   net.HardwareAddr
	up    Uplink
	addr  Addressing
	nonce *rand.Rand

	// All below guarded by air.mu.
	pos        *Position
	active     bool
	saved      JoinConfig
	hasSaved   bool
	reconnect  bool // the SDK keeps (re)connecting until Disconnect
	status     Status
	gen        uint64 // bumped to cancel the attempt in flight
	phase      phase
	ap         *AccessPoint // target of the attempt, or the AP associated with
	associated bool
	linkUp     bool
	pathLost   bool // the radio path to ap is gone; beacon timer running
	dhcpOn     bool // DHCP client running
	useDHCP    bool
	static     IPConfig
	ip         IPConfig
	hostname   string
	channel    int
	hs         *handshake
	pmkCache   map[string][]byte
	leases     uint64       // DHCP leases bound so far
	ownAP      *AccessPoint // the board's own soft-AP: its radio cannot hear it
	onChannel  func(ch int) // told the channel of each new association
}

// handshake is one 4-way handshake in flight, both sides' state.
type handshake struct {
	p      handshakeParams
	anonce [32]byte
	snonce [32]byte
	replay uint64
	sent1  int // message 1 transmissions
	done   bool
	apKCK  []byte
	staKCK []byte
}

// NewStation adds a station to the world.
func (a *Air) NewStation(cfg StationConfig) (*Station, error) {
	if cfg.Name == "" {
		return nil, errors.New("wifi: station name is required")
	}
	if len(cfg.MAC) != 6 {
		return nil, fmt.Errorf("wifi: station %q: mac must be 6 bytes, got %d", cfg.Name, len(cfg.MAC))
	}
	if cfg.Hostname == "" {
		cfg.Hostname = DefaultHostname
	}
	s := &Station{
		air:      a,
		name:     cfg.Name,
		mac:      append(net.HardwareAddr(nil), cfg.MAC...),
		up:       cfg.Uplink,
		addr:     cfg.Addressing,
		nonce:    simrand.New(a.seed, "wifi/sta/"+cfg.Name),
		active:   cfg.Active,
		useDHCP:  true,
		hostname: cfg.Hostname,
		channel:  1,
		pmkCache: make(map[string][]byte),
	}
	if cfg.Position != nil {
		p := *cfg.Position
		s.pos = &p
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, o := range a.stations {
		if o.name == cfg.Name {
			return nil, fmt.Errorf("wifi: station %q already exists", cfg.Name)
		}
	}
	a.stations = append(a.stations, s)
	return s, nil
}

// Name is the station's board name.
func (s *Station) Name() string { return s.name }

// SetSoftAP tells the station which access point is its own board's
// soft-AP (one radio: the station neither hears nor joins it) and f, when
// not nil, is called with the channel of every new association (the
// soft-AP follows the station's channel on an ESP8266).
func (s *Station) SetSoftAP(ap *AccessPoint, f func(ch int)) {
	s.air.mu.Lock()
	defer s.air.mu.Unlock()
	s.ownAP, s.onChannel = ap, f
}

// MAC is the station's MAC address.
func (s *Station) MAC() net.HardwareAddr { return append(net.HardwareAddr(nil), s.mac...) }

// Active reports whether the station interface is on.
func (s *Station) Active() bool {
	s.air.mu.Lock()
	defer s.air.mu.Unlock()
	return s.active
}

// SetActive switches the station interface on or off (WLAN.active(bool)).
// Switching on with a remembered network starts joining it, as the SDK's
// auto-connect does; switching off leaves the network.
func (s *Station) SetActive(on bool) {
	s.air.do(func(fx *effects) {
		if s.active == on {
			return
		}
		s.active = on
		if !on {
			fx.tracef(s.name, "%s station interface off", s.name)
			s.teardownLocked(fx, true)
			s.status = StatIdle
			return
		}
		fx.tracef(s.name, "%s station interface on", s.name)
		s.status = StatIdle
		if s.hasSaved {
			s.reconnect = true
			s.startLocked(fx)
		}
	})
}

// Connect joins a network (WLAN.connect()). A nil cfg reuses the remembered
// network. The new configuration is remembered (the SDK writes it to flash),
// so the station joins it again after a reset. Connect returns at once; the
// join proceeds in simulator time.
func (s *Station) Connect(cfg *JoinConfig) error {
	var err error
	s.air.do(func(fx *effects) {
		if cfg != nil {
			c := *cfg
			c.BSSID = append(net.HardwareAddr(nil), c.BSSID...)
			if len(c.BSSID) == 0 {
				c.BSSID = nil
			}
			s.saved, s.hasSaved = c, true
		}
		if !s.active {
			err = ErrInactive
			return
		}
		s.teardownLocked(fx, true)
		s.reconnect = true
		s.status = StatConnecting
		s.startLocked(fx)
	})
	return err
}

// Disconnect leaves the network and stops reconnecting (WLAN.disconnect()).
func (s *Station) Disconnect() {
	s.air.do(func(fx *effects) {
		s.teardownLocked(fx, true)
		s.reconnect = false
		s.status = StatIdle
	})
}

// PowerOff models the radio losing power (deep sleep): the association is
// dropped without a word to the access point and nothing rejoins until
// Reset (the wake boot).
func (s *Station) PowerOff() {
	s.air.do(func(fx *effects) {
		if s.active {
			fx.tracef(s.name, "%s radio off (deep sleep)", s.name)
		}
		s.teardownLocked(fx, false)
		s.status = StatIdle
		s.reconnect = false
	})
}

// Reset models a hard reset of the board (machine.reset(), power cycle): the
// association is dropped without a word to the access point, and if the
// station interface was on (the SDK keeps its mode in flash) and a network
// is remembered, the station joins it again.
func (s *Station) Reset() {
	s.air.do(func(fx *effects) {
		s.teardownLocked(fx, false)
		s.status = StatIdle
		s.reconnect = false
		if s.active && s.hasSaved {
			fx.tracef(s.name, "%s auto-connect to %q after reset", s.name, s.saved.SSID)
			s.reconnect = true
			s.startLocked(fx)
		}
	})
}

// Status returns the SDK's station status (WLAN.status()).
func (s *Station) Status() Status {
	s.air.mu.Lock()
	defer s.air.mu.Unlock()
	if !s.active {
		return StatInactive
	}
	return s.status
}

// IsConnected reports whether the station has an address (status GOT_IP).
func (s *Station) IsConnected() bool {
	s.air.mu.Lock()
	defer s.air.mu.Unlock()
	return s.active && s.status == StatGotIP
}

// RSSI returns the signal of the access point the station is associated
// with, or 31 (the SDK's "invalid") when there is none.
func (s *Station) RSSI() int {
	s.air.mu.Lock()
	defer s.air.mu.Unlock()
	if !s.associated || s.pathLost || s.ap == nil {
		return 31
	}
	return s.air.jitterLocked(s.ap.rssiAtLocked(s))
}

// Saved returns the remembered network and whether there is one
// (config('ssid') on the station interface).
func (s *Station) Saved() (JoinConfig, bool) {
	s.air.mu.Lock()
	defer s.air.mu.Unlock()
	c := s.saved
	c.BSSID = append(net.HardwareAddr(nil), c.BSSID...)
	return c, s.hasSaved
}

// Channel returns the radio's current channel (config('channel')).
func (s *Station) Channel() int {
	s.air.mu.Lock()
	defer s.air.mu.Unlock()
	return s.channel
}

// SetChannel tunes the radio while not associated (config(channel=...)).
func (s *Station) SetChannel(ch int) error {
	if ch < 1 || ch > 14 {
		return fmt.Errorf("channel %d is outside 1..14", ch)
	}
	s.air.mu.Lock()
	defer s.air.mu.Unlock()
	if !s.associated {
		s.channel = ch
	}
	return nil
}

// AccessPoint returns the access point the station is associated with.
func (s *Station) AccessPoint() (*AccessPoint, bool) {
	s.air.mu.Lock()
	defer s.air.mu.Unlock()
	if !s.associated {
		return nil, false
	}
	return s.ap, true
}

// Hostname returns the name sent in DHCP requests.
func (s *Station) Hostname() string {
	s.air.mu.Lock()
	defer s.air.mu.Unlock()
	return s.hostname
}

// SetHostname sets the name the next DHCP exchange sends (the port copies
// network.hostname() into the SDK at connect()).
func (s *Station) SetHostname(h string) {
	s.air.mu.Lock()
	defer s.air.mu.Unlock()
	s.hostname = h
}

// SetPosition moves the station (signal by distance).
func (s *Station) SetPosition(p Position) {
	s.air.do(func(fx *effects) {
		s.pos = &p
		s.air.signalChangedLocked(fx)
	})
}

// IPConfig returns the interface's configuration: the static one if set,
// else the DHCP lease, else zero (0.0.0.0).
func (s *Station) IPConfig() IPConfig {
	s.air.mu.Lock()
	defer s.air.mu.Unlock()
	if !s.useDHCP {
		return s.static
	}
	return s.ip
}

// Leases counts the DHCP leases the station has bound (each one sets
// lwIP's DNS server, as dns_setserver in the lease handler does).
func (s *Station) Leases() uint64 {
	s.air.mu.Lock()
	defer s.air.mu.Unlock()
	return s.leases
}

// DHCPEnabled reports whether the station uses DHCP (ipconfig('dhcp4')).
func (s *Station) DHCPEnabled() bool {
	s.air.mu.Lock()
	defer s.air.mu.Unlock()
	return s.useDHCP
}

// SetStatic gives the interface a fixed configuration and stops DHCP, as
// ifconfig((ip, mask, gw, dns)) does on the board. A connected station keeps
// its association; one that is waiting for DHCP becomes connected.
func (s *Station) SetStatic(cfg IPConfig) {
	s.air.do(func(fx *effects) {
		s.useDHCP = false
		s.static = cfg
		s.ip = IPConfig{}
		if s.dhcpOn {
			s.dhcpOn = false
			if s.addr != nil {
				fx.add(s.addr.StopDHCP)
			}
		}
		if s.addr != nil {
			fx.add(func() { s.addr.SetStatic(cfg) })
		}
		if s.associated && !s.pathLost && (s.phase == phDHCP || s.phase == phUp) {
			s.phase = phUp
			s.status = StatGotIP
		}
	})
}

// UseDHCP switches back to DHCP (ifconfig('dhcp') / ipconfig(dhcp4=True)).
// A connected station starts its DHCP client at once.
func (s *Station) UseDHCP() {
	s.air.do(func(fx *effects) {
		if s.useDHCP {
			return
		}
		s.useDHCP = true
		s.static = IPConfig{}
		if s.addr != nil {
			fx.add(func() { s.addr.SetStatic(IPConfig{}) })
		}
		if s.associated && !s.pathLost {
			s.phase = phDHCP
			s.status = StatConnecting
			s.startDHCPLocked(fx, s.gen)
		}
	})
}

// StartScan scans every channel (WLAN.scan()) and calls done with the access
// points heard, after Timing.ScanDwell per channel of simulator time. The
// order is the order a sweep finds them: by channel, then strongest first,
// then by BSSID (the SDK gives them in the order its channel sweep collects
// them). Hidden networks have an empty SSID.
func (s *Station) StartScan(done func([]BSS)) error {
	var err error
	s.air.do(func(fx *effects) {
		if !s.active {
			err = ErrInactive
			return
		}
		fx.tracef(s.name, "%s → * probe request (broadcast, channels 1-%d)", s.name, s.air.channels)
		fx.capProbeRequest(s, "")
		s.air.after(s.air.scanTime(), func(fx *effects) {
			res := s.scanLocked(fx, "")
			fx.add(func() { done(res) })
		})
	})
	return err
}

func (a *Air) scanTime() time.Duration { return a.timing.ScanDwell * time.Duration(a.channels) }

// scanLocked lists the reachable access points, traces their probe
// responses, and filters by ssid if non-empty (a directed probe finds
// hidden networks too).
func (s *Station) scanLocked(fx *effects, ssid string) []BSS {
	type found struct {
		ap   *AccessPoint
		rssi int
	}
	var fs []found
	for _, ap := range s.air.aps {
		if ap == s.ownAP || !ap.reachableLocked(s) {
			continue
		}
		if ssid != "" && ap.cfg.SSID != ssid {
			continue
		}
		fs = append(fs, found{ap, s.air.jitterLocked(ap.rssiAtLocked(s))})
	}
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.ap.cfg.Channel != b.ap.cfg.Channel {
			return a.ap.cfg.Channel < b.ap.cfg.Channel
		}
		if a.rssi != b.rssi {
			return a.rssi > b.rssi
		}
		return bytes.Compare(a.ap.cfg.BSSID, b.ap.cfg.BSSID) < 0
	})
	out := make([]BSS, 0, len(fs))
	for _, f := range fs {
		c := f.ap.cfg
		b := BSS{
			BSSID:    append(net.HardwareAddr(nil), c.BSSID...),
			Channel:  c.Channel,
			RSSI:     f.rssi,
			Security: c.Security,
			Hidden:   c.Hidden,
		}
		if !c.Hidden || ssid != "" {
			b.SSID = []byte(c.SSID)
		} else {
			b.SSID = []byte{}
		}
		fx.tracef(f.ap.name, "%s → %s probe response ssid=%q ch %d %d dBm %s", f.ap.name, s.name, string(b.SSID), c.Channel, f.rssi, c.Security)
		fx.capProbeResponse(f.ap, s, f.rssi, b.SSID)
		out = append(out, b)
	}
	return out
}

// startLocked begins a join attempt of the remembered network.
func (s *Station) startLocked(fx *effects) {
	s.gen++
	g := s.gen
	if s.status != StatWrongPassword && s.status != StatNoAPFound && s.status != StatConnectFail {
		s.status = StatConnecting
	}
	s.phase = phScan
	fx.tracef(s.name, "%s → * probe request ssid=%q (scanning channels 1-%d)", s.name, s.saved.SSID, s.air.channels)
	fx.capProbeRequest(s, s.saved.SSID)
	s.air.after(s.air.scanTime(), func(fx *effects) { s.scanDoneLocked(fx, g) })
}

func (s *Station) current(g uint64) bool { return s.gen == g && s.active }

func (s *Station) scanDoneLocked(fx *effects, g uint64) {
	if !s.current(g) {
		return
	}
	var best *AccessPoint
	bestRSSI := 0
	if s.saved.SSID != "" {
		for _, ap := range s.air.aps {
			if ap == s.ownAP || !ap.reachableLocked(s) || ap.cfg.SSID != s.saved.SSID {
				continue
			}
			if s.saved.BSSID != nil && !bytes.Equal(ap.cfg.BSSID, s.saved.BSSID) {
				continue
			}
			r := ap.rssiAtLocked(s)
			if best == nil || r > bestRSSI || r == bestRSSI && bytes.Compare(ap.cfg.BSSID, best.cfg.BSSID) < 0 {
				best, bestRSSI = ap, r
			}
		}
	}
	if best == nil {
		fx.tracef(s.name, "%s no access point with ssid %q found", s.name, s.saved.SSID)
		s.failLocked(fx, StatNoAPFound)
		return
	}
	fx.tracef(best.name, "%s → %s probe response ssid=%q ch %d %d dBm %s", best.name, s.name, best.cfg.SSID, best.cfg.Channel, bestRSSI, best.cfg.Security)
	fx.capProbeResponse(best, s, bestRSSI, []byte(best.cfg.SSID))
	s.ap = best
	s.channel = best.cfg.Channel
	s.phase = phAuth
	fx.tracef(s.name, "%s → %s auth request (open system)", s.name, best.name)
	fx.capAuth(s, best, 1)
	s.air.after(s.air.timing.Auth, func(fx *effects) { s.authDoneLocked(fx, g) })
}

// stepOK checks that the access point of the attempt still hears us; if not
// the attempt fails as the SDK's auth/assoc timeouts make it fail.
func (s *Station) stepOKLocked(fx *effects, what string) bool {
	if s.ap.reachableLocked(s) {
		return true
	}
	fx.tracef(s.name, "%s %s timed out: %s does not answer", s.name, what, s.ap.name)
	s.failLocked(fx, StatConnectFail)
	return false
}

func (s *Station) authDoneLocked(fx *effects, g uint64) {
	if !s.current(g) || !s.stepOKLocked(fx, "authentication") {
		return
	}
	ap := s.ap
	fx.tracef(ap.name, "%s → %s auth response ok", ap.name, s.name)
	fx.capAuth(s, ap, 2)
	s.phase = phAssoc
	fx.tracef(s.name, "%s → %s assoc request ssid=%q", s.name, ap.name, ap.cfg.SSID)
	fx.capAssocRequest(s, ap)
	s.air.after(s.air.timing.Assoc, func(fx *effects) { s.assocDoneLocked(fx, g) })
}

func (s *Station) assocDoneLocked(fx *effects, g uint64) {
	if !s.current(g) || !s.stepOKLocked(fx, "association") {
		return
	}
	ap := s.ap
	if _, already := ap.assoc[s]; !already && ap.cfg.MaxStations > 0 && len(ap.assoc) >= ap.cfg.MaxStations {
		fx.tracef(ap.name, "%s → %s assoc response status=17 (AP unable to handle additional associated stations)", ap.name, s.name)
		fx.capAssocResponse(ap, s, 17, 0)
		s.failLocked(fx, StatConnectFail)
		return
	}
	ap.nextAID++
	ap.assoc[s] = ap.nextAID
	fx.tracef(ap.name, "%s → %s assoc response ok aid=%d", ap.name, s.name, ap.nextAID)
	fx.capAssocResponse(ap, s, 0, ap.nextAID)
	if !ap.cfg.Security.usesPSK() {
		s.establishedLocked(fx, g)
		return
	}
	s.phase = phHandshake
	hs := &handshake{p: paramsFor(ap.cfg.Security)}
	fillNonce(ap.rand, hs.anonce[:])
	fillNonce(s.nonce, hs.snonce[:])
	s.hs = hs
	s.sendMsg1Locked(fx, g)
}

func fillNonce(r *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}

// sendMsg1Locked transmits (or retransmits) message 1 and arms the access
// point's retransmission timer.
func (s *Station) sendMsg1Locked(fx *effects, g uint64) {
	hs, ap := s.hs, s.ap
	hs.replay++
	hs.sent1++
	frame, err := handshakeMessage(hs.p, 1, hs.replay, hs.anonce[:], nil)
	if err != nil {
		s.failLocked(fx, StatConnectFail)
		return
	}
	retry := ""
	if hs.sent1 > 1 {
		retry = fmt.Sprintf(" (retransmission %d)", hs.sent1-1)
	}
	fx.tracef(ap.name, "%s → %s EAPOL 1/4%s", ap.name, s.name, retry)
	fx.capEAPOL(ap, s, true, frame)
	sent := hs.sent1
	s.air.after(s.air.timing.EAPOLStep, func(fx *effects) { s.staGotMsg1Locked(fx, g, frame) })
	timeout := s.air.timing.EAPOLTimeout
	if sent == 1 {
		timeout = s.air.timing.EAPOLFirstTimeout
	}
	s.air.after(timeout, func(fx *effects) { s.apTimeoutLocked(fx, g, sent) })
}

// staPMKLocked is the station's PMK for its passphrase and the network.
func (s *Station) staPMKLocked(ssid string) []byte {
	k := s.saved.Key + "\x00" + ssid
	if pmk, ok := s.pmkCache[k]; ok {
		return pmk
	}
	pmk, err := memoPMK(s.saved.Key, []byte(ssid))
	if err != nil {
		pmk = make([]byte, 32)
	}
	s.pmkCache[k] = pmk
	return pmk
}

func (s *Station) staGotMsg1Locked(fx *effects, g uint64, frame []byte) {
	if !s.current(g) || s.hs == nil || !s.ap.reachableLocked(s) {
		return
	}
	hs, ap := s.hs, s.ap
	m1, err := ParseEAPOLKey(frame)
	if err != nil || m1.KeyInfo&keyInfoAck == 0 {
		return
	}
	ptk := PTK(s.staPMKLocked(ap.cfg.SSID), ap.cfg.BSSID, s.mac, m1.Nonce[:], hs.snonce[:], hs.p.ptkLen)
	hs.staKCK = ptk[:16]
	m2, err := handshakeMessage(hs.p, 2, m1.ReplayCounter, hs.snonce[:], hs.staKCK)
	if err != nil {
		return
	}
	fx.tracef(s.name, "%s → %s EAPOL 2/4", s.name, ap.name)
	fx.capEAPOL(ap, s, false, m2)
	s.air.after(s.air.timing.EAPOLStep, func(fx *effects) { s.apGotMsg2Locked(fx, g, m2) })
}

func (s *Station) apGotMsg2Locked(fx *effects, g uint64, frame []byte) {
	if !s.current(g) || s.hs == nil || s.hs.done || !s.ap.reachableLocked(s) {
		return
	}
	hs, ap := s.hs, s.ap
	m2, err := ParseEAPOLKey(frame)
	if err != nil || m2.ReplayCounter != hs.replay {
		return
	}
	ptk := PTK(ap.pmkLocked(), ap.cfg.BSSID, s.mac, hs.anonce[:], m2.Nonce[:], hs.p.ptkLen)
	if !VerifyMIC(ptk[:16], frame) {
		fx.tracef(ap.name, "%s EAPOL 2/4 from %s: MIC check failed (wrong passphrase), frame dropped", ap.name, s.name)
		return
	}
	hs.done = true
	hs.apKCK = ptk[:16]
	hs.replay++
	m3, err := handshakeMessage(hs.p, 3, hs.replay, hs.anonce[:], hs.apKCK)
	if err != nil {
		return
	}
	fx.tracef(ap.name, "%s → %s EAPOL 3/4", ap.name, s.name)
	fx.capEAPOL(ap, s, true, m3)
	s.air.after(s.air.timing.EAPOLStep, func(fx *effects) { s.staGotMsg3Locked(fx, g, m3) })
}

func (s *Station) staGotMsg3Locked(fx *effects, g uint64, frame []byte) {
	if !s.current(g) || s.hs == nil || !s.ap.reachableLocked(s) {
		return
	}
	hs, ap := s.hs, s.ap
	if !VerifyMIC(hs.staKCK, frame) {
		fx.tracef(s.name, "%s EAPOL 3/4 from %s: MIC check failed, frame dropped", s.name, ap.name)
		return
	}
	m3, _ := ParseEAPOLKey(frame)
	m4, err := handshakeMessage(hs.p, 4, m3.ReplayCounter, nil, hs.staKCK)
	if err != nil {
		return
	}
	fx.tracef(s.name, "%s → %s EAPOL 4/4", s.name, ap.name)
	fx.capEAPOL(ap, s, false, m4)
	s.air.after(s.air.timing.EAPOLStep, func(fx *effects) { s.apGotMsg4Locked(fx, g, m4) })
}

func (s *Station) apGotMsg4Locked(fx *effects, g uint64, frame []byte) {
	if !s.current(g) || s.hs == nil || !s.ap.reachableLocked(s) {
		return
	}
	if !VerifyMIC(s.hs.apKCK, frame) {
		fx.tracef(s.ap.name, "%s EAPOL 4/4 from %s: MIC check failed, frame dropped", s.ap.name, s.name)
		return
	}
	fx.tracef(s.ap.name, "%s keys installed for %s (%s)", s.ap.name, s.name, s.ap.cfg.Security)
	s.establishedLocked(fx, g)
}

// apTimeoutLocked fires when the access point has waited for a valid
// message 2 after its sent-th message 1.
func (s *Station) apTimeoutLocked(fx *effects, g uint64, sent int) {
	if !s.current(g) || s.hs == nil || s.hs.done || s.hs.sent1 != sent {
		return
	}
	ap := s.ap
	if sent <= s.air.timing.EAPOLRetries && ap.up {
		s.sendMsg1Locked(fx, g)
		return
	}
	delete(ap.assoc, s)
	fx.tracef(ap.name, "%s → %s deauth reason=15 (4-way handshake timeout)", ap.name, s.name)
	fx.capDeauth(ap, s, true, 15)
	s.failLocked(fx, StatWrongPassword)
}

// establishedLocked completes the 802.11 join: the link goes up and DHCP
// (or the static configuration) follows.
func (s *Station) establishedLocked(fx *effects, g uint64) {
	ap := s.ap
	s.hs = nil
	s.associated = true
	s.pathLost = false
	fx.tracef(s.name, "%s connected with %s, channel %d", s.name, ap.cfg.SSID, ap.cfg.Channel)
	if f := s.onChannel; f != nil {
		ch := ap.cfg.Channel
		fx.add(func() { f(ch) })
	}
	if ap.cfg.Security == WEP && s.saved.Key != ap.cfg.Passphrase {
		// Open-system authentication lets any key associate; with the wrong
		// WEP key nothing decrypts, so no frame gets through and DHCP never
		// answers: the station stays CONNECTING, as on a real board.
		fx.tracef(s.name, "%s WEP key does not match %s: frames will not decrypt", s.name, ap.name)
	} else {
		s.linkUp = true
		if s.up != nil {
			up := s.up
			fx.add(func() {
				if err := up.Join(ap); err != nil {
					s.air.do(func(fx *effects) {
						if s.current(g) {
							fx.tracef(s.name, "%s cannot reach the LAN of %s: %v", s.name, ap.name, err)
							s.failLocked(fx, StatConnectFail)
						}
					})
				}
			})
		}
	}
	if !s.useDHCP {
		s.phase = phUp
		s.status = StatGotIP
		fx.tracef(s.name, "%s ip:%s,mask:%s,gw:%s (static)", s.name, addrOrZero(s.static.IP), addrOrZero(s.static.Mask), addrOrZero(s.static.Gateway))
		return
	}
	s.phase = phDHCP
	s.air.after(s.air.timing.DHCPStart, func(fx *effects) {
		if s.current(g) && s.associated && s.phase == phDHCP && !s.dhcpOn {
			s.startDHCPLocked(fx, g)
		}
	})
}

func (s *Station) startDHCPLocked(fx *effects, g uint64) {
	if s.addr == nil {
		return
	}
	s.dhcpOn = true
	addr, host := s.addr, s.hostname
	fx.tracef(s.name, "%s dhcp client start (hostname %q)", s.name, host)
	bound := func(cfg IPConfig) {
		s.air.do(func(fx *effects) {
			if !s.current(g) || !s.associated || !s.dhcpOn {
				return
			}
			first := s.ip != cfg
			s.ip = cfg
			s.leases++
			s.phase = phUp
			s.status = StatGotIP
			if first {
				fx.tracef(s.name, "%s ip:%s,mask:%s,gw:%s", s.name, addrOrZero(cfg.IP), addrOrZero(cfg.Mask), addrOrZero(cfg.Gateway))
			}
		})
	}
	lost := func() {
		s.air.do(func(fx *effects) {
			if !s.current(g) || !s.dhcpOn {
				return
			}
			s.ip = IPConfig{}
			if s.associated {
				s.phase = phDHCP
				s.status = StatConnecting
			}
			fx.tracef(s.name, "%s dhcp lease lost", s.name)
		})
	}
	fx.add(func() { addr.StartDHCP(host, bound, lost) })
}

// teardownLocked ends the association and the attempt in flight; deauth
// says whether the station tells the access point (a reset does not).
func (s *Station) teardownLocked(fx *effects, deauth bool) {
	s.gen++
	ap := s.ap
	if ap != nil {
		if _, ok := ap.assoc[s]; ok {
			delete(ap.assoc, s)
			if deauth && ap.reachableLocked(s) {
				fx.tracef(s.name, "%s → %s deauth reason=8 (%s)", s.name, ap.name, reasonText(8))
				fx.capDeauth(ap, s, false, 8)
			}
		}
	}
	s.downLocked(fx)
	s.ap = nil
	s.phase = phIdle
}

// downLocked takes the link and DHCP down and forgets the lease.
func (s *Station) downLocked(fx *effects) {
	s.associated = false
	s.pathLost = false
	s.hs = nil
	if s.linkUp {
		s.linkUp = false
		if s.up != nil {
			fx.add(s.up.Leave)
		}
	}
	if s.dhcpOn {
		s.dhcpOn = false
		if s.addr != nil {
			fx.add(s.addr.StopDHCP)
		}
	}
	s.ip = IPConfig{}
}

// failLocked ends a failed attempt with status st and, while the SDK's
// reconnect policy holds, schedules the next one. The failure status stays
// visible during the retries until one succeeds.
func (s *Station) failLocked(fx *effects, st Status) {
	if s.ap != nil {
		delete(s.ap.assoc, s)
	}
	s.gen++
	s.downLocked(fx)
	s.ap = nil
	s.phase = phIdle
	s.status = st
	if s.reconnect && s.active {
		s.scheduleRetryLocked(fx)
	}
}

func (s *Station) scheduleRetryLocked(fx *effects) {
	g := s.gen
	s.air.after(s.air.timing.RetryDelay, func(fx *effects) {
		if s.current(g) && s.reconnect && s.phase == phIdle {
			fx.tracef(s.name, "%s reconnect", s.name)
			s.startLocked(fx)
		}
	})
}

// lossLocked drops an established association (deauthenticated, beacon
// timeout): not connected, status CONNECTING, and a new attempt.
func (s *Station) lossLocked(fx *effects, why string) {
	if !s.associated && s.phase != phHandshake {
		return
	}
	if s.ap != nil {
		delete(s.ap.assoc, s)
	}
	fx.tracef(s.name, "%s disconnected: %s", s.name, why)
	s.gen++
	s.downLocked(fx)
	s.ap = nil
	s.phase = phIdle
	s.status = StatConnecting
	if s.reconnect && s.active {
		s.scheduleRetryLocked(fx)
	} else {
		s.status = StatIdle
	}
}

// pathLostLocked cuts the radio path to ap (switched off, out of range):
// frames stop at once; the station notices after the beacon timeout.
func (s *Station) pathLostLocked(fx *effects, ap *AccessPoint) {
	if s.ap != ap {
		return
	}
	if !s.associated {
		// Mid-join: the next step times out on its own.
		return
	}
	if s.pathLost {
		return
	}
	s.pathLost = true
	if s.linkUp {
		s.linkUp = false
		if s.up != nil {
			fx.add(s.up.Leave)
		}
	}
	g := s.gen
	s.air.after(s.air.timing.BeaconTimeout, func(fx *effects) {
		if !s.current(g) || !s.pathLost {
			return
		}
		fx.tracef(s.name, "%s bcn_timeout: no beacon from %s for %v", s.name, ap.name, s.air.timing.BeaconTimeout)
		s.lossLocked(fx, "beacon timeout (reason 200)")
	})
}

// pathBackLocked restores the radio path before the beacon timeout.
func (s *Station) pathBackLocked(fx *effects) {
	if !s.pathLost {
		return
	}
	s.pathLost = false
	ap, g := s.ap, s.gen
	wepBad := ap.cfg.Security == WEP && s.saved.Key != ap.cfg.Passphrase
	if !wepBad {
		s.linkUp = true
		if s.up != nil {
			up := s.up
			fx.add(func() {
				if err := up.Join(ap); err != nil {
					s.air.do(func(fx *effects) {
						if s.current(g) {
							s.lossLocked(fx, err.Error())
						}
					})
				}
			})
		}
	}
	fx.tracef(s.name, "%s hears %s again", s.name, ap.name)
}

// signalChangedLocked re-evaluates every association after a signal change.
func (a *Air) signalChangedLocked(fx *effects) {
	for _, s := range a.stations {
		if !s.associated || s.ap == nil {
			continue
		}
		_, inTable := s.ap.assoc[s]
		switch {
		case !s.ap.reachableLocked(s):
			s.pathLostLocked(fx, s.ap)
		case s.pathLost && inTable:
			s.pathBackLocked(fx)
		}
	}
}

// String describes the station for diagnostics.
func (s *Station) String() string {
	s.air.mu.Lock()
	defer s.air.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s status=%d", s.name, s.mac, s.status)
	if s.associated {
		fmt.Fprintf(&b, " associated=%s", s.ap.name)
	}
	return b.String()
}
