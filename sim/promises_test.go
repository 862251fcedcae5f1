package sim

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/board"
	"github.com/esp8266sim/esp8266sim/sim/report"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// The tests in this file hold the scenario's documented promises (issue
// 14): each fails when the feature it names is taken out.

// runYAMLWith builds and runs an inline scenario with options (trace,
// capture) and returns the result; the world is closed, so the writers in
// opts hold the whole run.
func runYAMLWith(t *testing.T, yaml string, opts Options) *Result {
	t.Helper()
	res, _ := runScenario(t, parseYAML(t, "test.yaml", yaml), opts)
	return res
}

// waitJoined is a script prologue: wait (without connect()) until the
// station has an address.
const waitJoined = `import network, time
sta = network.WLAN(network.STA_IF)
for i in range(100):
    if sta.isconnected():
        break
    time.sleep_ms(100)
`

var waitJoinedIndented = indent(waitJoined, 6)

// numbers returns the integers following key= in a console.
func numbers(t *testing.T, console, key string) []int {
	t.Helper()
	var out []int
	for _, m := range regexp.MustCompile(regexp.QuoteMeta(key)+`=(-?\d+)`).FindAllStringSubmatch(console, -1) {
		n, _ := strconv.Atoi(m[1])
		out = append(out, n)
	}
	return out
}

func near(got, want, tol int) bool { return got >= want-tol && got <= want+tol }

// boards[].wifi: a board with a remembered network joins it at boot
// without calling active() or connect(), sending the SDK's hostname.
// boards[].rssi: the board sees its own signal, not the access point's;
// rssi_by_board wins over it.
func TestRememberedWiFiAndBoardRSSI(t *testing.T) {
	var trace bytes.Buffer
	res := runYAMLWith(t, `
wifi:
  access_points:
    - {ssid: HomeNet, passphrase: secret-pass, rssi: -50, rssi_by_board: [{board: esp3, rssi: -70}]}
boards:
  - name: esp1
    rssi: -85
    wifi: {ssid: HomeNet, password: secret-pass}
    code: |
`+indent(waitJoined, 6)+`
      print("joined", sta.isconnected(), sta.config('ssid'), "rssi=%d" % sta.status('rssi'))
  - name: esp2
    wifi: {ssid: HomeNet, password: secret-pass}
    code: |
`+indent(waitJoined, 6)+`
      print("joined", sta.isconnected(), "rssi=%d" % sta.status('rssi'))
  - name: esp3
    rssi: -85
    wifi: {ssid: HomeNet, password: secret-pass}
    code: |
`+indent(waitJoined, 6)+`
      print("joined", sta.isconnected(), "rssi=%d" % sta.status('rssi'))
`, Options{Trace: &trace})
	for i, want := range []int{-85, -50, -70} {
		b := res.Boards[i]
		if !strings.Contains(b.Console, "joined True") {
			t.Errorf("%s did not join its remembered network at boot: %q (wifi %s)", b.Name, b.Console, b.WiFi)
			continue
		}
		if got := numbers(t, b.Console, "rssi"); len(got) != 1 || !near(got[0], want, 3) {
			t.Errorf("%s sees rssi %v, want %d±3", b.Name, got, want)
		}
	}
	if !strings.Contains(trace.String(), `dhcp client start (hostname "ESP_`) {
		t.Errorf("a board joining at boot sends the SDK's hostname ESP_xxxxxx; trace:\n%s", clip(trace.String(), 3000))
	}
}

// indent prefixes every line of s with n spaces (scripts inside YAML).
func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pad + l
	}
	return strings.Join(lines, "\n")
}

// An rssi fault with "for" is undone when it ends, back to the board's
// configured signal, with an "ends" line in the trace.
func TestRSSIFaultForIsRestored(t *testing.T) {
	var trace bytes.Buffer
	res := runYAMLWith(t, `
wifi:
  access_points:
    - {ssid: HomeNet, passphrase: secret-pass, rssi: -50}
boards:
  - name: esp1
    wifi: {ssid: HomeNet, password: secret-pass}
    code: |
`+indent(waitJoined, 6)+`
      for t in (5, 10, 20):
          while time.ticks_ms() < t * 1000:
              time.sleep_ms(100)
          print("t=%d rssi=%d" % (t, sta.status('rssi')))
faults:
  - {at: 8s, for: 5s, kind: rssi, target: esp1, rssi: -88}
`, Options{Trace: &trace})
	got := numbers(t, res.Boards[0].Console, "rssi")
	want := []int{-50, -88, -50}
	if len(got) != 3 {
		t.Fatalf("console %q", res.Boards[0].Console)
	}
	for i := range want {
		if !near(got[i], want[i], 3) {
			t.Errorf("rssi readings %v, want %v ±3", got, want)
			break
		}
	}
	if !strings.Contains(trace.String(), "fault: rssi esp1 ends") {
		t.Errorf("no 'ends' line in the trace")
	}
}

