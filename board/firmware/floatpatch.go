package firmware

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// The ESP8266 keeps a float in the object word as a float32 without its two
// low mantissa bits (MICROPY_FLOAT_IMPL_FLOAT, MICROPY_OBJ_REPR_C); the
// pyscript firmware boxes a double. So, when the firmware is compiled, we
// rewrite it (as safepoint.go and invoke.go do):
//
//   - Every store of a new float object's value (mp_obj_new_float and the
//     copies the compiler inlined into the float type's constructor, unary
//     and binary operations) first rounds the double to float32 and drops
//     the two low bits the way the board's mp_obj_float_get refills them.
//     Sums, products, quotients and square roots of float32 values computed
//     in double and rounded once are exactly the float32 results, so
//     arithmetic matches; 1e38*10 overflows to inf; int(123456789.0) is the
//     board's 123456768.
//   - An int meeting a float becomes a float32 first, as on the board
//     (mp_obj_get_float_maybe's result, mp_obj_float_binary_op's left
//     operand); time.localtime/gmtime, which the double build feeds through
//     mp_obj_get_float where the board reads an integer, get unrounded
//     copies of the two getters.
//   - The float constants in the firmware's data (math.pi, math.e, …) get
//     the board's values.
//   - mp_format_float and mp_parse_float_internal become calls to the host
//     (floatfmt.go), which formats and reads with the board's rules in
//     float32 arithmetic.
//   - Float objects are allocated even while the heap is locked.
//   - Complex literals and three-argument pow raise the board's errors
//     (numlang.go).
//
// The module has no name section, so the functions are found by signature
// and behaviour: mp_obj_new_float is the (f64)→i32 function that allocates,
// stores the float type's address at offset 0 and the f64 at offset 8;
// mp_format_float is the (f64, i32×5)→i32 function that writes "INF"/"NAN";
// the reader skips '_' and caps its mantissa; and so on below. A firmware
// where the core of them is not found is run unpatched (doubles).

// floatPatch is what patchFloats found.
type floatPatch struct {
	floatType  uint32   // address of mp_type_float
	newFloat   uint32   // function index of mp_obj_new_float (before patching)
	format     uint32   // function index of mp_format_float (before patching)
	parse      uint32   // function index of mp_parse_float_internal
	getFloat   uint32   // function index of mp_obj_get_float_maybe
	storeFuncs []uint32 // functions whose float-object stores were rounded
	stores     int      // f64.store instructions rounded
	constants  int      // float constants in data rewritten
	// heapLockFree: float objects are made even while the heap is locked.
	heapLockFree bool
	// noComplex: number literals cannot be imaginary.
	noComplex bool
	// complexText: with the board's message; noPow3: pow(a, b, c) raises.
	complexText, noPow3 bool
	// timestamps: time.localtime/gmtime sites reading their argument
	// without rounding.
	timestamps int
}

// heapLockBypass is what lets a float object be allocated while the heap
// is locked: on the board a float lives in the object word and allocates
// nothing, so float maths works under micropython.heap_lock(). Here the
// object still takes 16 bytes of the heap, but its allocation ignores the
// user's lock (not the collector's own flag, kept so a finaliser running
// during a sweep still cannot allocate).
type heapLockBypass struct {
	alloc   uint64 // m_malloc: raises MemoryError on failure
	gcAlloc uint64 // gc_alloc(size, flags): returns 0 on failure
	depth   uint32 // address of the 16-bit gc_lock_depth
}

