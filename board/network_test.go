package board_test

// End-to-end tests of the network module: real firmware, real wifi layer,
// real netstack nodes and DHCP. The board package itself knows nothing of
// wifi or netstack (it owns the WLAN interface); only this test wires them,
// the way the sim layer does.

import (
	"context"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/board"
	boardnet "github.com/esp8266sim/esp8266sim/board/net"
	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"github.com/esp8266sim/esp8266sim/netstack"
	"github.com/esp8266sim/esp8266sim/netstack/dhcp"
	"github.com/esp8266sim/esp8266sim/wifi"
)

var _ boardnet.WLAN = (*wifi.Radio)(nil)

// netWorld is the minimal simulated world: a clock, the air, access points
// with a router and DHCP server each, and boards.
type netWorld struct {
	t     *testing.T
	clock *vclock.Clock
	log   *trace.Log
	air   *wifi.Air
	lans  *wifi.LANs
	ctx   context.Context
	fw    *board.Firmware
	seed  uint64
}

func newNetWorld(t *testing.T, seed uint64) *netWorld {
	t.Helper()
	clock := vclock.New(vclock.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		clock.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	log := trace.New(trace.Config{})
	air, err := wifi.New(wifi.Config{Clock: clock, Seed: seed, Trace: log})
	if err != nil {
		t.Fatal(err)
	}
	fw, err := board.DefaultFirmware()
	if err != nil {
		t.Fatalf("DefaultFirmware: %v", err)
	}
	return &netWorld{t: t, clock: clock, log: log, air: air, lans: &wifi.LANs{}, ctx: ctx, fw: fw, seed: seed}
}

func (w *netWorld) node(name string) *netstack.Node {
	n, err := netstack.NewNode(netstack.NodeConfig{Name: name, Clock: w.clock, Seed: w.seed, Trace: w.log})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(n.Close)
	return n
}

// router adds an access point with a router (192.168.1.1, DHCP .100–.199).
func (w *netWorld) router(cfg wifi.APConfig) *wifi.AccessPoint {
	w.t.Helper()
	ap, err := w.air.AddAP(cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	lan, err := netstack.NewMedium(netstack.MediumConfig{Name: "lan-" + ap.Name(), Clock: w.clock, Seed: w.seed, Trace: w.log})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(lan.Close)
	r := w.node("router-" + ap.Name())
	gw := netip.MustParseAddr("192.168.1.1")
	nic, err := r.AddNIC(lan, netstack.NICConfig{Addr: netip.MustParsePrefix("192.168.1.1/24")})
	if err != nil {
		w.t.Fatal(err)
	}
	srv, err := dhcp.NewServer(dhcp.ServerConfig{Stack: r.Stack(), NIC: nic.ID(), ServerIP: gw,
		Subnet: netip.MustParsePrefix("192.168.1.0/24"), Router: gw, DNS: []netip.Addr{gw},
		PoolStart: netip.MustParseAddr("192.168.1.100"), PoolEnd: netip.MustParseAddr("192.168.1.199"),
		Clock: w.clock, Seed: w.seed})
	if err != nil {
		w.t.Fatal(err)
	}
	if err := srv.Start(w.ctx); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(srv.Close)
	ap.SetDHCP(srv)
	w.lans.Set(ap, lan)
	return ap
}

type testBoard struct {
	b       *board.Board
	radio   *wifi.Radio
	console *syncBuf
	done    chan struct{}
	res     board.Result
	err     error
}

// board builds a board with its radio (soft-AP on, as on a fresh board) and
// main.py, and starts it.
func (w *netWorld) board(name string, mac byte, main string) *testBoard {
	w.t.Helper()
	return w.boardTyped(name, mac, main, "")
}

// boardTyped is board with keys typed at its REPL (see stdinOf).
func (w *netWorld) boardTyped(name string, mac byte, main string, keys string) *testBoard {
	w.t.Helper()
	return w.boardWithInput(name, mac, main, stdinOf(keys))
}

// typeAfter types keys once ready is closed, then ends.
type typeAfter struct {
	ready chan struct{}
	keys  string
}

func (r *typeAfter) Read(p []byte) (int, error) {
	<-r.ready
	if r.keys == "" {
		return 0, io.EOF
	}
	n := copy(p, r.keys)
	r.keys = r.keys[n:]
	return n, nil
}

// boardWithInput is board with its UART fed from in (nil: not interactive).
func (w *netWorld) boardWithInput(name string, mac byte, main string, in io.Reader) *testBoard {
	w.t.Helper()
	hw := net.HardwareAddr{0x5c, 0xcf, 0x7f, 0x10, 0x20, mac}
	n := w.node(name)
	nic, err := n.AddNIC(nil, netstack.NICConfig{MAC: hw})
	if err != nil {
		w.t.Fatal(err)
	}
	addr, err := wifi.NewNetAddressing(wifi.NetAddressingConfig{Ctx: w.ctx, NIC: nic, Clock: w.clock, Seed: w.seed, Name: name, Trace: w.log})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(addr.Close)
	sta, err := w.air.NewStation(wifi.StationConfig{Name: name, MAC: hw, Uplink: &wifi.NICUplink{NIC: nic, LANs: w.lans}, Addressing: addr})
	if err != nil {
		w.t.Fatal(err)
	}
	radio, err := wifi.NewRadio(wifi.RadioConfig{Ctx: w.ctx, Air: w.air, Station: sta, Node: n, LANs: w.lans, Trace: w.log, Seed: w.seed, SoftAPActive: true})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(radio.Close)
	tb := &testBoard{radio: radio, console: &syncBuf{}, done: make(chan struct{})}
	b, err := board.New(board.Config{
		Name: name, MAC: [6]byte(hw), Seed: w.seed, Console: tb.console,
		Files: map[string][]byte{"main.py": []byte(main)},
		Env:   map[any]any{boardnet.WLANKey{}: boardnet.WLAN(radio)},
		Stdin: in,
	}, w.fw, w.clock)
	if err != nil {
		w.t.Fatal(err)
	}
	tb.b = b
	w.t.Cleanup(func() { b.Close() })
	go func() {
		defer close(tb.done)
		ctx, cancel := context.WithTimeout(w.ctx, 60*time.Second)
		defer cancel()
		tb.res, tb.err = b.Run(ctx)
		// A board that has finished must not hold simulator time still
		// for the others: its actor goes away with Close.
		b.Close()
	}()
	return tb
}

// wait waits for the board's script to end and returns its console.
func (tb *testBoard) wait(t *testing.T) string {
	t.Helper()
	select {
	case <-tb.done:
	case <-time.After(90 * time.Second):
		t.Fatalf("board did not finish; console so far:\n%s", tb.console.String())
	}
	if tb.err != nil {
		t.Fatalf("Run: %v\nconsole:\n%s", tb.err, tb.console.String())
	}
	return tb.console.String()
}

func (tb *testBoard) mustFinish(t *testing.T, w *netWorld) string {
	t.Helper()
	out := tb.wait(t)
	if tb.res.Outcome != board.Finished {
		t.Fatalf("outcome %v (%s)\nconsole:\n%s\ntrace:\n%s", tb.res.Outcome, tb.res.Message, out, w.log.String())
	}
	return out
}

func homeAP() wifi.APConfig {
	return wifi.APConfig{SSID: "SimNet", Security: wifi.WPA2PSK, Passphrase: "correct horse", Channel: 6}
}

func TestNetworkTutorialConnectLoops(t *testing.T) {
	for _, tc := range []struct{ name, loop string }{
		{"isconnected", "while not sta.isconnected():\n    pass\n"},
		{"ifconfig", "while sta.ifconfig()[0] == '0.0.0.0':\n    pass\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if raceEnabled && tc.name == "ifconfig" {
				t.Skip("slow under the race detector; the isconnected variant runs")
			}
			w := newNetWorld(t, 31)
			w.router(homeAP())
			tb := w.board("esp1", 1, `import network, time
sta = network.WLAN(network.STA_IF)
print(sta.active(), sta.status(), sta.isconnected(), sta.ifconfig())
sta.active(True)
print(sta.active(), sta.status())
t0 = time.ticks_ms()
sta.connect('SimNet', 'correct horse')
print(sta.status())
`+tc.loop+`print('network config:', sta.ifconfig())
print(sta.status(), sta.isconnected(), network.STAT_GOT_IP)
dt = time.ticks_diff(time.ticks_ms(), t0)
print('took', 1500 < dt < 5000)
print(sta.config('ssid'), sta.status('rssi') < 0, sta.config('channel'))
`)
			out := tb.mustFinish(t, w)
			want := "False 255 False ('0.0.0.0', '0.0.0.0', '0.0.0.0', '0.0.0.0')\n" +
				"True 0\n" +
				"1\n" +
				"network config: ('192.168.1.100', '255.255.255.0', '192.168.1.1', '192.168.1.1')\n" +
				"5 True 5\n" +
				"took True\n" +
				"SimNet True 6\n"
			if !strings.Contains(out, want) {
				t.Errorf("console:\n%s\nwant it to contain:\n%s", out, want)
			}
		})
	}
}

