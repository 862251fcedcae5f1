package wifi

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/simrand"
	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"github.com/esp8266sim/esp8266sim/netstack"
)

// Timing is how long each 802.11 step takes in simulator time. A zero field
// takes its value from DefaultTiming; a negative one means "no time at all".
type Timing struct {
	// ScanDwell is the time an active scan spends on each channel (probe
	// request, wait for responses). A full scan of 13 channels takes 13×.
	ScanDwell time.Duration
	// Auth is the open-system authentication exchange.
	Auth time.Duration
	// Assoc is the association request/response exchange.
	Assoc time.Duration
	// EAPOLStep is the time one EAPOL-Key frame takes from sender to
	// receiver, including the receiver's key derivation.
	EAPOLStep time.Duration
	// EAPOLFirstTimeout is how long the access point waits for message 2
	// after the first message 1 before retransmitting it (hostapd: 100 ms).
	EAPOLFirstTimeout time.Duration
	// EAPOLTimeout is the wait after each retransmitted message 1
	// (hostapd: 1 s).
	EAPOLTimeout time.Duration
	// EAPOLRetries is how many times the access point retransmits message 1
	// before it gives up and deauthenticates the station with reason 15
	// (hostapd's wpa_pairwise_update_count is 4 transmissions: 3 retries).
	EAPOLRetries int
	// DHCPStart is the delay between association and the DHCP client's
	// start.
	DHCPStart time.Duration
	// RetryDelay is the SDK's pause between a failed attempt and the next
	// (the SDK reconnects on its own until disconnect() is called).
	RetryDelay time.Duration
	// BeaconTimeout is how long a connected station goes without hearing
	// its access point (switched off, out of range) before it gives up the
	// association (the SDK's "bcn_timeout", reason 200).
	BeaconTimeout time.Duration
}

// DefaultTiming follows a real ESP8266 on a quiet network: the scan before
// a join covers 13 channels at 150 ms each (≈2 s, as the SDK's full scan
// takes), authentication, association and the 4-way handshake take a few
// tens of milliseconds, and the DHCP client starts 100 ms after the
// association, so a successful connect() reaches GOT_IP after about 2.1 s
// plus the DHCP exchange on the network. A wrong passphrase is reported
// when the access point's handshake retransmissions time out (≈3.1 s after
// association, ≈5 s after connect()); an unknown SSID after the scan.
var DefaultTiming = Timing{
	ScanDwell:         150 * time.Millisecond,
	Auth:              4 * time.Millisecond,
	Assoc:             8 * time.Millisecond,
	EAPOLStep:         6 * time.Millisecond,
	EAPOLFirstTimeout: 100 * time.Millisecond,
	EAPOLTimeout:      time.Second,
	EAPOLRetries:      3,
	DHCPStart:         100 * time.Millisecond,
	RetryDelay:        200 * time.Millisecond,
	BeaconTimeout:     6 * time.Second,
}

func (t Timing) withDefaults() Timing {
	d := DefaultTiming
	pick := func(v, def time.Duration) time.Duration {
		switch {
		case v == 0:
			return def
		case v < 0:
			return 0
		}
		return v
	}
	t.ScanDwell = pick(t.ScanDwell, d.ScanDwell)
	t.Auth = pick(t.Auth, d.Auth)
	t.Assoc = pick(t.Assoc, d.Assoc)
	t.EAPOLStep = pick(t.EAPOLStep, d.EAPOLStep)
	t.EAPOLFirstTimeout = pick(t.EAPOLFirstTimeout, d.EAPOLFirstTimeout)
	t.EAPOLTimeout = pick(t.EAPOLTimeout, d.EAPOLTimeout)
	t.DHCPStart = pick(t.DHCPStart, d.DHCPStart)
	t.RetryDelay = pick(t.RetryDelay, d.RetryDelay)
	t.BeaconTimeout = pick(t.BeaconTimeout, d.BeaconTimeout)
	switch {
	case t.EAPOLRetries == 0:
		t.EAPOLRetries = d.EAPOLRetries
	case t.EAPOLRetries < 0:
		t.EAPOLRetries = 0
	}
	return t
}

// Defaults for Config.
const (
	// DefaultSensitivity is the weakest signal (dBm) a station still hears;
	// the ESP8266's receiver manages about -91 dBm at 11 Mbit/s.
	DefaultSensitivity = -90
	// DefaultChannels is how many channels a scan covers: the SDK's default
	// country ("CN") allows 1 to 13.
	DefaultChannels = 13
	// DefaultRSSI is the signal strength of an access point at a station
	// when the scenario says nothing.
	DefaultRSSI = -55
)

