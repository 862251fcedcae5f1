package vclock

import (
	"container/heap"
	"time"
)

// Timers due at one instant that were scheduled one right after the
// other share one heap entry, a run: a fleet's flood arms a thousand
// downlinks for the same instant, one after the other, and pushing and
// popping each through the heap was several percent of a 1000-board run
// (issue #20).
//
// The order timers fire in does not change. The heap orders by (due time,
// sequence number), and a run holds timers with the same due time and
// consecutive sequence numbers: a timer joins the run of the timer
// scheduled just before it, and only when nothing else was scheduled in
// between (Clock.mu.tail). No other timer can sort between two members, so
// the run's head standing for all of them in the heap, and the members
// firing in sequence order behind it, is the order the heap would have
// given them one by one.
//
// A stopped (or reset) member leaves its run at once; its entry stays in
// the member list, recognised as stale by its sequence number. A stopped
// head hands its place in the heap to the next member still in the run.

// inRun is Timer.index for a timer scheduled behind its run's head.
const inRun = -2

// run is the timers of one run, in sequence order.
type run struct {
	members []runMember
	// first is the index of the first member that may still be in the run.
	first int
}

type runMember struct {
	t   *Timer
	seq uint64 // the member's sequence number when it joined
}

// in reports whether m is still in r.
func (r *run) in(m runMember) bool { return m.t.run == r && m.t.seq == m.seq }

// scheduleLocked gives t the next sequence number and schedules it at
// when, in the run of the timer scheduled last if it can.
func (c *Clock) scheduleLocked(t *Timer, when time.Duration) {
	tail := c.mu.tail
	joins := tail != nil && tail.index != -1 && tail.when == when && tail.seq == c.mu.seq
	c.mu.seq++
	t.when, t.seq = when, c.mu.seq
	c.mu.tail = t
	if !joins {
		heap.Push(&c.mu.events, t)
		return
	}
	r := tail.run
	if r == nil {
		r = &run{members: []runMember{{tail, tail.seq}}}
		tail.run = r
	}
	r.members = append(r.members, runMember{t, t.seq})
	t.run, t.index = r, inRun
}

// unscheduleLocked takes t out of the heap or out of its run and reports
// whether it was scheduled.
func (c *Clock) unscheduleLocked(t *Timer) bool {
	switch {
	case t.index == inRun:
		t.run, t.index = nil, -1
		return true
	case t.index >= 0:
		heap.Remove(&c.mu.events, t.index)
		if r := t.run; r != nil {
			t.run = nil
			// The next member still in the run heads it now; its
			// sequence number sorts it where the old head was, as no
			// other timer sorts between members.
			for ; r.first < len(r.members); r.first++ {
				if m := r.members[r.first]; r.in(m) {
					heap.Push(&c.mu.events, m.t)
					break
				}
			}
		}
		return true
	}
	return false
}

// popLocked pops the earliest heap entry and appends its timers to due:
// the timer, or every member still in its run, in order.
func (c *Clock) popLocked(due []*Timer) []*Timer {
	t := heap.Pop(&c.mu.events).(*Timer)
	r := t.run
	if r == nil {
		return append(due, t)
	}
	for _, m := range r.members[r.first:] {
		if r.in(m) {
			m.t.run, m.t.index = nil, -1
			due = append(due, m.t)
		}
	}
	return due
}
