package board

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/esp8266sim/esp8266sim/board/firmware"
	"github.com/esp8266sim/esp8266sim/board/hostabi"
	"github.com/esp8266sim/esp8266sim/internal/simrand"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// DefaultHeapBytes is the ESP8266 port's static GC heap (ports/esp8266/main.c).
const DefaultHeapBytes = 38 * 1024

// DefaultWatchdog is the default wall-clock budget a script may spend
// running Python code (time parked in sleep or waiting is not counted).
const DefaultWatchdog = 20 * time.Second

// Config describes one board. The zero value plus a Name is a valid board.
type Config struct {
	// Name identifies the board in messages and seeds its MAC and random
	// stream. Required.
	Name string
	// MAC is the station MAC address; zero means one derived from Seed and
	// Name with an Espressif OUI.
	MAC [6]byte
	// HeapBytes is the MicroPython GC heap budget; zero means DefaultHeapBytes.
	HeapBytes int
	// Watchdog is the wall-clock budget for running Python code between
	// blocking calls before the script is interrupted; zero means
	// DefaultWatchdog, negative disables it.
	Watchdog time.Duration
	// Files seeds the flash filesystem: path (relative to /) → contents,
	// e.g. "boot.py", "main.py", "data/config.json", "lib/mymod.py" (the
	// user's /lib). Files under .frozen/ are ignored: the board's own
	// modules cannot be replaced.
	Files map[string][]byte
	// Seed is the world's random seed (MAC, os.urandom, random module).
	Seed uint64
	// Console receives every byte the board writes to its UART (stdout and
	// stderr); nil discards it.
	Console io.Writer
	// Stdin, when set, makes the board interactive: its bytes reach the
	// UART (as UARTWrite) and after main.py the REPL reads them until EOF,
	// exactly as the ESP8266 firmware's REPL (friendly, paste, raw and
	// raw-paste modes; Ctrl-C interrupts a running program, Ctrl-D
	// soft-resets). Output is then cooked ("\n" → "\r\n") as on the board.
	// A goroutine reads it for the run; it ends when Read returns an error,
	// so close the reader (or reach EOF) to release it.
	Stdin io.Reader
	// MaxResets bounds how many machine.reset()/soft resets one Run follows
	// before returning ResetLoop; zero means 8.
	MaxResets int
	// CPU says whether executed code costs ESP8266 CPU time (CPUBoard,
	// the default) or nothing (CPUNative); see cputime.go.
	CPU CPUModel
	// Env carries values for extension layers (sockets, network), keyed by
	// a type the extension owns; read them with Board.Env.
	Env map[any]any
}

// Outcome says how a run ended.
type Outcome int

const (
	// Finished: main.py (and the REPL, if interactive) ended normally,
	// including by sys.exit().
	Finished Outcome = iota
	// Exception: an uncaught Python exception ended main.py; Result has the
	// traceback exactly as the board printed it.
	Exception
	// WatchdogExpired: the script ran Python code past its wall-clock budget
	// and was stopped.
	WatchdogExpired
	// ResetLoop: the script kept resetting the board past MaxResets.
	ResetLoop
	// Stopped: the run's context ended first.
	Stopped
)