// Config describes the radio world.
type Config struct {
	// Clock is the world's simulator clock (required).
	Clock *vclock.Clock
	// Seed seeds nonces and RSSI jitter; the same seed gives the same run.
	Seed uint64
	// Trace receives one line per 802.11 step; nil drops them.
	Trace *trace.Log
	// Timing overrides step durations; zero fields take DefaultTiming.
	Timing Timing
	// Sensitivity is the weakest signal in dBm a station hears; an access
	// point below it is out of range. Zero means DefaultSensitivity.
	Sensitivity int
	// Channels is the highest channel a scan covers (1..14); zero means
	// DefaultChannels.
	Channels int
	// RSSIJitter is the ± range in dB of random variation of reported
	// signal strengths (scan results, status('rssi')); zero means 2,
	// negative means none. It never decides whether an AP is in range.
	RSSIJitter int
	// Capture, if set, records the join's 802.11 frames on the access
	// points' air interfaces (netstack.Capture.AddAir).
	Capture *netstack.Capture
}

// Air is the shared radio medium of one world: its access points and
// stations, one clock and one seed. Create it with New.
type Air struct {
	clock       *vclock.Clock
	seed        uint64
	log         *trace.Log
	capture     *netstack.Capture
	timing      Timing
	sensitivity int
	channels    int
	jitter      int

	// mu guards everything below and all AccessPoint and Station state.
	mu       sync.Mutex
	aps      []*AccessPoint
	stations []*Station
	jrand    *rand.Rand
	espnow   map[*Radio]func(src, msg []byte) // ESP-NOW receivers (espnow.go)
}

// New returns an empty radio world.
func New(cfg Config) (*Air, error) {
	if cfg.Clock == nil {
		return nil, errors.New("wifi: Config.Clock is required")
	}
	if cfg.Channels == 0 {
		cfg.Channels = DefaultChannels
	}
	if cfg.Channels < 1 || cfg.Channels > 14 {
		return nil, fmt.Errorf("wifi: channels: %d is outside 1..14", cfg.Channels)
	}
	if cfg.Sensitivity == 0 {
		cfg.Sensitivity = DefaultSensitivity
	}
	if cfg.Sensitivity > 0 || cfg.Sensitivity < -120 {
		return nil, fmt.Errorf("wifi: sensitivity: %d dBm is outside -120..0", cfg.Sensitivity)
	}
	switch {
	case cfg.RSSIJitter == 0:
		cfg.RSSIJitter = 2
	case cfg.RSSIJitter < 0:
		cfg.RSSIJitter = 0
	}
	return &Air{
		clock:       cfg.Clock,
		seed:        cfg.Seed,
		log:         cfg.Trace,
		capture:     cfg.Capture,
		timing:      cfg.Timing.withDefaults(),
		sensitivity: cfg.Sensitivity,
		channels:    cfg.Channels,
		jitter:      cfg.RSSIJitter,
		jrand:       simrand.New(cfg.Seed, "wifi/rssi"),
	}, nil
}

// Timing reports the step durations in use (defaults filled in).
func (a *Air) Timing() Timing { return a.timing }

// Channels reports the highest channel scans cover.
func (a *Air) Channels() int { return a.channels }

// APs returns the access points, in the order they were added.
func (a *Air) APs() []*AccessPoint {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*AccessPoint(nil), a.aps...)
}

// AP returns the access point called name.
func (a *Air) AP(name string) (*AccessPoint, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ap := range a.aps {
		if ap.name == name {
			return ap, true
		}
	}
	return nil, false
}

// Station returns the station called name.
func (a *Air) Station(name string) (*Station, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.stations {
		if s.name == name {
			return s, true
		}
	}
	return nil, false
}

// effects collects calls to make once a.mu is released: into the Uplink,
// the Addressing, the trace log. They run in the order they were added.
type effects struct {
	air *Air
	fns []func()
}

func (fx *effects) add(f func()) { fx.fns = append(fx.fns, f) }

// tracef adds a trace line stamped now.
func (fx *effects) tracef(source, format string, args ...any) {
	if fx.air.log == nil {
		return
	}
	at := fx.air.clock.Elapsed()
	text := fmt.Sprintf(format, args...)
	fx.add(func() { fx.air.log.Add(at, source, text) })
}

// do runs f under the lock, then its effects without it.
func (a *Air) do(f func(fx *effects)) {
	fx := &effects{air: a}
	a.mu.Lock()
	f(fx)
	a.mu.Unlock()
	for _, g := range fx.fns {
		g()
	}
}

// after runs f under the lock after d of simulator time.
func (a *Air) after(d time.Duration, f func(fx *effects)) {
	a.clock.AfterFunc(d, func() { a.do(f) })
}

// jitterLocked returns rssi with the configured random variation.
func (a *Air) jitterLocked(rssi int) int {
	if a.jitter == 0 {
		return rssi
	}
	return rssi + a.jrand.IntN(2*a.jitter+1) - a.jitter
}
