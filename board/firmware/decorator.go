package firmware

import "bytes"

// The ESP8266 build compiles `@micropython.native` and `@micropython.viper`
// functions to Xtensa code (MICROPY_EMIT_XTENSA); the pyscript firmware has
// no native emitter, so its compile_built_in_decorator (py/compile.c)
// accepts only `bytecode` and raises SyntaxError "invalid micropython
// decorator" for the others. patchDecorators makes the two names select
// the bytecode emitter: code valid under both runs the same, only slower.
// `asm_xtensa` (MICROPY_EMIT_INLINE_XTENSA) stays a SyntaxError: its body
// is assembler, which bytecode cannot run.
//
// The compiler compares the decorator's parse node (qstr << 4 | kind) with
// the constant for `bytecode`. The pyscript build has no `native` or
// `viper` qstr, so their numbers are only known once interned at run time:
// the patch compares with two words at DecoratorQstrAddr as well, which
// the board's boot writes (board/lib/_surface.py, `(id(name) >> 3) << 4`).
// Zero, the value before that, matches no parse node. The words sit near
// the bottom of the C stack, which the stack (64 KiB, growing down from
// 65536, checked at 32 KiB by mp_cstack_check) never reaches; the texts of
// numlang.go are below them.

// DecoratorQstrAddr is where the parse-node values of `native` and `viper`
// go (two little-endian words).
const DecoratorQstrAddr = 1024

const decoratorText = "invalid micropython decorator"

// patchDecorators returns the firmware with the decorator test widened; ok
// is false (and wasm returned as it was) when the code is not recognised.
func patchDecorators(wasm []byte) (out []byte, ok bool, err error) {
	secs, err := splitSections(wasm)
	if err != nil {
		return nil, false, err
	}
	codeSec, ds := secs.find(10), secs.find(11)
	if codeSec == nil || ds == nil || !lowDataFree(wasm[ds.start:ds.end], DecoratorQstrAddr, 8) {
		return wasm, false, nil
	}
	text, ok := dataString(wasm, ds, decoratorText)
	if !ok {
		return wasm, false, nil
	}
	bodies, err := readBodies(wasm, codeSec)
	if err != nil {
		return nil, false, err
	}
	target, site := -1, -1
	for k, b := range bodies {
		ins, err := decodeBody(wasm, b[0], b[1])
		if err != nil {
			return nil, false, err
		}
		if s, found := decoratorCompare(ins, text); found {
			if target >= 0 {
				return wasm, false, nil // ambiguous
			}
			target, site = k, s
		}
	}
	if target < 0 {
		return wasm, false, nil
	}
	b := bodies[target]
	ins, _ := decodeBody(wasm, b[0], b[1])
	local := uint64(ins[site].imm)
	to := ins[site+4].at + 1
	var patched []byte
	patched = append(patched, wasm[b[0]:to]...) // ... i32.const BYTECODE; i32.eq
	for _, off := range []uint64{DecoratorQstrAddr, DecoratorQstrAddr + 4} {
		patched = append(patched, 0x20)
		patched = append(patched, uleb(local)...)
		patched = append(patched, 0x41, 0x70, 0x71, 0x41, 0x00, 0x28, 0x02) // i32.const -16; i32.and; i32.const 0; i32.load align=4
		patched = append(patched, uleb(off)...)
		patched = append(patched, 0x46, 0x72) // i32.eq; i32.or
	}
	patched = append(patched, wasm[to:b[1]]...)

	var code bytes.Buffer
	code.Write(uleb(uint64(len(bodies))))
	for k, bb := range bodies {
		body := wasm[bb[0]:bb[1]]
		if k == target {
			body = patched
		}
		code.Write(uleb(uint64(len(body))))
		code.Write(body)
	}
	var res bytes.Buffer
	res.Grow(len(wasm) + 64)
	res.Write(wasm[:codeSec.hdr])
	res.WriteByte(10)
	res.Write(uleb(uint64(code.Len())))
	res.Write(code.Bytes())
	res.Write(wasm[codeSec.end:])
	return res.Bytes(), true, nil
}

// decoratorCompare finds, in a body that raises the decorator error with
// i32.const text, the test of the attribute's parse node against the
// bytecode qstr just before it: local.tee L; i32.const -16; i32.and;
// i32.const Q; i32.eq. It returns the index of the local.tee.
func decoratorCompare(ins []wasmInstr, text uint32) (int, bool) {
	use := -1
	for i, in := range ins {
		if in.op == 0x41 && in.imm == int64(text) {
			if use >= 0 {
				return 0, false
			}
			use = i
		}
	}
	if use < 0 {
		return 0, false
	}
	for i := use - 5; i >= 0 && i >= use-40; i-- {
		if ins[i].op == 0x22 && ins[i+1].op == 0x41 && ins[i+1].imm == -16 && ins[i+2].op == 0x71 &&
			ins[i+3].op == 0x41 && ins[i+3].imm > 0 && ins[i+3].imm&15 == 0 && ins[i+4].op == 0x46 {
			return i, true
		}
	}
	return 0, false
}