// findHeapLock reads, from mp_obj_new_float's body, the allocator it calls
// (m_malloc: gc_alloc(n, 0), raising when that returns 0) and, from
// gc_alloc, the address of gc_lock_depth (the first 16-bit load).
func findHeapLock(code [][]wasmInstr, funcImports uint32, newFloat []wasmInstr) *heapLockBypass {
	var alloc uint64
	calls := 0
	for _, in := range newFloat {
		if in.op == 0x10 {
			alloc, calls = uint64(in.imm), calls+1
		}
	}
	if calls != 1 || alloc < uint64(funcImports) || alloc-uint64(funcImports) >= uint64(len(code)) {
		return nil
	}
	ins := code[alloc-uint64(funcImports)]
	var gcAlloc uint64
	for i := 0; i+2 < len(ins); i++ {
		if ins[i].op == 0x20 && ins[i].imm == 0 && ins[i+1].op == 0x41 && ins[i+1].imm == 0 && ins[i+2].op == 0x10 {
			gcAlloc = uint64(ins[i+2].imm)
			break
		}
	}
	if gcAlloc < uint64(funcImports) || gcAlloc-uint64(funcImports) >= uint64(len(code)) || len(ins) > 24 {
		return nil
	}
	g := code[gcAlloc-uint64(funcImports)]
	for i := 0; i+1 < len(g); i++ {
		if g[i].op == 0x41 && g[i+1].op == 0x2f {
			addr := uint64(g[i].imm) + g[i+1].off
			if g[i].imm < 0 || addr > 1<<32-2 {
				return nil
			}
			return &heapLockBypass{alloc: alloc, gcAlloc: gcAlloc, depth: uint32(addr)}
		}
	}
	return nil
}

// seq replaces `i32.const 16; call m_malloc` with an allocation made with
// the lock depth cleared (but for the collector's flag, bit 0) and then
// restored; if it fails, m_malloc is called as before, so a full heap
// still raises MemoryError. s and t are scratch i32 locals.
func (h *heapLockBypass) seq(s, t uint64) []byte {
	d := uleb(uint64(h.depth))
	var c []byte
	c = append(c, 0x41, 0x00, 0x2f, 0x01)
	c = append(append(c, d...), 0x21)
	c = append(c, uleb(s)...)
	c = append(c, 0x41, 0x00, 0x20)
	c = append(c, uleb(s)...)
	c = append(c, 0x41, 0x01, 0x71, 0x3b, 0x01)
	c = append(c, d...)
	c = append(c, 0x41, 0x10, 0x41, 0x00, 0x10)
	c = append(append(c, uleb(h.gcAlloc)...), 0x21)
	c = append(c, uleb(t)...)
	c = append(c, 0x41, 0x00, 0x20)
	c = append(c, uleb(s)...)
	c = append(append(c, 0x3b, 0x01), d...)
	c = append(c, 0x20)
	c = append(c, uleb(t)...)
	c = append(c, 0x45, 0x04, 0x40, 0x41, 0x10, 0x10)
	c = append(append(c, uleb(h.alloc)...), 0x21)
	c = append(c, uleb(t)...)
	c = append(c, 0x0b, 0x20)
	return append(c, uleb(t)...)
}

