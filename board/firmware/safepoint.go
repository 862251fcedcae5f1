package firmware

import (
	"bytes"
	"fmt"
)

// Compiled WebAssembly has no Go safe points. A script that loops without
// calling the host (`while True: pass`) keeps its goroutine in machine code
// that Go's scheduler cannot preempt, so a garbage collection elsewhere in
// the process waits for it to stop the world, and every other goroutine —
// the watchdog's timer included — waits with it: the whole simulator hangs.
//
// wazero's WithCloseOnContextDone solves a similar problem by leaving
// compiled code at every loop iteration, which would leave it at every
// bytecode the interpreter dispatches. Instead, when the firmware is
// compiled we give it a countdown: every `loop` instruction starts by
// decrementing a new global, and when it reaches zero the loop calls the
// imported env.__esp_safepoint, which returns the next budget. That call is
// an ordinary host call: the goroutine passes through Go (a safe point),
// and a board whose run is over is abandoned there like at any other
// crossing (boardFrom), so even a script that catches KeyboardInterrupt in
// an endless loop can be stopped.

const SafepointImport = "__esp_safepoint"

// SafepointCountdownExport names the exported countdown global.
const SafepointCountdownExport = "__esp_safepoint_countdown"

// SafepointEvery is how many loop iterations run between two safe points.
// The interpreter's `while True: pass` runs a few hundred million loop
// iterations a second, so this is well under a millisecond, and the host
// call costs about a hundred nanoseconds of it.
const SafepointEvery = 1 << 16

