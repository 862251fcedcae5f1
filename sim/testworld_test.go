package sim

import (
	"context"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/board"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// The sim tests' shared setup: a world built from a scenario with the
// default firmware, run under a wall-clock deadline, and the board
// programs' WiFi preamble. Each test still writes its own scenario and
// asserts its own result; only the plumbing lives here.

// runTimeout bounds a test world's run in wall time, so that a hung
// simulation fails its test instead of the whole package's -timeout. It
// is a safety net, not an assertion: fast-mode worlds finish in seconds.
const runTimeout = 5 * time.Minute

// newTestWorld builds a world for sc with the default firmware
// (opts.Firmware is set here) and closes it when the test ends.
func newTestWorld(tb testing.TB, sc *scenario.Scenario, opts Options) *World {
	tb.Helper()
	fw, err := board.DefaultFirmware()
	if err != nil {
		tb.Fatal(err)
	}
	opts.Firmware = fw
	w, err := New(sc, opts)
	if err != nil {
		tb.Fatalf("building %s: %v", sc.Name, err)
	}
	tb.Cleanup(w.Close)
	return w
}

// runTestWorld runs w to its end (at most runTimeout) and fails the test
// when the run itself fails.
func runTestWorld(tb testing.TB, w *World) *Result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	res, err := w.Run(ctx, RunOptions{})
	if err != nil {
		tb.Fatalf("running %s: %v", w.sc.Name, err)
	}
	return res
}

// runScenario builds sc's world, runs it and closes it, so that the
// trace, capture and console writers in opts hold the whole run when it
// returns. The world is returned for tests that inspect it afterwards.
func runScenario(tb testing.TB, sc *scenario.Scenario, opts Options) (*Result, *World) {
	tb.Helper()
	w := newTestWorld(tb, sc, opts)
	res := runTestWorld(tb, w)
	w.Close()
	return res, w
}

// parseYAML parses an inline scenario, failing the test when it is not
// one.
func parseYAML(tb testing.TB, name, yaml string) *scenario.Scenario {
	tb.Helper()
	sc, err := scenario.Parse(name, []byte(yaml), "yaml")
	if err != nil {
		tb.Fatalf("scenario %s: %v", name, err)
	}
	return sc
}

// parseShipped loads a scenario shipped in scenarios/ with --set
// overrides, failing the test when it does not load.
func parseShipped(tb testing.TB, name string, set ...string) *scenario.Scenario {
	tb.Helper()
	sc, err := scenario.Overrides{Set: set}.ParseFS(shipped, "scenarios/"+name)
	if err != nil {
		tb.Fatalf("loading %s: %v", name, err)
	}
	return sc
}

// joinSimNet is the usual start of a board program in these tests, for a
// `code: |` block under a board (six spaces in): join the default access
// point and sleep until the station has an address. What the program
// imports besides network and time it imports after it.
const joinSimNet = `      import network, time
      sta = network.WLAN(network.STA_IF)
      sta.active(True)
      sta.connect("SimNet", "esp8266sim")
      while not sta.isconnected():
          time.sleep_ms(100)
`

// wifiUp is joinSimNet's busy-waiting twin (the library tests' preamble):
// the same join, spinning instead of sleeping until the address comes.
const wifiUp = `      import network
      sta = network.WLAN(network.STA_IF)
      sta.active(True)
      sta.connect("SimNet", "esp8266sim")
      while not sta.isconnected():
          pass
`

// startTestWorld builds sc's world and runs it in the background; when
// the test ends the run is stopped and waited for, then the world closed.
func startTestWorld(tb testing.TB, sc *scenario.Scenario, opts Options) *World {
	tb.Helper()
	w := newTestWorld(tb, sc, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx, RunOptions{})
	}()
	// Registered after newTestWorld's Close, so it runs before it.
	tb.Cleanup(func() {
		cancel()
		<-done
	})
	return w
}

// defaultWorldWith is the default world of ad-hoc runs (what `esp8266sim
// run script.py` builds) with --set overrides and code as esp1's main.py,
// esp1 alone.
func defaultWorldWith(tb testing.TB, code string, set ...string) *scenario.Scenario {
	tb.Helper()
	sc, err := scenario.Overrides{Set: set}.Parse("default", DefaultWorld(), "yaml")
	if err != nil {
		tb.Fatal(err)
	}
	sc.Boards = sc.Boards[:1]
	sc.Boards[0].Code, sc.Boards[0].Script = code, ""
	return sc
}

// expectAll fails the test for every expectation that did not pass and
// shows the consoles.
func expectAll(t *testing.T, res *Result) {
	t.Helper()
	for _, e := range res.Expectations {
		if !e.Passed {
			t.Errorf("expectation failed: %s: %s", e.Description, e.Reason)
		}
	}
	if t.Failed() {
		for _, b := range res.Boards {
			t.Logf("%s ended %s (%s); console:\n%s", b.Name, b.Outcome, res.EndReason, b.Console)
		}
	}
}
