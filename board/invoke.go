package board

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Emscripten's setjmp/longjmp support routes every call made by a function
// that calls setjmp through an imported invoke_<sig>(index, args…) helper,
// which calls table[index] and catches a longjmp. MicroPython's nlr_push is
// setjmp, and the bytecode VM calls it, so nearly every Python operation
// crosses an invoke_ import. A generic host implementation must look the
// table entry up and create a fresh call engine (with its own stack) for
// every crossing, which made the interpreter 10–50× slower.
//
// Instead, when the firmware is compiled we add to it one tiny exported
// function per invoke signature, __esp_dyncall_<sig>(index, args…), whose
// body is a call_indirect through the table. The host side of invoke_<sig>
// then calls that export through a per-board, per-nesting-depth cached
// api.Function: no lookups, no allocations on the hot path.

const dyncallPrefix = "__esp_dyncall_"

// spExport names the exported stack pointer global.
const spExport = "__esp_stack_pointer"

// errLongjmp is what _emscripten_throw_longjmp panics with; invoke_*
// recognises it on its way out of the guest.
var errLongjmp = errors.New("emscripten longjmp")

type funcType struct{ params, results []byte }

func (t funcType) key() string { return string(t.params) + "|" + string(t.results) }

// patchDyncalls returns the firmware with the __esp_dyncall_* exports added
// and the invoke signatures it found (import name → type).
func patchDyncalls(wasm []byte) ([]byte, map[string]funcType, error) {
	secs, err := splitSections(wasm)
	if err != nil {
		return nil, nil, err
	}
	find := secs.find
	typeSec, impSec, funcSec, expSec, codeSec := find(1), find(2), find(3), find(7), find(10)
	if typeSec == nil || impSec == nil || funcSec == nil || expSec == nil || codeSec == nil || find(4) == nil {
		return nil, nil, fmt.Errorf("firmware lacks a section the patch needs")
	}

	// Types.
	var types []funcType
	n, p, err := readULEB(wasm, typeSec.start)
	if err != nil {
		return nil, nil, err
	}
	for k := uint64(0); k < n; k++ {
		if p >= typeSec.end || wasm[p] != 0x60 {
			return nil, nil, errWasm
		}
		p++
		np, q, err := readULEB(wasm, p)
		if err != nil || np > uint64(typeSec.end) || q+int(np) > typeSec.end {
			return nil, nil, errWasm
		}
		params := wasm[q : q+int(np)]
		q += int(np)
		nr, r, err := readULEB(wasm, q)
		if err != nil || nr > uint64(typeSec.end) || r+int(nr) > typeSec.end {
			return nil, nil, errWasm
		}
		types = append(types, funcType{params, wasm[r : r+int(nr)]})
		p = r + int(nr)
	}
	typeIndex := map[string]int{}
	for k, t := range types {
		if _, ok := typeIndex[t.key()]; !ok {
			typeIndex[t.key()] = k
		}
	}

	// Imports: invoke_* and the function import count.
	type invoke struct {
		name string
		typ  uint32
	}
	var invokes []invoke
	var numFuncImports uint32
	n, p, err = readULEB(wasm, impSec.start)
	if err != nil {
		return nil, nil, err
	}
	for k := uint64(0); k < n; k++ {
		var mod, name string
		m := &wasmModule{data: wasm}
		if mod, p, err = m.name(p, impSec.end); err != nil {
			return nil, nil, err
		}
		if name, p, err = m.name(p, impSec.end); err != nil {
			return nil, nil, err
		}
		if p >= impSec.end {
			return nil, nil, errWasm
		}
		kind := wasm[p]
		p++
		switch kind {
		case 0:
			var ti uint64
			if ti, p, err = readULEB(wasm, p); err != nil {
				return nil, nil, err
			}
			if mod == "env" && strings.HasPrefix(name, "invoke_") {
				invokes = append(invokes, invoke{name, uint32(ti)})
			}
			numFuncImports++
		case 1:
			p++
			if p, err = skipLimits(wasm, p); err != nil {
				return nil, nil, err
			}
		case 2:
			if p, err = skipLimits(wasm, p); err != nil {
				return nil, nil, err
			}
		case 3:
			p += 2
		default:
			return nil, nil, errWasm
		}
	}
	if len(invokes) == 0 {
		return wasm, nil, nil
	}
	sort.Slice(invokes, func(a, b int) bool { return invokes[a].name < invokes[b].name })

	nDefined, _, err := readULEB(wasm, funcSec.start)
	if err != nil {
		return nil, nil, err
	}
	sigs := map[string]funcType{}
	var newTypes []funcType
	var newFuncTypes []uint32
	var newBodies [][]byte
	for _, inv := range invokes {
		if int(inv.typ) >= len(types) {
			return nil, nil, errWasm
		}
		it := types[inv.typ]
		if len(it.params) == 0 || it.params[0] != 0x7f {
			return nil, nil, fmt.Errorf("unexpected signature for %s", inv.name)
		}
		sigs[inv.name] = it
		callee := funcType{it.params[1:], it.results}
		ci, ok := typeIndex[callee.key()]
		if !ok {
			ci = len(types) + len(newTypes)
			newTypes = append(newTypes, callee)
			typeIndex[callee.key()] = ci
		}
		var body bytes.Buffer
		body.WriteByte(0) // no locals
		for a := 1; a < len(it.params); a++ {
			body.WriteByte(0x20)
			body.Write(uleb(uint64(a)))
		}
		body.Write([]byte{0x20, 0x00, 0x11})
		body.Write(uleb(uint64(ci)))
		body.Write([]byte{0x00, 0x0b})
		newFuncTypes = append(newFuncTypes, inv.typ)
		newBodies = append(newBodies, body.Bytes())
	}

	// Rebuild the four sections.
	appendVec := func(sec *section, extra [][]byte) ([]byte, error) {
		cnt, p, err := readULEB(wasm, sec.start)
		if err != nil {
			return nil, err
		}
		var out bytes.Buffer
		out.Write(uleb(cnt + uint64(len(extra))))
		out.Write(wasm[p:sec.end])
		for _, e := range extra {
			out.Write(e)
		}
		return out.Bytes(), nil
	}
	var typeExtra, funcExtra, expExtra, codeExtra [][]byte
	for _, t := range newTypes {
		e := []byte{0x60}
		e = append(e, uleb(uint64(len(t.params)))...)
		e = append(e, t.params...)
		e = append(e, uleb(uint64(len(t.results)))...)
		e = append(e, t.results...)
		typeExtra = append(typeExtra, e)
	}
	for k, inv := range invokes {
		funcExtra = append(funcExtra, uleb(uint64(newFuncTypes[k])))
		name := dyncallPrefix + strings.TrimPrefix(inv.name, "invoke_")
		e := append(uleb(uint64(len(name))), name...)
		e = append(e, 0x00)
		e = append(e, uleb(uint64(numFuncImports)+nDefined+uint64(k))...)
		expExtra = append(expExtra, e)
		codeExtra = append(codeExtra, append(uleb(uint64(len(newBodies[k]))), newBodies[k]...))
	}
	// Export the stack pointer global (read by emscripten_stack_get_current
	// as `global.get N`) so the host can save and restore it without a call.
	if m, err := parseWasm(wasm); err == nil {
		if fi, ok := m.exports["emscripten_stack_get_current"]; ok {
			if ins := m.disassemble(fi); len(ins) > 0 && ins[0].op == 0x23 {
				name := spExport
				e := append(uleb(uint64(len(name))), name...)
				e = append(e, 0x03)
				e = append(e, uleb(uint64(ins[0].imm))...)
				expExtra = append(expExtra, e)
			}
		}
	}
	replaced := map[byte][][]byte{1: typeExtra, 3: funcExtra, 7: expExtra, 10: codeExtra}
	var out bytes.Buffer
	out.Write(wasm[:8])
	for k := range secs {
		s := &secs[k]
		extra, ok := replaced[s.id]
		if !ok {
			out.Write(wasm[s.hdr:s.end])
			continue
		}
		payload, err := appendVec(s, extra)
		if err != nil {
			return nil, nil, err
		}
		out.WriteByte(s.id)
		out.Write(uleb(uint64(len(payload))))
		out.Write(payload)
	}
	return out.Bytes(), sigs, nil
}