// dns_fail with a name fails that name only, and only for its duration.
func TestDNSFailOneName(t *testing.T) {
	res := runYAMLWith(t, `
wifi:
  access_points:
    - {ssid: HomeNet, passphrase: secret-pass}
internet_hosts:
  - {name: one.sim, services: {tcp_echo: 7}}
  - {name: two.sim, services: {tcp_echo: 7}}
boards:
  - name: esp1
    wifi: {ssid: HomeNet, password: secret-pass}
    code: |
`+indent(waitJoined, 6)+`
      import socket
      def look(n):
          try:
              return socket.getaddrinfo(n, 7)[0][-1][0]
          except OSError as e:
              return "err%d" % e.errno
      while time.ticks_ms() < 5000:
          time.sleep_ms(100)
      print("during", look("one.sim"), look("two.sim"))
      while time.ticks_ms() < 20000:
          time.sleep_ms(100)
      print("after", look("one.sim"), look("two.sim"))
faults:
  - {at: 3s, for: 10s, kind: dns_fail, mode: nxdomain, name: one.sim}
`, Options{})
	c := res.Boards[0].Console
	if !regexp.MustCompile(`during err-\d+ 203\.0\.113\.\d+`).MatchString(c) ||
		!regexp.MustCompile(`after 203\.0\.113\.\d+ 203\.0\.113\.\d+`).MatchString(c) {
		t.Errorf("console %q: want one.sim failing during the fault only, two.sim always resolving", c)
	}
}

// A host bandwidth fault paces the service at the rate written in bits per
// second: 80kbit moves 10 kB in about a second.
func TestHostBandwidthFaultRate(t *testing.T) {
	res := runYAMLWith(t, `
wifi:
  access_points:
    - {ssid: HomeNet, passphrase: secret-pass}
internet_hosts:
  - name: slow.sim
    services:
      http:
        pages: [{path: /big, body: "`+strings.Repeat("x", 10000)+`"}]
    faults:
      - {kind: bandwidth, rate: 80kbit, direction: downstream}
boards:
  - name: esp1
    wifi: {ssid: HomeNet, password: secret-pass}
    code: |
`+indent(waitJoined, 6)+`
      import socket
      s = socket.socket()
      s.connect(socket.getaddrinfo("slow.sim", 80)[0][-1])
      s.send(b"GET /big HTTP/1.0\r\nHost: slow.sim\r\n\r\n")
      t0 = time.ticks_ms()
      n = 0
      while True:
          d = s.recv(1024)
          if not d:
              break
          n += len(d)
      print("got", n, "ms=%d" % time.ticks_diff(time.ticks_ms(), t0))
`, Options{})
	ms := numbers(t, res.Boards[0].Console, "ms")
	// 10 kB of body plus headers at 10 kB/s: about one second. Bits
	// passed as bytes would take an eighth of that.
	if len(ms) != 1 || ms[0] < 900 || ms[0] > 1600 {
		t.Errorf("download took %v ms, want about 1000 (80 kbit/s); console %q", ms, res.Boards[0].Console)
	}
}

