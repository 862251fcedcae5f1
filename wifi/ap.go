package wifi

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/esp8266sim/esp8266sim/internal/simrand"
)

// APConfig describes an access point.
type APConfig struct {
	// Name identifies the access point in traces, faults and scenarios;
	// empty means the SSID.
	Name string
	// SSID is the network name, 1 to 32 bytes.
	SSID string
	// Security is the authentication mode.
	Security Security
	// Passphrase is the WPA/WPA2 passphrase (8 to 63 printable ASCII
	// characters, or 64 hex digits: the PSK itself) or the WEP key (5 or 13
	// characters, or 10 or 26 hex digits). Empty for an open network.
	Passphrase string
	// Channel is 1..14; zero means 1.
	Channel int
	// BSSID is the access point's MAC address; empty derives a locally
	// administered one from the world seed and the name.
	BSSID net.HardwareAddr
	// Hidden stops the SSID from being broadcast: scans show an empty SSID.
	Hidden bool
	// RSSI is the signal strength in dBm every station sees, unless
	// StationRSSI or Position says otherwise; zero means DefaultRSSI.
	RSSI int
	// StationRSSI overrides RSSI for stations by name.
	StationRSSI map[string]int
	// Position, when set together with a station's position, computes the
	// signal by distance: TxPower - 10·PathLossExponent·log10(d / 1 m).
	Position *Position
	// TxPower is the signal in dBm at 1 m; zero means -40.
	TxPower int
	// PathLossExponent is 2 in free space, 3 indoors; zero means 3.
	PathLossExponent float64
	// MaxStations is a soft limit on associated stations (association is
	// refused with status 17 beyond it); zero means no limit.
	MaxStations int
	// Down starts the access point switched off.
	Down bool
}

// ConfigError is an invalid access point configuration; Field names the
// APConfig field (as scenario files spell it, lower case).
type ConfigError struct {
	AP    string
	Field string
	Msg   string
}

func (e *ConfigError) Error() string {
	if e.AP == "" {
		return fmt.Sprintf("access point: %s: %s", e.Field, e.Msg)
	}
	return fmt.Sprintf("access point %q: %s: %s", e.AP, e.Field, e.Msg)
}

// Validate checks the configuration on its own (AddAP also checks that
// names and BSSIDs are unique in the world).
func (c APConfig) Validate() error {
	name := c.Name
	if name == "" {
		name = c.SSID
	}
	bad := func(field, format string, args ...any) error {
		return &ConfigError{AP: name, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if len(c.SSID) < 1 || len(c.SSID) > 32 {
		return bad("ssid", "must be 1 to 32 bytes long, got %d", len(c.SSID))
	}
	if !c.Security.Valid() {
		return bad("security", "%d is not a security mode: use open, wep, wpa, wpa2 or wpa/wpa2", int(c.Security))
	}
	p := c.Passphrase
	switch {
	case c.Security == Open:
		if p != "" {
			return bad("passphrase", "an open network takes no passphrase; set security to wpa2 or remove the passphrase")
		}
	case c.Security == WEP:
		if !(len(p) == 5 || len(p) == 13 || (len(p) == 10 || len(p) == 26) && isHex(p)) {
			return bad("passphrase", "a WEP key is 5 or 13 characters (or 10 or 26 hex digits), got %d characters", len(p))
		}
	default:
		if len(p) == 64 && isHex(p) {
			break
		}
		if len(p) < 8 || len(p) > 63 {
			return bad("passphrase", "a %s passphrase must be 8 to 63 characters (or 64 hex digits), got %d", c.Security, utf8.RuneCountInString(p))
		}
		for _, r := range p {
			if r < 32 || r > 126 {
				return bad("passphrase", "a %s passphrase must be printable ASCII, found %q", c.Security, r)
			}
		}
	}
	if c.Channel < 0 || c.Channel > 14 {
		return bad("channel", "%d is outside 1..14", c.Channel)
	}
	if len(c.BSSID) != 0 {
		if len(c.BSSID) != 6 {
			return bad("bssid", "must be 6 bytes, got %d", len(c.BSSID))
		}
		if c.BSSID[0]&1 != 0 {
			return bad("bssid", "%s is a multicast address; the first byte must be even", c.BSSID)
		}
		if bytes.Equal(c.BSSID, make([]byte, 6)) {
			return bad("bssid", "00:00:00:00:00:00 is not a valid BSSID")
		}
	}
	if c.RSSI > 0 || c.RSSI < -120 {
		return bad("rssi", "%d dBm is outside -120..0", c.RSSI)
	}
	for st, v := range c.StationRSSI {
		if v > 0 || v < -120 {
			return bad("rssi", "%d dBm for station %q is outside -120..0", v, st)
		}
	}
	if c.TxPower > 30 || c.TxPower < -100 {
		return bad("tx_power", "%d dBm is outside -100..30", c.TxPower)
	}
	if c.PathLossExponent < 0 || c.PathLossExponent > 10 || math.IsNaN(c.PathLossExponent) {
		return bad("path_loss_exponent", "%v is outside 0..10", c.PathLossExponent)
	}
	if c.MaxStations < 0 {
		return bad("max_stations", "%d is negative", c.MaxStations)
	}
	return nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(s[i])) {
			return false
		}
	}
	return true
}

