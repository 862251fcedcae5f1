package board

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"maps"
	"sync/atomic"
)

// Collections skip the heap the board's own modules fill at boot.
//
// The GC heap is the script's budget plus libHeapAllowance, which holds the
// board's /lib stand-ins compiled at boot (frozen in flash on an ESP8266,
// never scanned there). The firmware's collector marks every reachable block
// word by word, so each collection re-scanned those modules: about a
// millisecond of host wall per collection, most of a tutorial board's
// WebAssembly time. Before each collection the board now sets the mark of
// every boot object that is exactly as the boot left it, so the marker never
// descends into it, and gives the marker as extra roots every block such an
// object points at that the marker would otherwise not see (a block that is
// no longer a pre-marked boot object). RATIONALE.md ("Boot objects are
// pre-marked") argues why every block the firmware's collector marks is
// still marked; the only difference is that an unchanged boot object is
// never freed, even if the script drops the last reference to it.

// gc.c's layout for the webassembly port (MICROPY_BYTES_PER_GC_BLOCK is four
// 32-bit words; two alloc-table bits per block, one finaliser bit).
const (
	gcBlockBytes   = 16
	gcBlocksPerATB = 4
	gcBlocksPerFTB = 8
	atFree         = 0
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
	// objs are the boot objects in block order.
	objs []bootObj
	// targets holds, per object, the distinct blocks its words pointed
	// into (what the marker would look at when it scanned the object).
	targets []uint32
	// content is the pool's bytes at boot.
	content []byte
}

// bootObj is a heap object alive at the end of the setup: its head block,
// its length in blocks, and its targets (bootHeap.targets[t0:t1]).
type bootObj struct {
	head, n, t0, t1 uint32
}

// gcBoot is a board's per-boot use of a bootHeap.
type gcBoot struct {
	heap *bootHeap
	// gone marks boot objects whose extent in the alloc table changed:
	// they were freed (or resized) and are never pre-marked again.
	gone []uint64
	// premarked and premarkedBytes count the objects (and their bytes)
	// the board pre-marked over all its collections and boots; skipped
	// counts collections that found pre-marking unsafe and ran in full.
	premarked      atomic.Uint64
	premarkedBytes atomic.Uint64
	skipped        atomic.Uint64
}

// gcBootOff turns pre-marking off (tests compare against the full
// collector).
var gcBootOff atomic.Bool

// GCBootStats reports how many boot objects (and bytes) the board's
// collections skipped, and how many collections ran in full because
// skipping could not be done safely.
func (b *Board) GCBootStats() (objects, bytes, full uint64) {
	g := &b.gcb
	return g.premarked.Load(), g.premarkedBytes.Load(), g.skipped.Load()
}

func atbKind(atb []byte, block uint32) byte {
	return atb[block/gcBlocksPerATB] >> (2 * (block % gcBlocksPerATB)) & 3
}

