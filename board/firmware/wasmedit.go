package firmware

import (
	"bytes"
	"fmt"
)

// Helpers for patches that edit function bodies and add a function import
// (floatpatch.go): reading the type, function and code sections, decoding a
// body into instructions with their byte positions, and renumbering every
// function index once an import is appended.

// wasmInstr is one decoded instruction: its opcode, where it starts, its
// first immediate (index or constant) and, for loads and stores, the
// memarg offset.
type wasmInstr struct {
	op  byte
	at  int
	imm int64
	off uint64
}

func readTypes(wasm []byte, sec *section) ([]FuncType, error) {
	n, p, err := readULEB(wasm, sec.start)
	if err != nil || n > uint64(sec.end) {
		return nil, errWasm
	}
	var types []FuncType
	for k := uint64(0); k < n; k++ {
		if p >= sec.end || wasm[p] != 0x60 {
			return nil, errWasm
		}
		np, q, err := readULEB(wasm, p+1)
		if err != nil || np > uint64(sec.end) || q+int(np) > sec.end {
			return nil, errWasm
		}
		params := wasm[q : q+int(np)]
		q += int(np)
		nr, r, err := readULEB(wasm, q)
		if err != nil || nr > uint64(sec.end) || r+int(nr) > sec.end {
			return nil, errWasm
		}
		types = append(types, FuncType{params, wasm[r : r+int(nr)]})
		p = r + int(nr)
	}
	return types, nil
}

func countFuncImports(wasm []byte, sec *section) (uint32, error) {
	n, p, err := readULEB(wasm, sec.start)
	if err != nil {
		return 0, err
	}
	m := &wasmModule{data: wasm}
	var funcs uint32
	for k := uint64(0); k < n; k++ {
		if _, p, err = m.name(p, sec.end); err != nil {
			return 0, err
		}
		if _, p, err = m.name(p, sec.end); err != nil {
			return 0, err
		}
		if p >= sec.end {
			return 0, errWasm
		}
		kind := wasm[p]
		p++
		switch kind {
		case 0:
			if _, p, err = readULEB(wasm, p); err != nil {
				return 0, err
			}
			funcs++
		case 1:
			if p, err = skipLimits(wasm, p+1); err != nil {
				return 0, err
			}
		case 2:
			if p, err = skipLimits(wasm, p); err != nil {
				return 0, err
			}
		case 3:
			p += 2
		default:
			return 0, errWasm
		}
	}
	return funcs, nil
}

func readFuncTypes(wasm []byte, sec *section, ntypes int) ([]uint64, error) {
	n, p, err := readULEB(wasm, sec.start)
	if err != nil || n > uint64(sec.end) {
		return nil, errWasm
	}
	out := make([]uint64, 0, n)
	for k := uint64(0); k < n; k++ {
		var ti uint64
		if ti, p, err = readULEB(wasm, p); err != nil || ti >= uint64(ntypes) {
			return nil, errWasm
		}
		out = append(out, ti)
	}
	return out, nil
}

func readBodies(wasm []byte, sec *section) ([][2]int, error) {
	n, p, err := readULEB(wasm, sec.start)
	if err != nil || n > uint64(sec.end) {
		return nil, errWasm
	}
	var out [][2]int
	for k := uint64(0); k < n; k++ {
		size, q, err := readULEB(wasm, p)
		if err != nil || size > uint64(sec.end) || q+int(size) > sec.end {
			return nil, errWasm
		}
		out = append(out, [2]int{q, q + int(size)})
		p = q + int(size)
	}
	return out, nil
}

