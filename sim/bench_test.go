package sim

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/board"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// fleetHosts is the fleets' world: micropython.org serving the tutorial's
// page.
const fleetHosts = `duration: 10m
internet_hosts:
  - name: micropython.org
    ip: 176.58.119.26
    services:
      http:
        pages:
          - path: /ks/test.html
            body: "<!DOCTYPE html><html><body><h1>Test</h1>It's working if you can read this!</body></html>\n"`

// fleetYAML is N boards joining WiFi by DHCP and doing the HTTP GET tutorial
// against one simulated host.
const fleetYAML = `
name: fleet
` + fleetHosts + `
boards:
  - name: esp
    replicas: %d
    code: |
` + joinSimNet + `      import socket
      addr = socket.getaddrinfo("micropython.org", 80)[0][-1]
      s = socket.socket()
      s.connect(addr)
      s.send(b"GET /ks/test.html HTTP/1.0\r\nHost: micropython.org\r\n\r\n")
      n = 0
      while True:
          data = s.recv(200)
          if not data:
              break
          n += len(data)
      s.close()
      print("got", n)
`

// useSuggestedProcs sets GOMAXPROCS as `esp8266sim run` does for the world
// and returns what restores it.
func useSuggestedProcs(w *World) (restore func()) {
	if n := w.SuggestedProcs(); n > 0 {
		old := runtime.GOMAXPROCS(n)
		return func() { runtime.GOMAXPROCS(old) }
	}
	return func() {}
}

// lastAdvances is how many times the last benchmarked world's clock jumped.
var lastAdvances uint64

// peakRSS is the process's peak resident set in MiB (VmHWM).
func peakRSS() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func benchWorld(b *testing.B, yaml string) (*Result, time.Duration) {
	b.Helper()
	sc, err := scenario.Parse("bench.yaml", []byte(yaml), "yaml")
	if err != nil {
		b.Fatal(err)
	}
	fw, err := board.DefaultFirmware()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	w, err := New(sc, Options{Firmware: fw})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	defer useSuggestedProcs(w)()
	res, err := w.Run(context.Background(), RunOptions{})
	if err != nil {
		b.Fatal(err)
	}
	lastAdvances = w.clock.Advances()
	return res, time.Since(start)
}

// BenchmarkFleetHTTPGet: N boards join by DHCP and fetch a page, fast mode.
func BenchmarkFleetHTTPGet(b *testing.B) {
	fetched := func(br BoardResult) bool { return strings.Contains(br.Console, "got ") && br.Outcome == "clean" }
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("boards=%d", n), func(b *testing.B) {
			wall, frames := fleetBench(b, n, fmt.Sprintf(fleetYAML, n), fetched)
			b.ReportMetric(float64(frames)/wall.Seconds(), "frames/s")
		})
	}
}

// fleetBench runs a world of n boards b.N times (not in -short mode above
// 100), fails unless every board did its job (ok), and reports the wall
// time per run, the clock's jumps and the peak RSS. It returns the total
// wall time and frames.
func fleetBench(b *testing.B, n int, yaml string, ok func(BoardResult) bool) (time.Duration, uint64) {
	if n > 100 && testing.Short() {
		b.Skip("1000-board fleet skipped in -short mode")
	}
	resetPeakRSS()
	var wall time.Duration
	var frames uint64
	for i := 0; i < b.N; i++ {
		res, d := benchWorld(b, yaml)
		wall += d
		frames += res.Frames
		good := 0
		for _, br := range res.Boards {
			if ok(br) {
				good++
			}
		}
		if good != n {
			b.Fatalf("%d of %d boards fetched the page; first failure: %s", good, n, firstFailure(res, ok))
		}
	}
	b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s")
	b.ReportMetric(float64(lastAdvances), "clock-jumps")
	b.ReportMetric(peakRSS(), "peak-RSS-MiB")
	return wall, frames
}

func firstFailure(res *Result, ok func(BoardResult) bool) string {
	for _, br := range res.Boards {
		if !ok(br) {
			return fmt.Sprintf("%s ended %s: %s", br.Name, br.Outcome, br.Console)
		}
	}
	return "none"
}

// BenchmarkFastForwardSleep: a board that wakes every 10 s for an hour of
// simulated time.
func BenchmarkFastForwardSleep(b *testing.B) {
	yaml := `
name: sleeper
duration: 2h
boards:
  - name: esp1
    code: |
      import time
      for i in range(360):
          time.sleep(10)
      print("done", time.ticks_ms() // 1000)
`
	var wall time.Duration
	for i := 0; i < b.N; i++ {
		res, d := benchWorld(b, yaml)
		wall += d
		if !strings.Contains(res.Boards[0].Console, "done 3600") {
			b.Fatalf("console %q", res.Boards[0].Console)
		}
	}
	b.ReportMetric(float64(b.N)*3600/wall.Seconds(), "sim-s/wall-s")
}

