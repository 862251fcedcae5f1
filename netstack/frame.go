package netstack

import (
	"sync"
	"sync/atomic"
	"time"
)

// frame is one Ethernet frame in flight through the medium. Exactly one
// owner holds a frame at a time (a link queue, the switch, an endpoint).
// A flood gives every port a frame that shares the original's bytes (share);
// a link that changes bytes in place (corruption) first takes a private copy
// (writable), and duplication copies.
type frame struct {
	b []byte
	// due is when the frame leaves the link it is queued on (simulator time).
	due time.Duration
	// seq breaks ties between equal due times: FIFO.
	seq uint64
	// summary is the frame's trace line, set only when tracing.
	summary string
	// forwarded marks a frame a router sent on behalf of another node: the
	// capture records an IP packet once, where it entered the network.
	forwarded bool

	// buf is the frame's own storage. b is buf[:len] unless the frame
	// reads the bytes of a flooded frame, its source.
	buf    []byte
	source *frame
	// readers counts, on a flooded frame, the frames still reading its
	// bytes; the last one returns it to the pool.
	readers atomic.Int32
}

// frameCap fits an Ethernet frame with a 1500-byte payload and a VLAN tag.
const frameCap = 1536

var framePool = sync.Pool{New: func() any { return &frame{buf: make([]byte, 0, frameCap)} }}

func getFrame(n int) *frame {
	f := framePool.Get().(*frame)
	if cap(f.buf) < n {
		f.buf = make([]byte, n)
	}
	f.b = f.buf[:n]
	f.forwarded = false
	f.readers.Store(1)
	return f
}

func putFrame(f *frame) {
	if src := f.source; src != nil {
		f.source, f.b, f.summary = nil, nil, ""
		framePool.Put(f)
		f = src
	}
	if f.readers.Add(-1) > 0 {
		return
	}
	if cap(f.buf) > 64*1024 {
		return
	}
	f.summary = ""
	framePool.Put(f)
}

func (f *frame) clone() *frame {
	c := getFrame(len(f.b))
	copy(c.b, f.b)
	c.summary, c.forwarded = f.summary, f.forwarded
	return c
}

// share returns a frame that reads f's bytes without copying them, for one
// port of a flood. The caller gives up f itself afterwards (putFrame): f is
// never delivered, only its readers are, so only readers are ever written
// (see writable).
func (f *frame) share() *frame {
	src := f
	if f.source != nil {
		src = f.source
	}
	src.readers.Add(1)
	c := framePool.Get().(*frame)
	c.b, c.source, c.summary, c.forwarded = f.b, src, f.summary, f.forwarded
	return c
}

// writable gives f its own copy of its bytes if it shares them.
func (f *frame) writable() {
	src := f.source
	if src == nil {
		return
	}
	n := len(f.b)
	if cap(f.buf) < n {
		f.buf = make([]byte, n)
	}
	copy(f.buf[:n], f.b)
	f.b, f.source = f.buf[:n], nil
	f.readers.Store(1)
	if src.readers.Add(-1) == 0 && cap(src.buf) <= 64*1024 {
		src.summary = ""
		framePool.Put(src)
	}
}

// frameHeap orders frames by (due, seq).
type frameHeap []*frame

func (h frameHeap) Len() int { return len(h) }
func (h frameHeap) Less(i, j int) bool {
	if h[i].due != h[j].due {
		return h[i].due < h[j].due
	}
	return h[i].seq < h[j].seq
}
func (h frameHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *frameHeap) Push(x any)   { *h = append(*h, x.(*frame)) }
func (h *frameHeap) Pop() any {
	old := *h
	f := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return f
}
