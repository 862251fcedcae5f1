package firmware

import "bytes"

// Two numeric language features the ESP8266 build leaves out, removed from
// the firmware by patchFloats (floatpatch.go):
//
//   - complex numbers (MICROPY_PY_BUILTINS_COMPLEX 0): the board's number
//     reader raises ValueError("complex values not supported") at the 'j'
//     of a literal, which the compiler reports as a SyntaxError;
//   - three-argument pow (MICROPY_PY_BUILTINS_POW3 0): NotImplementedError
//     "3-arg pow() not supported" (py/modbuiltins.c).
//
// The pyscript firmware has neither message, so they are added in a data
// segment of their own at boardTextAddr: the bottom of the C stack, which
// the stack (64 KiB, growing down from 65536, checked at 32 KiB by
// mp_cstack_check) never reaches.

const boardTextAddr = 512

const (
	complexText = "complex values not supported"
	pow3Text    = "3-arg pow() not supported"
)

// boardTexts is the added segment's bytes and where each text starts.
func boardTexts() ([]byte, map[string]uint32) {
	var b []byte
	at := map[string]uint32{}
	for _, s := range []string{complexText, pow3Text} {
		at[s] = boardTextAddr + uint32(len(b))
		b = append(append(b, s...), 0)
	}
	return b, at
}

// dataString returns the address of the NUL-terminated text s in the
// firmware's active data segments.
func dataString(wasm []byte, ds *section, s string) (uint32, bool) {
	var found uint32
	ok := false
	_ = eachDataSegment(wasm[ds.start:ds.end], func(base int64, seg []byte) {
		if ok || base < 0 {
			return
		}
		if i := bytes.Index(seg, append([]byte(s), 0)); i >= 0 && (i == 0 || seg[i-1] == 0) {
			found, ok = uint32(base)+uint32(i), true
		}
	})
	return found, ok
}

// eachDataSegment calls fn with every segment's address (-1 when passive)
// and bytes; the bytes alias payload.
func eachDataSegment(payload []byte, fn func(base int64, seg []byte)) error {
	n, p, err := readULEB(payload, 0)
	if err != nil {
		return err
	}
	for k := uint64(0); k < n; k++ {
		flags, q, err := readULEB(payload, p)
		if err != nil || flags > 2 {
			return errWasm
		}
		p = q
		base := int64(-1)
		if flags == 2 {
			if _, p, err = readULEB(payload, p); err != nil {
				return err
			}
		}
		if flags != 1 {
			// Offset expression: i32.const N; end is the only form we read.
			if p+1 < len(payload) && payload[p] == 0x41 {
				var v int64
				if v, q, err = readSLEB(payload, p+1); err == nil && q < len(payload) && payload[q] == 0x0b {
					base, p = v, q+1
				}
			}
			if base < 0 {
				return errWasm
			}
		}
		size, q, err := readULEB(payload, p)
		if err != nil || size > uint64(len(payload)) || q+int(size) > len(payload) {
			return errWasm
		}
		fn(base, payload[q:q+int(size)])
		p = q + int(size)
	}
	return nil
}

// appendDataSegment adds an active segment for memory 0 at addr.
func appendDataSegment(payload []byte, addr uint32, data []byte) ([]byte, error) {
	n, _, err := readULEB(payload, 0)
	if err != nil {
		return nil, err
	}
	rest, err := afterCount(payload, 0, len(payload))
	if err != nil {
		return nil, err
	}
	out := append(uleb(n+1), rest...)
	out = append(out, 0x00, 0x41)
	out = append(out, sleb(int64(addr))...)
	out = append(out, 0x0b)
	out = append(out, uleb(uint64(len(data)))...)
	return append(out, data...), nil
}

// lowDataFree reports whether no segment touches [addr, addr+n).
func lowDataFree(payload []byte, addr, n uint32) bool {
	free := true
	err := eachDataSegment(payload, func(base int64, seg []byte) {
		if base >= 0 && base < int64(addr)+int64(n) && base+int64(len(seg)) > int64(addr) {
			free = false
		}
	})
	return err == nil && free
}

