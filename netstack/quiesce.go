package netstack

import (
	"sync/atomic"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// quiesceGaveUp counts quiesce calls that hit their bound (diagnostics).
var quiesceGaveUp atomic.Uint64

// gVisor hands inbound TCP segments to its processor goroutines and returns
// at once, so a frame delivered on the clock's goroutine may still be
// unprocessed when the clock next looks for something to do. If fast mode
// then jumps time (say, to a retransmission timer) before the segment (say,
// the ACK that cancels it) is processed, TCP misbehaves in a way the real
// network never would. vclock waits for a short quiet window before jumping,
// which a loaded machine (-race, two cores) can outlast.
//
// quiesce narrows that gap from our side: after delivering TCP segments, the
// clock goroutine yields until the Go scheduler's run queues have held
// nothing but settling turn actors twice in a row (every readied processor
// got a CPU; the actors wait for the clock, so it must not wait for them:
// vclock.YieldUntilQuiet), up to a bound so a busy board cannot stall the
// clock. It also speeds bulk transfers up: the
// clock no longer sleeps through its settle window while segments wait.
const quiesceSpins = 500

func quiesce() {
	if !vclock.YieldUntilQuiet(quiesceSpins, true) {
		quiesceGaveUp.Add(1)
	}
}

// isTCP reports whether an Ethernet frame carries an IPv4 TCP segment.
func isTCP(b []byte) bool {
	return len(b) >= 34 && b[12] == 0x08 && b[13] == 0x00 && b[23] == 6
}

// nodeClock is the tcpip.Clock a node's stack gets: the world's clock, with
// every timer callback followed by quiesce, because gVisor's timer handlers
// hand queued segments to processor goroutines before returning.
type nodeClock struct {
	*vclock.Clock
}

// AfterFunc implements tcpip.Clock.
func (c nodeClock) AfterFunc(d time.Duration, f func()) tcpip.Timer {
	return c.Clock.AfterFunc(d, func() {
		f()
		quiesce()
	})
}
