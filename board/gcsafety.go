package board

import "fmt"

// When may the board collect garbage in the middle of a script?
//
// The firmware's collector sees its root pointers, the Python stack
// (pystack) and — copied in by the host — the C shadow stack, but not values
// that C functions hold only in WebAssembly locals. Such values exist when a
// C builtin calls back into Python while building something: list(gen),
// sorted(key=…), ''.join(gen), map objects, print() of an object with
// __str__. Collecting while one of those is on the stack would free the
// half-built object. So the board records every active invoke_ crossing
// (guestcall.go) and collects only when each crossing that calls or iterates a
// Python-level object calls one of the kinds learnt safe at boot: Python
// functions, closures, bound methods, generator functions, user classes,
// host functions, and execfile/exec/eval (whose own state is on the Python
// stack); and iterates only Python generators.

type gcSafety struct {
	learnt bool
	// Table indices of the call dispatchers and of the iterator step.
	callFn, callMethod, iterNext uint32
	// iterNextObj steps iterators that are not generators (range, user
	// classes, map objects…).
	iterNextObj uint32
	// iterRange steps a range in a for loop (the VM's fast path).
	iterRange uint32
	// Type objects whose instances are safe to call / iterate.
	callTypes map[uint32]bool
	genType   uint32
	typeType  uint32
	// Specific builtin objects safe to call.
	objs map[uint32]bool
	// heapStart: addresses above it are heap objects (user classes).
	heapStart uint32
}

func (b *Board) typeOf(obj uint32) uint32 {
	if obj == 0 || obj&3 != 0 {
		return 0
	}
	t, _ := b.mem.ReadUint32Le(obj)
	return t
}

// safeToCollect reports whether no active crossing is a C builtin that may
// hold objects the collector cannot see.
func (b *Board) safeToCollect() bool {
	g := &b.gcs
	if !g.learnt {
		return false
	}
	for _, f := range b.inv.frames[:min(b.inv.depth, len(b.inv.frames))] {
		var obj uint32
		switch f.callee {
		case g.callFn:
			obj = f.a1
		case g.callMethod:
			obj, _ = b.mem.ReadUint32Le(f.a3)
		case g.iterNext, g.iterNextObj, g.iterRange:
			// Python generators and instances of Python classes keep their
			// state in the object; C iterators that call Python (map,
			// filter, zip…) may not.
			if t := b.typeOf(f.a1); t != g.genType && t <= g.heapStart {
				return false
			}
			continue
		default:
			continue
		}
		if g.objs[obj] {
			continue
		}
		t := b.typeOf(obj)
		if g.callTypes[t] {
			continue
		}
		if t == g.typeType && obj > g.heapStart {
			continue // a class defined in Python
		}
		return false
	}
	return true
}

func init() {
	// probe(k, ...): called by _esp8266._probe() from known call shapes.
	RegisterFunc("_board", "probe", func(b *Board, args []Value) (Value, error) {
		k, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		fr := b.inv.frames[:min(b.inv.depth, len(b.inv.frames))]
		g := &b.gcs
		if len(fr) < 2 {
			return nil, fmt.Errorf("probe %d: only %d crossings active", k, len(fr))
		}
		last, prev := fr[len(fr)-1], fr[len(fr)-2]
		switch k {
		case 1: // p() from f(): the last crossing is a plain call
			g.callFn = last.callee
		case 2: // p() inside a method called with o.m()
			g.callMethod = prev.callee
		case 3: // p() inside a generator stepped by a for loop
			g.iterNext = prev.callee
		case 6: // start counting crossings: `for _ in range(3): pass` follows
			b.inv.record = map[uint32]int{}
			return nil, nil
		case 7: // the loop's step ran 4 times (3 items, then the end)
			for callee, n := range b.inv.record {
				if n == 4 {
					g.iterRange = callee
				}
			}
			b.inv.record = nil
			return nil, nil
		case 5: // p() inside __next__ of a class stepped by a for loop
			g.iterNextObj = prev.callee
		case 4: // ids of sample objects: their types are safe to call
			g.callTypes = map[uint32]bool{}
			g.objs = map[uint32]bool{}
			for i := 1; i < len(args); i++ {
				id, err := ArgInt(args, i)
				if err != nil {
					return nil, err
				}
				if i <= 5 {
					g.callTypes[b.typeOf(uint32(id))] = true
				} else if i == 6 {
					g.genType = b.typeOf(uint32(id))
				} else if i == 7 {
					g.typeType = b.typeOf(uint32(id))
				} else {
					g.objs[uint32(id)] = true
				}
			}
			g.heapStart = b.heapLow
			g.learnt = g.callFn != 0 && g.callMethod != 0 && g.iterNext != 0 && g.iterNextObj != 0 && g.genType != 0
		}
		return nil, nil
	})
}