// section is one section of a module: its id and where it lies.
type section struct {
	id         byte
	start, end int // payload
	hdr        int // start of the section id byte
}

type sections []section

// splitSections lists a module's sections (after the 8-byte header).
func splitSections(wasm []byte) (sections, error) {
	if len(wasm) < 8 {
		return nil, errWasm
	}
	var secs sections
	for i := 8; i < len(wasm); {
		hdr := i
		id := wasm[i]
		size, j, err := readULEB(wasm, i+1)
		if err != nil || size > uint64(len(wasm)) || j+int(size) > len(wasm) {
			return nil, errWasm
		}
		secs = append(secs, section{id, j, j + int(size), hdr})
		i = j + int(size)
	}
	return secs, nil
}

// find returns the first section with the id, or nil.
func (secs sections) find(id byte) *section {
	for k := range secs {
		if secs[k].id == id {
			return &secs[k]
		}
	}
	return nil
}

func uleb(v uint64) []byte {
	var out []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			out = append(out, c|0x80)
		} else {
			return append(out, c)
		}
	}
}

func valueTypes(b []byte) []api.ValueType {
	out := make([]api.ValueType, len(b))
	copy(out, b)
	return out
}

// defineInvokes adds invoke_<sig> and _emscripten_throw_longjmp to env.
func defineInvokes(env wazero.HostModuleBuilder, sigs map[string]funcType) []string {
	var names []string
	for name, t := range sigs {
		sig := strings.TrimPrefix(name, "invoke_")
		names = append(names, name)
		env.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, stack []uint64) {
			boardFrom(ctx).invoke(ctx, sig, stack)
		}), valueTypes(t.params), valueTypes(t.results)).Export(name)
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
		list = append(list, b.mod.ExportedFunction(dyncallPrefix+sig))
	}
	st.fns[sig] = list
	st.depth++
	err := list[d].CallWithStack(ctx, stack)
	st.depth--
	if err == nil {
		return
	}
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
