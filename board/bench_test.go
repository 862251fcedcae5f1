package board

import (
	"context"
	"fmt"
	"runtime"
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
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/n, "bytes/board")
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