// raiseSeq finds, in mp_parse_num_decimal's body, how it raises a ValueError
// through the lexer: i32.const TYPE; i32.const TEXT; call NEW; local.get
// LEX; call RAISE; unreachable, with TEXT "invalid syntax for number".
type raiseSeq struct {
	valueError  int64
	newExc, raw uint64
	lex         int64
}

func findRaise(ins []wasmInstr, text uint32) (raiseSeq, bool) {
	for i := 0; i+5 < len(ins); i++ {
		if ins[i].op == 0x41 && ins[i+1].op == 0x41 && ins[i+1].imm == int64(text) && ins[i+2].op == 0x10 &&
			ins[i+3].op == 0x20 && ins[i+4].op == 0x10 && ins[i+5].op == 0x00 {
			return raiseSeq{ins[i].imm, uint64(ins[i+2].imm), uint64(ins[i+4].imm), ins[i+3].imm}, true
		}
	}
	return raiseSeq{}, false
}

// complexEntry is code for the start of mp_parse_num_decimal: when an
// imaginary part is allowed and the text ends in j or J, raise the board's
// ValueError through the lexer (a SyntaxError when compiling).
func (r raiseSeq) complexEntry(text uint32) []byte {
	c := []byte{0x20, 0x02, 0x04, 0x40, 0x20, 0x01, 0x04, 0x40}   // local.get 2; if; local.get 1; if
	c = append(c, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x41, 0x01, 0x6b) // str+len-1
	c = append(c, 0x2d, 0x00, 0x00, 0x41, 0x20, 0x72)             // i32.load8_u; i32.const 32; i32.or
	c = append(c, 0x41)
	c = append(c, sleb('j')...)
	c = append(c, 0x46, 0x04, 0x40, 0x41) // i32.eq; if; i32.const TYPE
	c = append(c, sleb(r.valueError)...)
	c = append(c, 0x41)
	c = append(c, sleb(int64(text))...)
	c = append(c, 0x10)
	c = append(c, uleb(r.newExc)...)
	c = append(c, 0x20)
	c = append(c, uleb(uint64(r.lex))...)
	c = append(c, 0x10)
	c = append(c, uleb(r.raw)...)
	return append(c, 0x00, 0x0b, 0x0b, 0x0b) // unreachable; end; end; end
}

// findPow3 reports whether a (i32, i32)→i32 body is mp_builtin_pow: with
// two arguments a binary op (MP_BINARY_OP_POWER, 34), otherwise a
// three-argument call whose last argument is args[2]; it returns the index
// of that last call instruction.
func findPow3(ins []wasmInstr) (int, bool) {
	if len(ins) > 40 {
		return 0, false
	}
	power, last := false, -1
	for i, in := range ins {
		if in.op == 0x41 && in.imm == 34 {
			power = true
		}
		if in.op == 0x10 {
			last = i
		}
	}
	if !power || last < 1 || ins[last-1].op != 0x28 || ins[last-1].off != 8 {
		return 0, false
	}
	return last, true
}

// findRaiser returns the function called straight after i32.const text
// (a one-argument mp_raise_… for that text).
func findRaiser(code [][]wasmInstr, text uint32) (uint64, bool) {
	for _, ins := range code {
		for i := 0; i+1 < len(ins); i++ {
			if ins[i].op == 0x41 && ins[i].imm == int64(text) && ins[i+1].op == 0x10 {
				return uint64(ins[i+1].imm), true
			}
		}
	}
	return 0, false
}

// pow3Body returns body b with its last call (to mp_obj_int_pow3) replaced
// by dropping the three arguments and raising NotImplementedError.
func pow3Body(wasm []byte, b [2]int, ins []wasmInstr, last int, raiser uint64, text uint32) []byte {
	out := append([]byte(nil), wasm[b[0]:ins[last].at]...)
	out = append(out, 0x1a, 0x1a, 0x1a, 0x41)
	out = append(out, sleb(int64(text))...)
	out = append(out, 0x10)
	out = append(out, uleb(raiser)...)
	out = append(out, 0x00)
	next := b[1]
	if last+1 < len(ins) {
		next = ins[last+1].at
	}
	return append(out, wasm[next:b[1]]...)
}