func atbSet(atb []byte, block uint32, kind byte) {
	sh := 2 * (block % gcBlocksPerATB)
	atb[block/gcBlocksPerATB] = atb[block/gcBlocksPerATB]&^(3<<sh) | kind<<sh
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

// findGCArea finds MP_STATE_MEM(area) in static memory: the one area whose
// tables and pool are where gc_init puts them for a heap of the size the
// board gave mp_js_init (gc.c's gc_setup_area). 0 unless exactly one.
func (b *Board) findGCArea() uint32 {
	if b.heapLow < 4*gcAreaWords {
		return 0
	}
	static, ok := b.mem.Read(0, b.heapLow&^3)
	if !ok {
		return 0
	}
	le := binary.LittleEndian
	heap := uint32(b.gcHeapBytes())
	found := uint32(0)
	for a := 0; a+4*gcAreaWords <= len(static); a += 4 {
		w := func(i int) uint32 { return le.Uint32(static[a+4*i:]) }
		start, n := w(1), w(2)
		if n == 0 || start < b.heapLow || w(3) != start+n+1 {
			continue
		}
		end := (start + heap) &^ (gcBlockBytes - 1)
		// T = A + F + P with the alloc table's gap byte (gc_setup_area).
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

// recordBootHeap notes the boot objects at the end of a full setup. An
// object the setup left allocated but unreachable (the next collection
// would free it) is not one: a trial collection finds those, and the
// memory is then put back exactly as it was. On any surprise the board
// runs without pre-marking; the error is for a trial that could not be
// undone.
func (b *Board) recordBootHeap(ctx context.Context) error {
	b.useBootHeap(nil)
	l := b.fw.img.Layout
	if !l.OK || b.gcRef == 0 || b.ovf.pending == 0 || b.fn.lookupAttr == nil {
		return nil
	}
	if depth, ok := b.mem.ReadUint32Le(l.ExternalCallDepth); !ok || depth != 0 {
		return nil
	}
	addr := b.findGCArea()
	if addr == 0 {
		return nil
	}
	area, ok := b.readGCArea(addr)
	if !ok || area.next != 0 {
		return nil
	}
	atb, ok1 := b.mem.Read(area.atb, area.atbLen)
	pool, ok2 := b.mem.Read(area.pool, area.poolEnd-area.pool)
	if !ok1 || !ok2 {
		return nil
	}
	before := bytes.Clone(atb)
	content := bytes.Clone(pool)
	after, err := b.trialCollect(ctx, area)
	if after == nil {
		return err
	}
	h := &bootHeap{addr: addr, area: area, content: content}
	nb := area.blocks()
	seen := make(map[uint32]bool)
	for blk := uint32(0); blk < nb; blk++ {
		if atbKind(before, blk) != atHead || atbKind(after, blk) != atHead {
			continue // free, a tail, or garbage the next collection frees
		}
		n := uint32(1)
		for blk+n < nb && atbKind(before, blk+n) == atTail {
			n++
		}
		o := bootObj{head: blk, n: n, t0: uint32(len(h.targets))}
		clear(seen)
		for off := blk * gcBlockBytes; off < (blk+n)*gcBlockBytes; off += 4 {
			p := binary.LittleEndian.Uint32(content[off:])
			// VERIFY_PTR: block aligned, inside the pool.
			if p&(gcBlockBytes-1) != 0 || p < area.pool || p >= area.poolEnd {
				continue
			}
			t := (p - area.pool) / gcBlockBytes
			if !seen[t] {
				seen[t] = true
				h.targets = append(h.targets, t)
			}
		}
		o.t1 = uint32(len(h.targets))
		h.objs = append(h.objs, o)
		blk += n - 1
	}
	b.useBootHeap(h)
	return nil
}

// useBootHeap starts this boot's use of h (nil: none).
func (b *Board) useBootHeap(h *bootHeap) {
	g := &b.gcb
	g.heap, g.gone = h, nil
	if h != nil {
		g.gone = make([]uint64, (len(h.objs)+63)/64)
	}
}

// trialCollect runs a collection at the top level and returns the alloc
// table it leaves, then puts memory and the host's counters back as they
// were. The finaliser table is cleared first so no __del__ runs (a
// finaliser is the only way a collection calls back into Python or the
// host); nil if the host was called all the same or the call failed.
func (b *Board) trialCollect(ctx context.Context, area gcArea) ([]byte, error) {
	// A collection writes the firmware's state, the stacks (all below the
	// GC heap) and the GC heap itself: what lies below its end is saved,
	// the rest (the reserved C heap) only checked.
	all, ok := b.mem.Read(0, b.mem.Size())
	if !ok || area.poolEnd > uint32(len(all)) {
		return nil, nil
	}
	saved := bytes.Clone(all[:area.poolEnd])
	restSum := crc32.ChecksumIEEE(all[area.poolEnd:])
	cpu := b.cpu
	var count uint64
	if b.cpu.g != nil {
		count = b.cpu.g.Get()
	}
	var sp uint64
	if b.inv.sp != nil {
		sp = b.inv.sp.Get()
	}
	calls, lastGC := b.inv.calls, b.inv.lastGC
	var rec map[string]int
	if b.setupRec != nil {
		rec = maps.Clone(b.setupRec.calls)
	}
	defer func() {
		b.mem.Write(0, saved)
		b.cpu = cpu
		if b.cpu.g != nil {
			b.cpu.g.Set(count)
		}
		if b.inv.sp != nil {
			b.inv.sp.Set(sp)
		}
		b.inv.calls, b.inv.lastGC = calls, lastGC
		if rec != nil {
			b.setupRec.calls = rec
		}
	}()
	ftbLen := (area.blocks() + gcBlocksPerFTB - 1) / gcBlocksPerFTB
	if ftb, ok := b.mem.Read(area.ftb, ftbLen); ok {
		clear(ftb)
	} else {
		return nil, nil
	}
	b.mem.WriteByte(b.fw.img.Layout.GCCollectPending, 1)
	b.collecting = true
	p := b.gcScratch
	_, err := b.fn.lookupAttr.Call(ctx, uint64(b.gcRef), uint64(p), uint64(p+4))
	b.collecting = false
	if err != nil {
		return nil, b.guestErr("collecting after setup", err)
	}
	if pending, ok := b.mem.ReadByte(b.fw.img.Layout.GCCollectPending); !ok || pending != 0 {
		return nil, nil // the collection did not run
	}
	if rec != nil && !maps.Equal(rec, b.setupRec.calls) {
		return nil, nil
	}
	if all, ok := b.mem.Read(0, b.mem.Size()); !ok || crc32.ChecksumIEEE(all[area.poolEnd:]) != restSum {
		// Not put back: the boot cannot go on as if nothing happened.
		return nil, fmt.Errorf("board %s: a trial collection wrote memory above the GC heap", b.cfg.Name)
	}
	atb, ok := b.mem.Read(area.atb, area.atbLen)
	if !ok {
		return nil, nil
	}
	return bytes.Clone(atb), nil
}

// premarkBoot prepares the collection about to run: it marks every boot
// object still exactly as at boot and pushes, above the Python stack's top
// (which the collector scans as roots), every block those objects point
// at that is an unmarked head. It returns what to call once the
// collection has run (nil when it pre-marked nothing).
func (b *Board) premarkBoot() func() {
	g := &b.gcb
	h := g.heap
	if h == nil || gcBootOff.Load() || b.ovf.pending == 0 {
		return nil
	}
	area, ok := b.readGCArea(h.addr)
	if !ok || area != h.area {
		// Another heap area (a pointer into it could hide in a skipped
		// object) or a layout we do not know: collect in full.
		g.skipped.Add(1)
		return nil
	}
	atb, ok1 := b.mem.Read(area.atb, area.atbLen)
	pool, ok2 := b.mem.Read(area.pool, area.poolEnd-area.pool)
	if !ok1 || !ok2 {
		g.skipped.Add(1)
		return nil
	}
	nb := area.blocks()
	// Between collections no head is marked, so the marks set here are
	// exactly the boot objects' heads that read atMark below.
	var objs, size uint64
	for i, o := range h.objs {
		if g.gone[i/64]&(1<<(i%64)) != 0 || atbKind(atb, o.head) == atMark {
			continue
		}
		if !sameExtent(atb, o, nb) {
			g.gone[i/64] |= 1 << (i % 64)
			continue
		}
		lo, hi := o.head*gcBlockBytes, (o.head+o.n)*gcBlockBytes
		if !bytes.Equal(pool[lo:hi], h.content[lo:hi]) {
			continue // changed: the marker scans it if it is reachable
		}
		atbSet(atb, o.head, atMark)
		objs++
		size += uint64(hi - lo)
	}
	if objs == 0 {
		return nil
	}
	unmark := func() {
		atb, ok := b.mem.Read(area.atb, area.atbLen)
		if !ok {
			return
		}
		for i, o := range h.objs {
			if g.gone[i/64]&(1<<(i%64)) == 0 && atbKind(atb, o.head) == atMark {
				atbSet(atb, o.head, atHead)
			}
		}
	}
	// The marker never reads a pre-marked object's words, which are its
	// words at boot: each block they point at that is a head the marker
	// has not marked becomes a root.
	seen := make([]uint64, (nb+63)/64)
	var roots []byte
	for i, o := range h.objs {
		if g.gone[i/64]&(1<<(i%64)) != 0 || atbKind(atb, o.head) != atMark {
			continue
		}
		for _, t := range h.targets[o.t0:o.t1] {
			if seen[t/64]&(1<<(t%64)) != 0 || atbKind(atb, t) != atHead {
				continue
			}
			seen[t/64] |= 1 << (t % 64)
			roots = binary.LittleEndian.AppendUint32(roots, area.pool+t*gcBlockBytes)
		}
	}
	// gc_collect_start scans the Python stack from pystack_start to
	// pystack_cur: the roots go just above its top, which is free.
	curAddr, endAddr := b.ovf.pending-offPystackCur, b.ovf.pending-offPystackEnd
	cur, end := b.u32(curAddr), b.u32(endAddr)
	need := uint32(len(roots))
	old, ok := b.mem.Read(cur, need)
	if !ok || cur&3 != 0 || cur > end || end-cur < need {
		unmark()
		g.skipped.Add(1)
		return nil
	}
	old = bytes.Clone(old)
	b.mem.Write(cur, roots)
	b.putU32(curAddr, cur+need)
	g.premarked.Add(objs)
	g.premarkedBytes.Add(size)
	return func() {
		b.putU32(curAddr, cur)
		b.mem.Write(cur, old)
		// A collection that did not run leaves the marks: take them back.
		unmark()
	}
}

// sameExtent reports whether o's blocks are still one head and its tails.
func sameExtent(atb []byte, o bootObj, nb uint32) bool {
	if atbKind(atb, o.head) != atHead {
		return false
	}
	for k := uint32(1); k < o.n; k++ {
		if atbKind(atb, o.head+k) != atTail {
			return false
		}
	}
	return o.head+o.n >= nb || atbKind(atb, o.head+o.n) != atTail
}