// decodeBody decodes a function body (locals, then code up to end).
func decodeBody(b []byte, start, end int) ([]wasmInstr, error) {
	nl, i, err := readULEB(b, start)
	if err != nil || nl > uint64(end) {
		return nil, errWasm
	}
	for k := uint64(0); k < nl; k++ {
		if _, i, err = readULEB(b, i); err != nil || i >= end {
			return nil, errWasm
		}
		i++
	}
	var out []wasmInstr
	u := func() (uint64, error) {
		v, j, err := readULEB(b, i)
		if err != nil || j > end {
			return 0, errWasm
		}
		i = j
		return v, nil
	}
	for i < end {
		in := wasmInstr{op: b[i], at: i}
		i++
		op := in.op
		switch {
		case op == 0x02 || op == 0x03 || op == 0x04: // block type
			if i >= end {
				return nil, errWasm
			}
			switch b[i] {
			case 0x40, 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
				i++
			default:
				if _, i, err = readSLEB(b, i); err != nil || i > end {
					return nil, errWasm
				}
			}
		case op == 0x0c || op == 0x0d || op == 0x10 || op == 0x12 || op == 0xd2 || op >= 0x20 && op <= 0x26 || op == 0x3f || op == 0x40:
			v, err := u()
			if err != nil {
				return nil, err
			}
			in.imm = int64(v)
		case op == 0x0e:
			n, err := u()
			if err != nil || n > uint64(end) {
				return nil, errWasm
			}
			for k := uint64(0); k <= n; k++ {
				if _, err := u(); err != nil {
					return nil, err
				}
			}
		case op == 0x11 || op == 0x13:
			if _, err := u(); err != nil {
				return nil, err
			}
			if _, err := u(); err != nil {
				return nil, err
			}
		case op == 0x1c:
			n, err := u()
			if err != nil || n > uint64(end) || i+int(n) > end {
				return nil, errWasm
			}
			i += int(n)
		case op >= 0x28 && op <= 0x3e:
			if _, err := u(); err != nil {
				return nil, err
			}
			if in.off, err = u(); err != nil {
				return nil, err
			}
		case op == 0x41 || op == 0x42:
			if in.imm, i, err = readSLEB(b, i); err != nil || i > end {
				return nil, errWasm
			}
		case op == 0x43:
			i += 4
		case op == 0x44:
			i += 8
		case op == 0xd0:
			i++
		case op == 0xfc:
			sub, err := u()
			if err != nil {
				return nil, err
			}
			imms := 0
			switch {
			case sub <= 7:
			case sub == 8 || sub == 10 || sub == 12 || sub == 14:
				imms = 2
			case sub <= 17:
				imms = 1
			default:
				return nil, fmt.Errorf("unknown instruction 0xfc %d at byte %d", sub, in.at)
			}
			for ; imms > 0; imms-- {
				if _, err := u(); err != nil {
					return nil, err
				}
			}
		case op <= 0x01 || op == 0x05 || op == 0x0b || op == 0x0f || op == 0x1a || op == 0x1b || op >= 0x45 && op <= 0xc4 || op == 0xd1:
		default:
			return nil, fmt.Errorf("instruction 0x%02x at byte %d is not one the patch knows", op, in.at)
		}
		if i > end {
			return nil, errWasm
		}
		out = append(out, in)
	}
	return out, nil
}

// renumberBody copies the body b[start:end] (locals and code) to out with
// every function index renumbered.
func renumberBody(out *bytes.Buffer, b []byte, start, end int, renumber func(uint64) uint64) error {
	nl, p, err := readULEB(b, start)
	if err != nil || nl > uint64(end) {
		return errWasm
	}
	for k := uint64(0); k < nl; k++ {
		if _, p, err = readULEB(b, p); err != nil || p >= end {
			return errWasm
		}
		p++
	}
	out.Write(b[start:p])
	_, _, err = rewriteCode(out, b, p, end, false, renumber, nil)
	return err
}

// appendFuncImports returns the import section's payload with function
// imports mod.names[i] of types types[i] appended.
func appendFuncImports(wasm []byte, sec *section, mod string, names []string, types []uint64) ([]byte, error) {
	n, _, err := readULEB(wasm, sec.start)
	if err != nil {
		return nil, err
	}
	rest, err := afterCount(wasm, sec.start, sec.end)
	if err != nil {
		return nil, err
	}
	out := append(uleb(n+uint64(len(names))), rest...)
	for i, name := range names {
		out = appendName(out, mod)
		out = appendName(out, name)
		out = append(out, 0x00)
		out = append(out, uleb(types[i])...)
	}
	return out, nil
}

