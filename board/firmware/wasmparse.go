package firmware

import (
	"errors"
	"fmt"
)

// A tiny WebAssembly reader: just enough to find function bodies by export
// name and decode the straight-line code of two small firmware functions
// (see findLayout). It never panics on malformed input; it returns errors
// or stops decoding.

type wasmModule struct {
	data      []byte
	numImport uint32
	exports   map[string]uint32 // function exports: name → function index
	bodies    [][2]int          // code section: [start, end) of each defined function body
}

type instr struct {
	op  byte
	imm int64 // first immediate: index, constant or memarg offset
}

var errWasm = errors.New("malformed wasm")

func readULEB(b []byte, i int) (uint64, int, error) {
	var r uint64
	var s uint
	for {
		if i >= len(b) || s > 63 {
			return 0, i, errWasm
		}
		x := b[i]
		i++
		r |= uint64(x&0x7f) << s
		s += 7
		if x < 0x80 {
			return r, i, nil
		}
	}
}

func readSLEB(b []byte, i int) (int64, int, error) {
	var r int64
	var s uint
	for {
		if i >= len(b) || s > 63 {
			return 0, i, errWasm
		}
		x := b[i]
		i++
		r |= int64(x&0x7f) << s
		s += 7
		if x < 0x80 {
			if x&0x40 != 0 && s < 64 {
				r -= 1 << s
			}
			return r, i, nil
		}
	}
}

func parseWasm(b []byte) (*wasmModule, error) {
	if len(b) < 8 {
		return nil, errWasm
	}
	m := &wasmModule{data: b, exports: map[string]uint32{}}
	i := 8
	for i < len(b) {
		id := b[i]
		i++
		size, j, err := readULEB(b, i)
		if err != nil || j+int(size) > len(b) || size > uint64(len(b)) {
			return nil, errWasm
		}
		start, end := j, j+int(size)
		switch id {
		case 2:
			if err := m.parseImports(start, end); err != nil {
				return nil, err
			}
		case 7:
			if err := m.parseExports(start, end); err != nil {
				return nil, err
			}
		case 10:
			if err := m.parseCode(start, end); err != nil {
				return nil, err
			}
		}
		i = end
	}
	return m, nil
}

func (m *wasmModule) name(i, end int) (string, int, error) {
	n, i, err := readULEB(m.data, i)
	if err != nil || i+int(n) > end || n > uint64(end) {
		return "", i, errWasm
	}
	return string(m.data[i : i+int(n)]), i + int(n), nil
}

func (m *wasmModule) parseImports(i, end int) error {
	n, i, err := readULEB(m.data, i)
	if err != nil {
		return err
	}
	for k := uint64(0); k < n; k++ {
		if _, i, err = m.name(i, end); err != nil {
			return err
		}
		if _, i, err = m.name(i, end); err != nil {
			return err
		}
		if i >= end {
			return errWasm
		}
		kind := m.data[i]
		i++
		switch kind {
		case 0: // func
			if _, i, err = readULEB(m.data, i); err != nil {
				return err
			}
			m.numImport++
		case 1: // table: reftype, limits
			i++
			if i, err = skipLimits(m.data, i); err != nil {
				return err
			}
		case 2: // memory
			if i, err = skipLimits(m.data, i); err != nil {
				return err
			}
		case 3: // global
			i += 2
		default:
			return errWasm
		}
	}
	return nil
}

func skipLimits(b []byte, i int) (int, error) {
	if i >= len(b) {
		return i, errWasm
	}
	flag := b[i]
	i++
	_, i, err := readULEB(b, i)
	if err != nil {
		return i, err
	}
	if flag&1 != 0 {
		_, i, err = readULEB(b, i)
	}
	return i, err
}

func (m *wasmModule) parseExports(i, end int) error {
	n, i, err := readULEB(m.data, i)
	if err != nil {
		return err
	}
	for k := uint64(0); k < n; k++ {
		var name string
		if name, i, err = m.name(i, end); err != nil {
			return err
		}
		if i >= end {
			return errWasm
		}
		kind := m.data[i]
		i++
		var idx uint64
		if idx, i, err = readULEB(m.data, i); err != nil {
			return err
		}
		if kind == 0 {
			m.exports[name] = uint32(idx)
		}
	}
	return nil
}

func (m *wasmModule) parseCode(i, end int) error {
	n, i, err := readULEB(m.data, i)
	if err != nil {
		return err
	}
	for k := uint64(0); k < n; k++ {
		var size uint64
		if size, i, err = readULEB(m.data, i); err != nil {
			return err
		}
		if i+int(size) > end || size > uint64(end) {
			return errWasm
		}
		m.bodies = append(m.bodies, [2]int{i, i + int(size)})
		i += int(size)
	}
	return nil
}

// disassemble decodes the body of function index fi, stopping at the first
// opcode it does not know.
func (m *wasmModule) disassemble(fi uint32) []instr {
	if fi < m.numImport || int(fi-m.numImport) >= len(m.bodies) {
		return nil
	}
	body := m.bodies[fi-m.numImport]
	b := m.data[:body[1]]
	i := body[0]
	nl, i, err := readULEB(b, i)
	if err != nil {
		return nil
	}
	for k := uint64(0); k < nl; k++ {
		if _, i, err = readULEB(b, i); err != nil {
			return nil
		}
		i++
	}
	var out []instr
	for i < len(b) {
		op := b[i]
		i++
		in := instr{op: op}
		switch {
		case op == 0x0c || op == 0x0d || op == 0x10 || (op >= 0x20 && op <= 0x24):
			var v uint64
			if v, i, err = readULEB(b, i); err != nil {
				return out
			}
			in.imm = int64(v)
		case op >= 0x28 && op <= 0x3e: // loads/stores: align, offset
			if _, i, err = readULEB(b, i); err != nil {
				return out
			}
			var v uint64
			if v, i, err = readULEB(b, i); err != nil {
				return out
			}
			in.imm = int64(v)
		case op == 0x41 || op == 0x42:
			if in.imm, i, err = readSLEB(b, i); err != nil {
				return out
			}
		case op == 0x02 || op == 0x03 || op == 0x04:
			if i >= len(b) {
				return out
			}
			if b[i] == 0x40 || b[i] >= 0x7b {
				i++
			} else if _, i, err = readSLEB(b, i); err != nil {
				return out
			}
		case op == 0x11:
			if _, i, err = readULEB(b, i); err != nil {
				return out
			}
			if _, i, err = readULEB(b, i); err != nil {
				return out
			}
		case op == 0x43:
			i += 4
		case op == 0x44:
			i += 8
		case op == 0x0e || op == 0xfc || op == 0xfd || op == 0x1c:
			return out // not needed for the functions we read
		case op <= 0x1b || (op >= 0x45 && op <= 0xc4):
			// no immediates
		default:
			return out
		}
		out = append(out, in)
	}
	return out
}

func (in instr) String() string { return fmt.Sprintf("%#x %d", in.op, in.imm) }