// DHCPControl is the fault handle of the DHCP server on an access point's
// LAN (netstack's DHCP server satisfies it).
type DHCPControl interface {
	// SetSilent makes the server ignore every request.
	SetSilent(bool)
	// SetNAK makes the server answer every REQUEST with a NAK.
	SetNAK(bool)
}

// ErrNoDHCP is returned by DHCP faults on an access point without a DHCP
// server handle.
var ErrNoDHCP = errors.New("access point has no DHCP server attached")

// AccessPoint is one access point (a router's radio or a board's soft-AP).
type AccessPoint struct {
	air  *Air
	name string

	// All below guarded by air.mu.
	cfg      APConfig
	up       bool
	pmk      []byte // cached PMK of cfg.Passphrase/cfg.SSID
	assoc    map[*Station]int
	nextAID  int
	rand     *rand.Rand
	dhcp     DHCPControl
	userRSSI map[string]int
}

// AddAP validates cfg and adds an access point to the world.
func (a *Air) AddAP(cfg APConfig) (*AccessPoint, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = cfg.SSID
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, o := range a.aps {
		if o.name == cfg.Name {
			return nil, &ConfigError{AP: cfg.Name, Field: "name", Msg: fmt.Sprintf("%q is already used by another access point; give each one a distinct name", cfg.Name)}
		}
	}
	cfg = cfg.withDefaults(a.seed)
	for _, o := range a.aps {
		if bytes.Equal(o.cfg.BSSID, cfg.BSSID) {
			return nil, &ConfigError{AP: cfg.Name, Field: "bssid", Msg: fmt.Sprintf("%s is already used by access point %q; BSSIDs must be unique", cfg.BSSID, o.name)}
		}
	}
	ap := &AccessPoint{
		air:      a,
		name:     cfg.Name,
		cfg:      cfg,
		up:       !cfg.Down,
		assoc:    make(map[*Station]int),
		rand:     simrand.New(a.seed, "wifi/ap/"+cfg.Name),
		userRSSI: make(map[string]int),
	}
	for k, v := range cfg.StationRSSI {
		ap.userRSSI[k] = v
	}
	a.aps = append(a.aps, ap)
	return ap, nil
}

