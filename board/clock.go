package board

import (
	"context"
	"sync"
	"time"
)

// Blocking and simulated time.
//
// A board is one vclock Actor. While Python code runs the actor is running
// and, in fast mode, simulator time stands still; a host function that waits
// (Sleep, Park, PollYield) parks the actor so time can move. Waiting also
// pauses the watchdog, which only counts wall-clock time spent running
// Python code since the last wait.

// PollYield tuning: the first pollFree consecutive polls cost nothing; after
// that each poll is charged pollCost of simulated CPU time, doubling every
// pollDoubleEvery polls up to pollMaxCost, and the board parks whenever
// pollPark of charge has accrued. A busy loop such as
//
//	while time.ticks_diff(time.ticks_ms(), t0) < 1000: pass
//
// thus reaches its deadline after a few thousand cheap iterations and about
// a hundred parks in fast mode.
const (
	pollFree        = 32
	pollCost        = 50 * time.Microsecond
	pollDoubleEvery = 1000
	pollMaxCost     = time.Millisecond
	pollPark        = 10 * time.Millisecond
)

// PollYield runs at the start of a status poll a script may call in a busy
// loop (isconnected(), status(), a pin read, a non-blocking recv that found
// nothing): under the CPU model it is statusPoll, under CPUNative
// nativePoll (board/cpuspin.go). The count resets whenever the board
// really waits (Sleep, Park). It returns ErrInterrupted after Ctrl-C, or
// an error ending the run.
func (b *Board) PollYield() error {
	if b.cpu.model == CPUBoard {
		return b.statusPoll()
	}
	return b.nativePoll(true)
}

// Sleep parks the board for d of simulator time. It returns early with
// ErrInterrupted after Ctrl-C, or with an error ending the run (return it).
func (b *Board) Sleep(d time.Duration) error {
	b.pollCount, b.pollOwed = 0, 0
	return b.wait(d)
}

func (b *Board) wait(d time.Duration) error {
	d += b.takeOwed() // the board's clock is ahead by what it owes
	// A WebREPL client is served while the board waits, as lwIP's
	// callbacks and the scheduler run during a sleep on the board, and so
	// are interrupt handlers that become due (hwirq.go).
	deadline := b.clock.Elapsed() + d
	first := true // a wait of 0 still parks once (lets the world run)
	for {
		w := b.duptermIdle()
		if w != nil {
			w.serve(b.Context())
		}
		b.serveIRQs()
		left := max(deadline-b.clock.Elapsed(), 0)
		if left == 0 && !first {
			return nil
		}
		first = false
		step := b.hwWaitStep(left)
		if w != nil {
			step = min(step, webreplPoll)
		}
		if err := b.waitFor(step); err != nil {
			return err
		}
	}
}

func (b *Board) waitFor(d time.Duration) error {
	return b.block(b.sleepFor(d))
}

// sleepFor is a wait of d simulator time, for block or blockAs.
func (b *Board) sleepFor(d time.Duration) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		deadline := b.clock.Elapsed() + d
		for {
			left := deadline - b.clock.Elapsed()
			if left <= 0 || b.interrupted.Load() || b.stopping.Load() {
				return nil
			}
			if err := b.actor.Load().Park(ctx, left); err != nil {
				return err
			}
		}
	}
}

// Park parks the board until Wake is called, timeout of simulator time
// passes (timeout < 0: no timeout) or Ctrl-C; it may return early, so
// callers re-check what they wait for. Extension layers (sockets) use it to
// wait for network events; their callbacks call Wake.
func (b *Board) Park(timeout time.Duration) error {
	b.pollCount, b.pollOwed = 0, 0
	if owed := b.takeOwed(); owed > 0 {
		// Pay the CPU time first and return: a Wake during the payment
		// would otherwise be lost; callers re-check what they wait for.
		return b.wait(owed)
	}
	// Handlers due now run first; the park ends at the next hardware
	// event that may make one due, and the caller re-checks its wait.
	b.serveIRQs()
	timeout = b.hwWaitStep(timeout)
	if w := b.duptermIdle(); w != nil {
		// Serve a WebREPL client while the board waits (a socket, input()).
		w.serve(b.Context())
		if timeout < 0 || timeout > webreplPoll {
			timeout = webreplPoll
		}
	}
	return b.block(func(ctx context.Context) error {
		if b.interrupted.Load() || b.stopping.Load() {
			return nil
		}
		return b.actor.Load().Park(ctx, timeout)
	})
}

// Wake makes a parked board runnable. Safe from any goroutine.
func (b *Board) Wake() { b.actor.Load().Wake() }

// Context is the context of the current run: done when the run ends.
func (b *Board) Context() context.Context {
	if b.runCtx == nil {
		return context.Background()
	}
	return b.runCtx
}

// block runs a wait with the watchdog paused and translates its outcome.
func (b *Board) block(f func(ctx context.Context) error) error {
	return b.blockAs(f, true)
}

// blockAs is block; pauseWatchdog false holds the watchdog instead, for
// the time the board spends paying CPU time (cputime.go): the wall time
// parked is not counted, and the budget is not renewed either, since a
// runaway loop is still running Python code between its payments.
func (b *Board) blockAs(f func(ctx context.Context) error, pauseWatchdog bool) error {
	if b.closed.Load() {
		return errStopped
	}
	ctx := b.Context()
	b.intMu.Lock()
	b.blocking = true
	b.intMu.Unlock()
	if pauseWatchdog {
		b.wd.pause()
	} else {
		b.wd.hold()
	}
	err := f(ctx)
	b.intMu.Lock()
	b.blocking = false
	b.intMu.Unlock()
	if pauseWatchdog {
		b.wd.resume()
	} else {
		b.wd.release()
	}
	if err != nil || ctx.Err() != nil || b.closed.Load() || b.stopping.Load() {
		return errStopped
	}
	if b.interrupted.CompareAndSwap(true, false) {
		return ErrInterrupted
	}
	return nil
}

