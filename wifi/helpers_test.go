package wifi

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// testWorld is a fast clock, an Air and a test goroutine acting as the
// program that drives the stations.
type testWorld struct {
	t     testing.TB
	clock *vclock.Clock
	air   *Air
	log   *trace.Log
	actor *vclock.Actor
}

func newTestWorld(t testing.TB, cfg Config) *testWorld {
	t.Helper()
	clock := vclock.New(vclock.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		clock.Run(ctx)
	}()
	log := trace.New(trace.Config{})
	cfg.Clock = clock
	cfg.Trace = log
	air, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	actor := clock.NewActor("test")
	t.Cleanup(func() {
		actor.Close()
		cancel()
		<-done
	})
	return &testWorld{t: t, clock: clock, air: air, log: log, actor: actor}
}

func (w *testWorld) sleep(d time.Duration) {
	w.t.Helper()
	if err := w.actor.Sleep(context.Background(), d); err != nil {
		w.t.Fatalf("Sleep: %v", err)
	}
}

// waitFor polls cond every 10 ms of simulator time, like a script's polling
// loop, and returns the simulator time at which it held.
func (w *testWorld) waitFor(what string, within time.Duration, cond func() bool) time.Duration {
	w.t.Helper()
	deadline := w.clock.Elapsed() + within
	for !cond() {
		if w.clock.Elapsed() >= deadline {
			w.t.Fatalf("%s: not reached within %v (at %v)\ntrace:\n%s", what, within, w.clock.Elapsed(), w.log.String())
		}
		w.sleep(20 * time.Millisecond)
	}
	return w.clock.Elapsed()
}

func (w *testWorld) addAP(cfg APConfig) *AccessPoint {
	w.t.Helper()
	ap, err := w.air.AddAP(cfg)
	if err != nil {
		w.t.Fatalf("AddAP(%+v): %v", cfg, err)
	}
	return ap
}

// station adds an active station with a recording uplink and a lease
// handed out by leaseDHCP.
func (w *testWorld) station(name string, mac byte) (*Station, *recUplink, *leaseDHCP) {
	w.t.Helper()
	up := &recUplink{}
	dh := &leaseDHCP{link: up, clock: w.clock, delay: 600 * time.Millisecond, lease: IPConfig{
		IP:      netip.MustParseAddr("192.168.1." + string(rune('0'+mac%10)) + "0"),
		Mask:    netip.MustParseAddr("255.255.255.0"),
		Gateway: netip.MustParseAddr("192.168.1.1"),
		DNS:     netip.MustParseAddr("192.168.1.1"),
	}}
	s, err := w.air.NewStation(StationConfig{
		Name:       name,
		MAC:        net.HardwareAddr{0x5c, 0xcf, 0x7f, 0, 0, mac},
		Uplink:     up,
		Addressing: dh,
		Active:     true,
	})
	if err != nil {
		w.t.Fatalf("NewStation: %v", err)
	}
	return s, up, dh
}

// traceHas reports whether the trace has lines containing each fragment, in
// that order.
func (w *testWorld) traceHas(fragments ...string) bool {
	i := 0
	for _, l := range w.log.Lines() {
		if i < len(fragments) && strings.Contains(l.String(), fragments[i]) {
			i++
		}
	}
	return i == len(fragments)
}

// recUplink records what the wifi layer asks of the station's link.
type recUplink struct {
	mu     sync.Mutex
	up     bool
	ap     *AccessPoint
	joins  int
	leaves int
}

func (u *recUplink) Join(ap *AccessPoint) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.up, u.ap = true, ap
	u.joins++
	return nil
}

func (u *recUplink) Leave() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.up = false
	u.leaves++
}

func (u *recUplink) state() (up bool, joins, leaves int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.up, u.joins, u.leaves
}

// leaseDHCP stands in for the DHCP client in this package's tests (the
// real client lives in netstack and is exercised end to end by the board's
// network tests): it binds a fixed lease after a delay if the station's link
// is up by then.
type leaseDHCP struct {
	link  *recUplink // a lease needs frames to flow
	clock *vclock.Clock
	delay time.Duration
	lease IPConfig

	mu       sync.Mutex
	gen      int
	starts   int
	hostname string
	static   IPConfig
	silent   bool
}

func (d *leaseDHCP) StartDHCP(hostname string, bound func(IPConfig), lost func()) {
	d.mu.Lock()
	d.gen++
	d.starts++
	d.hostname = hostname
	gen, silent := d.gen, d.silent
	d.mu.Unlock()
	if silent {
		return
	}
	d.clock.AfterFunc(d.delay, func() {
		d.mu.Lock()
		ok := d.gen == gen
		d.mu.Unlock()
		if up, _, _ := d.link.state(); ok && up {
			bound(d.lease)
		}
	})
}

func (d *leaseDHCP) StopDHCP() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
}

func (d *leaseDHCP) SetStatic(cfg IPConfig) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.static = cfg
}

func (d *leaseDHCP) SetSilent(on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.silent = on
}

func (d *leaseDHCP) SetNAK(bool) {}

type netipAddr = netip.Addr

func mustParseAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