// PatchLoopSafepoints adds the countdown to every loop of every function and
// the import it calls. Adding an import shifts every defined function's
// index by one, so calls, ref.func, exports, the start function and element
// segments are renumbered; the "name" custom section, which only debuggers
// read, is dropped rather than renumbered.
func PatchLoopSafepoints(wasm []byte) ([]byte, error) {
	secs, err := splitSections(wasm)
	if err != nil {
		return nil, err
	}
	find := secs.find
	typeSec, impSec, codeSec := find(1), find(2), find(10)
	if typeSec == nil || impSec == nil || codeSec == nil {
		return nil, fmt.Errorf("firmware lacks a section the safe-point patch needs")
	}

	// Types: find or add () -> i32.
	nTypes, p, err := readULEB(wasm, typeSec.start)
	if err != nil {
		return nil, err
	}
	hookType, hideType := -1, -1
	var typeParams []uint64
	var typeRaw [][]byte
	for k := uint64(0); k < nTypes; k++ {
		entry := p
		if p >= typeSec.end || wasm[p] != 0x60 {
			return nil, errWasm
		}
		np, q, err := readULEB(wasm, p+1)
		if err != nil || np > uint64(typeSec.end) || q+int(np) > typeSec.end {
			return nil, errWasm
		}
		params := np
		typeParams = append(typeParams, np)
		q += int(np)
		nr, r, err := readULEB(wasm, q)
		if err != nil || nr > uint64(typeSec.end) || r+int(nr) > typeSec.end {
			return nil, errWasm
		}
		if hookType < 0 && params == 0 && nr == 1 && wasm[r] == 0x7f {
			hookType = int(k)
		}
		p = r + int(nr)
		typeRaw = append(typeRaw, wasm[entry:p])
		if hideType < 0 && bytes.Equal(typeRaw[k], hideTypeEntry) {
			hideType = int(k)
		}
	}
	// The traceback filter (tracehide.go) patches one function, if the
	// firmware has it.
	hideTarget := findAddTraceback(wasm, find(3), codeSec, typeRaw)
	var newTypes []byte
	if hookType < 0 {
		hookType = int(nTypes) + len(newTypes)/4
		newTypes = append(newTypes, 0x60, 0x00, 0x01, 0x7f)
	}
	if hideTarget >= 0 && hideType < 0 {
		hideType = int(nTypes) + len(newTypes)/4
		newTypes = append(newTypes, hideTypeEntry...)
	}
	var typePayload []byte
	if newTypes != nil {
		rest, err := afterCount(wasm, typeSec.start, typeSec.end)
		if err != nil {
			return nil, err
		}
		typePayload = append(uleb(nTypes+uint64(len(newTypes)/4)), rest...)
		typePayload = append(typePayload, newTypes...)
	}

	// Imports: count functions and globals, then append ours.
	var funcImports, globalImports uint32
	nImports, p, err := readULEB(wasm, impSec.start)
	if err != nil {
		return nil, err
	}
	m := &wasmModule{data: wasm}
	for k := uint64(0); k < nImports; k++ {
		var mod, name string
		if mod, p, err = m.name(p, impSec.end); err != nil {
			return nil, err
		}
		if name, p, err = m.name(p, impSec.end); err != nil {
			return nil, err
		}
		if mod == "env" && name == SafepointImport {
			return wasm, nil // already patched
		}
		if p >= impSec.end {
			return nil, errWasm
		}
		kind := wasm[p]
		p++
		switch kind {
		case 0:
			if _, p, err = readULEB(wasm, p); err != nil {
				return nil, err
			}
			funcImports++
		case 1:
			if p, err = skipLimits(wasm, p+1); err != nil {
				return nil, err
			}
		case 2:
			if p, err = skipLimits(wasm, p); err != nil {
				return nil, err
			}
		case 3:
			p += 2
			globalImports++
		default:
			return nil, errWasm
		}
	}
	impRest, err := afterCount(wasm, impSec.start, impSec.end)
	if err != nil {
		return nil, err
	}
	added := uint64(1)
	if hideTarget >= 0 {
		added++
	}
	impPayload := append(uleb(nImports+added), impRest...)
	impPayload = appendName(impPayload, "env")
	impPayload = appendName(impPayload, SafepointImport)
	impPayload = append(impPayload, 0x00)
	impPayload = append(impPayload, uleb(uint64(hookType))...)
	if hideTarget >= 0 {
		impPayload = appendName(impPayload, "env")
		impPayload = appendName(impPayload, TracebackHideImport)
		impPayload = append(impPayload, 0x00)
		impPayload = append(impPayload, uleb(uint64(hideType))...)
	}
	hook := funcImports
	hide := uint64(funcImports) + 1
	renumber := func(idx uint64) uint64 {
		if idx >= uint64(hook) {
			return idx + added
		}
		return idx
	}

	// Globals: append the countdown.
	var definedGlobals uint64
	var globalPayload []byte
	if gs := find(6); gs != nil {
		n, entries, err := renumberGlobals(wasm, gs, renumber)
		if err != nil {
			return nil, err
		}
		definedGlobals = n
		globalPayload = append(uleb(n+1), entries...)
	} else {
		globalPayload = uleb(1)
	}
	counter := uint64(globalImports) + definedGlobals
	globalPayload = append(globalPayload, 0x7f, 0x01, 0x41)
	globalPayload = append(globalPayload, sleb(SafepointEvery)...)
	globalPayload = append(globalPayload, 0x0b)

	// The countdown every loop starts with; scratch is a local added to
	// the function so the new count is read from the global only once.
	check := func(scratch uint64) []byte {
		var c []byte
		c = append(append(c, 0x23), uleb(counter)...)      // global.get
		c = append(c, 0x41, 0x01, 0x6b)                    // i32.const 1; i32.sub
		c = append(append(c, 0x22), uleb(scratch)...)      // local.tee
		c = append(append(c, 0x24), uleb(counter)...)      // global.set
		c = append(append(c, 0x20), uleb(scratch)...)      // local.get
		c = append(c, 0x45, 0x04, 0x40)                    // i32.eqz; if
		c = append(append(c, 0x10), uleb(uint64(hook))...) // call
		c = append(append(c, 0x24), uleb(counter)...)      // global.set
		return append(c, 0x0b)                             // end
	}

	// Each defined function's type, for its parameter count.
	var funcTypes []uint64
	if fs := find(3); fs != nil {
		n, q, err := readULEB(wasm, fs.start)
		if err != nil || n > uint64(len(wasm)) {
			return nil, errWasm
		}
		for k := uint64(0); k < n; k++ {
			var ti uint64
			if ti, q, err = readULEB(wasm, q); err != nil || ti >= uint64(len(typeParams)) {
				return nil, errWasm
			}
			funcTypes = append(funcTypes, ti)
		}
	}

	rebuilt := map[byte][]byte{2: impPayload, 6: globalPayload}
	if typePayload != nil {
		rebuilt[1] = typePayload
	}

	// Code.
	{
		n, q, err := readULEB(wasm, codeSec.start)
		if err != nil {
			return nil, err
		}
		if n != uint64(len(funcTypes)) {
			return nil, errWasm
		}
		var out bytes.Buffer
		out.Grow(codeSec.end - codeSec.start + codeSec.end/8)
		out.Write(uleb(n))
		var body bytes.Buffer
		for k := uint64(0); k < n; k++ {
			size, r, err := readULEB(wasm, q)
			if err != nil || size > uint64(codeSec.end) || r+int(size) > codeSec.end {
				return nil, errWasm
			}
			end := r + int(size)
			body.Reset()
			// Locals: vec of (count, valtype); one i32 is added.
			nl, s, err := readULEB(wasm, r)
			if err != nil {
				return nil, err
			}
			scratch := typeParams[funcTypes[k]]
			for l := uint64(0); l < nl; l++ {
				var c uint64
				if c, s, err = readULEB(wasm, s); err != nil || s >= end {
					return nil, errWasm
				}
				scratch += c
				s++
			}
			body.Write(uleb(nl + 1))
			locals, err := afterCount(wasm, r, s)
			if err != nil {
				return nil, err
			}
			body.Write(locals)
			body.Write([]byte{0x01, 0x7f})
			if int(k) == hideTarget {
				body.Write(tracebackHidePrologue(hide))
			}
			if _, _, err := rewriteCode(&body, wasm, s, end, false, renumber, check(scratch)); err != nil {
				return nil, fmt.Errorf("function %d: %w", k, err)
			}
			out.Write(uleb(uint64(body.Len())))
			out.Write(body.Bytes())
			q = end
		}
		rebuilt[10] = out.Bytes()
	}

	// Exports.
	if es := find(7); es != nil {
		n, entries, err := renumberExports(wasm, es, renumber)
		if err != nil {
			return nil, err
		}
		// The countdown is exported too, so a boot snapshot (bootsnap.go)
		// can restore it with the rest of the interpreter's state.
		out := uleb(n + 1)
		out = appendName(out, SafepointCountdownExport)
		out = append(out, 0x03)
		out = append(out, uleb(counter)...)
		rebuilt[7] = append(out, entries...)
	}

	// Start and elements.
	if err := renumberStartAndElements(wasm, secs, renumber, rebuilt); err != nil {
		return nil, err
	}

	out := assembleModule(wasm, secs, rebuilt, len(wasm)/8)
	if g, ok := rebuilt[6]; ok && secs.find(6) == nil {
		// No global section: it goes after the memory section (5) or
		// whatever precedes it, before exports (7).
		return insertSection(out, 6, g)
	}
	return out, nil
}