func TestNetworkFailures(t *testing.T) {
	if raceEnabled {
		t.Skip("slow under the race detector; wifi's tests cover the failures")
	}
	for _, tc := range []struct {
		name, ssid, key, want string
	}{
		{"wrong password", "SimNet", "wrong horse", "status 2 False\n"},
		{"unknown ssid", "Nowhere", "whatever1", "status 3 False\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newNetWorld(t, 32)
			w.router(homeAP())
			tb := w.board("esp1", 1, `import network, time
sta = network.WLAN(network.STA_IF)
sta.active(True)
sta.connect('`+tc.ssid+`', '`+tc.key+`')
while sta.status() == network.STAT_CONNECTING:
    time.sleep_ms(50)
print('status', sta.status(), sta.isconnected())
time.sleep(20)
print('later', sta.status(), sta.isconnected())
`)
			out := tb.mustFinish(t, w)
			st := strings.Fields(tc.want)[1]
			if !strings.Contains(out, tc.want) || !strings.Contains(out, "later "+st+" False\n") {
				t.Errorf("console:\n%s\nwant %q then later %s False", out, tc.want, st)
			}
		})
	}
}

func TestNetworkAPSwitchedOffMidSession(t *testing.T) {
	if raceEnabled {
		t.Skip("slow under the race detector; wifi's tests cover the loss")
	}
	w := newNetWorld(t, 33)
	ap := w.router(homeAP())
	tb := w.board("esp1", 1, `import network, time
sta = network.WLAN(network.STA_IF)
sta.active(True)
sta.connect('SimNet', 'correct horse')
while not sta.isconnected():
    time.sleep_ms(100)
print('up', sta.ifconfig()[0])
while sta.isconnected():
    time.sleep_ms(100)
print('lost', sta.isconnected(), sta.status(), sta.ifconfig()[0])
while not sta.isconnected():
    time.sleep_ms(100)
print('back', sta.isconnected(), sta.ifconfig()[0])
`)
	// Switch the AP off at 4 s and on again at 14 s of simulator time.
	w.clock.AfterFunc(4*time.Second, func() { ap.SetDown(true) })
	w.clock.AfterFunc(14*time.Second, func() { ap.SetDown(false) })
	out := tb.mustFinish(t, w)
	for _, want := range []string{"up 192.168.1.100\n", "lost False 1 0.0.0.0\n", "back True 192.168.1.100\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("console lacks %q:\n%s", want, out)
		}
	}
}

