// Package vclock is the simulator's one clock. Every gVisor stack, link delay,
// WiFi timer and board reads and schedules through it, so a world has a single
// notion of "now".
//
// Two modes:
//
//   - Fast (the default): discrete-event time. Time stands still while any
//     Actor (a board running its script, a test acting as a program) is
//     running; when every actor is parked and the world has been quiet for a
//     moment, time jumps straight to the next scheduled event. A script that
//     sleeps 60 s finishes in milliseconds.
//   - Realtime: simulator time follows the wall clock; used when real programs
//     (a browser, curl) talk to the world.
//
// "Quiet" needs care: gVisor processes packets on its own goroutines, so a
// delivered frame may still be in work after the delivery call returns. The
// clock asks Go's scheduler: when no goroutine is runnable or in a system
// call and none but the clock's own is running, every goroutine is blocked and only a clock event
// can wake one, so it jumps at once. When other goroutines hold a CPU (a
// parallel test, the garbage collector) it falls back to waiting until an
// activity counter (bumped by Poke, by timers being set, by actors waking)
// has not moved for a short settle window. Timer callbacks run on the
// clock's goroutine, in time order; they must not block.
//
// Actors woken at one instant take turns in fast mode (turnstile.go), so
// what they do at that instant comes out in wake order, not in the order
// the Go scheduler (pre-empted by a loaded machine) happened to run them.
package vclock

import (
	"context"
	"errors"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// Mode selects how simulator time advances.
type Mode int

const (
	// Fast jumps to the next event whenever every actor is parked.
	Fast Mode = iota
	// Realtime follows the wall clock.
	Realtime
)

func (m Mode) String() string {
	if m == Realtime {
		return "realtime"
	}
	return "fast"
}

// DefaultStart is the wall-clock date a world starts at unless told otherwise:
// a fixed date keeps runs reproducible (time.time() on a board is part of its
// output).
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// DefaultSettle is how long the world must stay quiet (no frames, no timers
// set, no wakes) before fast mode jumps time. Long enough for gVisor's
// goroutines to finish processing a frame on a loaded two-core machine.
const DefaultSettle = 150 * time.Microsecond

// Config describes a clock. The zero value is a fast clock starting at
// DefaultStart.
type Config struct {
	// Mode is Fast or Realtime.
	Mode Mode
	// Start is the wall-clock time the simulation starts at; zero means
	// DefaultStart.
	Start time.Time
	// Settle is the quiet window fast mode waits before jumping; zero means
	// DefaultSettle.
	Settle time.Duration
}

// Clock is a simulator clock. It implements tcpip.Clock.
type Clock struct {
	mode   Mode
	start  time.Time
	settle time.Duration
	// wallAnchor is the wall time at which simulator time was `start`
	// (realtime mode only): the moment Run was first called, nil before.
	// Time passes from Run on, as in fast mode: building a world (board
	// instances, stacks) is host work a board never sees; anchored at New,
	// a loaded machine's construction time was already simulator time
	// when the first board powered on, so its main.py started hundreds of
	// milliseconds late and a Ctrl-C scripted for 1 s found 2 blinks
	// instead of 10.
	wallAnchor atomic.Pointer[time.Time]

	// activity counts things that happened; fast mode only jumps when it has
	// not moved during a settle window.
	activity atomic.Uint64
	// idleSyscalls is how many goroutines sat in system calls when Run
	// started: the process's own that never leave one (os/signal's loop
	// after signal.Notify, a blocking read of a terminal). Only more than
	// that means a goroutine of the world is in one. Without the baseline
	// every jump of a CLI run (which listens for Ctrl-C) fell back to the
	// settle window.
	idleSyscalls uint64
	// kick wakes the Run loop when something it waits for may have changed.
	kick chan struct{}
	// due is fireDue's scratch list (only the Run goroutine uses it).
	due []*Timer
	// othersWaits counts consecutive settle windows that ended with other
	// goroutines still running (only the Run goroutine uses it).
	othersWaits int

	mu struct {
		sync.Mutex
		// now is simulator time since start (fast mode).
		now time.Duration
		// running is the number of actors not parked.
		running int
		events  eventHeap
		seq     uint64
		// tail is the timer scheduled last (seq is its sequence number
		// while nothing else was scheduled since): the next one, due at
		// the same time, fires behind it in its run (runs.go).
		tail *Timer
		// turn is the actor whose turn it is (turnstile.go): woken from
		// Park, it runs until it parks again; nil when no woken actor
		// runs.
		turn *Actor
		// queue is the woken actors waiting for their turn, in the order
		// they were woken.
		queue []*Actor
		// advances counts fast-mode jumps, for statistics; exact counts
		// those taken without a settle window (settled).
		advances, exact uint64
		closed          bool
	}
}

var _ tcpip.Clock = (*Clock)(nil)

// New returns a clock. Call Run on a goroutine you own to make time pass.
func New(cfg Config) *Clock {
	c := &Clock{
		mode:   cfg.Mode,
		start:  cfg.Start,
		settle: cfg.Settle,
		kick:   make(chan struct{}, 1),
	}
	if c.start.IsZero() {
		c.start = DefaultStart
	}
	if c.settle <= 0 {
		c.settle = DefaultSettle
	}
	return c
}

// Mode reports the clock's mode.
func (c *Clock) Mode() Mode { return c.mode }

// Elapsed is the simulator time since the start of the world.
func (c *Clock) Elapsed() time.Duration {
	if c.mode == Realtime {
		return c.sinceAnchor()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.now
}

// sinceAnchor is realtime mode's simulator time: zero until Run starts
// time, then the wall time since.
func (c *Clock) sinceAnchor() time.Duration {
	if a := c.wallAnchor.Load(); a != nil {
		return time.Since(*a)
	}
	return 0
}

// Now implements tcpip.Clock: the simulated wall-clock time.
func (c *Clock) Now() time.Time { return c.start.Add(c.Elapsed()) }

// NowMonotonic implements tcpip.Clock.
func (c *Clock) NowMonotonic() tcpip.MonotonicTime {
	// MonotonicTime's zero value is a valid origin; Add moves from it.
	return tcpip.MonotonicTime{}.Add(c.Elapsed())
}

// Advances reports how many times fast mode has jumped time.
func (c *Clock) Advances() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.advances
}

// ExactAdvances reports how many of the jumps were taken as soon as the
// scheduler showed every goroutine blocked, without a settle window.
func (c *Clock) ExactAdvances() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.exact
}