// within: on peer_received and capture fails an exchange that came later
// than the deadline, and passes one that came in time. (A failed
// expectation ends the run, so the late cases run apart.)
func TestWithinOnPeerReceivedAndCapture(t *testing.T) {
	world := `
wifi:
  access_points:
    - {ssid: HomeNet, passphrase: secret-pass}
lan_peers:
  - {name: pc, services: {tcp_echo: 7}}
boards:
  - name: esp1
    wifi: {ssid: HomeNet, password: secret-pass}
    code: |
` + waitJoinedIndented + `
      import socket
      while time.ticks_ms() < 6000:
          time.sleep_ms(100)
      s = socket.socket()
      s.connect(("192.168.1.2", 7))
      s.send(b"Hello")
      s.recv(5)
      s.close()
      try:
          socket.getaddrinfo("late.example", 80)
      except OSError:
          pass
expect:
`
	for _, tt := range []struct {
		name   string
		expect string
		want   []bool
	}{
		{"in time", `
  - {peer_received: {peer: pc, text: Hello}, within: 20s}
  - {capture: {tcp_handshake: {from: esp1, to: pc, port: 7}}, within: 20s}
  - {capture: {dns_query: late.example}, within: 20s}
  - {capture: {dhcp_dora: esp1}, within: 4s}
`, []bool{true, true, true, true}},
		{"capture late", `
  - {capture: {tcp_handshake: {from: esp1, to: pc, port: 7}}, within: 4s}
  - {capture: {dns_query: late.example}, within: 4s}
  - {capture: {dhcp_dora: esp1}, within: 1s}
`, []bool{false, false, false}},
		{"peer late", `
  - {peer_received: {peer: pc, text: Hello}, within: 4s}
`, []bool{false}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := runYAMLWith(t, world+tt.expect, Options{})
			for i, e := range res.Expectations {
				if e.Passed != tt.want[i] {
					t.Errorf("expectation %d %q passed=%v, want %v (%s)", i, e.Description, e.Passed, tt.want[i], e.Reason)
				}
				if !e.Passed && !strings.Contains(e.Reason, "after") && !strings.Contains(e.Reason, "within") {
					t.Errorf("expectation %d failed for another reason: %s", i, e.Reason)
				}
			}
		})
	}
}

// The socket table of the report and sockets_empty_at_end are read at the
// end of the run, before the boards are closed.
func TestSocketTableAtEnd(t *testing.T) {
	res := runYAMLWith(t, `
wifi:
  access_points:
    - {ssid: HomeNet, passphrase: secret-pass}
lan_peers:
  - {name: pc, services: {tcp_echo: 7}}
boards:
  - name: esp1
    wifi: {ssid: HomeNet, password: secret-pass}
    code: |
`+indent(waitJoined, 6)+`
      import socket
      s = socket.socket()
      s.connect(("192.168.1.2", 7))
      u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
      u.bind(("0.0.0.0", 5005))
      print("open")
expect:
  - {sockets_empty_at_end: true, board: esp1}
`, Options{})
	b := res.Boards[0]
	if len(b.SocketRows) != 2 {
		t.Errorf("socket rows %+v, want the TCP connection and the UDP socket", b.SocketRows)
	}
	if e := res.Expectations[0]; e.Passed || !strings.Contains(e.Reason, "2 sockets left") {
		t.Errorf("sockets_empty_at_end: passed=%v %q, want a failure naming 2 sockets", e.Passed, e.Reason)
	}
	rep := res.Report()
	if len(rep.Boards[0].Sockets) != 2 {
		t.Errorf("report sockets %+v", rep.Boards[0].Sockets)
	}
}

// The report says when a program ended (simulated time), not 0.
func TestExitTimeReported(t *testing.T) {
	res := runYAMLWith(t, `
boards:
  - name: esp1
    code: |
      import time
      time.sleep(3)
      print("done")
  - name: esp2
    code: |
      import time
      time.sleep(1)
      raise ValueError("late")
expect:
  - {exit: {kind: exception, type: ValueError}, board: esp2}
`, Options{})
	for i, want := range []time.Duration{3 * time.Second, time.Second} {
		got := res.Boards[i].EndedAt
		if got < want || got > want+500*time.Millisecond {
			t.Errorf("%s ended at %v, want about %v", res.Boards[i].Name, got, want)
		}
		if at := res.Report().Boards[i].Exit.At; at != got {
			t.Errorf("report exit at %v, want %v", at, got)
		}
		var js bytes.Buffer
		if err := report.WriteJSON(&js, res.Report()); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf(`"at_s": %v`, got.Seconds()); !strings.Contains(js.String(), want) {
			t.Errorf("JSON lacks %s:\n%s", want, js.String())
		}
	}
}

