package board

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/esp8266sim/esp8266sim/board/firmware"
)

// ErrFirmware is wrapped by every error about a missing or unusable firmware
// image; its text tells the user what to do.
var ErrFirmware = errors.New("the MicroPython firmware is missing or invalid: run `make` to fetch it")

// Firmware is a compiled MicroPython WebAssembly image. Compile it once per
// process (DefaultFirmware caches the embedded one) and share it between any
// number of boards; it is safe for concurrent use.
type Firmware struct {
	// Source names where the image came from, for messages.
	Source string

	rt       wazero.Runtime
	compiled wazero.CompiledModule
	layout   layout
	// invokeSigs are the firmware's invoke_* imports (see invoke.go).
	invokeSigs map[string]funcType

	// kbd caches what the first boot learnt about the keyboard interrupt
	// (interrupt.go): the words are static memory, the same in every
	// instance of this firmware.
	kbd struct {
		sync.Mutex
		words []kbdWord
		// intChar is the address of mp_interrupt_char (uart.go).
		intChar uint32
	}

	closeOnce sync.Once
}

// layout holds addresses inside the firmware's linear memory found by
// inspecting its code (the build has no symbol names).
type layout struct {
	// externalCallDepth is the address of main.c's external_call_depth.
	externalCallDepth uint32
	// gcCollectPending is the address of main.c's gc_collect_pending.
	gcCollectPending uint32
	ok               bool
}

var (
	defaultOnce sync.Once
	defaultFW   *Firmware
	defaultErr  error
)

// DefaultFirmware returns the firmware embedded in the binary, compiled on
// first use and cached for the life of the process.
func DefaultFirmware() (*Firmware, error) {
	defaultOnce.Do(func() {
		defaultFW, defaultErr = CompileFirmware(firmware.Wasm, "embedded "+firmware.Name)
	})
	return defaultFW, defaultErr
}

// LoadFirmware reads and compiles a firmware image from path (the --firmware
// flag). The board never reads host files; this is the one host file the
// simulator itself opens.
func LoadFirmware(path string) (*Firmware, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w (reading %s: %v)", ErrFirmware, path, unwrapPathErr(err))
	}
	return CompileFirmware(data, path)
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// compilationCache is shared by every Firmware in the process so the same
// image is only compiled once even when loaded twice.
var compilationCache = wazero.NewCompilationCache()

// CompileFirmware compiles a firmware image held in memory.
func CompileFirmware(wasm []byte, source string) (*Firmware, error) {
	return compileFirmware(wasm, source, compilationCache, true, true)
}

// compileUncached compiles without the process cache (for benchmarks).
func compileUncached(wasm []byte) (*Firmware, error) {
	return compileFirmware(wasm, "benchmark", nil, true, true)
}

// compileWithoutSafepoints compiles the firmware without the loop countdown
// (safepoint.go), for the benchmark that measures the countdown's cost.
func compileWithoutSafepoints(wasm []byte) (*Firmware, error) {
	return compileFirmware(wasm, "benchmark", nil, false, true)
}

func compileFirmware(wasm []byte, source string, cache wazero.CompilationCache, loopSafepoints, boardFloats bool) (*Firmware, error) {
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
	if cache != nil {
		cfg = cfg.WithCompilationCache(cache)
	}
	patched := wasm
	if boardFloats {
		// The ESP8266's single-precision floats (floatpatch.go).
		p, _, ok, err := patchFloats(patched)
		if err != nil {
			return nil, fmt.Errorf("%w (%s: %v)", ErrFirmware, source, err)
		}
		if ok {
			patched = p
		}
	}
	if loopSafepoints {
		var err error
		if patched, err = patchLoopSafepoints(patched); err != nil {
			return nil, fmt.Errorf("%w (%s: %v)", ErrFirmware, source, err)
		}
	}
	patched, sigs, err := patchDyncalls(patched)
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
	fw := &Firmware{Source: source, rt: rt, compiled: compiled, invokeSigs: sigs}
	fw.layout = findLayout(wasm)
	if err := fw.instantiateHostModules(ctx); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("%w (%s: %v)", ErrFirmware, source, err)
	}
	return fw, nil
}