// insertSection puts a new section with the given id before the first
// non-custom section with a larger id.
func insertSection(wasm []byte, id byte, payload []byte) ([]byte, error) {
	secs, err := splitSections(wasm)
	if err != nil {
		return nil, err
	}
	at := len(wasm)
	for _, sec := range secs {
		if sectionOrder[sec.id] > sectionOrder[id] {
			at = sec.hdr
			break
		}
	}
	var out bytes.Buffer
	out.Write(wasm[:at])
	out.WriteByte(id)
	out.Write(uleb(uint64(len(payload))))
	out.Write(payload)
	out.Write(wasm[at:])
	return out.Bytes(), nil
}

// sectionOrder is the order the binary format requires of known sections.
var sectionOrder = map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}

// afterCount returns b[i:end] without the LEB128 count at i; a count that
// runs past end (a crafted --firmware file) is an error, not a panic.
func afterCount(b []byte, i, end int) ([]byte, error) {
	_, j, err := readULEB(b, i)
	if err != nil || j > end || end > len(b) {
		return nil, errWasm
	}
	return b[j:end], nil
}

func appendName(b []byte, s string) []byte {
	return append(append(b, uleb(uint64(len(s)))...), s...)
}

func sleb(v int64) []byte {
	var out []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			return append(out, c)
		}
		out = append(out, c|0x80)
	}
}

// rewriteElements renumbers the function indices of an element section.
func rewriteElements(wasm []byte, start, end int, renumber func(uint64) uint64) ([]byte, error) {
	n, p, err := readULEB(wasm, start)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Write(uleb(n))
	copyULEB := func() error {
		v, q, err := readULEB(wasm, p)
		if err != nil {
			return err
		}
		out.Write(uleb(v))
		p = q
		return nil
	}
	copyByte := func() error {
		if p >= end {
			return errWasm
		}
		out.WriteByte(wasm[p])
		p++
		return nil
	}
	for k := uint64(0); k < n; k++ {
		flags, q, err := readULEB(wasm, p)
		if err != nil || flags > 7 {
			return nil, errWasm
		}
		out.Write(uleb(flags))
		p = q
		if flags&2 != 0 && flags&1 == 0 { // explicit table index
			if err := copyULEB(); err != nil {
				return nil, err
			}
		}
		if flags&1 == 0 { // active: offset expression
			if p, _, err = rewriteCode(&out, wasm, p, end, true, renumber, nil); err != nil {
				return nil, err
			}
		}
		if flags&3 != 0 { // elemkind or reftype
			if err := copyByte(); err != nil {
				return nil, err
			}
		}
		cnt, q, err := readULEB(wasm, p)
		if err != nil || cnt > uint64(end) {
			return nil, errWasm
		}
		out.Write(uleb(cnt))
		p = q
		for e := uint64(0); e < cnt; e++ {
			if flags&4 != 0 {
				if p, _, err = rewriteCode(&out, wasm, p, end, true, renumber, nil); err != nil {
					return nil, err
				}
				continue
			}
			idx, q, err := readULEB(wasm, p)
			if err != nil {
				return nil, err
			}
			out.Write(uleb(renumber(idx)))
			p = q
		}
	}
	if p != end {
		return nil, errWasm
	}
	return out.Bytes(), nil
}

