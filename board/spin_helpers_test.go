package board

import (
	"runtime/debug"
	"sync"
	"testing"
)

// Go's garbage collector stops the world by waiting for every goroutine to
// reach a safe point, and compiled WebAssembly has none: a board spinning
// in `while True: pass` (no host calls) holds off a stop-the-world until
// the loop ends, and with it the watchdog's own timer. Until the firmware's
// loop back-edges are patched to call into Go, tests that spin on purpose
// hold the collector off for their duration. This is a known limit of the
// runtime, recorded in the project's notes, not a property of the tests.
var spinGC struct {
	sync.Mutex
	n   int
	old int
}

func holdGCWhileSpinning(t *testing.T) {
	t.Helper()
	spinGC.Lock()
	if spinGC.n == 0 {
		spinGC.old = debug.SetGCPercent(-1)
	}
	spinGC.n++
	spinGC.Unlock()
	t.Cleanup(func() {
		spinGC.Lock()
		spinGC.n--
		if spinGC.n == 0 {
			debug.SetGCPercent(spinGC.old)
		}
		spinGC.Unlock()
	})
}
