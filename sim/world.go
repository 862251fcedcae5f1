// Package sim is the simulated world: it turns a scenario into a clock, WiFi
// access points with their routers (DHCP, DNS, gateway), a simulated
// internet, LAN peers and boards running MicroPython, runs it with its fault
// timeline and console input, and checks its expectations.
//
// New is the one composition root: it builds every part in order and wraps
// each error with what it was building. Run drives the world until its
// programs end, an expectation fails for good, or its time is up.
package sim

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/esp8266sim/esp8266sim/board"
	boardnet "github.com/esp8266sim/esp8266sim/board/net"
	"github.com/esp8266sim/esp8266sim/board/sockets"
	"github.com/esp8266sim/esp8266sim/internal/syncbuf"
	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"github.com/esp8266sim/esp8266sim/netstack"
	"github.com/esp8266sim/esp8266sim/netstack/dhcp"
	"github.com/esp8266sim/esp8266sim/netstack/dns"
	"github.com/esp8266sim/esp8266sim/netstack/services"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
	"github.com/esp8266sim/esp8266sim/wifi"
)

// Options are what a run needs beyond the scenario: where its output goes.
type Options struct {
	// Firmware is the compiled MicroPython image every board runs. Required.
	Firmware *board.Firmware
	// Console, when set, receives every board's console line by line,
	// prefixed with the simulator time and the board's name.
	Console io.Writer
	// RawConsole sends the console to Console byte for byte, as a serial
	// terminal shows it, instead of as prefixed lines (sensible with one
	// board).
	RawConsole bool
	// Trace, when set, receives the readable trace (802.11 steps, frames,
	// socket calls) line by line as it happens.
	Trace io.Writer
	// Pcap, when set, receives the pcapng capture of every frame.
	Pcap io.Writer
	// BeaconEvery is how often the capture records a sampled beacon of
	// each access point: zero means netstack.DefaultBeaconEvery, negative
	// none.
	BeaconEvery time.Duration
	// HostResolver resolves, for boards in a world with internet
	// passthrough, the names the scenario does not define; nil means
	// net.DefaultResolver (resolv.conf, /etc/hosts).
	HostResolver *net.Resolver
	// Watchdog is the wall-clock budget a board's Python code may run
	// without blocking; zero means board.DefaultWatchdog, negative turns
	// it off.
	Watchdog time.Duration
	// Serial connects boards' UARTs to the host, keyed by board instance
	// name (see serial.go); a board with one is interactive.
	Serial map[string]Serial
	// MaxResets bounds the resets a board follows (board.Config.MaxResets);
	// zero means the board's default.
	MaxResets int
	// ConsoleKeep, when positive, bounds how much of each board's console
	// the world records (the last ConsoleKeep bytes), for runs that last
	// until signalled.
	ConsoleKeep int
}

// World is one built scenario.
type World struct {
	sc    *scenario.Scenario
	opts  Options
	clock *vclock.Clock
	// clockOrigin is the wall-clock time simulated time 0 maps to (the
	// capture's timestamps count from it).
	clockOrigin time.Time
	trace       *trace.Log

	capture *netstack.Capture
	// pcap holds the capture in memory when expectations read it.
	pcap *lockedBuffer

	internet *netstack.Medium
	air      *wifi.Air
	aps      []*apNode
	apByName map[string]*apNode
	hosts    map[string]*hostNode
	boards   []*boardNode
	byName   map[string]*boardNode
	// lans maps each access point to the medium behind it.
	lans wifi.LANs
	// nics maps a node name to its NICs, for link impairments.
	nics map[string][]*netstack.NIC

	// ctx bounds the services' goroutines; cancelled by Close.
	ctx    context.Context
	cancel context.CancelFunc
	// announcements tell the user about forwards and host access.
	announcements []string
	// real is the door to the host's network (nil unless the scenario asks
	// for internet passthrough).
	real *internetState
	// ca signs the HTTPS hosts' certificates.
	ca *services.CA

	// ended is set at the run's last instant.
	ended atomic.Bool

	closeOnce sync.Once
	closers   []func()
}

