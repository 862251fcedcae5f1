package firmware

import "bytes"

// On the ESP8266 the socket, ssl, select, time, machine and network modules
// are C: an exception raised inside them has no Python frame of theirs in
// its traceback. Here they are Python files in frozenDir, and the VM adds a
// traceback entry for every bytecode frame an exception leaves
// (py/vm.c → mp_obj_exception_add_traceback). So that a traceback shows
// only the script's frames wherever it is printed — the REPL, the runner,
// sys.print_exception into an io.StringIO or any stream — the firmware's
// mp_obj_exception_add_traceback is patched when it is compiled: it first
// asks the host (env.__esp_tb_hide) whether the entry's file is one of the
// board's own modules, and adds nothing if it is.
//
// The firmware has no name section, so the function is found by what it
// does (py/objexcept.c at v1.27.0, MICROPY_OBJ_REPR_A, 32-bit size_t):
// type (i32 i32 i32 i32) → (), it bumps the packed traceback_len by one
// entry (i32.const 0x30000; i32.add) and stores block, line and file into
// the new entry (offsets 8, 4 and 0 from params 3, 2 and 1). A firmware
// without exactly one such function is compiled without the filter.
//
// Rejected: filtering the console (what was here before; a traceback read
// inside the script still showed the frames), and raising from the host
// (the Python method that calls the host is itself a frame).

// TracebackHideImport is the import the patched function asks.
const TracebackHideImport = "__esp_tb_hide"

// hideTypeEntry is the type section entry of (i32) → i32.
var hideTypeEntry = []byte{0x60, 0x01, 0x7f, 0x01, 0x7f}

// addTracebackType is the type entry of mp_obj_exception_add_traceback.
var addTracebackType = []byte{0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x00}

var (
	// traceback_len += TRACEBACK_ENTRY_LEN in the packed bitfield word.
	addTracebackBump = []byte{0x41, 0x80, 0x80, 0x0c, 0x6a}
	// entry[2] = block; entry[1] = line; entry[0] = file.
	addTracebackStores = []byte{
		0x20, 0x03, 0x36, 0x02, 0x08,
		0x20, 0x00, 0x20, 0x02, 0x36, 0x02, 0x04,
		0x20, 0x00, 0x20, 0x01, 0x36, 0x02, 0x00,
	}
)

// findAddTraceback returns the defined-function index of
// mp_obj_exception_add_traceback, or -1.
func findAddTraceback(wasm []byte, funcSec, codeSec *section, types [][]byte) int {
	if funcSec == nil || codeSec == nil {
		return -1
	}
	n, p, err := readULEB(wasm, funcSec.start)
	if err != nil || n > uint64(len(wasm)) {
		return -1
	}
	funcTypes := make([]uint64, 0, n)
	for k := uint64(0); k < n; k++ {
		var ti uint64
		if ti, p, err = readULEB(wasm, p); err != nil || p > funcSec.end {
			return -1
		}
		funcTypes = append(funcTypes, ti)
	}
	nc, q, err := readULEB(wasm, codeSec.start)
	if err != nil || nc != n {
		return -1
	}
	found := -1
	for k := uint64(0); k < nc; k++ {
		size, r, err := readULEB(wasm, q)
		if err != nil || size > uint64(codeSec.end) || r+int(size) > codeSec.end {
			return -1
		}
		body := wasm[r : r+int(size)]
		q = r + int(size)
		if ti := funcTypes[k]; ti >= uint64(len(types)) || !bytes.Equal(types[ti], addTracebackType) {
			continue
		}
		if bytes.Contains(body, addTracebackBump) && bytes.Contains(body, addTracebackStores) {
			if found >= 0 {
				return -1 // ambiguous: leave the firmware alone
			}
			found = int(k)
		}
	}
	return found
}

// tracebackHidePrologue starts the patched function: if hide(file) returns.
func tracebackHidePrologue(hide uint64) []byte {
	c := []byte{0x20, 0x01}                    // local.get 1 (file)
	c = append(append(c, 0x10), uleb(hide)...) // call env.__esp_tb_hide
	return append(c, 0x04, 0x40, 0x0f, 0x0b)   // if; return; end
}
