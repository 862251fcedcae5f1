package netstack

import (
	"sync"
	"time"
)

// frame is one Ethernet frame in flight through the medium. Exactly one
// owner holds a frame at a time (a link queue, the switch, an endpoint);
// flooding and duplication copy.
type frame struct {
	b []byte
	// due is when the frame leaves the link it is queued on (simulator time).
	due time.Duration
	// seq breaks ties between equal due times: FIFO.
	seq uint64
	// summary is the frame's trace line, set only when tracing.
	summary string
}

// frameCap fits an Ethernet frame with a 1500-byte payload and a VLAN tag.
const frameCap = 1536

var framePool = sync.Pool{New: func() any { return &frame{b: make([]byte, 0, frameCap)} }}

func getFrame(n int) *frame {
	f := framePool.Get().(*frame)
	if cap(f.b) < n {
		f.b = make([]byte, n)
	}
	f.b = f.b[:n]
	return f
}

func putFrame(f *frame) {
	if cap(f.b) > 64*1024 {
		return
	}
	f.summary = ""
	framePool.Put(f)
}

func (f *frame) clone() *frame {
	c := getFrame(len(f.b))
	copy(c.b, f.b)
	c.summary = f.summary
	return c
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