func TestNetworkSoftAPJoinedByAnotherBoard(t *testing.T) {
	w := newNetWorld(t, 34)
	apBoard := w.board("esp1", 1, `import network, time
ap = network.WLAN(network.AP_IF)
print(ap.active(), ap.config('ssid'), ap.config('security'), ap.ifconfig())
while not ap.isconnected():
    pass
while not ap.status('stations') or ap.status('stations')[0][1] == '0.0.0.0':
    pass
st = ap.status('stations')
print(len(st), st[0][0].hex(), st[0][1])
`)
	// Start the second board once the first one runs its loop: wazero
	// caches function-type keys lazily, racing when two instances make their
	// first invoke_* calls at the same time (wazero issue #2520).
	apBoard.waitConsole(t, "MicroPython-")
	staBoard := w.board("esp2", 2, `import network, time
sta = network.WLAN(network.STA_IF)
sta.active(True)
nets = sta.scan()
print([(n[0], n[2], n[4], n[5]) for n in nets])
sta.connect('MicroPython-102001', 'micropythoN')
while not sta.isconnected():
    pass
print(sta.ifconfig())
`)
	out1 := apBoard.mustFinish(t, w)
	out2 := staBoard.mustFinish(t, w)
	if want := "True MicroPython-102001 4 ('192.168.4.1', '255.255.255.0', '192.168.4.1', '0.0.0.0')\n"; !strings.Contains(out1, want) {
		t.Errorf("soft-AP board console:\n%s\nwant %q", out1, want)
	}
	if want := "1 5ccf7f102002 192.168.4.2\n"; !strings.Contains(out1, want) {
		t.Errorf("soft-AP board console:\n%s\nwant stations %q", out1, want)
	}
	if want := "(b'MicroPython-102001', 1, 4, 0)"; !strings.Contains(out2, want) {
		t.Errorf("station board scan:\n%s\nwant it to list %s", out2, want)
	}
	if want := "('192.168.4.2', '255.255.255.0', '192.168.4.1', '192.168.4.1')\n"; !strings.Contains(out2, want) {
		t.Errorf("station board console:\n%s\nwant %q", out2, want)
	}
}