// rewriteCode copies instructions from wasm[i:end] to out, renumbering
// function indices and appending check after every loop header. With
// constExpr it stops after the `end` that closes the expression; otherwise
// it copies up to end. It returns where it stopped and how many loops it
// found.
func rewriteCode(out *bytes.Buffer, wasm []byte, i, end int, constExpr bool, renumber func(uint64) uint64, check []byte) (next, loops int, err error) {
	uleb32 := func() error {
		_, j, err := readULEB(wasm, i)
		if err != nil || j > end {
			return errWasm
		}
		i = j
		return nil
	}
	blockType := func() error {
		if i >= end {
			return errWasm
		}
		switch wasm[i] {
		case 0x40, 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
			i++
			return nil
		}
		_, j, err := readSLEB(wasm, i)
		if err != nil || j > end {
			return errWasm
		}
		i = j
		return nil
	}
	depth := 0
	for i < end {
		at := i
		op := wasm[i]
		i++
		switch {
		case op == 0x10 || op == 0x12 || op == 0xd2: // call, return_call, ref.func
			idx, j, err := readULEB(wasm, i)
			if err != nil || j > end {
				return 0, 0, errWasm
			}
			out.WriteByte(op)
			out.Write(uleb(renumber(idx)))
			i = j
			continue
		case op == 0x02 || op == 0x04: // block, if
			if err := blockType(); err != nil {
				return 0, 0, err
			}
			depth++
		case op == 0x03: // loop
			if err := blockType(); err != nil {
				return 0, 0, err
			}
			depth++
			loops++
			out.Write(wasm[at:i])
			out.Write(check)
			continue
		case op == 0x0b: // end
			depth--
			if constExpr && depth < 0 {
				out.Write(wasm[at:i])
				return i, loops, nil
			}
		case op <= 0x01 || op == 0x05 || op == 0x0f || op == 0x1a || op == 0x1b ||
			op >= 0x45 && op <= 0xc4 || op == 0xd1:
			// no immediates
		case op == 0x0c || op == 0x0d || op >= 0x20 && op <= 0x26: // br, br_if, locals, globals, table.get/set
			if err := uleb32(); err != nil {
				return 0, 0, err
			}
		case op == 0x0e: // br_table
			n, j, err := readULEB(wasm, i)
			if err != nil || n > uint64(end) {
				return 0, 0, errWasm
			}
			i = j
			for k := uint64(0); k <= n; k++ {
				if err := uleb32(); err != nil {
					return 0, 0, err
				}
			}
		case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
			if err := uleb32(); err != nil {
				return 0, 0, err
			}
			if err := uleb32(); err != nil {
				return 0, 0, err
			}
		case op == 0x1c: // select t*
			n, j, err := readULEB(wasm, i)
			if err != nil || n > uint64(end) || j+int(n) > end {
				return 0, 0, errWasm
			}
			i = j + int(n)
		case op >= 0x28 && op <= 0x3e: // loads and stores: memarg
			if err := uleb32(); err != nil {
				return 0, 0, err
			}
			if err := uleb32(); err != nil {
				return 0, 0, err
			}
		case op == 0x3f || op == 0x40: // memory.size, memory.grow
			if err := uleb32(); err != nil {
				return 0, 0, err
			}
		case op == 0x41 || op == 0x42:
			_, j, err := readSLEB(wasm, i)
			if err != nil || j > end {
				return 0, 0, errWasm
			}
			i = j
		case op == 0x43:
			i += 4
		case op == 0x44:
			i += 8
		case op == 0xd0: // ref.null t
			i++
		case op == 0xfc:
			sub, j, err := readULEB(wasm, i)
			if err != nil {
				return 0, 0, errWasm
			}
			i = j
			var imms int
			switch {
			case sub <= 7:
			case sub == 8 || sub == 10 || sub == 12 || sub == 14:
				imms = 2
			case sub <= 17:
				imms = 1
			default:
				return 0, 0, fmt.Errorf("unknown instruction 0xfc %d at byte %d", sub, at)
			}
			for ; imms > 0; imms-- {
				if err := uleb32(); err != nil {
					return 0, 0, err
				}
			}
		default:
			return 0, 0, fmt.Errorf("instruction 0x%02x at byte %d is not one the safe-point patch knows", op, at)
		}
		if i > end {
			return 0, 0, errWasm
		}
		out.Write(wasm[at:i])
	}
	if constExpr {
		return 0, 0, errWasm
	}
	return i, loops, nil
}
