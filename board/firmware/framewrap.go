package firmware

import (
	"bytes"
	"fmt"
)

// On the ESP8266 the board's own modules (time, machine, network, socket,
// select, os, esp) are C or frozen bytecode: ticks_us() is a C call of a few
// microseconds. Here they are Python files in /.frozen, and the CPU model
// (board/cputime.go) would charge their bytecode like the script's. To let
// the host tell whose code is running, patchFrameHooks wraps the VM's
// mp_execute_bytecode (py/vm.c), which runs every bytecode frame — a
// function call, a module body, each resume of a generator:
//
//	wrapper(code_state, inject_exc):   // at the VM's old index
//	    env.__esp_frame_enter(code_state)
//	    r = vm(code_state, inject_exc)  // the original body, appended
//	    env.__esp_frame_leave(code_state)
//	    return r
//
// The VM catches every exception raised beneath it with its own nlr_push
// and returns MP_VM_RETURN_EXCEPTION, so a Python exception leaves through
// the wrapper's return like any result. What can skip the leave is a wasm
// unwinding the VM does not catch (a stack-overflow trap caught further
// out by an invoke_ crossing); the host therefore records each frame's
// invoke_ depth and drops the frames above a crossing that caught one
// (board/cpuframes.go), and leave names its frame so a stack that missed
// a leave resynchronises.
//
// mp_setup_code_state (py/bc.c), which binds a frame's arguments before
// the VM runs it, is wrapped the same way when found (see
// findSetupCodeState): its work is the callee's.
//
// The firmware has no name section, so the VM is found by shape: a defined
// function of type (i32 i32) → i32 whose br_table (the opcode switch; no
// computed goto in the wasm build) has at least minDispatchTargets targets.
// Exactly one must match; otherwise the firmware is compiled without the
// hooks (every frame is then charged as the script's).

// FrameEnterImport and FrameLeaveImport are the hooks the wrapper calls.
const (
	FrameEnterImport = "__esp_frame_enter"
	FrameLeaveImport = "__esp_frame_leave"
)

// minDispatchTargets: py/vm.c's switch over the opcodes (no computed goto
// in the wasm build) compiles to one br_table of 90 targets at v1.27.0
// (the opcode less the lowest one); no other function of the firmware has
// a br_table of even 60.
const minDispatchTargets = 64

// vmType is (i32 i32) → i32.
var vmType = FuncType{[]byte{0x7f, 0x7f}, []byte{0x7f}}

// hookType is (i32) → ().
var hookType = FuncType{[]byte{0x7f}, nil}

// findExecuteBytecode returns the defined-function index of
// mp_execute_bytecode, or -1.
func findExecuteBytecode(wasm []byte, types []FuncType, funcTypes []uint64, bodies [][2]int) (int, error) {
	found := -1
	for k, ft := range funcTypes {
		if types[ft].key() != vmType.key() {
			continue
		}
		b := bodies[k]
		ins, err := decodeBody(wasm, b[0], b[1])
		if err != nil {
			return -1, fmt.Errorf("function %d: %w", k, err)
		}
		for _, in := range ins {
			if in.op != 0x0e {
				continue
			}
			n, _, err := readULEB(wasm, in.at+1)
			if err != nil {
				return -1, errWasm
			}
			if n >= minDispatchTargets {
				if found >= 0 && found != k {
					return -1, nil // ambiguous: leave the firmware alone
				}
				found = k
			}
		}
	}
	return found, nil
}

// setupType is mp_setup_code_state's (code_state, n_args, n_kw, args).
var setupType = FuncType{[]byte{0x7f, 0x7f, 0x7f, 0x7f}, nil}

// setupText is an error text only py/bc.c's argument binding raises.
const setupText = "function missing required keyword argument '%q'"

// findSetupCodeState returns the defined-function index of
// mp_setup_code_state (or of its helper, when the compiler kept it apart:
// both take the code_state, its fun_bc already set, first), or -1: the
// one function of its type that loads setupText's address.
func findSetupCodeState(wasm []byte, secs sections, types []FuncType, funcTypes []uint64, bodies [][2]int) int {
	ds := secs.find(11)
	if ds == nil {
		return -1
	}
	at, ok := dataString(wasm, ds, setupText)
	if !ok {
		return -1
	}
	found := -1
	for k, ft := range funcTypes {
		if types[ft].key() != setupType.key() {
			continue
		}
		ins, err := decodeBody(wasm, bodies[k][0], bodies[k][1])
		if err != nil {
			return -1
		}
		for _, in := range ins {
			if in.op == 0x41 && in.imm == int64(at) {
				if found >= 0 && found != k {
					return -1
				}
				found = k
			}
		}
	}
	return found
}