func TestNetworkErrors(t *testing.T) {
	w := newNetWorld(t, 35)
	w.router(homeAP())
	tb := w.board("esp1", 1, `import network
sta = network.WLAN(network.STA_IF)
ap = network.WLAN(network.AP_IF)
def t(f):
    try:
        r = f()
        print('ok', r)
    except Exception as e:
        print(type(e).__name__, e)
t(lambda: sta.scan())
t(lambda: sta.config('nosuch'))
t(lambda: sta.config(nosuch=1))
t(lambda: sta.config('key'))
t(lambda: sta.config(ssid='x'))
t(lambda: ap.connect('x', 'y'))
t(lambda: sta.status('stations'))
t(lambda: ap.status())
t(lambda: sta.config())
t(lambda: sta.config('mac', channel=1))
t(lambda: ap.config(key='short'))
t(lambda: sta.ifconfig(('1.2.3', '255.255.255.0', '1.2.3.1', '8.8.8.8')))
t(lambda: sta.ifconfig(('1.2.3.4', '255.255.255.0')))
t(lambda: network.hostname('x' * 33))
t(lambda: network.WLAN(2))
t(lambda: sta.connect('SimNet', 'correct horse'))
t(lambda: network.ipconfig('nope'))
print(network.hostname(), network.phy_mode() == network.MODE_11N, network.WLAN.IF_AP, network.WLAN.SEC_WPA_WPA2)
print(network.WLAN() is sta, network.WLAN(1) is ap, sta)
sta.active(True)
print(len(sta.scan()))
print(sta.config('mac').hex(), ap.config('mac').hex())
`)
	out := tb.mustFinish(t, w)
	want := `OSError STA must be active
ValueError unknown config param
ValueError unknown config param
ValueError unknown config param
OSError AP required
OSError STA required
ValueError unknown status param
ok -1
TypeError can query only one param
TypeError either pos or kw args are allowed
OSError can't set AP config
ValueError invalid arguments
ValueError requested length 4 but object has length 2
ValueError 
ValueError 
OSError Cannot connect to AP
ValueError unexpected key
mpy-esp8266 True 1 4
True True <WLAN>
1
5ccf7f102001 5ecf7f102001
`
	if !strings.Contains(out, want) {
		t.Errorf("console:\n%s\nwant:\n%s", out, want)
	}
}

func TestNetworkRemembersAcrossResets(t *testing.T) {
	if raceEnabled {
		t.Skip("slow under the race detector")
	}
	w := newNetWorld(t, 36)
	w.router(homeAP())
	// Step 0 ends main.py with machine.soft_reset() (sys.exit() on the
	// board) and Ctrl-D at the REPL soft-reboots; step 1 hard-resets.
	tb := w.boardTyped("esp1", 1, `import network, os, machine
sta = network.WLAN(network.STA_IF)
try:
    step = open('step').read()
except OSError:
    step = '0'
if step == '0':
    sta.active(True)
    sta.connect('SimNet', 'correct horse')
    while not sta.isconnected():
        pass
    print('first', sta.ifconfig()[0])
    open('step', 'w').write('1')
    machine.soft_reset()
elif step == '1':
    print('after soft reset', sta.isconnected(), sta.ifconfig()[0])
    open('step', 'w').write('2')
    machine.reset()
else:
    print('after hard reset', sta.active(), sta.isconnected(), sta.status())
    while not sta.isconnected():
        pass
    print('auto-connected', sta.config('ssid'), sta.ifconfig()[0])
`, "\x04")
	out := norm(tb.mustFinish(t, w))
	for _, want := range []string{
		"first 192.168.1.100\n",
		"after soft reset True 192.168.1.100\n",
		"after hard reset True False 1\n",
		"auto-connected SimNet 192.168.1.100\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("console lacks %q:\n%s", want, out)
		}
	}
}