func (c APConfig) withDefaults(seed uint64) APConfig {
	if c.Channel == 0 {
		c.Channel = 1
	}
	if c.RSSI == 0 {
		c.RSSI = DefaultRSSI
	}
	if c.TxPower == 0 {
		c.TxPower = -40
	}
	if c.PathLossExponent == 0 {
		c.PathLossExponent = 3
	}
	if len(c.BSSID) == 0 {
		v := simrand.Uint64(seed, "wifi/bssid/"+c.Name)
		c.BSSID = net.HardwareAddr{0x02, byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	} else {
		c.BSSID = append(net.HardwareAddr(nil), c.BSSID...)
	}
	return c
}

// Name is the access point's name.
func (ap *AccessPoint) Name() string { return ap.name }

// Config returns a copy of the current configuration (defaults filled in).
func (ap *AccessPoint) Config() APConfig {
	ap.air.mu.Lock()
	defer ap.air.mu.Unlock()
	c := ap.cfg
	c.BSSID = append(net.HardwareAddr(nil), c.BSSID...)
	return c
}

// BSSID returns the access point's MAC address.
func (ap *AccessPoint) BSSID() net.HardwareAddr { return ap.Config().BSSID }

// IsUp reports whether the access point is switched on.
func (ap *AccessPoint) IsUp() bool {
	ap.air.mu.Lock()
	defer ap.air.mu.Unlock()
	return ap.up
}

// Stations lists the associated stations in association order.
func (ap *AccessPoint) Stations() []StationInfo {
	ap.air.mu.Lock()
	defer ap.air.mu.Unlock()
	out := make([]StationInfo, 0, len(ap.assoc))
	for s, aid := range ap.assoc {
		out = append(out, StationInfo{Name: s.name, MAC: append(net.HardwareAddr(nil), s.mac...), AID: aid})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AID < out[j].AID })
	return out
}

// SetDown switches the access point off (true) or on (false). Switching off
// sends nothing: associated stations lose the radio path at once and notice
// after Timing.BeaconTimeout. Switching on clears the association table;
// a station that still believes it is associated is deauthenticated
// (reason 7) and joins again.
func (ap *AccessPoint) SetDown(down bool) {
	ap.air.do(func(fx *effects) {
		if ap.up == !down {
			return
		}
		ap.up = !down
		if down {
			fx.tracef(ap.name, "%s switched off", ap.name)
			for s := range ap.assoc {
				s.pathLostLocked(fx, ap)
			}
			clear(ap.assoc)
			return
		}
		fx.tracef(ap.name, "%s switched on, beaconing on channel %d", ap.name, ap.cfg.Channel)
		for _, s := range ap.air.stations {
			if s.ap == ap && s.associated {
				if _, ok := ap.assoc[s]; !ok {
					fx.tracef(ap.name, "%s → %s deauth reason=7 (class 3 frame from nonassociated station)", ap.name, s.name)
					fx.capDeauth(ap, s, true, 7)
					s.lossLocked(fx, "deauthenticated by "+ap.name)
				}
			}
		}
	})
}

// Deauth deauthenticates the station called name (or with that MAC address,
// "aa:bb:cc:dd:ee:ff") with an 802.11 reason code (0 means 2, "previous
// authentication no longer valid"). The station drops to not connected and
// joins again.
func (ap *AccessPoint) Deauth(station string, reason int) error {
	if reason == 0 {
		reason = 2
	}
	var err error
	ap.air.do(func(fx *effects) {
		for s := range ap.assoc {
			if s.name == station || strings.EqualFold(s.mac.String(), station) {
				delete(ap.assoc, s)
				fx.tracef(ap.name, "%s → %s deauth reason=%d (%s)", ap.name, s.name, reason, reasonText(reason))
				fx.capDeauth(ap, s, true, uint16(reason))
				s.lossLocked(fx, fmt.Sprintf("deauthenticated by %s, reason %d", ap.name, reason))
				return
			}
		}
		err = fmt.Errorf("access point %q: no associated station %q", ap.name, station)
	})
	return err
}