// patchFloats returns the firmware with the board's float precision and
// formatter, and what it changed; ok is false (and wasm is returned as it
// was) when the firmware's float code is not recognised.
func patchFloats(wasm []byte) (out []byte, fp floatPatch, ok bool, err error) {
	secs, err := splitSections(wasm)
	if err != nil {
		return nil, fp, false, err
	}
	typeSec, impSec, funcSec, codeSec := secs.find(1), secs.find(2), secs.find(3), secs.find(10)
	if typeSec == nil || impSec == nil || funcSec == nil || codeSec == nil {
		return wasm, fp, false, nil
	}
	types, err := readTypes(wasm, typeSec)
	if err != nil {
		return nil, fp, false, err
	}
	funcImports, err := countFuncImports(wasm, impSec)
	if err != nil {
		return nil, fp, false, err
	}
	funcTypes, err := readFuncTypes(wasm, funcSec, len(types))
	if err != nil {
		return nil, fp, false, err
	}
	bodies, err := readBodies(wasm, codeSec)
	if err != nil {
		return nil, fp, false, err
	}
	if len(bodies) != len(funcTypes) {
		return nil, fp, false, errWasm
	}
	newFloatSig := FuncType{[]byte{0x7c}, []byte{0x7f}}.key()
	formatSig := FuncType{[]byte{0x7c, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f}, []byte{0x7f}}.key()
	parseSig := FuncType{[]byte{0x7f, 0x7f, 0x7f}, []byte{0x7f}}.key()
	getFloatSig := FuncType{[]byte{0x7f, 0x7f}, []byte{0x7f}}.key()
	binOpSig := FuncType{[]byte{0x7f, 0x7c, 0x7f}, []byte{0x7f}}.key()
	decimalSig := FuncType{[]byte{0x7f, 0x7f, 0x7f, 0x7f, 0x7f}, []byte{0x7f}}.key()

	// Decode every body once: the patch needs instruction boundaries.
	code := make([][]wasmInstr, len(bodies))
	for k, b := range bodies {
		if code[k], err = decodeBody(wasm, b[0], b[1]); err != nil {
			return nil, fp, false, fmt.Errorf("function %d: %w", k, err)
		}
	}

	newFloat, format, parse := -1, -1, -1
	var formatType, parseType uint64
	for k, ft := range funcTypes {
		switch types[ft].key() {
		case newFloatSig:
			if t, ok := storesFloatObject(code[k]); ok && newFloat < 0 {
				newFloat, fp.floatType = k, t
			}
		case formatSig:
			if writesInfNan(code[k]) {
				if format >= 0 {
					return wasm, fp, false, nil // ambiguous
				}
				format, formatType = k, ft
			}
		case parseSig:
			if readsDecimal(code[k]) {
				if parse >= 0 {
					return wasm, fp, false, nil
				}
				parse, parseType = k, ft
			}
		}
	}
	if newFloat < 0 || format < 0 || parse < 0 {
		return wasm, fp, false, nil
	}
	fp.newFloat, fp.format, fp.parse = funcImports+uint32(newFloat), funcImports+uint32(format), funcImports+uint32(parse)
	lock := findHeapLock(code, funcImports, code[newFloat])
	fp.heapLockFree = lock != nil
	// mp_parse_num_decimal(str, len, allow_imag, force_complex, lex): the
	// (i32×5)→i32 function that calls the reader.
	decimal := -1
	for k, ft := range funcTypes {
		if types[ft].key() == decimalSig && calls(code[k], uint64(funcImports)+uint64(parse)) {
			if decimal >= 0 {
				decimal = -1
				break
			}
			decimal = k
		}
	}
	// The board's texts for complex literals and three-argument pow, and
	// what raises them (numlang.go).
	texts, textAt := boardTexts()
	var raise raiseSeq
	var nie uint64
	pow, powCall := -1, 0
	ds := secs.find(11)
	if ds != nil && lowDataFree(wasm[ds.start:ds.end], boardTextAddr, uint32(len(texts))) {
		if at, ok := dataString(wasm, ds, "invalid syntax for number"); ok && decimal >= 0 {
			if r, ok := findRaise(code[decimal], at); ok {
				raise = r
			}
		}
		if at, ok := dataString(wasm, ds, "only slices with step=1 (aka None) are supported"); ok {
			if f, ok := findRaiser(code, at); ok {
				nie = f
				for k, ft := range funcTypes {
					if types[ft].key() == getFloatSig {
						if last, ok := findPow3(code[k]); ok {
							pow, powCall = k, last
							break
						}
					}
				}
			}
		}
	}

	// The appended imports take indices funcImports and funcImports+1;
	// defined functions move up by two.
	formatHook, parseHook := uint64(funcImports), uint64(funcImports)+1
	renumber := func(idx uint64) uint64 {
		if idx >= formatHook {
			return idx + 2
		}
		return idx
	}

	// Timestamps: the double build reads them with mp_obj_get_float and
	// truncates (shared/timeutils: time.localtime, gmtime), where the board
	// reads an integer; rounding them to float32 would move a 2024 date by
	// up to a minute. Those sites call unrounded copies of mp_obj_get_float
	// and mp_obj_get_float_maybe, appended as two new functions.
	maybeK, getK := -1, -1
	for k, ft := range funcTypes {
		if types[ft].key() == getFloatSig && convertsToFloat(code[k], fp.floatType) {
			maybeK = k
			break
		}
	}
	stampSites := map[int][]int{}
	if maybeK >= 0 {
		getSig := FuncType{[]byte{0x7f}, []byte{0x7c}}.key()
		for k, ft := range funcTypes {
			if types[ft].key() == getSig && len(code[k]) < 40 && calls(code[k], uint64(funcImports)+uint64(maybeK)) {
				getK = k
				break
			}
		}
	}
	if getK >= 0 {
		get := int64(funcImports) + int64(getK)
		for k, ins := range code {
			for i := 0; i+2 < len(ins); i++ {
				if ins[i].op == 0x10 && ins[i].imm == get && ins[i+1].op == 0x9d && ins[i+2].op == 0xfc &&
					ins[i+2].at+1 < len(wasm) && wasm[ins[i+2].at+1] == 0x03 { // i32.trunc_sat_f64_u
					stampSites[k] = append(stampSites[k], i)
				}
			}
		}
	}
	extra := 0
	if len(stampSites) > 0 {
		extra = 2
	}
	exactMaybe := uint64(funcImports) + uint64(len(bodies)) // pre-renumbering indices
	exactGet := exactMaybe + 1

	var codeOut bytes.Buffer
	codeOut.Write(uleb(uint64(len(bodies) + extra)))
	var body bytes.Buffer
	for k, b := range bodies {
		body.Reset()
		sig := types[funcTypes[k]]
		switch {
		case k == format:
			body.Write(forwardBody(6, formatHook))
		case k == parse:
			body.Write(forwardBody(3, parseHook))
		case k == pow:
			patched := pow3Body(wasm, b, code[k], powCall, nie, textAt[pow3Text])
			if err := renumberBody(&body, patched, 0, len(patched), renumber); err != nil {
				return nil, fp, false, fmt.Errorf("function %d: %w", k, err)
			}
			fp.noPow3 = true
		case k == decimal:
			// No complex numbers on the board (MICROPY_PY_BUILTINS_COMPLEX
			// 0): a literal ending in j raises the board's ValueError
			// through the lexer (a SyntaxError). Failing that, allow_imag
			// is forced to 0 ("invalid syntax for number").
			nl, p, err := readULEB(wasm, b[0])
			if err != nil || nl > uint64(b[1]) {
				return nil, fp, false, errWasm
			}
			for l := uint64(0); l < nl; l++ {
				if _, p, err = readULEB(wasm, p); err != nil || p >= b[1] {
					return nil, fp, false, errWasm
				}
				p++
			}
			patched := append([]byte(nil), wasm[b[0]:p]...)
			if raise.newExc != 0 {
				patched = append(patched, raise.complexEntry(textAt[complexText])...)
				fp.complexText = true
			} else {
				patched = append(patched, 0x41, 0x00, 0x21, 0x02) // i32.const 0; local.set 2
			}
			patched = append(patched, wasm[p:b[1]]...)
			if err := renumberBody(&body, patched, 0, len(patched), renumber); err != nil {
				return nil, fp, false, fmt.Errorf("function %d: %w", k, err)
			}
			fp.noComplex = true
		case storesType(code[k], fp.floatType):
			// mp_obj_float_binary_op takes its left operand as a double:
			// on the board an int operand is converted to float32.
			entry := -1
			if sig.key() == binOpSig {
				entry = 1
			}
			rounded, n, err := roundFloatStores(wasm, b, code[k], len(sig.Params), entry, lock)
			if err != nil {
				return nil, fp, false, fmt.Errorf("function %d: %w", k, err)
			}
			fp.storeFuncs = append(fp.storeFuncs, funcImports+uint32(k))
			fp.stores += n
			if err := renumberBody(&body, rounded, 0, len(rounded), renumber); err != nil {
				return nil, fp, false, fmt.Errorf("function %d: %w", k, err)
			}
		case sig.key() == getFloatSig && convertsToFloat(code[k], fp.floatType):
			// mp_obj_get_float_maybe: an int becomes a float32 on the board.
			demoted, n := demoteFloatResult(wasm, b, code[k])
			if n != 1 {
				return wasm, fp, false, nil
			}
			fp.getFloat = funcImports + uint32(k)
			if err := renumberBody(&body, demoted, 0, len(demoted), renumber); err != nil {
				return nil, fp, false, fmt.Errorf("function %d: %w", k, err)
			}
		case len(stampSites[k]) > 0:
			patched := retargetCalls(wasm, b, code[k], stampSites[k], exactGet)
			if err := renumberBody(&body, patched, 0, len(patched), renumber); err != nil {
				return nil, fp, false, fmt.Errorf("function %d: %w", k, err)
			}
			fp.timestamps += len(stampSites[k])
		default:
			if err := renumberBody(&body, wasm, b[0], b[1], renumber); err != nil {
				return nil, fp, false, fmt.Errorf("function %d: %w", k, err)
			}
		}
		codeOut.Write(uleb(uint64(body.Len())))
		codeOut.Write(body.Bytes())
	}
	var funcPayload []byte
	if extra > 0 {
		// The unrounded copies: mp_obj_get_float_maybe as it was, and
		// mp_obj_get_float calling that copy.
		for _, c := range []struct {
			k      int
			patchd []byte
		}{
			{maybeK, wasm[bodies[maybeK][0]:bodies[maybeK][1]]},
			{getK, retargetCalls(wasm, bodies[getK], code[getK], callsTo(code[getK], uint64(funcImports)+uint64(maybeK)), exactMaybe)},
		} {
			body.Reset()
			if err := renumberBody(&body, c.patchd, 0, len(c.patchd), renumber); err != nil {
				return nil, fp, false, fmt.Errorf("function %d copy: %w", c.k, err)
			}
			codeOut.Write(uleb(uint64(body.Len())))
			codeOut.Write(body.Bytes())
		}
		rest, err := afterCount(wasm, funcSec.start, funcSec.end)
		if err != nil {
			return nil, fp, false, err
		}
		funcPayload = append(uleb(uint64(len(funcTypes)+2)), rest...)
		funcPayload = append(funcPayload, uleb(funcTypes[maybeK])...)
		funcPayload = append(funcPayload, uleb(funcTypes[getK])...)
	}

	impPayload, err := appendFuncImports(wasm, impSec, "env", []string{FloatFormatImport, FloatParseImport}, []uint64{formatType, parseType})
	if err != nil {
		return nil, fp, false, err
	}
	rebuilt := map[byte][]byte{2: impPayload, 10: codeOut.Bytes()}
	if funcPayload != nil {
		rebuilt[3] = funcPayload
	}
	if err := renumberOtherSections(wasm, secs, renumber, rebuilt); err != nil {
		return nil, fp, false, err
	}
	if ds != nil {
		payload, n, err := roundFloatConstants(wasm, ds, fp.floatType)
		if err != nil {
			return nil, fp, false, err
		}
		if fp.complexText || fp.noPow3 {
			if payload, err = appendDataSegment(payload, boardTextAddr, texts); err != nil {
				return nil, fp, false, err
			}
		}
		rebuilt[11] = payload
		fp.constants = n
	}

	return assembleModule(wasm, secs, rebuilt, 4096), fp, true, nil
}