// apNode is an access point and the router behind it.
type apNode struct {
	cfg      scenario.AccessPoint
	ap       *wifi.AccessPoint
	lan      *netstack.Medium
	router   *netstack.Node
	lanNIC   *netstack.NIC
	wanNIC   *netstack.NIC
	subnet   netip.Prefix
	routerIP netip.Addr
	wanIP    netip.Addr
	dhcp     *dhcp.Server
	dns      *dns.Server
}

// hostNode is a LAN peer or an internet host.
type hostNode struct {
	cfg  scenario.Host
	node *netstack.Node
	nic  *netstack.NIC
	ip   netip.Addr
	lan  bool
	host *services.Host
	// baseFaults are the host's faults from the scenario's hosts section.
	baseFaults []services.Fault
	// netlib holds the host's HTTP APIs and MQTT broker (services_netlib.go).
	netlib netlibServices
}

// boardNode is one board instance with its network interface.
type boardNode struct {
	inst    scenario.Instance
	node    *netstack.Node
	nic     *netstack.NIC
	mac     net.HardwareAddr
	station *wifi.Station
	// radio is the board's WiFi hardware as the network module sees it.
	radio   boardnet.WLAN
	board   *board.Board
	console *console
	files   map[string][]byte
	// uplink puts the NIC on the LAN of the access point the station joins,
	// with the board's radio link impairments.
	uplink *boardUplink

	// serialIn is the board's input when it has a Serial (see serial.go);
	// reboots and lastEnd count and describe the times its program ended
	// and a run that lasts until cancelled booted it again (run goroutine
	// until done is closed).
	serialIn *serialIn
	reboots  int
	lastEnd  string

	mu      sync.Mutex
	result  *board.Result
	err     error
	endedAt time.Duration
	// launched is set once the run powered the board on (or gave up on
	// it); guarded by Run's start lock.
	launched bool
	// sockets is the socket table read at the end of the run (non-nil
	// once read, even when empty).
	sockets []sockets.SocketInfo
	done    chan struct{}
}

// defaultRadioLink is a board's WiFi link when the scenario sets none: 1 ms
// of airtime each way. Some latency keeps exchanges that answer themselves
// at once (a DHCP NAK and the client's immediate new DISCOVER) moving
// through simulated time instead of looping at one instant.
var defaultRadioLink = netstack.Impairments{Latency: time.Millisecond}

// wanPrefix is the transit network routers use on the simulated internet.
var wanPrefix = netip.MustParsePrefix("100.64.0.0/10")

