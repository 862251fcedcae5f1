package firmware

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero"
)

// ErrFirmware is wrapped by every error about a missing or unusable firmware
// image; its text tells the user what to do.
var ErrFirmware = errors.New("the MicroPython firmware is missing or invalid: run `make` to fetch it")

// Image is a patched and compiled firmware: the code every board built from
// it runs. It holds no host modules; the board instantiates those in
// Runtime before the first instance.
type Image struct {
	// Source names where the image came from, for messages.
	Source   string
	Runtime  wazero.Runtime
	Compiled wazero.CompiledModule
	Layout   Layout
	// InvokeSigs are the firmware's invoke_* imports (see invoke.go).
	InvokeSigs map[string]FuncType
	// FrameHooks reports that mp_execute_bytecode calls the frame hooks
	// (framewrap.go), so the host knows whose code is running.
	FrameHooks bool
	// FrozenDir reports that '.frozen' on sys.path is a directory like any
	// other (frozenprefix.go), so the board can show the ESP8266's sys.path.
	FrozenDir bool
}

// Options says how to compile an image.
type Options struct {
	// Cache, when set, is shared so the same image compiles once.
	Cache wazero.CompilationCache
	// NoSafepoints leaves out the loop countdown (safepoint.go), for the
	// benchmark that measures its cost.
	NoSafepoints bool
	// DoubleFloats leaves the wasm build's double-precision floats
	// (floatpatch.go), for tests that compare with the unpatched firmware.
	DoubleFloats bool
	// BytecodeDecoratorsOnly leaves @micropython.native and viper a
	// SyntaxError (decorator.go), for tests of the unpatched firmware.
	BytecodeDecoratorsOnly bool
	// PyscriptFrozen keeps the firmware's ".frozen/" import prefix
	// (frozenprefix.go), for tests of the unpatched firmware.
	PyscriptFrozen bool
	// NoFrameHooks leaves mp_execute_bytecode unwrapped (framewrap.go),
	// for tests that show what the hooks change.
	NoFrameHooks bool
}

// Layout holds addresses inside the firmware's linear memory found by
// inspecting its code (the build has no symbol names).
type Layout struct {
	// ExternalCallDepth is the address of main.c's external_call_depth.
	ExternalCallDepth uint32
	// GCCollectPending is the address of main.c's gc_collect_pending.
	GCCollectPending uint32
	OK               bool
	// GCRootStart and GCRootWords are the root pointer section gc.c's
	// gc_collect_start scans (gcroots.go); zero when not found.
	GCRootStart, GCRootWords uint32
}

