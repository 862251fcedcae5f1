package board

import (
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
var ErrFirmware = firmware.ErrFirmware

// Firmware is a compiled MicroPython WebAssembly image. Compile it once per
// process (DefaultFirmware caches the embedded one) and share it between any
// number of boards; it is safe for concurrent use.
type Firmware struct {
	// Source names where the image came from, for messages.
	Source string

	// img is the patched, compiled code (board/firmware); this file adds
	// the host modules its imports call.
	img *firmware.Image

	// kbd caches what the first boot learnt about the keyboard interrupt
	// (interrupt.go): the words are static memory, the same in every
	// instance of this firmware.
	kbd struct {
		sync.Mutex
		words []kbdWord
		// intChar is the address of mp_interrupt_char (uart.go).
		intChar uint32
	}

	// snaps are the interpreters set up so far, replayed by later boots
	// (bootsnap.go).
	snaps bootSnaps

	closeOnce sync.Once
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
	return compileFirmware(wasm, source, firmware.Options{Cache: compilationCache})
}

// compileUncached compiles without the process cache (for benchmarks).
func compileUncached(wasm []byte) (*Firmware, error) {
	return compileFirmware(wasm, "benchmark", firmware.Options{})
}

// compileWithoutSafepoints compiles the firmware without the loop countdown
// (board/firmware/safepoint.go), for the benchmark that measures its cost.
func compileWithoutSafepoints(wasm []byte) (*Firmware, error) {
	return compileFirmware(wasm, "benchmark", firmware.Options{NoSafepoints: true})
}

func compileFirmware(wasm []byte, source string, opts firmware.Options) (*Firmware, error) {
	img, err := firmware.Compile(wasm, source, opts)
	if err != nil {
		return nil, err
	}
	fw := &Firmware{Source: source, img: img}
	if err := fw.instantiateHostModules(context.Background()); err != nil {
		img.Runtime.Close(context.Background())
		return nil, fmt.Errorf("%w (%s: %v)", ErrFirmware, source, err)
	}
	return fw, nil
}

// Close releases the compiled code. Boards using it must be closed first.
func (f *Firmware) Close() {
	f.closeOnce.Do(func() { f.img.Runtime.Close(context.Background()) })
}

// instantiateHostModules builds the "env" and "wasi_snapshot_preview1"
// modules once per runtime. Every host function finds its board through the
// context of the call (see boardFrom).
func (f *Firmware) instantiateHostModules(ctx context.Context) error {
	env := f.img.Runtime.NewHostModuleBuilder("env")
	invokeNames := defineInvokes(env, f.img.InvokeSigs)
	defineEnv(env)
	defineSafepoint(env)
	defineTracebackHide(env)
	defineFrameHooks(env)
	firmware.DefineFloatHost(env)
	// Anything the firmware imports that we do not implement traps with a
	// clear message instead of failing instantiation.
	defined := map[string]bool{}
	for _, name := range envFuncNames {
		defined[name] = true
	}
	defined[firmware.SafepointImport] = true
	defined[firmware.TracebackHideImport] = true
	defined[firmware.FrameEnterImport], defined[firmware.FrameLeaveImport] = true, true
	defined[firmware.FloatFormatImport], defined[firmware.FloatParseImport] = true, true
	for _, name := range invokeNames {
		defined[name] = true
	}
	for _, fn := range f.img.Compiled.ImportedFunctions() {
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
	wasi := f.img.Runtime.NewHostModuleBuilder("wasi_snapshot_preview1")
	defineWASI(wasi)
	if _, err := wasi.Instantiate(ctx); err != nil {
		return fmt.Errorf("host module wasi_snapshot_preview1: %w", err)
	}
	return nil
}

// defineSafepoint adds env.__esp_safepoint: the countdown's host side.
func defineSafepoint(env wazero.HostModuleBuilder) {
	env.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, stack []uint64) {
		b := boardFrom(ctx) // abandons the guest if the run is over
		b.safepoints.Add(1)
		stack[0] = firmware.SafepointEvery
		b.cpuSafepoint()
		b.irqSafepoint() // interrupt handlers reach a busy loop (hwirq.go)
	}), nil, []api.ValueType{api.ValueTypeI32}).Export(firmware.SafepointImport)
}