// boardFloat is the value a float object holds on the board.
func boardFloat(x float64) float64 { return float64(reprC(float32(x))) }

// roundSeq rounds the f64 on top of the stack to the board's value (see
// reprC), using scratch, an i32 local:
//
//	f32.demote_f64; i32.reinterpret_f32; local.tee s; i32.const -4; i32.and
//	local.get s; i32.const 2; i32.shr_u; i32.const 3; i32.and; i32.or
//	f32.reinterpret_i32; f64.promote_f32
//
// NaN stays NaN: a demoted NaN keeps its quiet bit.
func roundSeq(scratch uint64) []byte {
	s := []byte{0xb6, 0xbc, 0x22}
	s = append(s, uleb(scratch)...)
	s = append(s, 0x41, 0x7c, 0x71, 0x20)
	s = append(s, uleb(scratch)...)
	return append(s, 0x41, 0x02, 0x76, 0x41, 0x03, 0x71, 0x72, 0xbe, 0xbb)
}

// forwardBody is a body that passes its n parameters to function hook and
// returns its result.
func forwardBody(n int, hook uint64) []byte {
	out := []byte{0} // no locals
	for p := 0; p < n; p++ {
		out = append(out, 0x20)
		out = append(out, uleb(uint64(p))...)
	}
	out = append(out, 0x10)
	out = append(out, uleb(hook)...)
	return append(out, 0x0b)
}

