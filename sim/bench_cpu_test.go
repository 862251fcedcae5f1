package sim

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/esp8266sim/esp8266sim/scripts"
)

// resetPeakRSS starts a new peak-RSS window (Linux: writing 5 to clear_refs
// resets VmHWM), so each fleet reports its own peak in a shared process.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

var pystoneRate = regexp.MustCompile(`pystones/s (\d+)`)

// BenchmarkPystone: our pystone-like program (testdata/bench/stones.py) on
// one board; it reports the simulated pystones/s, which RATIONALE.md
// compares with the ESP8266's 203–233. With the upstream MicroPython tree at
// $MPY_DIR (default /tmp/mpy) it also runs perf_bench's pystone, read at run
// time and never stored here.
func BenchmarkPystone(b *testing.B) {
	own, err := os.ReadFile("testdata/bench/stones.py")
	if err != nil {
		b.Fatal(err)
	}
	progs := []struct{ name, src string }{{"own", string(own)}}
	dir := os.Getenv("MPY_DIR")
	if dir == "" {
		dir = "/tmp/mpy"
	}
	if up, err := os.ReadFile(dir + "/tests/perf_bench/misc_pystone.py"); err == nil {
		progs = append(progs, struct{ name, src string }{"upstream", string(up) + `
import time
run, result = bm_setup((500,))
t0 = time.ticks_us()
run()
print("pystones/s", 500 * 1000000 // time.ticks_diff(time.ticks_us(), t0))
`})
	}
	for _, p := range progs {
		b.Run(p.name, func(b *testing.B) {
			var rate float64
			for i := 0; i < b.N; i++ {
				res, _ := benchWorld(b, "name: pystone\nduration: 10m\nboards:\n  - name: esp1\n    code: |\n"+indent(p.src, 6)+"\n")
				m := pystoneRate.FindStringSubmatch(res.Boards[0].Console)
				if m == nil {
					b.Fatalf("no rate in %q", res.Boards[0].Console)
				}
				rate, _ = strconv.ParseFloat(m[1], 64)
			}
			b.ReportMetric(rate, "pystones/s")
		})
	}
}

// tutorialFleetYAML is N copies of the unmodified http_get tutorial
// (scripts/http_get.py), which spins on isconnected() while joining.
const tutorialFleetYAML = `
name: tutorial-fleet
` + fleetHosts + `
boards:
  - name: esp
    replicas: %d
    code: |
%s
`

// BenchmarkFleetTutorial: N boards run the unmodified HTTP GET tutorial,
// fast mode, default CPU model.
func BenchmarkFleetTutorial(b *testing.B) {
	src, err := scripts.FS.ReadFile("http_get.py")
	if err != nil {
		b.Fatal(err)
	}
	fetched := func(br BoardResult) bool { return strings.Contains(br.Console, "It's working") }
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("boards=%d", n), func(b *testing.B) {
			fleetBench(b, n, fmt.Sprintf(tutorialFleetYAML, n, indent(string(src), 6)), fetched)
		})
	}
}