// Poke records that something happened (a frame sent or delivered), so fast
// mode does not jump time while its consequences are still being computed.
func (c *Clock) Poke() {
	c.activity.Add(1)
}

func (c *Clock) wake() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// AfterFunc implements tcpip.Clock. f runs on the clock's goroutine once d of
// simulator time has passed; it must not block.
func (c *Clock) AfterFunc(d time.Duration, f func()) tcpip.Timer {
	t := &Timer{clock: c, f: f, index: -1}
	t.Reset(d)
	return t
}

// Timer is a scheduled callback. It implements tcpip.Timer.
type Timer struct {
	clock *Clock
	f     func()
	// Guarded by clock.mu.
	when  time.Duration
	seq   uint64
	index int // position in the heap, inRun behind a run's head, -1 when not scheduled
	// run is the run the timer is scheduled in, if any (runs.go).
	run *run
}

var _ tcpip.Timer = (*Timer)(nil)

// Stop implements tcpip.Timer.
func (t *Timer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unscheduleLocked(t)
}

// Reset implements tcpip.Timer.
func (t *Timer) Reset(d time.Duration) {
	c := t.clock
	if d < 0 {
		d = 0
	}
	c.mu.Lock()
	now := c.mu.now
	if c.mode == Realtime {
		now = c.sinceAnchor()
	}
	c.unscheduleLocked(t)
	c.scheduleLocked(t, now+d)
	c.mu.Unlock()
	c.activity.Add(1)
	c.wake()
}

// Run makes time pass until ctx is done or Close is called. Exactly one
// goroutine runs it; timer callbacks run on it.
func (c *Clock) Run(ctx context.Context) error {
	c.idleSyscalls = syscallGoroutines()
	if c.mode == Realtime {
		now := time.Now()
		c.wallAnchor.CompareAndSwap(nil, &now)
	}
	var wallTimer *time.Timer
	defer func() {
		if wallTimer != nil {
			wallTimer.Stop()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if c.fireDue() {
			continue
		}
		c.mu.Lock()
		closed := c.mu.closed
		next, hasNext := c.nextLocked()
		running := c.mu.running
		now := c.mu.now
		c.mu.Unlock()
		if closed {
			return ErrClosed
		}

		if c.mode == Realtime {
			var wait <-chan time.Time
			if hasNext {
				d := next - c.Elapsed()
				if wallTimer == nil {
					wallTimer = time.NewTimer(d)
				} else {
					wallTimer.Reset(d)
				}
				wait = wallTimer.C
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-c.kick:
				if wallTimer != nil && !wallTimer.Stop() {
					select {
					case <-wallTimer.C:
					default:
					}
				}
			case <-wait:
			}
			continue
		}

		if running > 0 || !hasNext {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-c.kick:
			}
			continue
		}
		if quiet, exact := c.settled(); quiet {
			c.mu.Lock()
			if c.mu.running == 0 && c.mu.now == now {
				if n, ok := c.nextLocked(); ok && n > c.mu.now {
					c.mu.now = n
					c.mu.advances++
					if exact {
						c.mu.exact++
					}
				}
			}
			c.mu.Unlock()
		}
	}
}