// demoteFloatResult returns body b with f32.demote_f64; f64.promote_f32
// before every f64.store at offset 0 (the value it hands back).
func demoteFloatResult(wasm []byte, b [2]int, ins []wasmInstr) ([]byte, int) {
	var out []byte
	at, n := b[0], 0 // the locals are copied unchanged with the code
	for _, in := range ins {
		if in.op == 0x39 && in.off == 0 {
			out = append(out, wasm[at:in.at]...)
			out = append(out, 0xb6, 0xbb)
			at = in.at
			n++
		}
	}
	return append(out, wasm[at:b[1]]...), n
}

// roundFloatStores returns body b of a function with nParams parameters
// with two i32 locals added and roundSeq before every f64.store at offset 8
// (a float object's value); with entry >= 0, f64 parameter entry is first
// rounded to float32; with lock, the float objects' allocations ignore the
// heap lock.
func roundFloatStores(wasm []byte, b [2]int, ins []wasmInstr, nParams, entry int, lock *heapLockBypass) ([]byte, int, error) {
	nl, p, err := readULEB(wasm, b[0])
	if err != nil || nl > uint64(b[1]) {
		return nil, 0, errWasm
	}
	scratch := uint64(nParams)
	for l := uint64(0); l < nl; l++ {
		var c uint64
		if c, p, err = readULEB(wasm, p); err != nil || p >= b[1] {
			return nil, 0, errWasm
		}
		scratch += c
		p++
	}
	var out bytes.Buffer
	out.Write(uleb(nl + 1))
	locals, err := afterCount(wasm, b[0], p)
	if err != nil {
		return nil, 0, err
	}
	out.Write(locals)
	out.Write([]byte{0x02, 0x7f})
	if entry >= 0 {
		out.WriteByte(0x20)
		out.Write(uleb(uint64(entry)))
		out.Write([]byte{0xb6, 0xbb, 0x21})
		out.Write(uleb(uint64(entry)))
	}
	seq := roundSeq(scratch)
	n := 0
	at := p
	for i, in := range ins {
		switch {
		case in.op == 0x39 && in.off == 8:
			out.Write(wasm[at:in.at])
			out.Write(seq)
			at = in.at
			n++
		case lock != nil && in.op == 0x41 && in.imm == 16 && i+2 < len(ins) && ins[i+1].op == 0x10 && uint64(ins[i+1].imm) == lock.alloc:
			out.Write(wasm[at:in.at])
			out.Write(lock.seq(scratch, scratch+1))
			at = ins[i+2].at
		}
	}
	out.Write(wasm[at:b[1]])
	return out.Bytes(), n, nil
}