// New builds the world a validated scenario describes.
func New(sc *scenario.Scenario, opts Options) (w *World, err error) {
	if sc == nil {
		return nil, errors.New("sim: no scenario")
	}
	if opts.Firmware == nil {
		return nil, errors.New("sim: no firmware")
	}
	mode := vclock.Fast
	if sc.TimeMode == scenario.Realtime {
		mode = vclock.Realtime
	}
	w = &World{
		sc:       sc,
		opts:     opts,
		clock:    vclock.New(vclock.Config{Mode: mode}),
		apByName: map[string]*apNode{},
		hosts:    map[string]*hostNode{},
		byName:   map[string]*boardNode{},
		nics:     map[string][]*netstack.NIC{},
	}
	w.clockOrigin = w.clock.Now().Add(-w.clock.Elapsed())
	w.ctx, w.cancel = context.WithCancel(context.Background())
	// On error the named result is nil by the time this runs; close the
	// partly built world through its own variable.
	built := w
	defer func() {
		if err != nil {
			built.Close()
		}
	}()
	// Without a reader for the trace no part of the world builds its lines:
	// decoding every frame into a summary costs a tenth of a transfer.
	if opts.Trace != nil {
		w.trace = trace.New(trace.Config{Keep: -1})
		out := opts.Trace
		w.trace.Subscribe(func(l trace.Line) {
			// What happens after the run's last instant (the world being
			// taken down) is not part of the run.
			if !w.ended.Load() {
				fmt.Fprintln(out, l.String())
			}
		})
	}
	if err := w.buildCapture(); err != nil {
		return nil, fmt.Errorf("building the capture: %w", err)
	}
	if err := w.buildInternet(); err != nil {
		return nil, fmt.Errorf("building the simulated internet: %w", err)
	}
	air, err := wifi.New(wifi.Config{Clock: w.clock, Seed: sc.Seed, Trace: w.trace, Capture: w.capture})
	if err != nil {
		return nil, fmt.Errorf("building the radio: %w", err)
	}
	w.air = air
	for i := range sc.WiFi.AccessPoints {
		if err := w.buildAP(i); err != nil {
			return nil, fmt.Errorf("building access point %q: %w", sc.WiFi.AccessPoints[i].Name, err)
		}
	}
	w.routeBetweenLANs()
	for _, h := range sc.InternetHosts {
		if err := w.buildHost(h, false); err != nil {
			return nil, fmt.Errorf("building internet host %q: %w", h.Name, err)
		}
	}
	for _, h := range sc.LANPeers {
		if err := w.buildHost(h, true); err != nil {
			return nil, fmt.Errorf("building LAN peer %q: %w", h.Name, err)
		}
	}
	for _, in := range sc.Instances() {
		if err := w.buildBoard(in); err != nil {
			return nil, fmt.Errorf("building board %q: %w", in.Name, err)
		}
	}
	if err := w.buildHostNode(); err != nil {
		return nil, fmt.Errorf("building %s: %w", HostName, err)
	}
	if err := w.buildInternetGateway(); err != nil {
		return nil, fmt.Errorf("opening the real network: %w", err)
	}
	if err := w.buildDNS(); err != nil {
		return nil, fmt.Errorf("building the DNS servers: %w", err)
	}
	if err := w.buildServices(); err != nil {
		return nil, fmt.Errorf("building the hosts' services: %w", err)
	}
	if err := w.applyLinks(); err != nil {
		return nil, fmt.Errorf("setting link impairments: %w", err)
	}
	if err := w.openBridges(); err != nil {
		return nil, fmt.Errorf("opening the host bridge: %w", err)
	}
	return w, nil
}

func (w *World) onClose(f func()) { w.closers = append(w.closers, f) }

// Close stops and releases everything the world started, in reverse order.
func (w *World) Close() {
	w.closeOnce.Do(func() {
		w.cancel()
		for i := len(w.closers) - 1; i >= 0; i-- {
			w.closers[i]()
		}
		w.clock.Close()
	})
}

// Clock is the world's clock.
func (w *World) Clock() *vclock.Clock { return w.clock }

// SuggestedProcs is how many CPUs (GOMAXPROCS) suit this world's run, or 0
// for no preference; the caller decides, since it is the whole process's
// setting. A fast-mode world is a sequential discrete-event simulation:
// boards power on at instants of their own (bootOffsets), so one board's
// Python runs at a time, and more CPUs only add hand-offs between threads
// (each a futex wake-up of several microseconds) to every frame's journey
// (measured: board→host TCP about 49 MB/s on 2 CPUs and 83 MB/s on 1).
// One CPU also keeps the order of frames that gVisor's goroutines send at
// one simulated instant (a host's ACK and its reply) the same from run to
// run. Realtime worlds wait on the wall clock anyway.
func (w *World) SuggestedProcs() int { return SuggestedProcsFor(w.sc) }