func TestNetworkSoftAPReconfigured(t *testing.T) {
	w := newNetWorld(t, 37)
	apBoard := w.board("esp1", 1, `import network
ap = network.WLAN(network.AP_IF)
ap.config(ssid='Lab', key='labpass123', channel=11)
ap.ifconfig(('10.0.0.1', '255.255.255.0', '10.0.0.1', '10.0.0.1'))
print(ap.config('ssid'), ap.config('channel'), ap.config('security'), ap.ifconfig())
while not ap.isconnected():
    pass
print('joined')
`)
	apBoard.waitConsole(t, "Lab")
	staBoard := w.board("esp2", 2, `import network
sta = network.WLAN(network.STA_IF)
sta.active(True)
print([(n[0], n[2], n[4]) for n in sta.scan() if n[0] == b'Lab'])
sta.connect('Lab', 'labpass123')
while not sta.isconnected():
    pass
print(sta.ifconfig())
`)
	out1 := apBoard.mustFinish(t, w)
	out2 := staBoard.mustFinish(t, w)
	if want := "Lab 11 4 ('10.0.0.1', '255.255.255.0', '10.0.0.1', '10.0.0.1')\n"; !strings.Contains(out1, want) {
		t.Errorf("soft-AP board console:\n%s\nwant %q", out1, want)
	}
	if want := "[(b'Lab', 11, 4)]\n"; !strings.Contains(out2, want) {
		t.Errorf("station board console:\n%s\nwant scan %q", out2, want)
	}
	if want := "('10.0.0.2', '255.255.255.0', '10.0.0.1', '10.0.0.1')\n"; !strings.Contains(out2, want) {
		t.Errorf("station board console:\n%s\nwant %q", out2, want)
	}
}

// waitConsole waits (in wall time) until the board has printed s.
func (tb *testBoard) waitConsole(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(tb.console.String(), s) {
		select {
		case <-tb.done:
			t.Fatalf("board ended before printing %q:\n%s", s, tb.console.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("board did not print %q:\n%s", s, tb.console.String())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestNetworkCtrlCEndsConnectLoop: Ctrl-C typed while the tutorial's
// `while not sta.isconnected(): pass` polls a network that never comes (a
// wrong password) raises KeyboardInterrupt in main.py; the REPL follows.
func TestNetworkCtrlCEndsConnectLoop(t *testing.T) {
	w := newNetWorld(t, 32)
	w.router(homeAP())
	keys := &typeAfter{ready: make(chan struct{}), keys: "\x03"}
	tb := w.boardWithInput("esp1", 1, `import network
sta = network.WLAN(network.STA_IF)
sta.active(True)
sta.connect('SimNet', 'wrong password')
print('polling')
while not sta.isconnected():
    pass
print('connected?')
`, keys)
	// A Ctrl-C typed before main.py runs would only be a key in the UART
	// buffer, as on the board: type it once the loop polls.
	go func() {
		for !strings.Contains(tb.console.String(), "polling") {
			time.Sleep(time.Millisecond)
		}
		close(keys.ready)
	}()
	out := norm(tb.mustFinish(t, w))
	if !strings.Contains(out, "polling\nTraceback (most recent call last):\n  File \"main.py\", line ") || !strings.Contains(out, ", in <module>\nKeyboardInterrupt: \n") {
		t.Errorf("no KeyboardInterrupt in the connect loop:\n%s", out)
	}
	if strings.Contains(out, "connected?") {
		t.Errorf("the loop ended by itself:\n%s", out)
	}
}