// renumberOtherSections renumbers the function indices in the global,
// export, start and element sections into rebuilt.
func renumberOtherSections(wasm []byte, secs sections, renumber func(uint64) uint64, rebuilt map[byte][]byte) error {
	if gs := secs.find(6); gs != nil {
		n, entries, err := renumberGlobals(wasm, gs, renumber)
		if err != nil {
			return err
		}
		rebuilt[6] = append(uleb(n), entries...)
	}
	if es := secs.find(7); es != nil {
		n, entries, err := renumberExports(wasm, es, renumber)
		if err != nil {
			return err
		}
		rebuilt[7] = append(uleb(n), entries...)
	}
	return renumberStartAndElements(wasm, secs, renumber, rebuilt)
}

// renumberGlobals returns the global section's count and its entries (no
// count) with the function indices in their initialisers renumbered.
func renumberGlobals(wasm []byte, gs *section, renumber func(uint64) uint64) (uint64, []byte, error) {
	n, q, err := readULEB(wasm, gs.start)
	if err != nil {
		return 0, nil, err
	}
	var out bytes.Buffer
	for k := uint64(0); k < n; k++ {
		if q+2 > gs.end {
			return 0, nil, errWasm
		}
		out.Write(wasm[q : q+2]) // valtype, mutability
		if q, _, err = rewriteCode(&out, wasm, q+2, gs.end, true, renumber, nil); err != nil {
			return 0, nil, err
		}
	}
	return n, out.Bytes(), nil
}

// renumberExports returns the export section's count and its entries (no
// count) with the function exports' indices renumbered.
func renumberExports(wasm []byte, es *section, renumber func(uint64) uint64) (uint64, []byte, error) {
	n, q, err := readULEB(wasm, es.start)
	if err != nil {
		return 0, nil, err
	}
	m := &wasmModule{data: wasm}
	var out []byte
	for k := uint64(0); k < n; k++ {
		name, r, err := m.name(q, es.end)
		if err != nil || r >= es.end {
			return 0, nil, errWasm
		}
		kind := wasm[r]
		idx, r, err := readULEB(wasm, r+1)
		if err != nil {
			return 0, nil, err
		}
		if kind == 0 {
			idx = renumber(idx)
		}
		out = appendName(out, name)
		out = append(out, kind)
		out = append(out, uleb(idx)...)
		q = r
	}
	return n, out, nil
}

// renumberStartAndElements renumbers the start function and the element
// segments' function indices into rebuilt.
func renumberStartAndElements(wasm []byte, secs sections, renumber func(uint64) uint64, rebuilt map[byte][]byte) error {
	if ss := secs.find(8); ss != nil {
		idx, _, err := readULEB(wasm, ss.start)
		if err != nil {
			return err
		}
		rebuilt[8] = uleb(renumber(idx))
	}
	if el := secs.find(9); el != nil {
		payload, err := rewriteElements(wasm, el.start, el.end, renumber)
		if err != nil {
			return err
		}
		rebuilt[9] = payload
	}
	return nil
}

// assembleModule writes the module back with the rebuilt sections' payloads
// in place of the originals, dropping the custom "name" section: a patch
// that appends or moves functions leaves its function names off by that
// many.
func assembleModule(wasm []byte, secs sections, rebuilt map[byte][]byte, grow int) []byte {
	var res bytes.Buffer
	res.Grow(len(wasm) + grow)
	res.Write(wasm[:8])
	m := &wasmModule{data: wasm}
	for _, s := range secs {
		if s.id == 0 {
			if name, _, err := m.name(s.start, s.end); err == nil && name == "name" {
				continue
			}
		}
		payload, ok := rebuilt[s.id]
		if !ok {
			res.Write(wasm[s.hdr:s.end])
			continue
		}
		res.WriteByte(s.id)
		res.Write(uleb(uint64(len(payload))))
		res.Write(payload)
	}
	return res.Bytes()
}
