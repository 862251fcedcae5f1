package netstack

import (
	"container/heap"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/simrand"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// Drop reasons, as they appear in the trace ("DROP (loss)") and in
// LinkStats.
const (
	DropLoss  = "loss"
	DropBurst = "burst loss"
	DropQueue = "queue full"
	DropMTU   = "mtu"
	DropDown  = "link down"
)

// LinkStats counts what one direction of an attachment did.
type LinkStats struct {
	// Frames is how many frames entered the link.
	Frames uint64
	// Delivered is how many frames (duplicates included) left it.
	Delivered uint64
	// Lost, BurstLost, QueueDrops, MTUDrops and DownDrops count drops by
	// reason.
	Lost, BurstLost, QueueDrops, MTUDrops, DownDrops uint64
	// Duplicated, Corrupted and Reordered count frames so treated.
	Duplicated, Corrupted, Reordered uint64
}

// Dropped is the total of all drops.
func (s LinkStats) Dropped() uint64 {
	return s.Lost + s.BurstLost + s.QueueDrops + s.MTUDrops + s.DownDrops
}

type linkCounters struct {
	frames, delivered, lost, burstLost, queueDrops, mtuDrops, downDrops atomic.Uint64
	duplicated, corrupted, reordered                                    atomic.Uint64
}

// link is one direction of an attachment: node→switch (uplink) or
// switch→node (downlink). Frames wait in a heap ordered by due time; one
// clock timer fires for the earliest.
type link struct {
	name   string // "esp1→lan", for the trace
	medium *Medium
	clock  clockLike
	// next receives frames that leave the link. It runs on the clock's
	// goroutine, or inline in send when inline is set and nothing delays the
	// frame (uplinks only: delivering into a gVisor stack from inside its own
	// send path could deadlock).
	next   func(*frame)
	inline bool
	// recordTo is the attachment whose capture interface records what
	// crosses this link; set on uplinks only, so a frame is recorded once
	// per medium, where it entered.
	recordTo *Attachment

	c linkCounters

	mu struct {
		sync.Mutex
		imp  Impairments
		up   bool
		rng  *rand.Rand
		bad  bool // Gilbert-Elliott state
		q    frameHeap
		seq  uint64
		last time.Duration // due time of the last in-order frame (FIFO floor)
		// txFree is when a bandwidth-limited transmitter is next idle;
		// txEnds holds the serialization end times of queued frames.
		txFree time.Duration
		txEnds []time.Duration
		timer  tcpip.Timer
		armed  bool
		at     time.Duration
	}
	// batch is fire's scratch slice; fire only runs on the clock goroutine.
	batch []*frame
}

// clockLike is the part of *vclock.Clock a link uses.
type clockLike interface {
	Elapsed() time.Duration
	AfterFunc(time.Duration, func()) tcpip.Timer
	Poke()
}

func newLink(m *Medium, name string, seed uint64, next func(*frame), inline bool) *link {
	l := &link{name: name, medium: m, clock: m.clock, next: next, inline: inline}
	l.mu.up = true
	l.mu.rng = simrand.New(seed, "link/"+m.name+"/"+name)
	return l
}

func (l *link) setImpairments(imp Impairments) {
	if imp.QueueLimit == 0 {
		imp.QueueLimit = DefaultQueueLimit
	}
	if imp.Burst.P > 0 && imp.Burst.BadLoss == 0 {
		imp.Burst.BadLoss = 100
	}
	l.mu.Lock()
	l.mu.imp = imp
	if imp.Burst.P == 0 {
		l.mu.bad = false
	}
	l.mu.Unlock()
}

func (l *link) impairments() Impairments {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.imp
}

func (l *link) setUp(up bool) {
	l.mu.Lock()
	l.mu.up = up
	l.mu.Unlock()
}

func (l *link) stats() LinkStats {
	return LinkStats{
		Frames:     l.c.frames.Load(),
		Delivered:  l.c.delivered.Load(),
		Lost:       l.c.lost.Load(),
		BurstLost:  l.c.burstLost.Load(),
		QueueDrops: l.c.queueDrops.Load(),
		MTUDrops:   l.c.mtuDrops.Load(),
		DownDrops:  l.c.downDrops.Load(),
		Duplicated: l.c.duplicated.Load(),
		Corrupted:  l.c.corrupted.Load(),
		Reordered:  l.c.reordered.Load(),
	}
}

// send takes ownership of f.
func (l *link) send(f *frame) {
	l.c.frames.Add(1)
	now := l.clock.Elapsed()
	l.mu.Lock()
	imp := &l.mu.imp
	r := l.mu.rng
	var reason string
	switch {
	case !l.mu.up:
		reason = DropDown
	case imp.MTU > 0 && len(f.b)-ethHeaderLen > imp.MTU:
		reason = DropMTU
	case chance(r, imp.Loss):
		reason = DropLoss
	case l.burstLossLocked():
		reason = DropBurst
	}
	if reason == "" && imp.Bandwidth > 0 {
		// Forget frames that have finished serializing.
		ends := l.mu.txEnds
		i := 0
		for i < len(ends) && ends[i] <= now {
			i++
		}
		ends = append(ends[:0], ends[i:]...)
		if len(ends) >= imp.QueueLimit {
			reason = DropQueue
		}
		l.mu.txEnds = ends
	}
	if reason != "" {
		l.mu.Unlock()
		l.drop(f, reason, now)
		return
	}
	dup := chance(r, imp.Duplicate)
	corrupt := chance(r, imp.Corrupt) && len(f.b) > ethHeaderLen
	if corrupt {
		bit := r.IntN((len(f.b) - ethHeaderLen) * 8)
		f.writable()
		f.b[ethHeaderLen+bit/8] ^= 1 << (bit % 8)
		l.c.corrupted.Add(1)
	}
	depart := now
	if imp.Bandwidth > 0 {
		start := max(now, l.mu.txFree)
		ser := time.Duration(int64(len(f.b)) * 8 * int64(time.Second) / imp.Bandwidth)
		l.mu.txFree = start + ser
		depart = l.mu.txFree
		l.mu.txEnds = append(l.mu.txEnds, depart)
	}
	due := depart + imp.delay(r)
	if chance(r, imp.Reorder) {
		// netem's reorder: the frame skips the latency and jitter, so it
		// overtakes frames still in flight (with no latency there is
		// nothing to overtake). It does not move the FIFO floor.
		due = depart
		l.c.reordered.Add(1)
	} else {
		due = max(due, l.mu.last)
		l.mu.last = due
	}
	var dupFrame *frame
	if dup {
		dupFrame = f.clone()
		l.c.duplicated.Add(1)
	}
	if a := l.recordTo; a != nil {
		// Recorded under l.mu: once queued, the frame belongs to fire.
		a.record(f)
		if dupFrame != nil {
			a.record(dupFrame)
		}
	}
	summary := f.summary
	if l.inline && due <= now && len(l.mu.q) == 0 {
		l.mu.Unlock()
		l.note(summary, dup, corrupt, now)
		l.c.delivered.Add(1)
		l.next(f)
		if dupFrame != nil {
			l.c.delivered.Add(1)
			l.next(dupFrame)
		}
		return
	}
	l.pushLocked(f, due)
	if dupFrame != nil {
		l.pushLocked(dupFrame, due)
	}
	l.armLocked(now)
	l.mu.Unlock()
	l.note(summary, dup, corrupt, now)
}

// burstLossLocked steps the Gilbert-Elliott chain and decides loss.
func (l *link) burstLossLocked() bool {
	ge := &l.mu.imp.Burst
	if ge.P <= 0 {
		return false
	}
	r := l.mu.rng
	if l.mu.bad {
		if chance(r, ge.R) {
			l.mu.bad = false
		}
	} else if chance(r, ge.P) {
		l.mu.bad = true
	}
	if l.mu.bad {
		return chance(r, ge.BadLoss)
	}
	return chance(r, ge.GoodLoss)
}

func (l *link) pushLocked(f *frame, due time.Duration) {
	l.mu.seq++
	f.due, f.seq = due, l.mu.seq
	heap.Push(&l.mu.q, f)
}

func (l *link) armLocked(now time.Duration) {
	if len(l.mu.q) == 0 {
		return
	}
	due := l.mu.q[0].due
	if l.mu.armed && l.mu.at <= due {
		return
	}
	d := due - now
	if l.mu.timer == nil {
		l.mu.timer = l.clock.AfterFunc(d, l.fire)
	} else {
		l.mu.timer.Reset(d)
	}
	l.mu.armed, l.mu.at = true, due
}

// fire runs on the clock goroutine: it passes every due frame on.
func (l *link) fire() {
	now := l.clock.Elapsed()
	l.mu.Lock()
	l.mu.armed = false
	batch := l.batch[:0]
	for len(l.mu.q) > 0 && l.mu.q[0].due <= now {
		batch = append(batch, heap.Pop(&l.mu.q).(*frame))
	}
	l.armLocked(now)
	l.mu.Unlock()
	tcp := false
	for i, f := range batch {
		batch[i] = nil
		l.c.delivered.Add(1)
		if !l.inline && isTCP(f.b) {
			tcp = true
		}
		l.next(f)
	}
	l.batch = batch
	if tcp {
		quiesce()
	}
	l.clock.Poke()
}

// stop cancels the timer and frees queued frames.
func (l *link) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.timer != nil {
		l.mu.timer.Stop()
	}
	l.mu.armed = false
	for _, f := range l.mu.q {
		putFrame(f)
	}
	l.mu.q = nil
}

func (l *link) drop(f *frame, reason string, now time.Duration) {
	switch reason {
	case DropLoss:
		l.c.lost.Add(1)
	case DropBurst:
		l.c.burstLost.Add(1)
	case DropQueue:
		l.c.queueDrops.Add(1)
	case DropMTU:
		l.c.mtuDrops.Add(1)
	case DropDown:
		l.c.downDrops.Add(1)
	}
	if tr := l.medium.trace; tr != nil {
		tr.Add(now, l.medium.name, "DROP ("+reason+") "+l.name+": "+f.summary)
	}
	putFrame(f)
	l.clock.Poke()
}

func (l *link) note(summary string, dup, corrupt bool, now time.Duration) {
	tr := l.medium.trace
	if tr == nil || !(dup || corrupt) {
		return
	}
	if dup {
		tr.Add(now, l.medium.name, "DUPLICATE "+l.name+": "+summary)
	}
	if corrupt {
		tr.Add(now, l.medium.name, "CORRUPT "+l.name+": "+summary)
	}
}