// BenchmarkFastForwardTraffic: a board exchanging 500 messages with an echo
// server over a 10 ms link.
func BenchmarkFastForwardTraffic(b *testing.B) {
	yaml := `
name: chatter
duration: 1h
internet_hosts:
  - name: echo.sim
    ip: 203.0.113.7
    services: {tcp_echo: 7}
links:
  - {node: esp1, latency: 10ms}
boards:
  - name: esp1
    code: |
` + joinSimNet + `      import socket
      s = socket.socket()
      s.connect(socket.getaddrinfo("echo.sim", 7)[0][-1])
      msg = b"x" * 1000
      t0 = time.ticks_ms()
      for i in range(500):
          s.sendall(msg)
          got = 0
          while got < len(msg):
              got += len(s.recv(1000))
      s.close()
      print("done", time.ticks_diff(time.ticks_ms(), t0))
`
	var wall, simTime time.Duration
	for i := 0; i < b.N; i++ {
		res, d := benchWorld(b, yaml)
		wall += d
		simTime += res.SimTime
		if !strings.Contains(res.Boards[0].Console, "done") {
			b.Fatalf("console %q", res.Boards[0].Console)
		}
	}
	b.ReportMetric(simTime.Seconds()/wall.Seconds(), "sim-s/wall-s")
}

// markTimes is a console that notes the wall time at which each marker
// first appears.
type markTimes struct {
	mu      sync.Mutex
	seen    strings.Builder
	markers []string
	at      map[string]time.Time
}

func (m *markTimes) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seen.Write(p)
	for _, k := range m.markers {
		if _, ok := m.at[k]; !ok && strings.Contains(m.seen.String(), k) {
			m.at[k] = time.Now()
		}
	}
	return len(p), nil
}

// BenchmarkTCPBoardToHost: a board streams MiBs to the PC's discard server
// through the whole path — the MicroPython socket module, the lwIP model
// (TCP_SND_BUF 2920 bytes, Nagle), the board's gVisor stack, its WiFi
// uplink (1 ms radio latency each way) and the LAN — in fast mode. The
// figure is payload bytes per wall second from the first send to close;
// `make bench` compares it with two gVisor stacks wired directly
// (netstack's BenchmarkTCPThroughputDirect).
func BenchmarkTCPBoardToHost(b *testing.B) {
	const yaml = `
name: upload
duration: 1h
lan_peers:
  - {name: pc, ip: 192.168.1.10, services: {tcp_discard: 9}}
boards:
  - name: esp1
    code: |
` + joinSimNet + `      import socket
      s = socket.socket()
      s.connect(("192.168.1.10", 9))
      buf = bytes(1460)
      print("go")
      t0 = time.ticks_ms()
      for i in range(%d):
          s.sendall(buf)
      s.close()
      print("sent in", time.ticks_diff(time.ticks_ms(), t0), "ms")
`
	const chunks = 718 // 718 × 1460 bytes ≈ 1 MiB
	sc, err := scenario.Parse("upload.yaml", []byte(fmt.Sprintf(yaml, chunks*b.N)), "yaml")
	if err != nil {
		b.Fatal(err)
	}
	fw, err := board.DefaultFirmware()
	if err != nil {
		b.Fatal(err)
	}
	console := &markTimes{markers: []string{"go\n", "sent in"}, at: map[string]time.Time{}}
	w, err := New(sc, Options{Firmware: fw, Console: console})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	defer useSuggestedProcs(w)()
	b.ResetTimer()
	res, err := w.Run(context.Background(), RunOptions{})
	if err != nil {
		b.Fatal(err)
	}
	start, end := console.at["go\n"], console.at["sent in"]
	if res.Boards[0].Outcome != "clean" || start.IsZero() || end.IsZero() {
		b.Fatalf("the upload did not finish: %s", firstFailure(res, func(br BoardResult) bool { return br.Outcome == "clean" }))
	}
	bytes := float64(chunks * 1460 * b.N)
	b.ReportMetric(bytes/1e6/end.Sub(start).Seconds(), "MB/s")
	b.ReportMetric(bytes/1e6/res.SimTime.Seconds(), "sim-MB/s")
	if j := w.clock.Advances(); j > 0 {
		b.ReportMetric(100*float64(w.clock.ExactAdvances())/float64(j), "exact-jumps-%")
	}
}
