package vclock

import (
	"context"
	"time"
)

// An Actor is something whose progress must hold simulator time still: a
// board running its script, or a test goroutine playing a program. In fast
// mode time only advances while every actor is parked.
//
// An actor is used by one goroutine (its owner); Wake may be called from any.
type Actor struct {
	clock *Clock
	name  string
	wakeC chan struct{}

	// Guarded by clock.mu.
	parked  bool
	pending bool // a Wake arrived while running; the next Park returns at once
	closed  bool
	queued  bool // woken, waiting in clock.mu.queue for its turn (turnstile.go)

	// turns: the actor takes turns (turnstile.go). Set at creation.
	turns bool
}

// NewActor registers a running actor.
func (c *Clock) NewActor(name string) *Actor {
	a := &Actor{clock: c, name: name, wakeC: make(chan struct{}, 1)}
	c.mu.Lock()
	c.mu.running++
	c.mu.Unlock()
	c.activity.Add(1)
	return a
}

// Name is the actor's name, for diagnostics.
func (a *Actor) Name() string { return a.name }

// Clock returns the clock the actor belongs to.
func (a *Actor) Clock() *Clock { return a.clock }

// Wake makes a parked actor runnable at once (it counts as running from this
// moment, before its goroutine is scheduled, so time cannot jump past the
// event that woke it). A Wake to a running actor is remembered for its next
// Park. Safe from any goroutine, including gVisor waiter callbacks.
func (a *Actor) Wake() {
	c := a.clock
	c.mu.Lock()
	if a.closed {
		c.mu.Unlock()
		return
	}
	if a.parked {
		a.parked = false
		c.mu.running++
		c.takeTurnLocked(a)
	} else {
		a.pending = true
	}
	c.mu.Unlock()
	c.activity.Add(1)
}

// Park blocks until Wake, until timeout of simulator time has passed
// (timeout < 0: no timeout) or until ctx is done. It may return early; callers
// re-check what they wait for. It returns ctx's error if ctx ended the wait.
func (a *Actor) Park(ctx context.Context, timeout time.Duration) error {
	c := a.clock
	// Arm the timeout while the actor still counts as running: time cannot
	// move past it before the actor is parked. If it fires at once (timeout
	// 0), its Wake is remembered and the check below returns.
	var t *Timer
	if timeout >= 0 {
		t = c.AfterFunc(timeout, a.Wake).(*Timer)
	}
	stop := func() {
		if t != nil {
			t.Stop()
		}
	}
	c.mu.Lock()
	if a.closed {
		c.mu.Unlock()
		stop()
		return ErrClosed
	}
	if a.pending {
		a.pending = false
		c.mu.Unlock()
		stop()
		return nil
	}
	// Drain a stale token from an earlier wake that raced with a timeout.
	select {
	case <-a.wakeC:
	default:
	}
	a.parked = true
	c.mu.running--
	c.endTurnLocked(a)
	c.mu.Unlock()
	c.wake()

	var err error
	select {
	case <-a.wakeC:
		if a.turns && c.mode == Fast {
			settleOthers()
		}
	case <-ctx.Done():
		err = ctx.Err()
		c.mu.Lock()
		switch {
		case a.parked:
			a.parked = false
			c.mu.running++
		case a.queued:
			// Woken but not yet its turn: it leaves the queue and runs
			// outside the turnstile, as a new actor does.
			c.leaveQueueLocked(a)
		case c.mu.turn == a:
			// Its turn came as ctx ended; the turn is not lost.
		}
		c.mu.Unlock()
	}
	stop()
	return err
}

// Sleep parks the actor for d of simulator time.
func (a *Actor) Sleep(ctx context.Context, d time.Duration) error {
	deadline := a.clock.Elapsed() + d
	for {
		left := deadline - a.clock.Elapsed()
		if left <= 0 {
			return nil
		}
		if err := a.Park(ctx, left); err != nil {
			return err
		}
	}
}

// Close unregisters the actor; time no longer waits for it.
func (a *Actor) Close() {
	c := a.clock
	c.mu.Lock()
	if !a.closed {
		a.closed = true
		if !a.parked {
			c.mu.running--
		}
		a.parked = false
		if a.queued {
			c.leaveQueueLocked(a)
			// A WaitTurn returns: the actor is closed.
			select {
			case a.wakeC <- struct{}{}:
			default:
			}
		}
		c.endTurnLocked(a)
	}
	c.mu.Unlock()
	c.activity.Add(1)
	c.wake()
}
