package board

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The firmware's loop safe points (board/firmware/safepoint.go) seen from a
// running board.

// Before the countdown, a collection requested while a board spun in
// compiled code waited for the loop forever, and so did the watchdog's
// timer: the process hung. Now the loop passes through Go, the collection
// completes and the watchdog stops the script.
func TestWatchdogStopsSpinningScriptWhileGCRuns(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	// Collections count from the moment the script spins ('start' is on
	// the console) until the run ends: each one had to stop the goroutine
	// running the loop. Counting from the test's start counted boot-time
	// collections too, and a fixed 10 in 300 ms was a rate a loaded
	// two-core machine does not give (2 to 9 seen with three CPU hogs);
	// the watchdog's second leaves room for the few asked.
	gcs := make(chan int)
	go func() {
		n := 0
		defer func() { gcs <- n }()
		for ctx.Err() == nil && !strings.Contains(out.String(), "start") {
			time.Sleep(time.Millisecond)
		}
		for ctx.Err() == nil {
			runtime.GC()
			if ctx.Err() == nil {
				n++
			}
			time.Sleep(time.Millisecond)
		}
	}()
	fw := testFirmware(t)
	b, err := New(Config{Name: "spinner", Console: &out, Watchdog: time.Second,
		Files: files("print('start')\nwhile True:\n    pass\n")}, fw, newClock(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	res, err := b.Run(ctx)
	cancel()
	n := <-gcs
	if err != nil || res.Outcome != WatchdogExpired {
		t.Fatalf("outcome %v err %v console %q", res.Outcome, err, out.String())
	}
	if n < 3 {
		t.Errorf("only %d collections completed while the script spun", n)
	}
	if b.safepoints.Load() == 0 {
		t.Error("the spinning loop never reached a safe point")
	}
}

// A script that swallows KeyboardInterrupt in an endless loop gets the
// watchdog's grace period, then is abandoned at a loop safe point.
func TestWatchdogHardStopsScriptThatCatchesInterrupt(t *testing.T) {
	src := "n = 0\nwhile True:\n    try:\n        while True:\n            pass\n    except KeyboardInterrupt:\n        n += 1\n        print('caught', n)\n"
	start := time.Now()
	got, res := runScript(t, Config{Files: files(src), Watchdog: 200 * time.Millisecond}, nil)
	if res.Outcome != WatchdogExpired {
		t.Fatalf("outcome = %v, want watchdog (console %q)", res.Outcome, got)
	}
	if !strings.HasPrefix(got, "caught 1\n") {
		t.Errorf("console %q, want the script to have caught the first interrupt", got)
	}
	if d := time.Since(start); d > watchdogGrace+5*time.Second {
		t.Errorf("the hard stop took %v", d)
	}
}