// A verdict is PASS only when every board's program ended as expected:
// an uncaught exception nobody expected fails the run even when every
// expectation held; an exit expectation makes it expected.
func TestUnexpectedEndFailsVerdict(t *testing.T) {
	const raises = "print('before')\n      raise OSError(5)\n"
	const returns = "print('before')\n"
	const loops = "import time\n      print('before')\n      while True:\n          time.sleep(1)\n"
	for _, tt := range []struct {
		name, code, expect string
		pass               bool
	}{
		{"exception not expected", raises, "  - console_contains: before\n", false},
		{"exception expected", raises, "  - console_contains: before\n  - exit: {kind: exception, type: OSError}\n", true},
		// Each exit kind holds only for its own ending.
		{"clean expected, clean", returns, "  - exit: clean\n", true},
		{"clean expected, exception", raises, "  - exit: clean\n", false},
		{"running expected, running", loops, "  - exit: running\n", true},
		{"running expected, clean", returns, "  - exit: running\n", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := runYAMLWith(t, "duration: 5s\ntime_mode: fast\nboards:\n  - name: esp1\n    code: |\n      "+tt.code+"expect:\n"+tt.expect, Options{})
			if res.Passed() != tt.pass || res.Report().Passed() != tt.pass {
				t.Errorf("Passed %v, report %v; want %v (board %s)", res.Passed(), res.Report().Passed(), tt.pass, res.Boards[0].Outcome)
			}
		})
	}
}

