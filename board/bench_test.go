package board

import (
	"context"
	"fmt"
	"os"
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

// BenchmarkIdleBoardMemory reports the Go heap held per booted, idle board
// (each parked in a long sleep).
func BenchmarkIdleBoardMemory(b *testing.B) {
	fw := testFirmware(b)
	clock := newClock(b)
	const n = 20
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rss0 := residentBytes()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{}, n)
		boards := make([]*Board, n)
		for i := range boards {
			bd, err := New(Config{Name: fmt.Sprintf("esp%d", i), Files: files("import time\nprint('up')\ntime.sleep(3600)\n"), Console: &syncBuffer{}}, fw, clock)
			if err != nil {
				b.Fatal(err)
			}
			boards[i] = bd
			go func() { bd.Run(ctx); done <- struct{}{} }()
		}
		for _, bd := range boards {
			for !containsUp(bd) {
				time.Sleep(time.Millisecond)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		rss1 := residentBytes()
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/n, "goheap-bytes/board")
		if rss0 > 0 && rss1 > rss0 {
			b.ReportMetric(float64(rss1-rss0)/n, "bytes/board")
		}
		cancel()
		for range boards {
			<-done
		}
		for _, bd := range boards {
			bd.Close()
		}
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