func (o Outcome) String() string {
	switch o {
	case Finished:
		return "finished"
	case Exception:
		return "exception"
	case WatchdogExpired:
		return "watchdog"
	case ResetLoop:
		return "reset loop"
	case Stopped:
		return "stopped"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Result is what a run produced.
type Result struct {
	Outcome Outcome
	// ExceptionType is the Python exception class name (Exception outcome).
	ExceptionType string
	// Traceback is the exception text as printed on the console.
	Traceback string
	// Message explains WatchdogExpired, ResetLoop and Stopped in one sentence.
	Message string
	// Resets counts the resets followed during the run.
	Resets int
}

// Board is one simulated ESP8266 running the MicroPython firmware.
//
// A Board is driven by one goroutine, its owner, which calls Run; host
// functions run on that goroutine. Close may be called from any goroutine.
type Board struct {
	cfg   Config
	fw    *Firmware
	clock *vclock.Clock
	// actor is the board's clock actor for the current run (replaced when a
	// finished board runs again: a finished board must not hold time).
	actor atomic.Pointer[vclock.Actor]
	fs    *flashFS
	mac   [6]byte
	rng   *rand.Rand

	console io.Writer

	// actorDone is set when a run ended and closed its actor (Run goroutine).
	actorDone bool

	// bootAt is the simulator time of the last hard reset (ticks base).
	bootAt time.Duration

	// Per-boot interpreter state, owned by the Run goroutine.
	mod     api.Module
	mem     api.Memory
	fn      exports
	inv     invokeState
	refs    jsRefs
	fds     fdTable
	cwd     string
	runCtx  context.Context
	pending *pendingError
	reserve []reserved
	// gcRef is the firmware's handle of the _esp8266 module and gcScratch
	// guest memory holding "_GC\0" and a result slot (collectIfPending).
	gcRef     uint32
	gcScratch uint32
	roots     rootList
	gcs       gcSafety
	// gcb marks the heap for the firmware's collector (gcboot.go).
	gcb gcBoot
	// collecting guards collectIfPending against re-entry.
	collecting bool
	heapLow    uint32
	// bannerFix rewrites the port's banner while the REPL starts.
	bannerFix bool

	// pollCount counts consecutive PollYield calls without a real wait.
	pollCount int
	// pollOwed is simulated CPU time charged by polls but not yet parked.
	pollOwed time.Duration
	// resetReq is set by machine.reset()/soft_reset(): "hard" or "soft".
	resetReq string
	// resetCause is what machine.reset_cause() reports: 0 (PWRON_RESET)
	// after power-on, 4 (SOFT_RESET, the SDK's soft restart) after
	// machine.reset().
	resetCause int
	// rtcOffset is the RTC setting relative to simulator time.
	rtcOffset time.Duration

	// kbdFn raises KeyboardInterrupt in the guest; safe to call from another
	// goroutine (it only stores two words).
	kbdMu sync.Mutex
	kbdFn api.Function
	// kbdWords are what a keyboard interrupt stores in kbdMem (see
	// interrupt.go); guarded by kbdMu.
	kbdWords []kbdWord
	kbdMem   api.Memory
	// ovf turns a C stack overflow trap into RuntimeError (cstack.go).
	ovf overflowRaise
	// intCharAddr is where the firmware keeps mp_interrupt_char (uart.go);
	// guarded by kbdMu.
	intCharAddr uint32
	// interrupted is set when a Ctrl-C or watchdog interrupt is pending so
	// blocking host calls return at once.
	interrupted atomic.Bool
	// intMu orders Interrupt against entering and leaving waits.
	intMu sync.Mutex
	// blocking is true while the board waits in a host call; guarded by intMu.
	blocking bool
	// inSetup is true while the board prepares a fresh interpreter (before
	// boot.py): an Interrupt then is held in deferredInt until user code
	// runs, so it cannot break the board's own setup; guarded by intMu.
	inSetup     bool
	deferredInt bool
	// hostFault records a non-Python error from a host function (a bug in an
	// extension), reported in the run's error.
	hostFault error
	// cancelRun ends the current run (watchdog hard stop, Close).
	cancelMu  sync.Mutex
	cancelRun context.CancelFunc

	wd watchdog

	// ext is the extension store (SetValue/Value).
	extMu sync.Mutex
	ext   map[any]any
	// closers run at Close, in reverse order.
	closers []func()

	closeOnce sync.Once
	closed    atomic.Bool
	// stopping makes the next host crossing abandon the guest (run context
	// done, Close, watchdog hard stop).
	stopping atomic.Bool
	// uart is the UART0 receive buffer (uart.go).
	uart uartRX
	// replMode is the REPL the board is in (pyexec_mode_kind): kept across
	// soft resets, friendly again after a hard reset.
	replMode replMode
	// out filters what the firmware writes to the console while the REPL
	// drives it (repl.go); board goroutine only.
	out outFilter
	// cooked turns "\n" into "\r\n" in what Python code prints, as the
	// board's mp_hal_stdout_tx_strn_cooked does (interactive boards).
	cooked bool
	// fromREPL is set when the last reset was asked for at the REPL.
	fromREPL bool
	// flashInitDone is set once the first boot has set the flash up.
	flashInitDone bool
	// extReset is set by ExternalReset until Run takes the reset.
	extReset atomic.Bool
	// setupRec records what the host was asked while a fresh interpreter
	// is set up (bootsnap_record.go); nil otherwise. Board goroutine only.
	setupRec *setupRecord
	// safepoints counts the loop countdown's calls into Go (board/firmware/safepoint.go).
	safepoints atomic.Uint64
	// cpu charges executed code simulated time (cputime.go); board
	// goroutine only.
	cpu cpuMeter
	// computing is set while the board parks to pay CPU time (cputime.go).
	computing atomic.Bool
}

type exports struct {
	malloc, free, doExec, doImport, registerModule       api.Function
	replInit, replChar, cToJsCall, lookupAttr, freeObj   api.Function
	stackInit, ctors, mpInit, proxyInit, stackGetCurrent api.Function
	stackGetBase                                         api.Function
}

// New creates a board. It does not start it: call Run.
func New(cfg Config, fw *Firmware, clock *vclock.Clock) (*Board, error) {
	if fw == nil {
		return nil, errors.New("board.New: nil firmware")
	}
	if clock == nil {
		return nil, errors.New("board.New: nil clock")
	}
	if cfg.Name == "" {
		return nil, errors.New("board.New: a board needs a name")
	}
	if cfg.HeapBytes == 0 {
		cfg.HeapBytes = DefaultHeapBytes
	}
	if cfg.HeapBytes < 8*1024 || cfg.HeapBytes > 8*1024*1024 {
		return nil, fmt.Errorf("board %s: heap of %d bytes is outside 8 KiB..8 MiB", cfg.Name, cfg.HeapBytes)
	}
	if cfg.Watchdog == 0 {
		cfg.Watchdog = DefaultWatchdog
	}
	if cfg.MaxResets == 0 {
		cfg.MaxResets = 8
	}
	for name := range cfg.Files {
		if strings.Contains(name, "\x00") || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("board %s: bad file name %q", cfg.Name, name)
		}
	}
	b := &Board{
		cfg:     cfg,
		fw:      fw,
		clock:   clock,
		console: cfg.Console,
		rng:     simrand.New(cfg.Seed, "board/"+cfg.Name),
		ext:     map[any]any{},
	}
	if b.console == nil {
		b.console = io.Discard
	}
	b.mac = cfg.MAC
	if b.mac == ([6]byte{}) {
		b.mac = DeriveMAC(cfg.Seed, cfg.Name)
	}
	b.fs = newFlashFS(cfg.Files, clock.Now())
	b.actor.Store(clock.NewTurnActor("board/" + cfg.Name))
	b.bootAt = clock.Elapsed()
	return b, nil
}

// espressifOUIs are OUIs registered to Espressif and seen on ESP8266 modules.
var espressifOUIs = [][3]byte{{0x5c, 0xcf, 0x7f}, {0xa4, 0xcf, 0x12}, {0x18, 0xfe, 0x34}, {0x60, 0x01, 0x94}, {0xec, 0xfa, 0xbc}}

// DeriveMAC returns the default station MAC of a board: an Espressif OUI and
// three bytes from the seeded stream of its name.
func DeriveMAC(seed uint64, name string) [6]byte {
	v := simrand.Uint64(seed, "mac/"+name)
	oui := espressifOUIs[v%uint64(len(espressifOUIs))]
	return [6]byte{oui[0], oui[1], oui[2], byte(v >> 16), byte(v >> 24), byte(v >> 32)}
}

// Name returns the board's name.
func (b *Board) Name() string { return b.cfg.Name }

// MAC returns the board's station MAC address.
func (b *Board) MAC() [6]byte { return b.mac }

// Clock returns the simulator clock.
func (b *Board) Clock() *vclock.Clock { return b.clock }

// Actor returns the board's clock actor (extension layers use it to park).
func (b *Board) Actor() *vclock.Actor { return b.actor.Load() }

// Rand returns the board's deterministic random stream. Use it only from
// the board's goroutine.
func (b *Board) Rand() *rand.Rand { return b.rng }

// Env returns the value Config.Env holds for key.
func (b *Board) Env(key any) any { return b.cfg.Env[key] }

// Value returns extension state stored with SetValue.
func (b *Board) Value(key any) any {
	b.extMu.Lock()
	defer b.extMu.Unlock()
	return b.ext[key]
}

// SetValue stores extension state (for example a socket table) on the board.
func (b *Board) SetValue(key, v any) {
	b.extMu.Lock()
	defer b.extMu.Unlock()
	b.ext[key] = v
}

// OnClose registers f to run when the board closes (reverse order).
func (b *Board) OnClose(f func()) {
	b.extMu.Lock()
	defer b.extMu.Unlock()
	b.closers = append(b.closers, f)
}

// Files returns a copy of the user files on the board's flash.
func (b *Board) Files() map[string][]byte { return b.fs.snapshot() }

// Uptime is the simulator time since the board's last hard reset.
func (b *Board) Uptime() time.Duration { return b.clock.Elapsed() - b.bootAt + b.cpuOwed() }

// Close stops the board and releases its memory. It is idempotent and may
// be called from any goroutine; a Run in progress returns Stopped.
func (b *Board) Close() error {
	b.closeOnce.Do(func() {
		b.closed.Store(true)
		b.stopping.Store(true)
		b.extMu.Lock()
		closers := b.closers
		b.closers = nil
		b.extMu.Unlock()
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
		b.actor.Load().Close()
		b.wd.stop()
	})
	return nil
}

type boardKey struct{}

// boardFrom returns the board whose call is in progress. It is where a
// stopped run leaves the guest: every host crossing passes here.
func boardFrom(ctx context.Context) *Board {
	b, _ := ctx.Value(boardKey{}).(*Board)
	if b == nil {
		panic(errors.New("host function called outside a board"))
	}
	if b.stopping.Load() {
		panic(errStopped)
	}
	return b
}

// errStopped is the panic value a host function uses to abandon the guest
// when the run is over (context done, board closed).
var errStopped = errors.New("board stopped")

// boot instantiates a fresh interpreter (a hard or soft reset).
func (b *Board) boot(ctx context.Context) error {
	if err := b.instantiate(ctx); err != nil {
		return err
	}
	return b.startInterpreter(ctx)
}

// instantiate replaces the interpreter instance with a fresh one (its
// memory holds only the firmware's data segments) and resets the host's
// per-instance state.
func (b *Board) instantiate(ctx context.Context) error {
	b.teardown()
	mod, err := b.fw.img.Runtime.InstantiateModule(withBoardMemory(ctx), b.fw.img.Compiled, wazeroFreshConfig())
	if err != nil {
		return fmt.Errorf("board %s: instantiating firmware: %w", b.cfg.Name, err)
	}
	b.mod = mod
	b.mem = mod.Memory()
	get := func(name string) api.Function { return mod.ExportedFunction(name) }
	b.fn = exports{
		malloc: get("malloc"), free: get("free"), doExec: get("mp_js_do_exec"), doImport: get("mp_js_do_import"),
		registerModule: get("mp_js_register_js_module"), replInit: get("mp_js_repl_init"), replChar: get("mp_js_repl_process_char"),
		cToJsCall: get("proxy_c_to_js_call"), lookupAttr: get("proxy_c_to_js_lookup_attr"), freeObj: get("proxy_c_free_obj"),
		stackInit: get("emscripten_stack_init"), ctors: get("__wasm_call_ctors"), mpInit: get("mp_js_init"), proxyInit: get("proxy_c_init"),
		stackGetCurrent: get("emscripten_stack_get_current"), stackGetBase: get("emscripten_stack_get_base"),
	}
	b.kbdMu.Lock()
	b.kbdFn = get("mp_sched_keyboard_interrupt")
	b.kbdMu.Unlock()
	b.inv = invokeState{fns: map[string][]api.Function{}, getSP: get("emscripten_stack_get_current"),
		restore: get("_emscripten_stack_restore"), setThrew: get("setThrew")}
	if g, ok := mod.ExportedGlobal(firmware.SPExport).(api.MutableGlobal); ok {
		b.inv.sp = g
	}
	b.refs = newJSRefs()
	b.fds = newFDTable()
	b.cwd = "/"
	b.pending = nil
	b.reserve = nil
	b.gcRef, b.gcScratch = 0, 0
	b.roots = rootList{}
	b.gcs = gcSafety{}
	b.useBootHeap(nil)
	b.pollCount, b.pollOwed = 0, 0
	b.resetCPU(mod)
	b.interrupted.Store(false)
	return nil
}

// startInterpreter starts MicroPython in a fresh instance, as the
// pyscript build's loader does.
func (b *Board) startInterpreter(ctx context.Context) error {
	get := func(name string) api.Function { return b.mod.ExportedFunction(name) }
	if b.fn.stackInit != nil {
		if _, err := b.fn.stackInit.Call(ctx); err != nil {
			return b.guestErr("initialising the stack", err)
		}
	}
	if _, err := b.fn.ctors.Call(ctx); err != nil {
		return b.guestErr("running constructors", err)
	}
	// The first C heap block marks where the heap starts: static objects
	// (builtin types, ROM) lie below it, heap objects above.
	if res, err := b.fn.malloc.Call(ctx, 16); err == nil && res[0] != 0 {
		b.heapLow = uint32(res[0])
		b.fn.free.Call(ctx, res[0])
	}
	if _, err := b.fn.mpInit.Call(ctx, pystackWords, uint64(b.gcHeapBytes())); err != nil {
		return b.guestErr("starting MicroPython", err)
	}
	if _, err := b.fn.proxyInit.Call(ctx); err != nil {
		return b.guestErr("starting the proxy layer", err)
	}
	for _, name := range hostabi.Modules() {
		if err := b.registerModule(ctx, name); err != nil {
			return err
		}
	}
	words := b.learnInterrupt(ctx, b.kbdFn, b.fn.stackGetBase, get("emscripten_stack_get_end"))
	intChar := b.learnInterruptChar(ctx, get)
	b.kbdMu.Lock()
	b.kbdWords, b.kbdMem, b.intCharAddr = words, b.mem, intChar
	b.kbdMu.Unlock()
	if err := b.reserveMemory(ctx); err != nil {
		return err
	}
	return nil
}

// wazeroFreshConfig instantiates the firmware without running anything:
// the board calls its initialisers itself.
func wazeroFreshConfig() wazero.ModuleConfig {
	return wazero.NewModuleConfig().WithName("").WithStartFunctions()
}

// teardown closes the current interpreter instance, if any.
func (b *Board) teardown() {
	if b.mod != nil {
		b.kbdMu.Lock()
		b.kbdFn = nil
		b.kbdWords, b.kbdMem, b.intCharAddr = nil, nil, 0
		b.kbdMu.Unlock()
		_ = b.mod.Close(context.Background())
		b.mod = nil
		b.mem = nil
	}
}

// libHeapAllowance is extra GC heap for the board's own /lib modules, which
// the real board keeps frozen in flash: they are compiled at boot and a
// pinned pad then leaves the script exactly its budget (see prepareHeap).
// An interactive board loads every module; when they outgrew 160 KiB (the
// drivers and networking libraries together) the modules past its end were
// overwritten and `import webrepl` gave an object of no type
// (TestBoardModulesFitTheirAllowance).
const libHeapAllowance = 320 * 1024

func (b *Board) gcHeapBytes() int { return b.cfg.HeapBytes + libHeapAllowance }

// reserveRemainder is how much of the C heap stays free for the firmware's
// own allocations (proxy buffers, strings crossing the boundary). It is kept
// below the GC heap so the GC can never grow past its budget: the pyscript
// build adds heap areas with malloc, at least doubling the heap each time.
func (b *Board) reserveRemainder() uint32 {
	r := uint32(b.cfg.HeapBytes) / 2
	if r > 24*1024 {
		r = 24 * 1024
	}
	return r
}

// reserveMemory allocates the C heap beyond a small remainder so that the
// GC heap cannot grow past HeapBytes (emscripten_resize_heap is refused, so
// the linear memory never grows either).
func (b *Board) reserveMemory(ctx context.Context) error {
	keep := b.reserveRemainder()
	type chunk struct{ p, n uint32 }
	var chunks []chunk
	size := uint32(b.mem.Size())
	for size >= 4096 {
		res, err := b.fn.malloc.Call(ctx, uint64(size))
		if err != nil {
			return b.guestErr("reserving memory", err)
		}
		if p := uint32(res[0]); p != 0 {
			chunks = append(chunks, chunk{p, size})
			continue
		}
		size /= 2
	}
	// Give back the smallest chunks until `keep` bytes are free, never as
	// much as the GC heap itself (the smallest area it would try to add).
	var freed uint32
	for len(chunks) > 0 {
		c := chunks[len(chunks)-1]
		if freed >= keep || freed+c.n >= uint32(b.cfg.HeapBytes)/2 {
			break
		}
		chunks = chunks[:len(chunks)-1]
		if _, err := b.fn.free.Call(ctx, uint64(c.p)); err != nil {
			return b.guestErr("reserving memory", err)
		}
		freed += c.n
	}
	b.reserve = b.reserve[:0]
	for _, c := range chunks {
		b.reserve = append(b.reserve, reserved{c.p, c.n})
	}
	return nil
}

// rescueMemory gives reserved C heap back to the firmware so it can format
// an uncaught exception after the script exhausted its heap (the firmware
// hangs if that formatting runs out of memory).
func (b *Board) rescueMemory() {
	need := 2*uint32(b.gcHeapBytes()) + 64*1024
	for len(b.reserve) > 0 {
		c := b.reserve[len(b.reserve)-1]
		b.reserve = b.reserve[:len(b.reserve)-1]
		b.callFree(c.p)
		if c.n >= need {
			return
		}
	}
}

// reserved is a C heap chunk held back from the firmware.
type reserved struct{ p, n uint32 }

// collectIfPending runs a real garbage collection when the firmware has
// asked for one (heap full or threshold crossed). The pyscript build only
// collects at its top level (no stack scanning in WebAssembly); host calls
// made by the board's /lib modules are the other points where the Python
// stack is in the scanned pystack, so the collection runs there: the
// firmware is made to believe it is back at its top level for one call.
func (b *Board) collectIfPending(ctx context.Context) {
	l := b.fw.img.Layout
	if !l.OK {
		return
	}
	pending, ok := b.mem.ReadByte(l.GCCollectPending)
	if !ok {
		return
	}
	// The firmware only flags a collection when its allocation counter
	// crosses the threshold, and buffers grown in place are not counted, so
	// also collect after a fixed amount of interpreter work (counted in
	// invoke_ crossings: deterministic, unlike wall time).
	if pending == 0 && b.inv.calls-b.inv.lastGC < gcEveryInvokes {
		return
	}
	depth, ok := b.mem.ReadUint32Le(l.ExternalCallDepth)
	if !ok {
		return
	}
	if b.gcRef == 0 {
		return
	}
	// A lookup of an int attribute allocates nothing, so it works even with
	// a full heap; leaving it at depth 0 runs gc_collect_top_level.
	p := b.gcScratch
	if b.collecting || !b.safeToCollect() {
		return // try again at a later host call
	}
	b.collecting = true
	defer func() { b.collecting = false }()
	defer b.cpuGC()()
	b.inv.lastGC = b.inv.calls
	n := b.copyStackRoots(ctx)
	b.mem.WriteUint32Le(l.ExternalCallDepth, 0)
	b.mem.WriteByte(l.GCCollectPending, 1)
	undo := b.markForCollector()
	_, err := b.fn.lookupAttr.Call(ctx, uint64(b.gcRef), uint64(p), uint64(p+4))
	if undo != nil {
		undo()
	}
	b.mem.WriteUint32Le(l.ExternalCallDepth, depth)
	for i := uint32(0); i < n; i++ {
		b.mem.WriteUint32Le(b.roots.items+4*i, b.roots.none)
	}
	if err != nil {
		panic(err)
	}
}

// copyStackRoots copies the live part of the C (shadow) stack into the
// root list so the collector sees pointers held there (nlr buffers with an
// exception in flight, address-taken locals such as vstr buffers). Values
// only in WebAssembly locals stay invisible; see the package doc.
func (b *Board) copyStackRoots(ctx context.Context) uint32 {
	if b.roots.items == 0 || b.fn.stackGetCurrent == nil || b.fn.stackGetBase == nil {
		return 0
	}
	cur, err := b.fn.stackGetCurrent.Call(ctx)
	if err != nil {
		panic(err)
	}
	base, err := b.fn.stackGetBase.Call(ctx)
	if err != nil {
		panic(err)
	}
	lo, hi := uint32(cur[0]), uint32(base[0])
	if hi <= lo {
		return 0
	}
	words := (hi - lo) / 4
	if words > b.roots.n {
		words = b.roots.n
	}
	data, ok := b.mem.Read(lo, words*4)
	if !ok {
		return 0
	}
	tmp := make([]byte, len(data))
	copy(tmp, data)
	b.mem.Write(b.roots.items, tmp)
	return words
}

// gcEveryInvokes is how much interpreter work (invoke_ crossings, a few per
// Python operation) may pass between collections at host calls.
const gcEveryInvokes = 10000

// guestErr turns an error from the guest into a Go error.
func (b *Board) guestErr(what string, err error) error {
	var exit *sys.ExitError
	if errors.As(err, &exit) || errors.Is(err, errStopped) || b.closed.Load() {
		return fmt.Errorf("board %s: %s: %w", b.cfg.Name, what, errStopped)
	}
	return fmt.Errorf("board %s: %s: firmware trapped: %w", b.cfg.Name, what, err)
}