// roundFloatConstants rewrites, in the data section, every float object
// laid out as {&mp_type_float, padding, f64} to the board's value.
func roundFloatConstants(wasm []byte, ds *section, floatType uint32) ([]byte, int, error) {
	payload := append([]byte(nil), wasm[ds.start:ds.end]...)
	var tb [4]byte
	binary.LittleEndian.PutUint32(tb[:], floatType)
	count := 0
	err := eachDataSegment(payload, func(base int64, seg []byte) {
		if base < 0 {
			return
		}
		for i := 0; i+16 <= len(seg); i++ {
			if (base+int64(i))%8 != 0 || !bytes.Equal(seg[i:i+4], tb[:]) || binary.LittleEndian.Uint32(seg[i+4:]) != 0 {
				continue
			}
			bits := binary.LittleEndian.Uint64(seg[i+8:])
			if bits>>52&0x7ff == 0 {
				continue // zero or denormal: two pointers, not a float
			}
			v := math.Float64frombits(bits)
			binary.LittleEndian.PutUint64(seg[i+8:], math.Float64bits(boardFloat(v)))
			count++
		}
	})
	if err != nil {
		return nil, 0, err
	}
	return payload, count, nil
}

// storesFloatObject reports whether a (f64)→i32 body is mp_obj_new_float:
// a call (the allocation), i32.const T; i32.store (the type) and an
// f64.store at offset 8 (the value); it returns T.
func storesFloatObject(ins []wasmInstr) (uint32, bool) {
	var t uint32
	call, value := false, false
	for i, in := range ins {
		switch {
		case in.op == 0x10:
			call = true
		case in.op == 0x39 && in.off == 8:
			value = true
		case in.op == 0x41 && in.imm > 0 && i+1 < len(ins) && ins[i+1].op == 0x36 && ins[i+1].off == 0:
			t = uint32(in.imm)
		}
	}
	return t, call && value && t != 0 && len(ins) < 32
}

