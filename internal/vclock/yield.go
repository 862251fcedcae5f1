package vclock

import (
	"runtime"
	"runtime/metrics"
	"sync/atomic"
)

// YieldUntilQuiet yields until no goroutine waits for a CPU, two readings
// in a row, or until spins yields have passed; it reports whether it got
// quiet. netstack's quiesce (the clock's goroutine, after delivering TCP
// segments) waits this way for the processors a frame readied, and a turn
// actor (settleOthers, after its wake) for those and for the clock's
// goroutine to finish the instant's events.
//
// The clock waits past settling actors (discount): an actor settling sits
// in the run queue between its yields, and it waits for the clock, so the
// two waiting for each other spun to their bounds (200 and 500 yields on
// every wake of a board streaming TCP: board → host fell from 46 to
// 13 MB/s). The actor does not wait past the clock: its turn must begin
// after the clock's goroutine has stopped firing this instant's events, or
// what it does would interleave with them in the scheduler's order.
func YieldUntilQuiet(spins int, discount bool) bool {
	if !discount {
		yielders.Add(1)
		defer yielders.Add(-1)
	}
	s := []metrics.Sample{{Name: "/sched/goroutines/runnable:goroutines"}}
	quiet := 0
	for range spins {
		runtime.Gosched()
		metrics.Read(s)
		if s[0].Value.Kind() != metrics.KindUint64 {
			return true // metric not supported: nothing to wait on
		}
		others := int64(s[0].Value.Uint64())
		if discount {
			others -= yielders.Load()
		}
		if others > 0 {
			quiet = 0
			continue
		}
		if quiet++; quiet == 2 {
			return true
		}
	}
	return false
}

// yielders counts the actors settling in YieldUntilQuiet.
var yielders atomic.Int64
