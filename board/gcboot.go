package board

import (
	"bytes"
	"encoding/binary"
	"sync/atomic"
)

// Collections mark in Go, and skip what the boot left unchanged.
//
// The GC heap is the script's budget plus libHeapAllowance, which holds the
// board's /lib stand-ins compiled at boot (frozen in flash on an ESP8266,
// never scanned there). The firmware's collector marks every reachable block
// word by word, so each collection re-scanned those modules: about a
// millisecond of host wall per collection, most of a tutorial board's
// WebAssembly time.
//
// Before each collection the board now runs the collector's mark phase
// itself, by gc.c's rules, over the same memory and from the same roots (the
// root pointer section gc_collect_start scans, found in the firmware's code,
// and the Python stack), and sets the marks in the alloc table. The
// firmware's collector then finds every root already marked, marks nothing
// more, and sweeps as before: the blocks it frees, the finalisers it runs
// and every figure a script reads are exactly those of its own mark phase.
// The host's marker is fast because of the boot heap: an object whose
// blocks and bytes are still what they were at the end of the setup points
// where it pointed then, so instead of reading its words the marker visits
// the list of blocks they pointed into, kept once per boot snapshot.
// RATIONALE.md ("Collections mark in Go") has the argument and what was
// rejected.

// gc.c's layout for the webassembly port (MICROPY_BYTES_PER_GC_BLOCK is four
// 32-bit words; two alloc-table bits per block).
const (
	gcBlockBytes   = 16
	gcBlocksPerATB = 4
	gcBlocksPerFTB = 8
	atHead         = 1
	atTail         = 2
	atMark         = 3
)

// mp_state_mem_area_t (py/mpstate.h, MICROPY_GC_SPLIT_HEAP and
// MICROPY_ENABLE_FINALISER): next, gc_alloc_table_start,
// gc_alloc_table_byte_len, gc_finaliser_table_start, gc_pool_start,
// gc_pool_end, then two counters the collector updates.
type gcArea struct {
	next, atb, atbLen, ftb, pool, poolEnd uint32
}

const gcAreaWords = 6

func (a gcArea) blocks() uint32 { return a.atbLen * gcBlocksPerATB }

// bootHeap is what the board recorded of its GC heap at the end of its
// setup. It is never modified afterwards: boards restored from the same
// boot snapshot share it.
type bootHeap struct {
	// addr is where MP_STATE_MEM(area) lives; area its fields at boot.
	addr uint32
	area gcArea
	// objs are the objects allocated at boot, in block order; objAt maps
	// a block to its object's index, -1 for blocks that were not a head.
	objs  []bootObj
	objAt []int32
	// targets holds, per object, the distinct blocks its words pointed
	// into (what the marker would look at when it scanned the object).
	targets []uint32
	// content is the pool's bytes at boot.
	content []byte
}

// bootObj is a heap object allocated at the end of the setup: its head
// block, its length in blocks, and its targets (bootHeap.targets[t0:t1]).
type bootObj struct {
	head, n, t0, t1 uint32
}

// gcBoot is a board's use of the host-side mark phase.
type gcBoot struct {
	heap *bootHeap
	// stack is the marker's work list, reused.
	stack []uint32
	// Counters over the board's life: collections the host marked,
	// blocks it marked, and how many of those were boot objects whose
	// words it did not read (and their bytes).
	collections  atomic.Uint64
	marked       atomic.Uint64
	skipped      atomic.Uint64
	skippedBytes atomic.Uint64
}

// gcBootOff turns the host's mark phase off (tests compare against the
// firmware's collector alone; board tests do not run in parallel).
var gcBootOff atomic.Bool

// onCollected, when set (tests), sees the board after each collection
// that has a boot heap, with the host's marking on or off.
var onCollected func(b *Board)

// GCStats reports, over the board's life, how many collections the host
// marked for the firmware, how many blocks it marked, and how many boot
// objects (and bytes) it marked without reading them.
func (b *Board) GCStats() (collections, marked, skipped, skippedBytes uint64) {
	g := &b.gcb
	return g.collections.Load(), g.marked.Load(), g.skipped.Load(), g.skippedBytes.Load()
}

func atbKind(atb []byte, block uint32) byte {
	return atb[block/gcBlocksPerATB] >> (2 * (block % gcBlocksPerATB)) & 3
}

