package board

import "context"

// Spin detection: a loop that only polls (see idlePollIters in cputime.go)
// stops being executed pass by pass and jumps ahead to the next event.

// statusPoll is PollYield under the CPU model: the poll's own cost is
// counted; a spin on it jumps ahead (see idlePollIters).
func (b *Board) statusPoll() error {
	b.cpuSync()
	if b.cpu.charged-b.cpu.lastPoll <= idlePollIters && b.pollCount > 0 {
		b.pollCount++
	} else {
		b.pollCount = 1
		b.cpu.spinStart = b.Uptime()
	}
	b.cpu.lastPoll = b.cpu.charged
	if b.Uptime()-b.cpu.spinStart < spinBeforeJump && b.pollCount <= spinPassesBeforeJump {
		b.cpuPay(cpuPark)
		return nil
	}
	return b.spinJump()
}

// nativePoll is PollYield, ticks_ms and sleep_ms(0) under CPUNative, where
// code costs nothing: the first pollFree consecutive polls are free, then
// each is charged pollCost, doubling every pollDoubleEvery polls up to
// pollMaxCost, and the board parks whenever pollPark has accrued (a
// `while ticks_diff(ticks_ms(), t0) < 1000: pass` reaches its deadline
// within a millisecond). A status poll (status) in a spin — the previous
// poll within idlePollIters executed iterations — jumps like the CPU
// model's once it has run spinPassesBeforeJump passes: charging each pass
// a millisecond at most, a 2 s WiFi join was thousands of executed passes
// per board, and a 100-board fleet of the http_get tutorial took 11 s of
// wall time instead of one. Time reads keep the charge, whose steps are
// what a script waiting for a deadline by the clock overshoots by.
func (b *Board) nativePoll(status bool) error {
	b.cpuSync()
	tight := b.cpu.iters-b.cpu.lastPoll <= idlePollIters
	b.cpu.lastPoll = b.cpu.iters
	b.pollCount++
	if status && tight && b.pollCount > pollFree+spinPassesBeforeJump {
		b.pollOwed = 0
		return b.spinJump()
	}
	if b.pollCount <= pollFree {
		return nil
	}
	cost := pollMaxCost
	if shift := (b.pollCount - pollFree) / pollDoubleEvery; shift < 5 {
		if c := pollCost << shift; c < pollMaxCost {
			cost = c
		}
	}
	b.pollOwed += cost
	if b.pollOwed < pollPark {
		return nil
	}
	d := b.pollOwed
	b.pollOwed = 0
	return b.wait(d)
}

// spinJump parks a spinning board until the next event or the end of a
// jump growing from jumpMin to jumpMax with the spin's polls.
func (b *Board) spinJump() error {
	jump := jumpMax
	if shift := b.pollCount / 8; shift < 8 {
		if j := jumpMin << shift; j < jumpMax {
			jump = j
		}
	}
	// One wakeable park pays the owed CPU time and then jumps; it ends on
	// a multiple of the jump's length, so a fleet of spinning boards wakes
	// at the same instants (one clock advance for all of them). Woken
	// before the owed time has passed, the board still owes the rest.
	owed := b.takeOwed()
	now := b.clock.Elapsed()
	d := ((now+owed)/jump+1)*jump - now
	err := b.block(func(ctx context.Context) error {
		if b.interrupted.Load() || b.stopping.Load() {
			return nil
		}
		return b.actor.Load().Park(ctx, d)
	})
	if paid := b.clock.Elapsed() - now; paid < owed {
		b.cpu.ps += int64(owed-paid) * 1000
	}
	return err
}