// SuggestedProcsFor is SuggestedProcs for the world sc will build. Set it
// before New: gVisor gives each stack as many TCP processor goroutines as
// GOMAXPROCS when the stack is made, and with several, segments delivered
// at one instant to one stack were answered in the order the scheduler
// ran its processors, which pre-emption on a loaded machine changes from
// run to run (one processor answers them in delivery order).
func SuggestedProcsFor(sc *scenario.Scenario) int {
	if sc.TimeMode != scenario.Realtime {
		return 1
	}
	return 0
}

// Trace is the world's readable trace; nil unless Options.Trace is set.
func (w *World) Trace() *trace.Log { return w.trace }

// traceTo returns a function adding prefixed lines from source to the
// trace, or nil when the world has no trace (so callers skip formatting).
func (w *World) traceTo(source, prefix string) func(string) {
	if w.trace == nil {
		return nil
	}
	return func(s string) { w.trace.Add(w.clock.Elapsed(), source, prefix+s) }
}

func (w *World) buildCapture() error {
	var outs []io.Writer
	if w.opts.Pcap != nil {
		outs = append(outs, w.opts.Pcap)
	}
	for _, e := range w.sc.Expect {
		if e.Capture != nil {
			w.pcap = &lockedBuffer{}
			outs = append(outs, w.pcap)
			break
		}
	}
	if len(outs) == 0 {
		return nil
	}
	c, err := netstack.NewCapture(io.MultiWriter(outs...), w.clock)
	if err != nil {
		return err
	}
	c.SetBeaconEvery(w.opts.BeaconEvery)
	w.capture = c
	w.onClose(func() { c.Close() })
	return nil
}

func (w *World) newMedium(name string) (*netstack.Medium, error) {
	m, err := netstack.NewMedium(netstack.MediumConfig{Name: name, Clock: w.clock, Seed: w.sc.Seed, Trace: w.trace, Capture: w.capture})
	if err != nil {
		return nil, err
	}
	w.onClose(m.Close)
	return m, nil
}

func (w *World) newNode(name string) (*netstack.Node, error) {
	n, err := netstack.NewNode(netstack.NodeConfig{Name: name, Clock: w.clock, Seed: w.sc.Seed, Trace: w.trace})
	if err != nil {
		return nil, err
	}
	w.onClose(n.Close)
	return n, nil
}

func (w *World) buildInternet() error {
	m, err := w.newMedium("internet")
	if err != nil {
		return err
	}
	w.internet = m
	return nil
}

// learnFromLeasesAbove is the fleet size above which routers learn their
// stations' link addresses from the leases they ACK (static neighbour
// entries) instead of by ARP. gVisor's neighbour table holds 512 dynamic
// entries per interface and resolves 64 addresses at a time, so a router
// answering a thousand boards at once would evict and drop where a real
// router's table (Linux: 1024 entries before it even starts pruning) does
// not. Smaller worlds keep the ARP exchanges a student expects to see.
var learnFromLeasesAbove = 256