func atbSet(atb []byte, block uint32, kind byte) {
	sh := 2 * (block % gcBlocksPerATB)
	atb[block/gcBlocksPerATB] = atb[block/gcBlocksPerATB]&^(3<<sh) | kind<<sh
}

// extent is the number of blocks of the object whose head is block, as
// gc_mark_subtree counts them.
func extent(atb []byte, block, nb uint32) uint32 {
	n := uint32(1)
	for block+n < nb && atbKind(atb, block+n) == atTail {
		n++
	}
	return n
}

// readGCArea reads the area struct at addr.
func (b *Board) readGCArea(addr uint32) (gcArea, bool) {
	raw, ok := b.mem.Read(addr, 4*gcAreaWords)
	if !ok {
		return gcArea{}, false
	}
	le := binary.LittleEndian
	return gcArea{next: le.Uint32(raw), atb: le.Uint32(raw[4:]), atbLen: le.Uint32(raw[8:]),
		ftb: le.Uint32(raw[12:]), pool: le.Uint32(raw[16:]), poolEnd: le.Uint32(raw[20:])}, true
}

// findGCArea finds MP_STATE_MEM(area) in static memory, after the root
// pointer section: the one area whose tables and pool are where gc_init
// puts them for a heap of the size the board gave mp_js_init (gc.c's
// gc_setup_area). 0 unless exactly one.
func (b *Board) findGCArea(from uint32) uint32 {
	if b.heapLow < 4*gcAreaWords || from >= b.heapLow {
		return 0
	}
	static, ok := b.mem.Read(0, b.heapLow&^3)
	if !ok {
		return 0
	}
	le := binary.LittleEndian
	heap := uint32(b.gcHeapBytes())
	found := uint32(0)
	for a := int(from+3) &^ 3; a+4*gcAreaWords <= len(static); a += 4 {
		w := func(i int) uint32 { return le.Uint32(static[a+4*i:]) }
		start, n := w(1), w(2)
		if n == 0 || start < b.heapLow || w(3) != start+n+1 {
			continue
		}
		end := (start + heap) &^ (gcBlockBytes - 1)
		// T = A + F + P with the alloc table's gap byte.
		if w(5) != end || w(4) != end-n*gcBlocksPerATB*gcBlockBytes ||
			n != (end-start-1)*8/(8+8*gcBlocksPerATB/gcBlocksPerFTB+8*gcBlocksPerATB*gcBlockBytes) {
			continue
		}
		if found != 0 {
			return 0
		}
		found = uint32(a)
	}
	return found
}

// recordBootHeap notes the objects allocated at the end of a full setup,
// when the firmware's layout is the one the host marker knows: the root
// section found in its code starts at mp_state_ctx.thread.dict_locals
// (16 bytes before mp_pending_exception, cstack.go) and one heap area
// lies after it. Otherwise collections run as the firmware alone does.
func (b *Board) recordBootHeap() {
	b.useBootHeap(nil)
	l := b.fw.img.Layout
	if l.GCRootWords == 0 || b.ovf.pending == 0 || l.GCRootStart != b.ovf.pending-offPendingFromDictLocals {
		return
	}
	addr := b.findGCArea(l.GCRootStart + 4*l.GCRootWords)
	if addr == 0 {
		return
	}
	area, ok := b.readGCArea(addr)
	if !ok || area.next != 0 {
		return
	}
	atb, ok1 := b.mem.Read(area.atb, area.atbLen)
	pool, ok2 := b.mem.Read(area.pool, area.poolEnd-area.pool)
	if !ok1 || !ok2 {
		return
	}
	content := bytes.Clone(pool)
	h := &bootHeap{addr: addr, area: area, content: content}
	nb := area.blocks()
	h.objAt = make([]int32, nb)
	for i := range h.objAt {
		h.objAt[i] = -1
	}
	seen := make(map[uint32]bool)
	for blk := uint32(0); blk < nb; blk++ {
		if atbKind(atb, blk) != atHead {
			continue
		}
		n := extent(atb, blk, nb)
		o := bootObj{head: blk, n: n, t0: uint32(len(h.targets))}
		clear(seen)
		for off := blk * gcBlockBytes; off < (blk+n)*gcBlockBytes; off += 4 {
			if t, ok := area.block(binary.LittleEndian.Uint32(content[off:])); ok && !seen[t] {
				seen[t] = true
				h.targets = append(h.targets, t)
			}
		}
		o.t1 = uint32(len(h.targets))
		h.objAt[blk] = int32(len(h.objs))
		h.objs = append(h.objs, o)
		blk += n - 1
	}
	b.useBootHeap(h)
}