// patchFrameHooks returns the firmware with mp_execute_bytecode wrapped;
// ok is false (and wasm returned as it was) when the VM is not found.
func patchFrameHooks(wasm []byte) (out []byte, ok bool, err error) {
	secs, err := splitSections(wasm)
	if err != nil {
		return nil, false, err
	}
	typeSec, impSec, funcSec, codeSec := secs.find(1), secs.find(2), secs.find(3), secs.find(10)
	if typeSec == nil || impSec == nil || funcSec == nil || codeSec == nil {
		return wasm, false, nil
	}
	types, err := readTypes(wasm, typeSec)
	if err != nil {
		return nil, false, err
	}
	funcImports, err := countFuncImports(wasm, impSec)
	if err != nil {
		return nil, false, err
	}
	funcTypes, err := readFuncTypes(wasm, funcSec, len(types))
	if err != nil {
		return nil, false, err
	}
	bodies, err := readBodies(wasm, codeSec)
	if err != nil {
		return nil, false, err
	}
	if len(bodies) != len(funcTypes) {
		return nil, false, errWasm
	}
	vm, err := findExecuteBytecode(wasm, types, funcTypes, bodies)
	if err != nil || vm < 0 {
		return wasm, false, err
	}
	// The callee's argument binding is its own work too (a stand-in's
	// `*args, **kw` wrapper builds a tuple and a dict there): it is
	// wrapped the same way when found, so the frame is entered before it.
	targets := []int{vm}
	if setup := findSetupCodeState(wasm, secs, types, funcTypes, bodies); setup >= 0 {
		targets = append(targets, setup)
	}

	// The hooks' type: (i32) → (), added if the firmware lacks it.
	hookT := -1
	for k, t := range types {
		if t.key() == hookType.key() {
			hookT = k
			break
		}
	}
	rebuilt := map[byte][]byte{}
	if hookT < 0 {
		hookT = len(types)
		rest, err := afterCount(wasm, typeSec.start, typeSec.end)
		if err != nil {
			return nil, false, err
		}
		p := append(uleb(uint64(len(types)+1)), rest...)
		rebuilt[1] = append(p, 0x60, 0x01, 0x7f, 0x00)
	}
	imp, err := appendFuncImports(wasm, impSec, "env", []string{FrameEnterImport, FrameLeaveImport}, []uint64{uint64(hookT), uint64(hookT)})
	if err != nil {
		return nil, false, err
	}
	rebuilt[2] = imp
	enter, leave := uint64(funcImports), uint64(funcImports)+1
	renumber := func(idx uint64) uint64 {
		if idx >= enter {
			return idx + 2
		}
		return idx
	}
	// The original bodies go last, in targets' order; inner[k] is the
	// index (after renumbering) of target k's original.
	inner := map[int]uint64{}
	fs, err := afterCount(wasm, funcSec.start, funcSec.end)
	if err != nil {
		return nil, false, err
	}
	funcPayload := append(uleb(uint64(len(funcTypes)+len(targets))), fs...)
	for i, k := range targets {
		inner[k] = uint64(funcImports) + 2 + uint64(len(bodies)+i)
		funcPayload = append(funcPayload, uleb(funcTypes[k])...)
	}
	rebuilt[3] = funcPayload

	var code bytes.Buffer
	code.Write(uleb(uint64(len(bodies) + len(targets))))
	var body bytes.Buffer
	for k, b := range bodies {
		body.Reset()
		if in, ok := inner[k]; ok {
			body.Write(frameWrapperBody(types[funcTypes[k]], enter, leave, in, k != vm))
		} else if err := renumberBody(&body, wasm, b[0], b[1], renumber); err != nil {
			return nil, false, fmt.Errorf("function %d: %w", k, err)
		}
		code.Write(uleb(uint64(body.Len())))
		code.Write(body.Bytes())
	}
	for _, k := range targets {
		body.Reset()
		if err := renumberBody(&body, wasm, bodies[k][0], bodies[k][1], renumber); err != nil {
			return nil, false, fmt.Errorf("function %d: %w", k, err)
		}
		code.Write(uleb(uint64(body.Len())))
		code.Write(body.Bytes())
	}
	rebuilt[10] = code.Bytes()
	if err := renumberOtherSections(wasm, secs, renumber, rebuilt); err != nil {
		return nil, false, err
	}

	return assembleModule(wasm, secs, rebuilt, 256), true, nil
}

// frameWrapperBody is the wrapper of a function of type t whose first
// parameter is the code_state: enter, the original, leave; a result is
// kept in a local added after the parameters. With setup the hooks get
// the code_state with bit 0 set (it is word-aligned): the frame's argument
// binding, not its run.
func frameWrapperBody(t FuncType, enter, leave, inner uint64, setup bool) []byte {
	n := uint64(len(t.Params))
	var c []byte
	if len(t.Results) == 1 {
		c = []byte{0x01, 0x01, t.Results[0]} // one local for the result
	} else {
		c = []byte{0x00}
	}
	cs := []byte{0x20, 0x00} // local.get 0
	if setup {
		cs = append(cs, 0x41, 0x01, 0x72) // i32.const 1; i32.or
	}
	c = append(append(append(c, cs...), 0x10), uleb(enter)...)
	for p := uint64(0); p < n; p++ {
		c = append(append(c, 0x20), uleb(p)...)
	}
	c = append(append(c, 0x10), uleb(inner)...)
	if len(t.Results) == 1 {
		c = append(append(c, 0x21), uleb(n)...) // local.set result
	}
	c = append(append(append(c, cs...), 0x10), uleb(leave)...)
	if len(t.Results) == 1 {
		c = append(append(c, 0x20), uleb(n)...)
	}
	return append(c, 0x0b)
}
