package board

import (
	"context"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/esp8266sim/esp8266sim/board/firmware"
)

// The board's own modules run as C (issue 20).
//
// time, machine, network, socket, select, os and esp are C modules or
// frozen bytecode on the ESP8266, Python files in frozenDir here. The
// firmware's mp_execute_bytecode calls the host at every frame's entry and
// exit (board/firmware/framewrap.go); the host keeps the stack of frames
// and whether each runs a file of frozenDir. While the innermost frame is
// one of those, executed work is counted (Iterations) but costs no CPU
// time; entering one from the script's code costs cCallCost instead, the
// board's price of calling into a C module. A script function a stand-in
// calls back (a socket callback, a sort key, a handler) is the script's
// frame again and is charged.

// cCallCost is what a call from the script into one of the board's C
// modules costs at 80 MHz beyond the script's own bytecode for it (the
// LOAD_ATTR and CALL the script executes are charged as counted work):
// the ESP8266 port's C-call path (mp_call_function_n_kw, the module
// function, boxing the result) and the SDK call behind it, a few hundred
// cycles. RATIONALE.md gives the figures it is set from.
const cCallCost = 3 * time.Microsecond

// cpuFrame is one bytecode frame the VM is running.
type cpuFrame struct {
	// cs is the frame's mp_code_state_t; depth the invoke_ nesting at its
	// entry (guestcall.go), to drop frames a longjmp or trap skipped.
	cs     uint32
	depth  int
	frozen bool
}

// defineFrameHooks adds env.__esp_frame_enter and env.__esp_frame_leave.
func defineFrameHooks(env wazero.HostModuleBuilder) {
	i32 := []api.ValueType{api.ValueTypeI32}
	env.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, stack []uint64) {
		boardFrom(ctx).frameEnter(ctx, uint32(stack[0]))
	}), i32, nil).Export(firmware.FrameEnterImport)
	env.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, stack []uint64) {
		boardFrom(ctx).frameLeave(uint32(stack[0]))
	}), i32, nil).Export(firmware.FrameLeaveImport)
}

// frameEnter runs as the VM starts (or resumes) the frame cs, or, with
// bit 0 of cs set, as mp_setup_code_state starts binding its arguments.
func (b *Board) frameEnter(ctx context.Context, cs uint32) {
	b.cpuSync()
	setup := cs&1 != 0
	cs &^= 1
	kind := b.frameKind(ctx, cs)
	if kind == frameScript {
		// The script's code is charged, whatever import is under way.
		b.cpu.frozen = false
	}
	frozen := kind == frameC
	// One C call per call: the run that follows its own argument binding
	// is not a second one.
	call := frozen && !b.cpu.inFrozen && !(b.cpu.bound == cs && !setup)
	b.cpu.bound = 0
	if call && b.cpu.model == CPUBoard && !b.cpu.inGC && !b.cpu.frozen && !b.inSetupNow() {
		b.cpu.ps += int64(cCallCost) * 1000 * 80 / b.cpu.mhz
	}
	b.cpu.frames = append(b.cpu.frames, cpuFrame{cs: cs, depth: b.inv.depth, frozen: frozen})
	b.cpu.inFrozen = frozen
}

// frameLeave runs as the VM returns from the frame cs (a result, a
// yield or an exception), or as its argument binding ends (bit 0 set). A
// frame above cs that never left (see framesUnwound) is dropped with it.
func (b *Board) frameLeave(cs uint32) {
	b.cpuSync()
	if cs&1 != 0 {
		cs &^= 1
		b.cpu.bound = cs
	}
	f := b.cpu.frames
	for i := len(f) - 1; i >= 0; i-- {
		if f[i].cs == cs {
			b.setFrames(f[:i])
			return
		}
	}
}

// framesUnwound runs when an invoke_ crossing at nesting depth d caught a
// longjmp or a trap: the frames entered inside it are gone without their
// leave.
func (b *Board) framesUnwound(d int) {
	f := b.cpu.frames
	n := len(f)
	for n > 0 && f[n-1].depth > d {
		n--
	}
	if n != len(f) {
		b.cpuSync()
		b.setFrames(f[:n])
	}
}

func (b *Board) setFrames(f []cpuFrame) {
	b.cpu.frames = f
	b.cpu.inFrozen = len(f) > 0 && f[len(f)-1].frozen
}

// What runs in a frame: the script's code, one of the board's modules
// that is frozen bytecode on the ESP8266, or one that is C there.
const (
	frameScript = iota
	frameBytecode
	frameC
)

// frameKind says what frame cs runs, by the file its code came from:
// code_state->fun_bc->context->constants.qstr_table[0] is the source
// file's qstr (py/bc.h, py/objfun.h at v1.27.0, 32-bit pointers:
// mp_code_state_t.fun_bc at 0, mp_obj_fun_bc_t.context at 4,
// mp_module_context_t.constants.qstr_table at 8 after the module object).
func (b *Board) frameKind(ctx context.Context, cs uint32) uint8 {
	fun, ok := b.mem.ReadUint32Le(cs)
	if !ok {
		return frameScript
	}
	mc, ok := b.mem.ReadUint32Le(fun + 4)
	if !ok {
		return frameScript
	}
	table, ok := b.mem.ReadUint32Le(mc + 8)
	if !ok {
		return frameScript
	}
	q, ok := b.mem.ReadUint16Le(table)
	if !ok {
		return frameScript
	}
	k, ok := b.cpu.fileKind[uint32(q)]
	if !ok {
		name, _ := b.qstrText(ctx, uint32(q))
		k = fileKind(name)
		b.cpu.fileKind[uint32(q)] = k
	}
	return k
}

// frozenBytecode are the board's modules that are frozen bytecode on the
// ESP8266 (ports/esp8266/boards/manifest.py and ESP8266_GENERIC's:
// asyncio, the drivers, bundle-networking's mip, ntptime, ssl, requests,
// webrepl, and upysh, umqtt): their bytecode runs there as the script's
// does, so it is charged (their import as before: free until the module
// reaches the host, cpuFrozenImport). The others are C modules there
// (time, machine, network, socket, select, os, esp, tls, websocket, ...)
// or the board's own plumbing (_hostcall, _surface, ...).
var frozenBytecode = map[string]bool{
	"asyncio": true, "_asyncio_funcs": true, "_asyncio_stream": true, "_asyncio_sync": true, "uasyncio": true,
	"apa102": true, "dht": true, "ds18x20": true, "onewire": true, "neopixel": true, "espnow": true, "ssd1306": true,
	"mip": true, "ntptime": true, "ssl": true, "requests": true, "urequests": true,
	"webrepl": true, "webrepl_setup": true, "upysh": true, "umqtt": true,
}

// fileKind classifies a code's source file: frozenDir's files by their
// module (a package by its directory).
func fileKind(file string) uint8 {
	// The ESP8266's sys.path names the frozen modules '.frozen' (fs.go), so
	// a module imported through it has a relative file name.
	rest, ok := strings.CutPrefix(file, frozenDir+"/")
	if !ok {
		if rest, ok = strings.CutPrefix(file, boardFrozenEntry+"/"); !ok {
			return frameScript
		}
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i]
	}
	if frozenBytecode[strings.TrimSuffix(rest, ".py")] {
		return frameBytecode
	}
	return frameC
}