var requiredExports = []string{
	"mp_js_init", "mp_js_do_exec", "mp_js_do_import", "mp_js_register_js_module",
	"mp_js_repl_init", "mp_js_repl_process_char", "mp_sched_keyboard_interrupt",
	"proxy_c_init", "proxy_c_to_js_call", "proxy_c_to_js_lookup_attr", "proxy_c_free_obj",
	"malloc", "free", "__wasm_call_ctors", "setThrew",
}

// Close releases the compiled code. Boards using it must be closed first.
func (f *Firmware) Close() {
	f.closeOnce.Do(func() { f.rt.Close(context.Background()) })
}

// instantiateHostModules builds the "env" and "wasi_snapshot_preview1"
// modules once per runtime. Every host function finds its board through the
// context of the call (see boardFrom).
func (f *Firmware) instantiateHostModules(ctx context.Context) error {
	env := f.rt.NewHostModuleBuilder("env")
	invokeNames := defineInvokes(env, f.invokeSigs)
	defineEnv(env)
	defineSafepoint(env)
	defineFloatFormat(env)
	defineFloatParse(env)
	// Anything the firmware imports that we do not implement traps with a
	// clear message instead of failing instantiation.
	defined := map[string]bool{}
	for _, name := range envFuncNames {
		defined[name] = true
	}
	defined[safepointImport] = true
	defined[floatFormatImport], defined[floatParseImport] = true, true
	for _, name := range invokeNames {
		defined[name] = true
	}
	for _, fn := range f.compiled.ImportedFunctions() {
		mod, name, _ := fn.Import()
		if mod != "env" || defined[name] {
			continue
		}
		env.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, stack []uint64) {
			panic(fmt.Errorf("firmware called unsupported host function env.%s", name))
		}), fn.ParamTypes(), fn.ResultTypes()).Export(name)
	}
	if _, err := env.Instantiate(ctx); err != nil {
		return fmt.Errorf("host module env: %w", err)
	}
	wasi := f.rt.NewHostModuleBuilder("wasi_snapshot_preview1")
	defineWASI(wasi)
	if _, err := wasi.Instantiate(ctx); err != nil {
		return fmt.Errorf("host module wasi_snapshot_preview1: %w", err)
	}
	return nil
}

// findLayout locates main.c's external_call_depth and gc_collect_pending by
// decoding mp_js_repl_process_char, which the compiler emits as
//
//	i32.const 0; i32.const 0; i32.load off=DEPTH; i32.const 1; i32.add; i32.store off=DEPTH
//	...; call external_call_depth_dec
//
// and external_call_depth_dec, which tests i32.load8_u off=PENDING. A firmware
// whose code does not match simply runs without mid-script collections.
func findLayout(wasm []byte) layout {
	defer func() { _ = recover() }()
	m, err := parseWasm(wasm)
	if err != nil {
		return layout{}
	}
	fi, ok := m.exports["mp_js_repl_process_char"]
	if !ok {
		return layout{}
	}
	ins := m.disassemble(fi)
	var l layout
	for i := 0; i+5 < len(ins); i++ {
		if ins[i].op == 0x28 && ins[i+1].op == 0x41 && ins[i+1].imm == 1 && ins[i+2].op == 0x6a && ins[i+3].op == 0x36 && ins[i+3].imm == ins[i].imm {
			l.externalCallDepth = uint32(ins[i].imm)
			break
		}
	}
	if l.externalCallDepth == 0 {
		return layout{}
	}
	// The last direct call in the function is external_call_depth_dec.
	dec := -1
	for _, in := range ins {
		if in.op == 0x10 {
			dec = int(in.imm)
		}
	}
	if dec < 0 {
		return layout{}
	}
	for _, in := range m.disassemble(uint32(dec)) {
		if in.op == 0x2d { // i32.load8_u
			l.gcCollectPending = uint32(in.imm)
			break
		}
	}
	l.ok = l.gcCollectPending != 0
	return l
}