func (w *World) buildAP(i int) error {
	cfg := w.sc.WiFi.AccessPoints[i]
	a := &apNode{cfg: cfg}
	var err error
	if a.subnet, err = netip.ParsePrefix(cfg.Subnet); err != nil {
		return fmt.Errorf("subnet: %w", err)
	}
	a.subnet = a.subnet.Masked()
	if a.routerIP, err = netip.ParseAddr(cfg.Router); err != nil {
		return fmt.Errorf("router: %w", err)
	}
	a.wanIP = netip.AddrFrom4([4]byte{100, 64, 0, byte(i + 1)})

	if a.lan, err = w.newMedium("lan-" + cfg.Name); err != nil {
		return err
	}
	if a.router, err = w.newNode(cfg.Name); err != nil {
		return err
	}
	bssid, err := net.ParseMAC(cfg.BSSID)
	if err != nil {
		return fmt.Errorf("bssid: %w", err)
	}
	if a.lanNIC, err = a.router.AddNIC(a.lan, netstack.NICConfig{MAC: bssid, Addr: netip.PrefixFrom(a.routerIP, a.subnet.Bits())}); err != nil {
		return fmt.Errorf("LAN interface: %w", err)
	}
	if a.wanNIC, err = a.router.AddNIC(w.internet, netstack.NICConfig{Addr: netip.PrefixFrom(a.wanIP, wanPrefix.Bits())}); err != nil {
		return fmt.Errorf("internet interface: %w", err)
	}
	if err := a.router.SetForwarding(true); err != nil {
		return err
	}
	w.nics[cfg.Name] = append(w.nics[cfg.Name], a.lanNIC)
	w.trace.Names().SetIP(a.routerIP, cfg.Name)
	w.trace.Names().SetIP(a.wanIP, cfg.Name)

	if !cfg.DHCP.Disabled {
		start, err := netip.ParseAddr(cfg.DHCP.RangeStart)
		if err != nil {
			return fmt.Errorf("dhcp.range_start: %w", err)
		}
		end, err := netip.ParseAddr(cfg.DHCP.RangeEnd)
		if err != nil {
			return fmt.Errorf("dhcp.range_end: %w", err)
		}
		dcfg := dhcp.ServerConfig{
			Stack: a.router.Stack(), NIC: a.lanNIC.ID(),
			ServerIP: a.routerIP, Subnet: a.subnet, Router: a.routerIP, DNS: []netip.Addr{a.routerIP},
			PoolStart: start, PoolEnd: end, LeaseTime: cfg.DHCP.Lease.D(),
			Clock: w.clock, Seed: w.sc.Seed,
			Trace: w.traceTo(cfg.Name, "DHCP server: "),
		}
		if len(w.sc.Instances()) > learnFromLeasesAbove {
			nic := a.lanNIC
			dcfg.OnBind = func(mac string, ip netip.Addr) {
				if hw, err := net.ParseMAC(mac); err == nil {
					_ = nic.SetNeighbor(ip, hw)
				}
			}
		}
		srv, err := dhcp.NewServer(dcfg)
		if err != nil {
			return fmt.Errorf("DHCP server: %w", err)
		}
		if err := srv.Start(w.ctx); err != nil {
			return fmt.Errorf("DHCP server: %w", err)
		}
		a.dhcp = srv
		w.onClose(srv.Close)
	}

	apCfg := wifi.APConfig{
		Name:        cfg.Name,
		SSID:        cfg.SSID,
		Security:    securityOf(cfg.Security),
		Passphrase:  cfg.Passphrase,
		Channel:     cfg.Channel,
		BSSID:       bssid,
		Hidden:      cfg.Hidden,
		RSSI:        cfg.RSSI,
		MaxStations: cfg.MaxStations,
		Down:        cfg.Down,
	}
	for _, in := range w.sc.Instances() {
		if v, ok := configuredRSSI(w.sc, cfg, in); ok {
			if apCfg.StationRSSI == nil {
				apCfg.StationRSSI = map[string]int{}
			}
			apCfg.StationRSSI[in.Name] = v
		}
	}
	ap, err := w.air.AddAP(apCfg)
	if err != nil {
		return err
	}
	if a.dhcp != nil {
		ap.SetDHCP(a.dhcp)
	}
	a.ap = ap
	if err := w.captureAir(a, bssid); err != nil {
		return err
	}
	w.lans.Set(ap, a.lan)
	w.aps = append(w.aps, a)
	w.apByName[cfg.Name] = a
	return nil
}

// configuredRSSI is the signal the scenario gives board instance in from
// access point ap, and whether it overrides the access point's own rssi:
// the access point's rssi_by_board entry wins over the board's rssi. The
// rssi fault restores it when its "for" ends.
func configuredRSSI(sc *scenario.Scenario, ap scenario.AccessPoint, in scenario.Instance) (int, bool) {
	for _, r := range ap.RSSIByBoard {
		names, _ := sc.InstancesOf(r.Board)
		for _, n := range names {
			if n == in.Name {
				return r.RSSI, true
			}
		}
	}
	if in.Board != nil && in.Board.RSSI != 0 {
		return in.Board.RSSI, true
	}
	return ap.RSSI, false
}

