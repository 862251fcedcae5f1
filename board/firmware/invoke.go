package firmware

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
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

const DyncallPrefix = "__esp_dyncall_"

// SPExport names the exported stack pointer global.
const SPExport = "__esp_stack_pointer"

type FuncType struct{ Params, Results []byte }

func (t FuncType) key() string { return string(t.Params) + "|" + string(t.Results) }

// PatchDyncalls returns the firmware with the __esp_dyncall_* exports added
// and the invoke signatures it found (import name → type).
func PatchDyncalls(wasm []byte) ([]byte, map[string]FuncType, error) {
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
	var types []FuncType
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
		types = append(types, FuncType{params, wasm[r : r+int(nr)]})
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
	sigs := map[string]FuncType{}
	var newTypes []FuncType
	var newFuncTypes []uint32
	var newBodies [][]byte
	for _, inv := range invokes {
		if int(inv.typ) >= len(types) {
			return nil, nil, errWasm
		}
		it := types[inv.typ]
		if len(it.Params) == 0 || it.Params[0] != 0x7f {
			return nil, nil, fmt.Errorf("unexpected signature for %s", inv.name)
		}
		sigs[inv.name] = it
		callee := FuncType{it.Params[1:], it.Results}
		ci, ok := typeIndex[callee.key()]
		if !ok {
			ci = len(types) + len(newTypes)
			newTypes = append(newTypes, callee)
			typeIndex[callee.key()] = ci
		}
		var body bytes.Buffer
		body.WriteByte(0) // no locals
		for a := 1; a < len(it.Params); a++ {
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
		e = append(e, uleb(uint64(len(t.Params)))...)
		e = append(e, t.Params...)
		e = append(e, uleb(uint64(len(t.Results)))...)
		e = append(e, t.Results...)
		typeExtra = append(typeExtra, e)
	}
	for k, inv := range invokes {
		funcExtra = append(funcExtra, uleb(uint64(newFuncTypes[k])))
		name := DyncallPrefix + strings.TrimPrefix(inv.name, "invoke_")
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
				name := SPExport
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