// A cancelled run is a cancelled run: not passed, marked so, and the
// socket table is still read.
func TestCancelledRun(t *testing.T) {
	sc := parseYAML(t, "test.yaml", `
duration: 1h
time_mode: realtime
boards:
  - name: esp1
    code: |
      import socket, time
      u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
      u.bind(("0.0.0.0", 5005))
      print("ready")
      while True:
          time.sleep(1)
`)
	w := newTestWorld(t, sc, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for !strings.Contains(w.byName["esp1"].console.Text(), "ready") {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	res, err := w.Run(ctx, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Cancelled || res.Passed() || res.Report().Passed() {
		t.Errorf("cancelled=%v passed=%v report passed=%v; want a cancelled, failed run", res.Cancelled, res.Passed(), res.Report().Passed())
	}
	if len(res.Boards[0].SocketRows) != 1 {
		t.Errorf("socket rows %+v, want the UDP socket", res.Boards[0].SocketRows)
	}
}

// runShippedWith runs an embedded scenario with overrides and returns the
// result, the capture and the trace.
func runShippedWith(t *testing.T, name string, set ...string) (*Result, []byte, string) {
	t.Helper()
	var pcap, trace bytes.Buffer
	sc := parseShipped(t, name, set...)
	// The CPU policy of `esp8266sim run`, whose promise this is, set
	// before the world is built as the CLI does (SuggestedProcsFor).
	if n := SuggestedProcsFor(sc); n > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
	}
	w := newTestWorld(t, sc, Options{Pcap: &pcap, Trace: &trace})
	res := runTestWorld(t, w)
	return res, pcap.Bytes(), trace.String()
}

// Same seed, same run, with several boards: the same consoles, the same
// trace and a byte-identical capture. (The boards used to start at one
// instant, and the goroutine schedule decided which got which address.)
func TestSameSeedSameRunSeveralBoards(t *testing.T) {
	sameRuns(t, 3, func() (*Result, []byte, string) { return runShippedWith(t, "connect.yaml", "boards[0].replicas=4") })
}

// board_reset is the RST pin: the board reboots (reset_cause 6) and runs
// main.py again; no KeyboardInterrupt reaches the script.
func TestBoardResetFaultReboots(t *testing.T) {
	res := runYAMLWith(t, `
boards:
  - name: esp1
    code: |
      import machine, time
      print("boot cause=%d" % machine.reset_cause())
      try:
          time.sleep(10)
          print("slept")
      except KeyboardInterrupt:
          print("interrupted")
faults:
  - {at: 3s, kind: board_reset, target: esp1}
`, Options{})
	b := res.Boards[0]
	causes := numbers(t, b.Console, "cause")
	if len(causes) != 2 || causes[0] != 0 || causes[1] != 6 || strings.Count(b.Console, "slept") != 1 || strings.Contains(b.Console, "interrupted") {
		t.Errorf("console %q: want a power-on boot, a hard reset at 3 s (cause 6) and one full sleep", b.Console)
	}
	if b.Outcome != "clean" || b.EndedAt < 13*time.Second {
		t.Errorf("outcome %s at %v, want clean at about 13 s", b.Outcome, b.EndedAt)
	}
}

// The annotated full.yaml (every section of the model) runs: fast mode,
// without the forwards and host ports that need the real host, and
// without its expectations so the whole timeline plays (they describe a
// program full.yaml does not ship). Every fault kind in it takes effect.
func TestFullScenarioRuns(t *testing.T) {
	sc, err := scenario.Overrides{Set: []string{"forwards=[]", "allow_host_ports=[]", "time_mode=fast", "expect=[]"}}.Load("scenario/testdata/good/full.yaml")
	if err != nil {
		t.Fatalf("loading full.yaml: %v", err)
	}
	var trace bytes.Buffer
	res := runTestWorld(t, newTestWorld(t, sc, Options{Trace: &trace}))
	if !res.Passed() || res.SimTime != sc.Duration.D() {
		t.Errorf("passed %v at %v (%s)", res.Passed(), res.SimTime, res.EndReason)
	}
	for _, want := range []string{
		"fault: ap_down HomeNet ends", "fault: link esp1", "fault: dns_fail HomeNet micropython.org ends",
		"fault: host_fault micropython.org", "fault: host_ok micropython.org", "fault: deauth esp2-1", "fault: board_reset esp1",
	} {
		if !strings.Contains(trace.String(), want) {
			t.Errorf("trace lacks %q", want)
		}
	}
	esp1 := res.Boards[0].Console
	if strings.Count(esp1, "main\r\n") != 2 || !strings.Contains(esp1, ">>> print(42)\r\n42\r\n") {
		t.Errorf("esp1 should boot twice (board_reset at 60s) and run the typed line: %q", esp1)
	}
	for _, b := range res.Boards[1:] {
		if b.WiFiReport.Status != "got_ip" || !near(b.WiFiReport.RSSI, -82, 3) {
			t.Errorf("%s: wifi %+v, want joined at boot with rssi_by_board's -82", b.Name, b.WiFiReport)
		}
	}
}

func init() {
	// A host function that fails the way a firmware trap does: the board's
	// run ends with an error, not with a Python exception.
	board.RegisterFunc("_simtest", "trap", func(*board.Board, []board.Value) (board.Value, error) {
		panic("simulated firmware failure")
	})
}

// A firmware failure fails the run even though every expectation held,
// and the report says what happened instead of "still running".
func TestFirmwareFailureFailsVerdict(t *testing.T) {
	res := runYAMLWith(t, `
boards:
  - name: esp1
    code: |
      import _simtest
      print("before")
      _simtest.trap()
expect:
  - console_contains: before
`, Options{})
	b := res.Boards[0]
	if b.Outcome != "error" || res.Passed() {
		t.Errorf("outcome %q, passed %v; want error and a failed run (%s)", b.Outcome, res.Passed(), b.Message)
	}
	var text bytes.Buffer
	if err := report.WriteText(&text, res.Report(), report.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if out := text.String(); !strings.HasPrefix(out, "FAIL ") || !strings.Contains(out, "firmware failure") {
		t.Errorf("report:\n%s", out)
	}
}

// sameRuns runs a scenario runs+1 times and fails unless every run has the
// first one's consoles, trace and capture bytes.
func sameRuns(t *testing.T, runs int, run func() (*Result, []byte, string)) {
	t.Helper()
	first, pcap1, trace1 := run()
	for i := range runs {
		again, pcap2, trace2 := run()
		for b := range first.Boards {
			if first.Boards[b].Console != again.Boards[b].Console {
				t.Errorf("run %d: %s's console differs:\n%s\n---\n%s", i+2, first.Boards[b].Name, first.Boards[b].Console, again.Boards[b].Console)
			}
		}
		if trace1 != trace2 {
			t.Errorf("run %d: the trace differs", i+2)
		}
		if !bytes.Equal(pcap1, pcap2) || len(pcap1) == 0 {
			t.Errorf("run %d: the capture differs (%d vs %d bytes)", i+2, len(pcap1), len(pcap2))
		}
		if t.Failed() {
			return
		}
	}
}
