package board

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/board/firmware"
)

func BenchmarkFirmwareCompile(b *testing.B) {
	for b.Loop() {
		// A fresh cache each time measures the real one-time compile.
		fw, err := compileUncached(firmware.Wasm)
		if err != nil {
			b.Fatal(err)
		}
		fw.Close()
	}
}

// BenchmarkBoot boots one board to the end of an empty main.py.
func BenchmarkBoot(b *testing.B) {
	fw := testFirmware(b)
	clock := newClock(b)
	for b.Loop() {
		bd, err := New(Config{Name: "esp1", Files: files("")}, fw, clock)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bd.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
		bd.Close()
	}
}

// BenchmarkIdleBoardMemory reports what each booted, idle board (parked in
// a long sleep) adds to the process: resident memory (RSS-bytes/board) and
// Go heap (goheap-bytes/board). RSS is measured in a fresh process (this
// test binary, re-run as TestIdleBoardsHelper): in this one, memory freed
// by earlier benchmarks stays resident and would hide the growth.
func BenchmarkIdleBoardMemory(b *testing.B) {
	for b.Loop() {
		cmd := exec.Command(os.Args[0], "-test.run=^TestIdleBoardsHelper$", "-test.v")
		cmd.Env = append(os.Environ(), idleHelperEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("helper: %v\n%s", err, out)
		}
		var rss, heap float64
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(strings.TrimSpace(line)); len(f) == 3 && f[0] == "idle-boards:" {
				rss, _ = strconv.ParseFloat(f[1], 64)
				heap, _ = strconv.ParseFloat(f[2], 64)
			}
		}
		if heap == 0 {
			b.Fatalf("helper printed no figures:\n%s", out)
		}
		b.ReportMetric(rss, "RSS-bytes/board")
		b.ReportMetric(heap, "goheap-bytes/board")
	}
}

const idleHelperEnv = "ESP8266SIM_IDLE_BOARDS_HELPER"

// TestIdleBoardsHelper boots 10 boards (warm-up), then 100 more, and
// prints what the 100 added: RSS and Go heap per board. It only runs for
// BenchmarkIdleBoardMemory.
func TestIdleBoardsHelper(t *testing.T) {
	if os.Getenv(idleHelperEnv) == "" {
		t.Skip("run by BenchmarkIdleBoardMemory")
	}
	fw := testFirmware(t)
	clock := newClock(t)
	ctx, cancel := context.WithCancel(context.Background())
	var boards []*Board
	done := make(chan struct{}, 200)
	boot := func(n int) {
		var batch []*Board
		for range n {
			bd, err := New(Config{Name: fmt.Sprintf("esp%d", len(boards)), Files: files("import time\nprint('up')\ntime.sleep(3600)\n"), Console: &syncBuffer{}}, fw, clock)
			if err != nil {
				t.Fatal(err)
			}
			boards = append(boards, bd)
			batch = append(batch, bd)
			go func() { bd.Run(ctx); done <- struct{}{} }()
		}
		for _, bd := range batch {
			for !containsUp(bd) {
				time.Sleep(time.Millisecond)
			}
		}
		runtime.GC()
	}
	boot(10)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rss0 := residentBytes()
	const n = 100
	boot(n)
	runtime.ReadMemStats(&after)
	rss1 := residentBytes()
	fmt.Printf("idle-boards: %d %d\n", (rss1-rss0)/n, (int64(after.HeapInuse)-int64(before.HeapInuse))/n)
	cancel()
	for range boards {
		<-done
	}
	for _, bd := range boards {
		bd.Close()
	}
}

func containsUp(bd *Board) bool {
	s, _ := bd.console.(*syncBuffer)
	return s != nil && s.String() == "up\n"
}

// residentBytes is the process's resident set size (Linux), or 0.
func residentBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

// BenchmarkPythonLoop runs a tight Python loop (a million iterations of
// `x += i`) with and without the firmware's loop countdown, so the table
// shows what the GC safe points cost the interpreter.
func BenchmarkPythonLoop(b *testing.B) {
	for _, tc := range []struct {
		name    string
		compile func([]byte) (*Firmware, error)
	}{{"safepoints", compileUncached}, {"unpatched", compileWithoutSafepoints}} {
		b.Run(tc.name, func(b *testing.B) {
			fw, err := tc.compile(firmware.Wasm)
			if err != nil {
				b.Fatal(err)
			}
			defer fw.Close()
			clock := newClock(b)
			for b.Loop() {
				var out syncBuffer
				bd, err := New(Config{Name: "esp1", Console: &out, Watchdog: -1,
					Files: files(benchLoopScript)}, fw, clock)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := bd.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
				bd.Close()
				if out.String() != benchLoopWant {
					b.Fatalf("console %q", out.String())
				}
			}
		})
	}
}

// benchLoopScript keeps its numbers small (no long-int allocation), so the
// loop measures the interpreter's dispatch.
const benchLoopScript = `def f():
    x = 0
    for i in range(1000000):
        x = (x + i) & 0xffff
    return x
print(f())
`

const benchLoopWant = "59104\n"