// storesType reports whether a body stores type address t as an object
// header (i32.const t; i32.store offset=0).
func storesType(ins []wasmInstr, t uint32) bool {
	for i, in := range ins {
		if in.op == 0x41 && in.imm == int64(t) && i+1 < len(ins) && ins[i+1].op == 0x36 && ins[i+1].off == 0 {
			return true
		}
	}
	return false
}

// callsTo lists the positions of the calls to function fi in a body.
func callsTo(ins []wasmInstr, fi uint64) []int {
	var at []int
	for i, in := range ins {
		if in.op == 0x10 && uint64(in.imm) == fi {
			at = append(at, i)
		}
	}
	return at
}

// retargetCalls returns body b with the call instructions at positions
// sites (indices into ins) calling function to instead.
func retargetCalls(wasm []byte, b [2]int, ins []wasmInstr, sites []int, to uint64) []byte {
	var out []byte
	at := b[0]
	for _, i := range sites {
		out = append(out, wasm[at:ins[i].at]...)
		out = append(out, 0x10)
		out = append(out, uleb(to)...)
		at = b[1]
		if i+1 < len(ins) {
			at = ins[i+1].at
		}
	}
	return append(out, wasm[at:b[1]]...)
}

// calls reports whether a body calls function fi.
func calls(ins []wasmInstr, fi uint64) bool {
	for _, in := range ins {
		if in.op == 0x10 && uint64(in.imm) == fi {
			return true
		}
	}
	return false
}

// readsDecimal reports whether a body is a decimal reader: it skips '_'
// and caps its mantissa at 0x1999999999999998 (or 0x19999998).
func readsDecimal(ins []wasmInstr) bool {
	us, capped := false, false
	for _, in := range ins {
		switch {
		case in.op == 0x41 && in.imm == '_':
			us = true
		case in.op == 0x42 && in.imm == 0x1999999999999998, in.op == 0x41 && in.imm == 0x19999998:
			capped = true
		}
	}
	return us && capped
}

// convertsToFloat reports whether a (i32, i32)→i32 body is
// mp_obj_get_float_maybe: it converts a small int (f64.convert_i32_s),
// checks for the float type and stores one f64 through its pointer.
func convertsToFloat(ins []wasmInstr, floatType uint32) bool {
	conv, typ, stores := false, false, 0
	for _, in := range ins {
		switch {
		case in.op == 0xb7:
			conv = true
		case in.op == 0x41 && in.imm == int64(floatType):
			typ = true
		case in.op == 0x39:
			if in.off != 0 {
				return false
			}
			stores++
		}
	}
	return conv && typ && stores == 1
}

// writesInfNan reports whether a body uses the letters of "INF" and "NAN".
func writesInfNan(ins []wasmInstr) bool {
	seen := map[int64]bool{}
	for _, in := range ins {
		if in.op == 0x41 {
			seen[in.imm] = true
		}
	}
	return seen['F'] && seen['N'] && seen['A'] && seen['I']
}