// routeBetweenLANs lets boards behind different access points reach each
// other through the internet segment.
func (w *World) routeBetweenLANs() {
	for _, a := range w.aps {
		for _, b := range w.aps {
			if a != b {
				a.router.AddRoute(b.subnet, b.wanIP, a.wanNIC)
			}
		}
	}
}

func securityOf(s scenario.Security) wifi.Security {
	switch s {
	case scenario.SecOpen:
		return wifi.Open
	case scenario.SecWEP:
		return wifi.WEP
	case scenario.SecWPA:
		return wifi.WPAPSK
	case scenario.SecWPAWPA2:
		return wifi.WPAWPA2PSK
	}
	return wifi.WPA2PSK
}

func (w *World) buildHost(h scenario.Host, lan bool) error {
	ip, err := netip.ParseAddr(h.IP)
	if err != nil {
		return fmt.Errorf("ip: %w", err)
	}
	node, err := w.newNode(h.Name)
	if err != nil {
		return err
	}
	hn := &hostNode{cfg: h, node: node, ip: ip, lan: lan}
	if lan {
		a := w.apByName[h.AP]
		if a == nil {
			return fmt.Errorf("unknown access point %q", h.AP)
		}
		if hn.nic, err = node.AddNIC(a.lan, netstack.NICConfig{Addr: netip.PrefixFrom(ip, a.subnet.Bits())}); err != nil {
			return err
		}
		if err := node.SetDefaultGateway(a.routerIP, hn.nic); err != nil {
			return err
		}
	} else {
		if hn.nic, err = node.AddNIC(w.internet, netstack.NICConfig{Addr: netip.PrefixFrom(ip, 32)}); err != nil {
			return err
		}
		if err := node.AddRoute(wanPrefix, netip.Addr{}, hn.nic); err != nil {
			return err
		}
		for _, a := range w.aps {
			if err := node.AddRoute(a.subnet, a.wanIP, hn.nic); err != nil {
				return err
			}
			if err := a.router.AddRoute(netip.PrefixFrom(ip, 32), netip.Addr{}, a.wanNIC); err != nil {
				return err
			}
		}
	}
	w.trace.Names().SetIP(ip, h.Name)
	w.nics[h.Name] = append(w.nics[h.Name], hn.nic)
	w.hosts[h.Name] = hn
	return nil
}

func (w *World) buildBoard(in scenario.Instance) error {
	mac, err := net.ParseMAC(in.MAC)
	if err != nil {
		return fmt.Errorf("mac: %w", err)
	}
	node, err := w.newNode(in.Name)
	if err != nil {
		return err
	}
	nic, err := node.AddNIC(nil, netstack.NICConfig{MAC: mac})
	if err != nil {
		return err
	}
	// A board's stack has no default transport handler and gets raw
	// sockets only from its socket table, which switches this off on the
	// first one: the NIC may drop the fleet's DHCP broadcasts to ports the
	// board does not listen on before gVisor reads them (issue #20).
	nic.DropUnheardBroadcasts(true)
	bn := &boardNode{inst: in, node: node, nic: nic, mac: mac, done: make(chan struct{})}
	bn.console = newConsole(in.Name, w.clock, w.opts.Console, w.opts.RawConsole)
	bn.console.keep = w.opts.ConsoleKeep

	files, err := w.boardFiles(in.Board)
	if err != nil {
		return err
	}
	bn.files = files

	addressing, err := wifi.NewNetAddressing(wifi.NetAddressingConfig{
		NIC: nic, Clock: w.clock, Seed: w.sc.Seed, Name: in.Name, Trace: w.trace,
	})
	if err != nil {
		return err
	}
	w.onClose(addressing.Close)
	bn.uplink = &boardUplink{NICUplink: wifi.NICUplink{NIC: nic, LANs: &w.lans}, egress: defaultRadioLink, ingress: defaultRadioLink}
	remembered := in.Board.WiFi
	scfg := wifi.StationConfig{
		Name:       in.Name,
		MAC:        mac,
		Uplink:     bn.uplink,
		Addressing: addressing,
	}
	if remembered != nil {
		// The SDK keeps the station mode and the last connect() in flash
		// and joins at boot before main.py runs; without connect() the
		// DHCP client sends the SDK's own hostname.
		scfg.Active = true
		scfg.Hostname = wifi.SDKHostname(mac)
	}
	st, err := w.air.NewStation(scfg)
	if err != nil {
		return fmt.Errorf("station: %w", err)
	}
	bn.station = st
	radio, err := wifi.NewRadio(wifi.RadioConfig{Ctx: w.ctx, Air: w.air, Station: st, Node: node, LANs: &w.lans, Trace: w.trace, Seed: w.sc.Seed,
		// A freshly flashed ESP8266 has its soft-AP on (inisetup.py).
		SoftAPActive: true})
	if err != nil {
		return fmt.Errorf("radio: %w", err)
	}
	bn.radio = radio
	w.nics[in.Name] = append(w.nics[in.Name], nic)
	w.boards = append(w.boards, bn)
	w.byName[in.Name] = bn
	return nil
}