// settled reports whether the world is quiet: no activity, and no
// goroutine waiting for a CPU (gVisor's processors readied by a delivery);
// exact when it could tell without waiting.
//
// Usually it can tell at once: when the scheduler shows no goroutine
// runnable, none in a system call and none running but this one, every
// goroutine of the world is blocked and only a clock event can wake it —
// exact, and it costs a few microseconds instead of a settle window per
// jump. When other goroutines
// are on a CPU (a parallel test, the garbage collector, another world) it
// falls back to waiting one settle window: a kick during the window means
// something changed, so it ends the wait early.
func (c *Clock) settled() (quiet, exact bool) {
	before := c.activity.Load()
	switch schedulerState(c.idleSyscalls) {
	case schedBusy:
		return false, false
	case schedQuiet:
		return c.activity.Load() == before, true
	}
	t := time.NewTimer(c.settle)
	defer t.Stop()
	select {
	case <-c.kick:
		// The Run loop reads the clock's state afresh on its next turn.
		return false, false
	case <-t.C:
	}
	if c.activity.Load() != before {
		c.othersWaits = 0
		return false, false
	}
	switch schedulerState(c.idleSyscalls) {
	case schedBusy:
		return false, false
	case schedOthersRunning:
		// A goroutine still on a CPU may be one of the world's, its
		// thread pre-empted by the OS halfway through a frame (a loaded
		// machine): jumping now would fire its retransmission timer
		// early, and the run would differ from the same seed's unloaded
		// run. Give it a few more windows before deciding it is not ours.
		if c.othersWaits++; c.othersWaits < othersWindows {
			return false, false
		}
	}
	c.othersWaits = 0
	return c.activity.Load() == before, false
}

// syscallGoroutines is how many goroutines are in system calls now (0
// where the runtime does not say).
func syscallGoroutines() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines/not-in-go:goroutines"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// othersWindows is how many settle windows fast mode waits for goroutines
// that stay on a CPU before it jumps anyway (they may be another world's,
// or a test's own).
const othersWindows = 20

var schedSamples = []metrics.Sample{
	{Name: "/sched/goroutines/runnable:goroutines"},
	{Name: "/sched/goroutines/running:goroutines"},
	// A goroutine in a system call (writing the capture file between
	// noting a frame and queueing it) is neither running nor runnable,
	// yet not done.
	{Name: "/sched/goroutines/not-in-go:goroutines"},
}

type sched int

const (
	// schedBusy: goroutines are waiting for a CPU.
	schedBusy sched = iota
	// schedOthersRunning: none waiting, but other goroutines are running
	// or in system calls (they may be the world's, or not).
	schedOthersRunning
	// schedQuiet: this goroutine is the only one on a CPU and none waits.
	schedQuiet
)

// quietChecks is how many consecutive quiet readings (each after a yield)
// schedulerState wants: a goroutine being stolen from one run queue to
// another is briefly in neither.
const quietChecks = 3

// schedulerState yields a few times and reads the scheduler's goroutine
// counts. Where the metrics are unsupported it reports schedOthersRunning,
// so the caller waits a settle window as before.
func schedulerState(idleSyscalls uint64) sched {
	s := make([]metrics.Sample, len(schedSamples))
	copy(s, schedSamples)
	quiet := 0
	for i := 0; i < 8; i++ {
		runtime.Gosched()
		metrics.Read(s)
		for _, v := range s {
			if v.Value.Kind() != metrics.KindUint64 {
				return schedOthersRunning
			}
		}
		if s[0].Value.Uint64() != 0 {
			quiet = 0
			continue
		}
		if s[1].Value.Uint64() > 1 || s[2].Value.Uint64() > idleSyscalls {
			return schedOthersRunning
		}
		if quiet++; quiet == quietChecks {
			return schedQuiet
		}
	}
	if quiet > 0 {
		return schedOthersRunning
	}
	return schedBusy
}

// nextLocked returns the time of the earliest event.
func (c *Clock) nextLocked() (time.Duration, bool) {
	if len(c.mu.events) == 0 {
		return 0, false
	}
	return c.mu.events[0].when, true
}

// fireDue runs every event whose time has come, in time order, and reports
// whether it ran any.
func (c *Clock) fireDue() bool {
	now := c.Elapsed()
	due := c.due[:0]
	c.mu.Lock()
	for len(c.mu.events) > 0 && c.mu.events[0].when <= now {
		due = c.popLocked(due)
	}
	c.mu.Unlock()
	for i, t := range due {
		due[i] = nil
		t.f()
	}
	c.due = due[:0]
	if len(due) > 0 {
		c.activity.Add(1)
	}
	return len(due) > 0
}

// ErrClosed is returned by Run after Close and by actors' waits on a closed
// clock.
var ErrClosed = errors.New("vclock: clock closed")

// Close stops Run. Pending timers never fire.
func (c *Clock) Close() {
	c.mu.Lock()
	c.mu.closed = true
	c.mu.Unlock()
	c.wake()
}

type eventHeap []*Timer

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if h[i].when != h[j].when {
		return h[i].when < h[j].when
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *eventHeap) Push(x any) {
	t := x.(*Timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *eventHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}
