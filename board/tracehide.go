package board

import (
	"context"

	"github.com/esp8266sim/esp8266sim/board/firmware"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// The traceback filter's host side: board/firmware/tracehide.go patches
// mp_obj_exception_add_traceback to ask env.__esp_tb_hide first.

// tracebackHide is a board's memo of which qstrs name its own modules'
// files, for the firmware instance mod (a reboot interns them anew).
type tracebackHide struct {
	mod     api.Module
	hidden  map[uint32]bool
	scratch uint32 // 12 bytes of guest memory for the proxy conversion (no exported stack pointer)
	convert api.Function
	// stackEnd is emscripten_stack_get_end and saved the dead stack's
	// bytes while qstrText runs (deadStack).
	stackEnd api.Function
	saved    []byte
}

type tracebackHideKey struct{}

// hidesTracebackFile reports whether qstr q is the file name of one of the
// board's own modules (in frozenDir).
func (b *Board) hidesTracebackFile(ctx context.Context, q uint32) bool {
	h := b.tracebackHide()
	if v, ok := h.hidden[q]; ok {
		return v
	}
	name, _ := b.qstrText(ctx, q)
	hide := fileKind(name) != frameScript
	h.hidden[q] = hide
	return hide
}

func (b *Board) tracebackHide() *tracebackHide {
	h, _ := b.Value(tracebackHideKey{}).(*tracebackHide)
	if h == nil || h.mod != b.mod {
		h = &tracebackHide{mod: b.mod, hidden: map[uint32]bool{}}
		b.SetValue(tracebackHideKey{}, h)
	}
	return h
}

// qstrText returns the text of qstr q.
func (b *Board) qstrText(ctx context.Context, q uint32) (string, bool) {
	h := b.tracebackHide()
	if h.convert == nil {
		h.convert = b.mod.ExportedFunction("proxy_convert_mp_to_js_obj_cside")
		if h.convert == nil {
			return "", false
		}
	}
	// The 12 bytes of scratch are taken from the C stack when the stack
	// pointer is exported: the frame hooks (cpuframes.go) ask during the
	// setup a boot snapshot records, and a malloc there would leave the C
	// heap of a restored board different from a set-up one's.
	//
	// The conversion's frames and the scratch lie in the dead part of the
	// C stack, whose bytes later calls' uninitialised locals show and the
	// collections inside a call copy as roots (copyStackRoots). Whether
	// this runs depends on the host's memos, which a board set up in full
	// has and one restored from a boot snapshot starts without, so the
	// dead stack is put back as it was: the question leaves no trace in
	// guest memory (TestBootSnapshotRunsAsSetup).
	scratch := h.scratch
	if sp := b.inv.sp; sp != nil {
		old := sp.Get()
		scratch = (uint32(old) - 16) &^ 15
		if dead := b.deadStack(ctx, uint32(old)); dead != nil {
			h.saved = append(h.saved[:0], dead...)
			defer copy(dead, h.saved)
		}
		sp.Set(uint64(scratch))
		defer sp.Set(old)
	} else if scratch == 0 {
		h.scratch = b.malloc(ctx, 12)
		scratch = h.scratch
	}
	// A qstr object in MICROPY_OBJ_REPR_A is (q << 3) | 2; the proxy
	// converter hands back its bytes (kind, length, address).
	if _, err := h.convert.Call(ctx, uint64(q)<<3|2, uint64(scratch)); err != nil {
		panic(err)
	}
	g := b.guest()
	if int32(g.U32(scratch)) != mpStr {
		return "", false
	}
	n, p := g.U32(scratch+4), g.U32(scratch+8)
	name, ok := g.Read(p, n)
	return string(name), ok
}

// defineTracebackHide adds env.__esp_tb_hide: the patched
// mp_obj_exception_add_traceback's question.
func defineTracebackHide(env wazero.HostModuleBuilder) {
	env.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, stack []uint64) {
		b := boardFrom(ctx)
		q := uint32(stack[0])
		stack[0] = 0
		if b.hidesTracebackFile(ctx, q) {
			stack[0] = 1
		}
	}), []api.ValueType{api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}).Export(firmware.TracebackHideImport)
}

// deadStack is the C stack below sp (it grows down to
// emscripten_stack_get_end), as a view of guest memory; nil if unknown.
func (b *Board) deadStack(ctx context.Context, sp uint32) []byte {
	h := b.tracebackHide()
	if h.stackEnd == nil {
		if h.stackEnd = b.mod.ExportedFunction("emscripten_stack_get_end"); h.stackEnd == nil {
			return nil
		}
	}
	end, err := h.stackEnd.Call(ctx)
	if err != nil {
		panic(err)
	}
	lo := uint32(end[0])
	if lo >= sp {
		return nil
	}
	dead, _ := b.mem.Read(lo, sp-lo)
	return dead
}
