package vclock

import "context"

// The turnstile: in fast mode, actors woken from Park run one at a time, in
// the order they were woken.
//
// Several actors are often woken at one simulated instant (a fleet's boards
// whose spins end on the same multiple of 20 ms, every board a broadcast
// reaches). Each then runs on its own goroutine, and what they do at that
// instant (console lines, frames, and through the frames' order the
// router's IP IDs and the leases it hands out) came out in the order Go's
// scheduler ran them. On a quiet machine with one CPU that order is the
// same from run to run, but the scheduler pre-empts a goroutine that has
// run 10 ms of wall time, and on a loaded machine, where the OS takes the
// thread away for milliseconds, that happens at different places every
// run: the fleet's capture and console differed from run to run.
//
// With the turnstile, a woken actor's goroutine is made runnable only when
// the actor woken before it has parked again (or closed), so the order is
// the order of the wakes, which the clock's goroutine makes in timer order.
// Time still stands while an actor waits for its turn (it counts as
// running).
//
// Only actors made with NewTurnActor or NewActorInLine take turns (boards,
// the world's services); others (tests' actors) run when woken, as before.
// Actors that run without having been woken (just created, or out of Park
// because their context ended) run outside the turnstile.
// Realtime worlds do not use it: their boards run as wall time comes.

// takeTurnLocked gives a, just woken, its turn, or queues it behind the
// actor whose turn it is.
func (c *Clock) takeTurnLocked(a *Actor) {
	if a.turns && c.mode == Fast {
		if c.mu.turn != nil {
			a.queued = true
			c.mu.queue = append(c.mu.queue, a)
			return
		}
		c.mu.turn = a
	}
	select {
	case a.wakeC <- struct{}{}:
	default:
	}
}

// endTurnLocked ends a's turn, if it is a's, and gives the next queued
// actor its turn.
func (c *Clock) endTurnLocked(a *Actor) {
	if c.mu.turn != a {
		return
	}
	c.mu.turn = nil
	if len(c.mu.queue) == 0 {
		return
	}
	next := c.mu.queue[0]
	c.mu.queue[0] = nil
	c.mu.queue = c.mu.queue[1:]
	if len(c.mu.queue) == 0 {
		c.mu.queue = nil
	}
	next.queued = false
	c.takeTurnLocked(next)
}

// leaveQueueLocked takes a out of the queue.
func (c *Clock) leaveQueueLocked(a *Actor) {
	a.queued = false
	for i, q := range c.mu.queue {
		if q == a {
			c.mu.queue = append(c.mu.queue[:i], c.mu.queue[i+1:]...)
			return
		}
	}
}

// NewTurnActor registers a running actor that takes turns: each time it is
// woken from Park, it waits until the actors woken before it have parked
// again. Its goroutine must park (or Close it) whenever it stops using it
// for a while: an actor that keeps its turn while idle (running, its
// goroutine waiting on something else) holds back every actor woken after
// it. Boards and the world's services use it; an actor shared by several
// goroutines in turn (a test's) is better made with NewActor.
func (c *Clock) NewTurnActor(name string) *Actor {
	a := c.NewActor(name)
	a.turns = true
	return a
}

// NewActorInLine registers a running actor that takes its place in the
// turnstile at once, behind the actors already woken: the caller's place in
// the order decides its turn, not when its goroutine first runs. That
// goroutine must call WaitTurn before it acts. Use it for an actor a
// running actor starts to do part of its work (a board's name lookup).
func (c *Clock) NewActorInLine(name string) *Actor {
	a := c.NewTurnActor(name)
	c.mu.Lock()
	c.takeTurnLocked(a)
	c.mu.Unlock()
	return a
}

// WaitTurn blocks until it is a's turn (NewActorInLine) or ctx is done,
// and returns ctx's error if ctx ended the wait; a then runs outside the
// turnstile until it parks.
func (a *Actor) WaitTurn(ctx context.Context) error {
	c := a.clock
	select {
	case <-a.wakeC:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		if a.queued {
			c.leaveQueueLocked(a)
		}
		c.mu.Unlock()
		return ctx.Err()
	}
}

// settleOthers lets the goroutines that are ready to run (gVisor's
// processors, readied by the frame that woke this actor) run until they
// block before the actor's turn begins: what they send at this instant
// then goes out before what the actor sends, whatever order the scheduler
// (or the race detector's randomised one) would have picked. Bounded, so
// goroutines that never block (another world's, a test's) cannot stall a
// turn.
func settleOthers() { YieldUntilQuiet(settleSpins, false) }

// settleSpins bounds settleOthers' yields.
const settleSpins = 200