// offPendingFromDictLocals: mp_pending_exception follows dict_locals,
// dict_globals, nlr_top and nlr_jump_callback_top (py/mpstate.h).
const offPendingFromDictLocals = 16

// block is VERIFY_PTR for one area: the block p points at, if p is block
// aligned and inside the pool.
func (a gcArea) block(p uint32) (uint32, bool) {
	if p&(gcBlockBytes-1) != 0 || p < a.pool || p >= a.poolEnd {
		return 0, false
	}
	return (p - a.pool) / gcBlockBytes, true
}

// useBootHeap starts this boot's use of h (nil: none).
func (b *Board) useBootHeap(h *bootHeap) {
	b.gcb.heap = h
	b.gcb.stack = nil
}

// markForCollector runs gc.c's mark phase on the host just before the
// firmware collects: gc_collect_root over the root section and the Python
// stack, gc_mark_subtree for every unmarked head they reach. It returns
// what to call once the collection has run (nil when it did nothing).
func (b *Board) markForCollector() func() {
	g := &b.gcb
	h := g.heap
	if h == nil || gcBootOff.Load() {
		if h != nil && onCollected != nil {
			return func() { onCollected(b) }
		}
		return nil
	}
	area, ok := b.readGCArea(h.addr)
	if !ok || area != h.area {
		// Another heap area (VERIFY_PTR would accept pointers into it)
		// or a layout we do not know: the firmware marks alone.
		return nil
	}
	l := b.fw.img.Layout
	roots, ok1 := b.mem.Read(l.GCRootStart, 4*l.GCRootWords)
	atb, ok2 := b.mem.Read(area.atb, area.atbLen)
	pool, ok3 := b.mem.Read(area.pool, area.poolEnd-area.pool)
	start, cur := b.guest().U32(b.ovf.pending-offPystackStart), b.guest().U32(b.ovf.pending-offPystackCur)
	pystack, ok4 := b.mem.Read(start, cur-start)
	if !ok1 || !ok2 || !ok3 || !ok4 || cur < start {
		return nil
	}
	nb := area.blocks()
	le := binary.LittleEndian
	stack := g.stack[:0]
	var marked, skipped, skippedBytes uint64
	mark := func(p uint32) {
		if t, ok := area.block(p); ok && atbKind(atb, t) == atHead {
			atbSet(atb, t, atMark)
			marked++
			stack = append(stack, t)
		}
	}
	scan := func(words []byte) {
		for k := 0; k+4 <= len(words); k += 4 {
			mark(le.Uint32(words[k:]))
		}
	}
	scan(roots)
	scan(pystack[:len(pystack)&^3])
	for len(stack) > 0 {
		blk := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := extent(atb, blk, nb)
		lo, hi := blk*gcBlockBytes, (blk+n)*gcBlockBytes
		if i := h.objAt[blk]; i >= 0 && h.objs[i].n == n && bytes.Equal(pool[lo:hi], h.content[lo:hi]) {
			// The boot's object, or its exact copy: its words point
			// where they did at boot.
			o := h.objs[i]
			for _, t := range h.targets[o.t0:o.t1] {
				if atbKind(atb, t) == atHead {
					atbSet(atb, t, atMark)
					marked++
					stack = append(stack, t)
				}
			}
			skipped++
			skippedBytes += uint64(hi - lo)
			continue
		}
		scan(pool[lo:hi])
	}
	g.stack = stack
	g.collections.Add(1)
	g.marked.Add(marked)
	g.skipped.Add(skipped)
	g.skippedBytes.Add(skippedBytes)
	return func() {
		if onCollected != nil {
			onCollected(b)
		}
		// The sweep turns every mark back into a head; a collection that
		// did not run leaves them, and they are taken back here.
		if p, ok := b.mem.ReadByte(l.GCCollectPending); ok && p == 0 {
			return
		}
		if atb, ok := b.mem.Read(area.atb, area.atbLen); ok {
			for blk := uint32(0); blk < nb; blk++ {
				if atbKind(atb, blk) == atMark {
					atbSet(atb, blk, atHead)
				}
			}
		}
	}
}
