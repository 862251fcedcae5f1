package board

import (
	"context"
	"errors"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/esp8266sim/esp8266sim/board/firmware"
)

// The host side of the firmware's invoke_<sig> imports; the firmware
// package adds the __esp_dyncall_<sig> exports they call through
// (board/firmware/invoke.go explains why).

// errLongjmp is what _emscripten_throw_longjmp panics with; invoke_*
// recognises it on its way out of the guest.
var errLongjmp = errors.New("emscripten longjmp")

func valueTypes(b []byte) []api.ValueType {
	out := make([]api.ValueType, len(b))
	copy(out, b)
	return out
}

// defineInvokes adds invoke_<sig> and _emscripten_throw_longjmp to env.
func defineInvokes(env wazero.HostModuleBuilder, sigs map[string]firmware.FuncType) []string {
	var names []string
	for name, t := range sigs {
		sig := strings.TrimPrefix(name, "invoke_")
		names = append(names, name)
		env.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, stack []uint64) {
			boardFrom(ctx).invoke(ctx, sig, stack)
		}), valueTypes(t.Params), valueTypes(t.Results)).Export(name)
	}
	names = append(names, "_emscripten_throw_longjmp")
	env.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, stack []uint64) {
		panic(errLongjmp)
	}), nil, nil).Export("_emscripten_throw_longjmp")
	return names
}

// invokeState caches, per board instance, one api.Function per signature
// and nesting depth (a call engine is not re-entrant).
type invokeState struct {
	depth    int
	fns      map[string][]api.Function
	getSP    api.Function
	restore  api.Function
	setThrew api.Function
	spStack  [1]uint64
	// sp is the firmware's stack pointer global, exported by the patch.
	sp api.MutableGlobal
	// calls counts invoke_ crossings; lastGC is its value at the last
	// collection (collectIfPending).
	calls, lastGC uint64
	// frames records the active crossings (callee table index and the
	// first and third arguments), for safeToCollect.
	frames []invFrame
	// record counts crossings per callee while a boot probe runs.
	record map[uint32]int
}

type invFrame struct{ callee, a1, a3 uint32 }

// invoke is the host side of invoke_<sig>: call table[index](args…) and
// turn a longjmp out of it into setThrew(1, 0), like Emscripten's JS glue.
func (b *Board) invoke(ctx context.Context, sig string, stack []uint64) {
	st := &b.inv
	st.calls++
	if b.stopping.Load() {
		panic(errStopped)
	}
	var sp uint64
	if st.sp != nil {
		sp = st.sp.Get()
	} else {
		if err := st.getSP.CallWithStack(ctx, st.spStack[:]); err != nil {
			panic(err)
		}
		sp = st.spStack[0]
	}
	d := st.depth
	f := invFrame{callee: uint32(stack[0])}
	if n := len(sig) - 1; n >= 1 {
		f.a1 = uint32(stack[1])
		if n >= 3 {
			f.a3 = uint32(stack[3])
		}
	}
	if d < len(st.frames) {
		st.frames = st.frames[:d]
	}
	// The interpreter is about to call or step something: everything it
	// works on is on the Python stack, so this is a collection point for
	// loops that never call into the board (see gcsafety.go).
	if g := &b.gcs; g.learnt && (f.callee == g.callFn || f.callee == g.callMethod || f.callee == g.iterNext || f.callee == g.iterNextObj || f.callee == g.iterRange) {
		b.collectIfPending(ctx)
	}
	st.frames = append(st.frames, f)
	if st.record != nil {
		st.record[f.callee]++
	}
	list := st.fns[sig]
	for len(list) <= d {
		list = append(list, b.mod.ExportedFunction(firmware.DyncallPrefix+sig))
	}
	st.fns[sig] = list
	st.depth++
	err := list[d].CallWithStack(ctx, stack)
	st.depth--
	if err == nil {
		return
	}
	b.framesUnwound(d)
	// threw and value are what setThrew records: (1, 0) after a longjmp
	// (the guest already set the real ones), a jmp_buf and 1 when a stack
	// overflow becomes a Python exception (cstack.go).
	threw, value := uint64(1), uint64(0)
	if !errors.Is(err, errLongjmp) {
		if !isWasmStackOverflow(err) {
			panic(err)
		}
		env := b.raiseStackOverflow(uint32(sp))
		if env == 0 {
			panic(err)
		}
		threw, value = uint64(env), 1
	}
	var s [2]uint64
	if st.sp != nil {
		st.sp.Set(sp)
	} else {
		s[0] = sp
		if err := st.restore.CallWithStack(ctx, s[:1]); err != nil {
			panic(err)
		}
	}
	s[0], s[1] = threw, value
	if err := st.setThrew.CallWithStack(ctx, s[:]); err != nil {
		panic(err)
	}
}