// SetRSSI sets the signal strength (dBm) the station called station sees;
// an empty station sets the default for every station without an override.
// A connected station whose signal falls below the world's sensitivity loses
// the radio path and, after the beacon timeout, the association.
func (ap *AccessPoint) SetRSSI(station string, dBm int) error {
	if dBm > 0 || dBm < -120 {
		return fmt.Errorf("access point %q: rssi: %d dBm is outside -120..0", ap.name, dBm)
	}
	ap.air.do(func(fx *effects) {
		if station == "" {
			ap.cfg.RSSI = dBm
		} else {
			ap.userRSSI[station] = dBm
		}
		fx.tracef(ap.name, "%s signal at %s now %d dBm", ap.name, nonEmpty(station, "every station"), dBm)
		ap.air.signalChangedLocked(fx)
	})
	return nil
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// SetDHCP attaches the fault handle of the DHCP server on this access
// point's LAN.
func (ap *AccessPoint) SetDHCP(c DHCPControl) {
	ap.air.mu.Lock()
	defer ap.air.mu.Unlock()
	ap.dhcp = c
}

// SetDHCPSilent makes the access point's DHCP server ignore requests.
func (ap *AccessPoint) SetDHCPSilent(on bool) error {
	ap.air.mu.Lock()
	c := ap.dhcp
	ap.air.mu.Unlock()
	if c == nil {
		return fmt.Errorf("access point %q: %w", ap.name, ErrNoDHCP)
	}
	c.SetSilent(on)
	return nil
}

// SetDHCPNAK makes the access point's DHCP server refuse requests.
func (ap *AccessPoint) SetDHCPNAK(on bool) error {
	ap.air.mu.Lock()
	c := ap.dhcp
	ap.air.mu.Unlock()
	if c == nil {
		return fmt.Errorf("access point %q: %w", ap.name, ErrNoDHCP)
	}
	c.SetNAK(on)
	return nil
}

// Reconfigure replaces the configuration (a soft-AP's config(...) call).
// The name stays. As on the SDK, changing the configuration restarts the
// access point: associated stations are deauthenticated.
func (ap *AccessPoint) Reconfigure(cfg APConfig) error {
	cfg.Name = ap.name
	if err := cfg.Validate(); err != nil {
		return err
	}
	var err error
	ap.air.do(func(fx *effects) {
		cfg = cfg.withDefaults(ap.air.seed)
		for _, o := range ap.air.aps {
			if o != ap && bytes.Equal(o.cfg.BSSID, cfg.BSSID) {
				err = &ConfigError{AP: ap.name, Field: "bssid", Msg: fmt.Sprintf("%s is already used by access point %q", cfg.BSSID, o.name)}
				return
			}
		}
		cfg.Down = !ap.up
		ap.cfg = cfg
		ap.pmk = nil
		for s := range ap.assoc {
			fx.tracef(ap.name, "%s → %s deauth reason=3 (access point restarting)", ap.name, s.name)
			fx.capDeauth(ap, s, true, 3)
			s.lossLocked(fx, "access point "+ap.name+" restarted")
		}
		clear(ap.assoc)
		fx.tracef(ap.name, "%s configured: ssid %q, %s, channel %d", ap.name, cfg.SSID, cfg.Security, cfg.Channel)
	})
	return err
}

// rssiAtLocked is the signal strength station s sees from ap, in dBm.
func (ap *AccessPoint) rssiAtLocked(s *Station) int {
	if v, ok := ap.userRSSI[s.name]; ok {
		return v
	}
	if ap.cfg.Position != nil && s.pos != nil {
		d := math.Hypot(ap.cfg.Position.X-s.pos.X, ap.cfg.Position.Y-s.pos.Y)
		if d < 1 {
			d = 1
		}
		return int(math.Round(float64(ap.cfg.TxPower) - 10*ap.cfg.PathLossExponent*math.Log10(d)))
	}
	return ap.cfg.RSSI
}

// reachableLocked reports whether s can hear ap now.
func (ap *AccessPoint) reachableLocked(s *Station) bool {
	return ap.up && ap.rssiAtLocked(s) >= ap.air.sensitivity && ap.cfg.Channel <= ap.air.channels
}

// pmkLocked returns the access point's PMK, computing it once.
func (ap *AccessPoint) pmkLocked() []byte {
	if ap.pmk == nil {
		pmk, err := memoPMK(ap.cfg.Passphrase, []byte(ap.cfg.SSID))
		if err != nil {
			// Validate admits only passphrases PBKDF2 accepts; keep a key
			// that verifies nothing rather than panic.
			pmk = make([]byte, 32)
		}
		ap.pmk = pmk
	}
	return ap.pmk
}

// reasonText names 802.11 reason codes used in traces.
func reasonText(r int) string {
	switch r {
	case 1:
		return "unspecified"
	case 2:
		return "previous authentication no longer valid"
	case 3:
		return "station leaving"
	case 4:
		return "inactivity"
	case 6:
		return "class 2 frame from nonauthenticated station"
	case 7:
		return "class 3 frame from nonassociated station"
	case 8:
		return "station leaving the BSS"
	case 15:
		return "4-way handshake timeout"
	}
	return "reason " + fmt.Sprint(r)
}
