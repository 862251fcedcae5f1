package board

import (
	"context"

	"github.com/tetratelabs/wazero/api"
)

// Garbage collections at the firmware's top level, and what they cost.
//
// The pyscript firmware collects only when a call from the host into it
// returns to the top level (main.c's external_call_depth_dec reaching 0
// with gc_collect_pending set). Its collector scans the WebAssembly build's
// large static area and split heap word by word: a collection there runs
// about 230,000 counted loop iterations, half a second at the CPU model's
// rate, where the ESP8266's mark-sweep over its 36 KiB heap takes a couple
// of milliseconds. Left inside the call, that work was charged to the
// script (the first statement of main.py read ticks_ms() ≈ 515: the
// collections at the end of the host's own lookups before main.py started).
// So topCall runs each host→firmware call one level deep, which leaves the
// collection pending, and then runs it by itself through collectTop,
// bracketed by cpuGC, which charges the modelled gcCost instead. Its host
// wall is cut by marking the heap on the host first (gcboot.go).

// topCall calls a firmware export from the host; see above.
func (b *Board) topCall(ctx context.Context, fn api.Function, args ...uint64) ([]uint64, error) {
	l := b.fw.img.Layout
	if !l.OK || b.gcRef == 0 || b.collecting {
		return fn.Call(ctx, args...)
	}
	depth, ok := b.mem.ReadUint32Le(l.ExternalCallDepth)
	if !ok || depth != 0 {
		return fn.Call(ctx, args...)
	}
	b.mem.WriteUint32Le(l.ExternalCallDepth, 1)
	res, err := fn.Call(ctx, args...)
	b.mem.WriteUint32Le(l.ExternalCallDepth, 0)
	if err == nil {
		b.collectTop(ctx)
	}
	return res, err
}

// collectTop runs a pending collection at the top level: an attribute
// lookup of an int (which allocates nothing, so it works with a full heap)
// whose return to depth 0 runs gc_collect_top_level.
func (b *Board) collectTop(ctx context.Context) {
	l := b.fw.img.Layout
	if pending, ok := b.mem.ReadByte(l.GCCollectPending); !ok || pending == 0 {
		return
	}
	b.collecting = true
	defer func() { b.collecting = false }()
	defer b.cpuGC()()
	b.inv.lastGC = b.inv.calls
	p := b.gcScratch
	undo := b.markForCollector()
	_, err := b.fn.lookupAttr.Call(ctx, uint64(b.gcRef), uint64(p), uint64(p+4))
	if undo != nil {
		undo()
	}
	if err != nil {
		panic(err)
	}
}