// boardFiles collects the flash files of a board entry.
func (w *World) boardFiles(b *scenario.Board) (map[string][]byte, error) {
	files := map[string][]byte{}
	switch {
	case b.Code != "":
		files["main.py"] = []byte(b.Code)
	case b.Script != "":
		data, err := w.sc.ReadFile(b.Script)
		if err != nil {
			return nil, fmt.Errorf("script: %w", err)
		}
		files["main.py"] = data
	}
	for _, f := range b.Files {
		p := f.Path
		for len(p) > 0 && p[0] == '/' {
			p = p[1:]
		}
		if f.From != "" {
			data, err := w.sc.ReadFile(f.From)
			if err != nil {
				return nil, fmt.Errorf("file %s: %w", f.Path, err)
			}
			files[p] = data
		} else {
			files[p] = []byte(f.Content)
		}
	}
	return files, nil
}

// impairmentsOf converts a scenario impairment to netstack's.
func impairmentsOf(im scenario.Impairment) (netstack.Impairments, error) {
	dist, err := netstack.ParseDistribution(string(im.Distribution))
	if err != nil {
		return netstack.Impairments{}, err
	}
	out := netstack.Impairments{
		Latency:      im.Latency.D(),
		Jitter:       im.Jitter.D(),
		Distribution: dist,
		Loss:         float64(im.Loss),
		Duplicate:    float64(im.Duplicate),
		Reorder:      float64(im.Reorder),
		Corrupt:      float64(im.Corrupt),
		Bandwidth:    im.Bandwidth.BitsPerSecond(),
		QueueLimit:   im.QueueLimit,
		MTU:          im.MTU,
	}
	if ge := im.GilbertElliott; ge != nil {
		out.Burst = netstack.GilbertElliott{P: float64(ge.P), R: float64(ge.R)}
		if ge.H != nil {
			out.Burst.BadLoss = 100 - float64(*ge.H)
		}
		if ge.K != nil {
			out.Burst.GoodLoss = 100 - float64(*ge.K)
		}
	}
	return out, nil
}

func directionOf(d scenario.LinkDirection) netstack.Direction {
	switch d {
	case scenario.Out:
		return netstack.Egress
	case scenario.In:
		return netstack.Ingress
	}
	return netstack.Both
}