// Compile patches (safepoint.go, invoke.go) and compiles a firmware image.
func Compile(wasm []byte, source string, opts Options) (*Image, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return nil, fmt.Errorf("%w (%s is not a WebAssembly module)", ErrFirmware, source)
	}
	ctx := context.Background()
	// No WithCloseOnContextDone: it starts a goroutine for every call into
	// the guest, and the firmware is entered for nearly every Python
	// operation (invoke.go). A board is stopped at its next host crossing
	// instead (see Board.stopping).
	cfg := wazero.NewRuntimeConfig().
		WithMemoryLimitPages(4096)
	if opts.Cache != nil {
		cfg = cfg.WithCompilationCache(opts.Cache)
	}
	patched, frozenDir := wasm, false
	if !opts.DoubleFloats {
		// The ESP8266's single-precision floats (floatpatch.go).
		p, _, ok, err := patchFloats(patched)
		if err != nil {
			return nil, fmt.Errorf("%w (%s: %v)", ErrFirmware, source, err)
		}
		if ok {
			patched = p
		}
	}
	if !opts.BytecodeDecoratorsOnly {
		// native and viper compile as bytecode (decorator.go).
		p, ok, err := patchDecorators(patched)
		if err != nil {
			return nil, fmt.Errorf("%w (%s: %v)", ErrFirmware, source, err)
		}
		if ok {
			patched = p
		}
	}
	if !opts.PyscriptFrozen {
		// '.frozen' on sys.path is a directory (frozenprefix.go).
		p, ok, err := patchFrozenPrefix(patched)
		if err != nil {
			return nil, fmt.Errorf("%w (%s: %v)", ErrFirmware, source, err)
		}
		if ok {
			patched, frozenDir = p, true
		}
	}
	frameHooks := false
	if !opts.NoFrameHooks {
		// The board's own modules run as C would (framewrap.go).
		p, ok, err := patchFrameHooks(patched)
		if err != nil {
			return nil, fmt.Errorf("%w (%s: %v)", ErrFirmware, source, err)
		}
		if ok {
			patched, frameHooks = p, true
		}
	}
	if !opts.NoSafepoints {
		var err error
		if patched, err = PatchLoopSafepoints(patched); err != nil {
			return nil, fmt.Errorf("%w (%s: %v)", ErrFirmware, source, err)
		}
	}
	patched, sigs, err := PatchDyncalls(patched)
	if err != nil {
		return nil, fmt.Errorf("%w (%s: %v)", ErrFirmware, source, err)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	compiled, err := rt.CompileModule(ctx, patched)
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("%w (%s: %v)", ErrFirmware, source, err)
	}
	for _, name := range requiredExports {
		if _, ok := compiled.ExportedFunctions()[name]; !ok {
			rt.Close(ctx)
			return nil, fmt.Errorf("%w (%s does not export %s; is it the pyscript variant of MicroPython 1.27?)", ErrFirmware, source, name)
		}
	}
	return &Image{Source: source, Runtime: rt, Compiled: compiled, InvokeSigs: sigs, Layout: findLayout(wasm), FrozenDir: frozenDir, FrameHooks: frameHooks}, nil
}

var requiredExports = []string{
	"mp_js_init", "mp_js_do_exec", "mp_js_do_import", "mp_js_register_js_module",
	"mp_js_repl_init", "mp_js_repl_process_char", "mp_sched_keyboard_interrupt",
	"proxy_c_init", "proxy_c_to_js_call", "proxy_c_to_js_lookup_attr", "proxy_c_free_obj",
	"malloc", "free", "__wasm_call_ctors", "setThrew",
}

// findLayout locates main.c's external_call_depth and gc_collect_pending by
// decoding mp_js_repl_process_char, which the compiler emits as
//
//	i32.const 0; i32.const 0; i32.load off=DEPTH; i32.const 1; i32.add; i32.store off=DEPTH
//	...; call external_call_depth_dec
//
// and external_call_depth_dec, which tests i32.load8_u off=PENDING. A firmware
// whose code does not match simply runs without mid-script collections.
func findLayout(wasm []byte) Layout {
	defer func() { _ = recover() }()
	m, err := parseWasm(wasm)
	if err != nil {
		return Layout{}
	}
	fi, ok := m.exports["mp_js_repl_process_char"]
	if !ok {
		return Layout{}
	}
	ins := m.disassemble(fi)
	var l Layout
	for i := 0; i+5 < len(ins); i++ {
		if ins[i].op == 0x28 && ins[i+1].op == 0x41 && ins[i+1].imm == 1 && ins[i+2].op == 0x6a && ins[i+3].op == 0x36 && ins[i+3].imm == ins[i].imm {
			l.ExternalCallDepth = uint32(ins[i].imm)
			break
		}
	}
	if l.ExternalCallDepth == 0 {
		return Layout{}
	}
	// The last direct call in the function is external_call_depth_dec.
	dec := -1
	for _, in := range ins {
		if in.op == 0x10 {
			dec = int(in.imm)
		}
	}
	if dec < 0 {
		return Layout{}
	}
	decIns := m.disassemble(uint32(dec))
	for i, in := range decIns {
		if in.op == 0x2d { // i32.load8_u
			l.GCCollectPending = uint32(in.imm)
			// The first call after the test is gc_collect_start.
			for _, c := range decIns[i:] {
				if c.op == 0x10 {
					l.GCRootStart, l.GCRootWords = m.findGCRoots(uint32(c.imm))
					break
				}
			}
			break
		}
	}
	l.OK = l.GCCollectPending != 0
	return l
}
