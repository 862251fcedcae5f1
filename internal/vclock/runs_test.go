package vclock

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// timerModel is the clock's timer order spelled out the slow way: every
// scheduled timer in a list, fired by (due time, sequence number), a round
// at a time; a timer stopped after its round began still fires, as with
// the heap.
type timerModel struct {
	now time.Duration
	seq uint64
	ts  []modelTimer
}

type modelTimer struct {
	when  time.Duration
	seq   uint64
	sched bool
}

// timerOps is what the driver does to a clock: the real one or the model.
type timerOps interface {
	reset(i int, d time.Duration)
	stop(i int) bool
	// round fires every due timer (one fireDue) and reports whether any.
	round(fire func(i int)) bool
	advance(d time.Duration)
}

func (m *timerModel) reset(i int, d time.Duration) {
	m.seq++
	m.ts[i] = modelTimer{when: m.now + d, seq: m.seq, sched: true}
}

func (m *timerModel) stop(i int) bool {
	was := m.ts[i].sched
	m.ts[i].sched = false
	return was
}

func (m *timerModel) round(fire func(int)) bool {
	var due []int
	for i, t := range m.ts {
		if t.sched && t.when <= m.now {
			due = append(due, i)
		}
	}
	slices.SortFunc(due, func(a, b int) int {
		return cmp.Or(cmp.Compare(m.ts[a].when, m.ts[b].when), cmp.Compare(m.ts[a].seq, m.ts[b].seq))
	})
	for _, i := range due {
		m.ts[i].sched = false
	}
	for _, i := range due {
		fire(i)
	}
	return len(due) > 0
}

func (m *timerModel) advance(d time.Duration) { m.now += d }

// realTimers drives a Clock's timers directly: its time is set by hand and
// fireDue called as Run would.
type realTimers struct {
	c  *Clock
	ts []*Timer
	// fire is the callback of the round under way.
	fire func(int)
	// merged counts the rounds that found fewer heap entries than
	// scheduled timers: runs were formed.
	merged int
}

func newRealTimers(n int) *realTimers {
	r := &realTimers{c: New(Config{})}
	for i := range n {
		r.ts = append(r.ts, &Timer{clock: r.c, index: -1, f: func() { r.fire(i) }})
	}
	return r
}

func (r *realTimers) reset(i int, d time.Duration) { r.ts[i].Reset(d) }
func (r *realTimers) stop(i int) bool              { return r.ts[i].Stop() }

func (r *realTimers) round(fire func(int)) bool {
	r.c.mu.Lock()
	scheduled := 0
	for _, t := range r.ts {
		if t.index != -1 {
			scheduled++
		}
	}
	if len(r.c.mu.events) < scheduled {
		r.merged++
	}
	r.c.mu.Unlock()
	r.fire = fire
	return r.c.fireDue()
}

func (r *realTimers) advance(d time.Duration) {
	r.c.mu.Lock()
	r.c.mu.now += d
	r.c.mu.Unlock()
}

// driveTimers plays a random script on ops: resets and stops, with delays
// that often land on one instant (so runs form and are broken up), from
// the top level and from inside timer callbacks. It returns the log of
// what fired and what Stop returned.
func driveTimers(ops timerOps, seed uint64, n int) string {
	rng := rand.New(rand.NewPCG(seed, 7))
	var log strings.Builder
	delays := []time.Duration{0, time.Millisecond, time.Millisecond, 2 * time.Millisecond}
	act := func() {
		i := rng.IntN(n)
		if rng.IntN(4) == 0 {
			fmt.Fprintf(&log, "stop%d=%v ", i, ops.stop(i))
			return
		}
		ops.reset(i, delays[rng.IntN(len(delays))])
	}
	var fire func(int)
	fire = func(i int) {
		fmt.Fprintf(&log, "fire%d ", i)
		for range rng.IntN(3) {
			act()
		}
	}
	for step := 0; step < 200; step++ {
		for range rng.IntN(6) {
			act()
		}
		for k := 0; ops.round(fire) && k < 50; k++ {
		}
		if rng.IntN(2) == 0 {
			ops.advance(time.Millisecond)
		}
		log.WriteString("| ")
	}
	return log.String()
}

// TestRunsKeepTheTimerOrder: timers sharing a heap entry (runs.go) fire in
// exactly the order one heap entry per timer gave, through resets and
// stops of heads and members, from outside and inside callbacks.
func TestRunsKeepTheTimerOrder(t *testing.T) {
	const n = 12
	merged := 0
	for seed := range uint64(300) {
		want := driveTimers(&timerModel{ts: make([]modelTimer, n)}, seed, n)
		real := newRealTimers(n)
		got := driveTimers(real, seed, n)
		merged += real.merged
		if got != want {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			lo := max(0, i-200)
			t.Fatalf("seed %d: firing order differs from the model at byte %d:\n got …%s\nwant …%s", seed, i, got[lo:min(len(got), i+80)], want[lo:min(len(want), i+80)])
		}
	}
	if merged == 0 {
		t.Error("no round had timers sharing a heap entry: the test did not exercise runs")
	}
}