// applyLinks sets the scenario's link impairments. A board's NIC is only on
// a medium while associated, so its impairments are also kept for Join; a
// board's link that is down loses every frame.
func (w *World) applyLinks() error {
	for i, l := range w.sc.Links {
		imp, err := impairmentsOf(l.Impairment)
		if err != nil {
			return fmt.Errorf("links[%d]: %w", i, err)
		}
		if err := w.setLink(l.Node, directionOf(l.Direction), imp, l.Down); err != nil {
			return fmt.Errorf("links[%d]: %w", i, err)
		}
	}
	return nil
}

func (w *World) setLink(node string, dir netstack.Direction, imp netstack.Impairments, down bool) error {
	if names, ok := w.sc.InstancesOf(node); ok {
		for _, n := range names {
			if down {
				imp.Loss = 100
			}
			if err := w.byName[n].uplink.set(dir, imp); err != nil {
				return err
			}
		}
		return nil
	}
	nics, ok := w.nics[node]
	if !ok {
		return fmt.Errorf("unknown node %q", node)
	}
	for _, nic := range nics {
		if att := nic.Attachment(); att != nil {
			if err := att.SetDirectionImpairments(dir, imp); err != nil {
				return err
			}
			att.SetUp(!down)
		}
	}
	return nil
}

// boardUplink is wifi's NIC uplink plus the board's radio link impairments
// in each direction, applied again every time the board (re)joins.
type boardUplink struct {
	wifi.NICUplink

	mu              sync.Mutex
	egress, ingress netstack.Impairments
}

func (u *boardUplink) Join(ap *wifi.AccessPoint) error {
	if err := u.NICUplink.Join(ap); err != nil {
		return err
	}
	return u.apply()
}

// set changes the impairments of one or both directions.
func (u *boardUplink) set(dir netstack.Direction, imp netstack.Impairments) error {
	u.mu.Lock()
	if dir != netstack.Ingress {
		u.egress = imp
	}
	if dir != netstack.Egress {
		u.ingress = imp
	}
	u.mu.Unlock()
	return u.apply()
}

func (u *boardUplink) apply() error {
	att := u.NIC.Attachment()
	if att == nil {
		return nil
	}
	u.mu.Lock()
	egress, ingress := u.egress, u.ingress
	u.mu.Unlock()
	if err := att.SetDirectionImpairments(netstack.Egress, egress); err != nil {
		return err
	}
	return att.SetDirectionImpairments(netstack.Ingress, ingress)
}

// lockedBuffer is a bytes.Buffer safe for the capture writer and a reader.
type lockedBuffer = syncbuf.Buffer

// boardNames lists the boards in creation order.
func (w *World) boardNames() []string {
	names := make([]string, len(w.boards))
	for i, b := range w.boards {
		names[i] = b.inst.Name
	}
	sort.Strings(names)
	return names
}

//go:embed defaultworld.yaml
var defaultWorld []byte

// DefaultWorld is the scenario of ad-hoc runs (`esp8266sim run SCRIPT.py`)
// in YAML: the access point SimNet, the PC on the LAN with the tutorial's
// chat service, the tutorials' internet hosts and one board, esp1, whose
// main.py the caller supplies (boards[0].code).
func DefaultWorld() []byte { return bytes.Clone(defaultWorld) }

// captureAir gives the access point's air its own 802.11 interface in the
// capture: the join's management frames and the stations' data frames go
// there, the wired side stays Ethernet.
func (w *World) captureAir(a *apNode, bssid net.HardwareAddr) error {
	if w.capture == nil {
		return nil
	}
	cfg := a.cfg
	signal := cfg.RSSI
	if signal == 0 {
		signal = -50
	}
	sec := securityOf(cfg.Security)
	err := w.capture.AddAir(netstack.AirConfig{
		Name: cfg.Name, SSID: cfg.SSID, Hidden: cfg.Hidden, BSSID: bssid, Channel: cfg.Channel, Signal: signal,
		RSN: sec == wifi.WPA2PSK || sec == wifi.WPAWPA2PSK || sec == wifi.WPAPSK,
	})
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	a.lan.SetAir(bssid)
	return nil
}