// Interrupt is Ctrl-C arriving at the board's UART: while a program runs
// (the firmware has Ctrl-C as its interrupt character) KeyboardInterrupt is
// raised in it, or the wait in progress returns it; at the REPL it is the
// Ctrl-C key; while the board sets up a fresh interpreter it waits for the
// first user code. Safe from any goroutine.
func (b *Board) Interrupt() {
	b.intMu.Lock()
	if b.inSetup {
		// The board's own setup runs before the UART is read; the
		// interrupt reaches the first user code (endSetup).
		b.deferredInt = true
		b.intMu.Unlock()
		return
	}
	b.intMu.Unlock()
	if b.interruptChar() == ctrlC {
		b.interruptNow()
		return
	}
	if b.cfg.Stdin != nil {
		b.uartStore([]byte{ctrlC})
	}
}

// interruptNow raises KeyboardInterrupt in the running program whatever
// the interrupt character (the watchdog, a deferred Ctrl-C).
func (b *Board) interruptNow() {
	b.intMu.Lock()
	defer b.intMu.Unlock()
	if b.blocking {
		b.interrupted.Store(true)
		b.actor.Load().Wake()
		return
	}
	b.raiseKeyboardInterrupt()
}

// watchdog fires when Python code runs for its budget of wall-clock time
// without waiting. It uses wall time on purpose: it guards the simulator
// against runaway scripts, not simulated behaviour.
type watchdog struct {
	mu sync.Mutex
	// Guarded by mu.
	budget  time.Duration
	timer   *time.Timer
	armed   bool
	paused  bool
	fired   bool
	onFire  func()
	stopped bool
	// deadline is when the running timer fires; held, while the board
	// pays CPU time (cputime.go), with left the budget still unspent.
	deadline time.Time
	held     bool
	heldAt   time.Time
	left     time.Duration
}

func (w *watchdog) arm(budget time.Duration, onFire func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if budget <= 0 || w.stopped {
		return
	}
	w.budget, w.onFire, w.armed, w.paused, w.fired, w.held = budget, onFire, true, false, false, false
	w.startLocked()
}

func (w *watchdog) startLocked() { w.startFor(w.budget) }

// hold stops the clock of a running budget without renewing it: the board
// is parked paying CPU time, which is neither running code (a fleet's
// board may wait there for seconds of wall time while the others catch
// up) nor a wait (a runaway loop pays every few milliseconds and must not
// get a fresh budget each time). release continues with what was left,
// less up to holdAllowance of the park.
func (w *watchdog) hold() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.armed || w.paused || w.held || w.stopped {
		return
	}
	w.held = true
	w.heldAt = time.Now()
	w.left = max(time.Until(w.deadline), 0)
	if w.timer != nil {
		w.timer.Stop()
	}
}

// holdAllowance is how much of one payment's parked wall time the budget
// still counts: the park's own cost (a busy loop pays every few ms of
// board time and spends most of its wall time in those parks, so they
// must count or the watchdog fires seconds late), but not a fleet board's
// long wait for the others.
const holdAllowance = time.Millisecond

func (w *watchdog) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.held {
		return
	}
	w.held = false
	if !w.armed || w.paused || w.stopped {
		return
	}
	d := w.left - min(time.Since(w.heldAt), holdAllowance)
	if d <= 0 && !w.fired {
		// Fire now: a timer of 0 would run on another goroutine, and a
		// loop that pays every few microseconds of wall time holds (stops)
		// it again before it gets to run.
		w.fired = true
		go w.onFire()
		return
	}
	w.startFor(max(d, 0))
}

func (w *watchdog) startFor(d time.Duration) {
	if w.timer != nil {
		w.timer.Stop()
	}
	w.deadline = time.Now().Add(d)
	w.timer = time.AfterFunc(d, func() {
		w.mu.Lock()
		if !w.armed || w.paused || w.stopped {
			w.mu.Unlock()
			return
		}
		w.fired = true
		f := w.onFire
		w.mu.Unlock()
		f()
	})
}

func (w *watchdog) pause() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.armed || w.paused {
		return
	}
	w.paused = true
	if w.timer != nil {
		w.timer.Stop()
	}
}

func (w *watchdog) resume() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.armed || !w.paused || w.stopped {
		return
	}
	w.paused, w.held = false, false
	w.startLocked()
}

func (w *watchdog) disarm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed = false
	if w.timer != nil {
		w.timer.Stop()
	}
}

func (w *watchdog) hasFired() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fired
}

func (w *watchdog) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	w.armed = false
	if w.timer != nil {
		w.timer.Stop()
	}
}

// beginSetup and endSetup bracket the preparation of a fresh interpreter.
func (b *Board) beginSetup() {
	b.intMu.Lock()
	b.inSetup, b.deferredInt = true, false
	b.intMu.Unlock()
}

func (b *Board) endSetup() {
	// The setup's own executed code is free: count it while inSetup holds,
	// or the first user host call would be charged for it (cputime.go).
	b.cpuSync()
	b.intMu.Lock()
	b.inSetup = false
	pending := b.deferredInt
	b.deferredInt = false
	b.intMu.Unlock()
	if pending {
		b.Interrupt()
	}
}
