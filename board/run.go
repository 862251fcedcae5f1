package board

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"time"
)

// watchdogGrace is how long an interrupted runaway script gets to unwind
// before the interpreter is torn down.
const watchdogGrace = 2 * time.Second

// Run boots the board like an ESP8266 and runs it: boot.py, then main.py,
// then (when Config.Stdin is set) the REPL until its input ends. It follows
// machine.reset() and soft resets (Ctrl-D) up to Config.MaxResets. It
// returns when the board has nothing left to do or ctx ends (Stopped). The
// error is non-nil only for simulator faults (a host function panicked, the
// firmware trapped), never for a script's own errors.
func (b *Board) Run(ctx context.Context) (res Result, err error) {
	if b.closed.Load() {
		return Result{Outcome: Stopped, Message: "the board is closed"}, nil
	}
	stopCtx := ctx
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(error)
			if !ok {
				e = fmt.Errorf("%v", r)
			}
			res, err = b.classifyStop(stopCtx, res, e)
			if err != nil && !errors.Is(err, errStopped) {
				err = fmt.Errorf("board %s: internal error: %w", b.cfg.Name, err)
			}
		}
	}()
	if b.actorDone {
		b.actor.Store(b.clock.NewTurnActor("board/" + b.cfg.Name))
		b.actorDone = false
	}
	// When the run ends the board stops holding simulator time.
	defer func() {
		b.actor.Load().Close()
		b.actorDone = true
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b.stopping.Store(b.closed.Load())
	stopWatch := context.AfterFunc(ctx, func() { b.stopping.Store(true) })
	defer stopWatch()
	b.cancelMu.Lock()
	b.cancelRun = cancel
	b.cancelMu.Unlock()
	ctx = context.WithValue(ctx, boardKey{}, b)
	b.runCtx = ctx
	stopCtx = ctx
	defer b.teardown()
	defer b.wd.disarm()

	var input *stdinPump
	if b.cfg.Stdin != nil {
		input = newStdinPump(b, b.cfg.Stdin)
		defer input.stop()
	}
	defer func() { b.replMode = friendlyREPL }()
	if b.extReset.Swap(false) {
		// ExternalReset while no run was in progress.
		b.hardBoot(b.takeResetCause(resetExternal))
	}
	soft := false
	selfResets := 0
	for resets := 0; ; resets++ {
		res, again, err := b.runOnceSafe(ctx, input, soft)
		res.Resets = resets
		if err != nil && b.takeExternalReset(ctx) {
			// The RST pin: not the script resetting itself, so it does not
			// count towards MaxResets.
			b.hardBoot(b.takeResetCause(resetExternal))
			soft = false
			continue
		}
		if err != nil {
			return b.classifyStop(ctx, res, err)
		}
		if again == "" {
			return res, nil
		}
		cause := resetSoft
		if again != "soft" {
			// A peripheral's reboot (deep sleep's wake) has its own cause.
			cause = b.takeResetCause(resetSoft)
		}
		if b.fromREPL || cause == resetDeepSleep {
			// Typed at the REPL (Ctrl-D, a tool's soft reset before each
			// command): the person at the keyboard, not a reset loop.
			selfResets = 0
		} else {
			if selfResets >= b.cfg.MaxResets {
				return Result{Outcome: ResetLoop, Resets: resets, Message: fmt.Sprintf("board %s reset itself %d times; stopped following resets", b.cfg.Name, selfResets+1)}, nil
			}
			selfResets++
		}
		soft = again == "soft"
		if !soft {
			b.hardBoot(cause)
		}
	}
}

// runOnceSafe is runOnce with a panic that leaves the guest (a stopped
// run, an external reset) turned into its error, so Run can tell a reset
// from the end of the run.
func (b *Board) runOnceSafe(ctx context.Context, input *stdinPump, soft bool) (res Result, again string, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(error)
			if !ok || !isStop(e) {
				panic(r)
			}
			again, err = "", e
		}
	}()
	return b.runOnce(ctx, input, soft)
}

func (b *Board) classifyStop(ctx context.Context, res Result, err error) (Result, error) {
	if b.wd.hasFired() {
		return Result{Outcome: WatchdogExpired, Resets: res.Resets, Traceback: res.Traceback,
			Message: fmt.Sprintf("watchdog: board %s ran Python code for %v without waiting; the script was stopped (raise the watchdog budget if it is meant to compute that long)", b.cfg.Name, b.cfg.Watchdog)}, nil
	}
	var hp *hostPanic
	if errors.As(err, &hp) {
		return res, fmt.Errorf("board %s: %w", b.cfg.Name, hp)
	}
	if ctx.Err() != nil || b.closed.Load() || isStop(err) {
		return Result{Outcome: Stopped, Resets: res.Resets, Message: fmt.Sprintf("board %s was stopped", b.cfg.Name)}, nil
	}
	return res, err
}

// runOnce boots a fresh interpreter and runs boot.py, main.py and the REPL,
// as ports/esp8266/main.c's mp_reset and init_done do. again is "soft" or
// "hard" when the board must boot again.
func (b *Board) runOnce(ctx context.Context, input *stdinPump, soft bool) (res Result, again string, err error) {
	b.fromREPL = false
	b.out = outFilter{}
	b.hardwareBoot()
	b.beginSetup()
	inSetup := true
	defer func() {
		if inSetup {
			b.endSetup()
		}
	}()
	// Before the preload scan, so boot.py's imports are preloaded.
	b.firstBootSetup()
	interactive := input != nil
	key := b.snapKey(interactive)
	restored, err := b.restoreBootSnapshot(ctx, key)
	if err != nil {
		return res, "", err
	}
	if !restored {
		b.setupRec = b.newSetupRecord()
		defer func() { b.setupRec = nil }()
		if err := b.boot(ctx); err != nil {
			return res, "", err
		}
	}
	b.resetReq = ""
	b.cooked = interactive
	if soft {
		// Not part of the setup: it is written whatever the snapshot.
		rec := b.setupRec
		b.setupRec = nil
		b.consoleWrite([]byte("MPY: soft reboot\r\n"))
		b.setupRec = rec
	}
	if !restored {
		if err := b.setupInterpreter(ctx, interactive); err != nil {
			return res, "", err
		}
		rec := b.setupRec
		b.setupRec = nil
		b.keepBootSnapshot(key, rec)
	}
	if h := b.fw.snaps.onSetup; h != nil {
		h(b, restored)
	}
	inSetup = false
	b.endSetup()
	b.wd.arm(b.cfg.Watchdog, b.watchdogFired)
	return b.runFiles(ctx, input, soft)
}

// setupInterpreter prepares a freshly started interpreter as an ESP8266:
// the board profile, the surface, the board's own modules, the script's
// heap budget, the console and the collector.
func (b *Board) setupInterpreter(ctx context.Context, interactive bool) error {
	// The script's budget is held free (contiguous, at the bottom of the
	// heap) while the board's own modules load above it, then released.
	hold := fmt.Sprintf("import _esp8266\n_esp8266._hold(%d)\n_esp8266._probe()\n", b.cfg.HeapBytes)
	// The board's modules load from frozenDir (a boot's hideModules took
	// the built-in ones off it).
	b.fs.unhideFrozen()
	if err := b.exec(ctx, setupSource+surfaceSource+hold+b.preloadSource(interactive)); err != nil {
		return err
	}
	if err := b.applySurface(ctx); err != nil {
		return err
	}
	if err := b.exec(ctx, "_esp8266._fill()\n_esp8266._release()\nimport gc\ngc.collect()\ndel gc\n"); err != nil {
		return err
	}
	if err := b.exec(ctx, "_esp8266._settle()\n"); err != nil {
		return err
	}
	if err := b.setupConsole(ctx); err != nil {
		return err
	}
	// The RuntimeError a C stack overflow raises (cstack.go), made before
	// the script runs and kept alive by the _esp8266 module.
	if err := b.exec(ctx, "_esp8266._ovf = RuntimeError('maximum recursion depth exceeded')\nimport _board\n_board.overflow_exc(id(_esp8266._ovf))\ndel _board\n"); err != nil {
		return err
	}
	if err := b.exec(ctx, "del _esp8266\n"); err != nil {
		return err
	}
	if err := b.hideModules(ctx); err != nil {
		return err
	}
	if err := b.prepareCollector(ctx); err != nil {
		return err
	}
	b.recordBootHeap()
	return nil
}

// runFiles runs boot.py, main.py and the REPL in a set-up interpreter.
func (b *Board) runFiles(ctx context.Context, input *stdinPump, soft bool) (res Result, again string, err error) {
	interactive := input != nil

	// main.c: boot.py always; main.py only in the friendly REPL mode and
	// when boot.py did not end in an exception (pyexec_file_if_exists
	// returns 0, PYEXEC_UNHANDLED_EXCEPTION on this port, only then;
	// sys.exit() in boot.py is PYEXEC_FORCED_EXIT and main.py still runs).
	for _, file := range []string{"boot.py", "main.py"} {
		if file == "main.py" && b.replMode != friendlyREPL {
			break
		}
		if _, _, _, e := b.fs.stat("/" + file); e != 0 {
			continue
		}
		typ, text, err := b.runUserFile(ctx, file)
		if err != nil {
			return res, "", err
		}
		if b.resetReq != "" {
			return res, b.resetReq, nil
		}
		if typ == "" {
			continue
		}
		if typ == "SystemExit" {
			// sys.exit() (or machine.soft_reset()): no traceback, like
			// pyexec_file; main.py ends and the REPL follows.
			if !interactive && file == "main.py" {
				return Result{Outcome: Finished}, "", nil
			}
			continue
		}
		b.cookedWrite([]byte(text))
		if b.wd.hasFired() {
			return Result{Traceback: text}, "", errStopped
		}
		if file == "main.py" {
			res = Result{Outcome: Exception, ExceptionType: typ, Traceback: text}
		}
		if file == "boot.py" {
			res = Result{Outcome: Exception, ExceptionType: typ, Traceback: text}
			break
		}
	}
	// WebREPL (started by boot.py or main.py) keeps the board at its REPL
	// with no serial input, as the board's REPL serves its dupterm.
	if !interactive && b.webREPL() == nil {
		return res, "", nil
	}
	again, err = b.repl(ctx, soft)
	b.fromREPL = again != ""
	return Result{Outcome: Finished}, again, err
}

// runUserFile runs boot.py or main.py as pyexec_file does: with Ctrl-C
// armed as the interrupt character while it runs.
func (b *Board) runUserFile(ctx context.Context, file string) (typ, text string, err error) {
	b.setInterruptChar(ctrlC)
	defer b.setInterruptChar(-1)
	return b.execFile(ctx, file)
}

// setupSource prepares a fresh interpreter as an ESP8266 (_esp8266
// installs the board profile). While the board's modules load, sys.path is
// frozenDir alone: a user's file named like one of them (time.py) is
// neither run at boot nor taken for the board's, and the webassembly
// firmware's frozen modules stay out of reach. _surface.hide then sets the
// board's sys.path: the current directory, the frozen modules (frozenDir),
// "/lib" and "/".
const setupSource = "import sys\nsys.path[:] = ['" + frozenDir + "']\nimport _esp8266\ndel sys\n"

// preloadSource imports, once at boot, the board's own modules its
// scripts import (every module when the board is interactive), so their
// code sits in the heap allowance rather than in the script's budget: on
// the real board they are frozen in flash. Compiling them is most of a
// board's boot time, hence the scan instead of loading everything.
func (b *Board) preloadSource(all bool) string {
	var names []string
	for _, n := range b.libModulesUsed(all) {
		names = append(names, fmt.Sprintf("%q", n))
	}
	if len(names) == 0 {
		return "import gc\ngc.collect()\ndel gc\n"
	}
	return "import gc\nfor _m in (" + strings.Join(names, ", ") + ",):\n    try:\n        __import__(_m)\n    except Exception:\n        pass\ndel _m\ngc.collect()\ndel gc\n"
}

var importRE = regexp.MustCompile(`(?m)^[ \t]*(?:import[ \t]+([\w., \t]+)|from[ \t]+([\w.]+)[ \t]+import)`)

// libModulesUsed lists the board's own modules named in import statements of the
// Python files on flash (or all of them).
func (b *Board) libModulesUsed(all bool) []string {
	// lib holds module names, a package's modules dotted (umqtt.simple).
	lib := map[string]bool{}
	_ = fs.WalkDir(libFS, "lib", func(p string, e fs.DirEntry, err error) error {
		n, ok := strings.CutSuffix(strings.TrimPrefix(p, "lib/"), ".py")
		n = strings.TrimSuffix(n, "/__init__")
		// upysh and webrepl_setup act when imported: load them when the
		// script does. _helpmods loads when help('modules') asks.
		if err == nil && ok && n != "_esp8266" && n != "_sys" && n != "_gc" && n != "upysh" && n != "webrepl_setup" && n != "_helpmods" {
			lib[strings.ReplaceAll(n, "/", ".")] = true
		}
		return nil
	})
	want := map[string]bool{}
	if all {
		want = lib
	} else {
		for name, data := range b.fs.snapshot() {
			if !strings.HasSuffix(name, ".py") {
				continue
			}
			for _, m := range importRE.FindAllStringSubmatch(string(data), -1) {
				list := m[1]
				if m[2] != "" {
					list = m[2]
				}
				for _, part := range strings.Split(list, ",") {
					f := strings.Fields(part)
					if len(f) == 0 {
						continue
					}
					mod := strings.SplitN(f[0], ".", 2)[0]
					switch {
					case lib[f[0]]:
						want[f[0]] = true
					case lib[mod]:
						want[mod] = true
					}
				}
			}
		}
	}
	var out []string
	for n := range want {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (b *Board) watchdogFired() {
	b.interruptNow()
	time.AfterFunc(watchdogGrace, func() {
		b.cancelMu.Lock()
		defer b.cancelMu.Unlock()
		if b.cancelRun != nil {
			b.cancelRun()
		}
	})
}

// exec runs Python source at the top level (mp_js_do_exec); an exception
// is printed to the console like the REPL would.
func (b *Board) exec(ctx context.Context, src string) error {
	p := b.malloc(ctx, uint32(len(src)+1+12+4))
	if p == 0 {
		return fmt.Errorf("board %s: out of memory starting the interpreter", b.cfg.Name)
	}
	defer b.callFree(p)
	b.mem.Write(p, []byte(src))
	b.mem.WriteByte(p+uint32(len(src)), 0)
	out := (p + uint32(len(src)) + 4) &^ 3
	if _, err := b.topCall(ctx, b.fn.doExec, uint64(p), uint64(len(src)), uint64(out)); err != nil {
		return b.guestErr("running setup", err)
	}
	_, err := b.readMP(out)
	b.afterTopLevel(ctx)
	var ge *guestException
	if errors.As(err, &ge) {
		_, text := ge.split()
		b.cookedWrite([]byte(text))
		return nil
	}
	return err
}

// prepareCollector keeps what collectIfPending needs for this boot.
func (b *Board) prepareCollector(ctx context.Context) error {
	mod, err := b.importPy(ctx, "_esp8266")
	if err != nil {
		return err
	}
	if n := len(b.refs.pendingFree); n > 0 && b.refs.pendingFree[n-1] == mod.Ref() {
		b.refs.pendingFree = b.refs.pendingFree[:n-1]
	}
	p, err := b.scratch(ctx, 4+12)
	if err != nil {
		return err
	}
	b.mem.Write(p, []byte("_GC\x00"))
	b.gcRef, b.gcScratch = mod.Ref(), p
	// The root list: mp_obj_list_t{base, alloc, len, items}.
	fn, err := b.attrPy(ctx, mod, "_roots_addr")
	if err != nil {
		return err
	}
	v, err := b.callPy(ctx, fn)
	if err != nil {
		return err
	}
	if addr, ok := v.(int64); ok && addr > 0 {
		alloc, _ := b.mem.ReadUint32Le(uint32(addr) + 4)
		items, _ := b.mem.ReadUint32Le(uint32(addr) + 12)
		none, _ := b.mem.ReadUint32Le(items)
		if alloc > 0 && items != 0 {
			b.roots = rootList{items: items, n: alloc, none: none}
		}
	}
	return nil
}

// rootList is a Python list the host fills with the words of the C stack
// during a mid-script collection.
type rootList struct {
	items, n, none uint32
}

// afterTopLevel runs when control is back at the top level.
func (b *Board) afterTopLevel(ctx context.Context) {
	b.releasePyRefs(ctx)
}

// execFile runs a flash file in the __main__ module's globals with
// execfile(), called directly from the host so the traceback holds only the
// script's own frames, exactly as pyexec_file prints them on the board.
func (b *Board) execFile(ctx context.Context, name string) (typ, text string, err error) {
	mod, err := b.importPy(ctx, "_esp8266")
	if err != nil {
		return "", "", err
	}
	runner, err := b.attrPy(ctx, mod, "_run")
	if err != nil {
		return "", "", err
	}
	mainDict, err := b.mainDict(ctx)
	if err != nil {
		return "", "", err
	}
	_, err = b.callPy(ctx, runner, name, mainDict)
	b.afterTopLevel(ctx)
	var ge *guestException
	if errors.As(err, &ge) {
		typ, text := ge.split()
		return typ, text, nil
	}
	return "", "", err
}

// builtin returns a handle to a builtins attribute.
func (b *Board) builtin(ctx context.Context, name string) (PyObject, error) {
	mod, err := b.importPy(ctx, "builtins")
	if err != nil {
		return PyObject{}, err
	}
	return b.attrPy(ctx, mod, name)
}

func (b *Board) mainDict(ctx context.Context) (PyObject, error) {
	mod, err := b.importPy(ctx, "__main__")
	if err != nil {
		return PyObject{}, err
	}
	return b.attrPy(ctx, mod, "__dict__")
}

// scratch allocates n bytes of guest memory for one top-level call.
func (b *Board) scratch(ctx context.Context, n uint32) (uint32, error) {
	p := b.malloc(ctx, n)
	if p == 0 {
		return 0, fmt.Errorf("board %s: out of C heap", b.cfg.Name)
	}
	return p, nil
}

func (b *Board) importPy(ctx context.Context, name string) (PyObject, error) {
	p, err := b.scratch(ctx, uint32(len(name)+1+16))
	if err != nil {
		return PyObject{}, err
	}
	defer b.callFree(p)
	b.mem.Write(p, append([]byte(name), 0))
	out := (p + uint32(len(name)) + 4) &^ 3
	if _, err := b.topCall(ctx, b.fn.doImport, uint64(p), uint64(out)); err != nil {
		return PyObject{}, b.guestErr("importing "+name, err)
	}
	return b.readObj(out, "import "+name)
}

func (b *Board) attrPy(ctx context.Context, obj PyObject, attr string) (PyObject, error) {
	p, err := b.scratch(ctx, uint32(len(attr)+1+16))
	if err != nil {
		return PyObject{}, err
	}
	defer b.callFree(p)
	b.mem.Write(p, append([]byte(attr), 0))
	out := (p + uint32(len(attr)) + 4) &^ 3
	if _, err := b.topCall(ctx, b.fn.lookupAttr, uint64(obj.Ref()), uint64(p), uint64(out)); err != nil {
		return PyObject{}, b.guestErr("looking up "+attr, err)
	}
	return b.readObj(out, "attribute "+attr)
}

func (b *Board) readObj(out uint32, what string) (PyObject, error) {
	v, err := b.readMP(out)
	if err != nil {
		return PyObject{}, fmt.Errorf("board %s: %s: %w", b.cfg.Name, what, err)
	}
	o, ok := v.(PyObject)
	if !ok {
		return PyObject{}, fmt.Errorf("board %s: %s: got %T", b.cfg.Name, what, v)
	}
	return o, nil
}

// callPy calls a Python callable from the host (proxy_c_to_js_call).
func (b *Board) callPy(ctx context.Context, fn PyObject, args ...Value) (Value, error) {
	n := uint32(len(args))
	p, err := b.scratch(ctx, 12*n+12)
	if err != nil {
		return nil, err
	}
	defer b.callFree(p)
	for i, a := range args {
		b.writeJS(ctx, p+12*uint32(i), a)
	}
	out := p + 12*n
	if _, err := b.topCall(ctx, b.fn.cToJsCall, uint64(fn.Ref()), uint64(n), uint64(p), uint64(out)); err != nil {
		return nil, b.guestErr("calling Python", err)
	}
	return b.readMP(out)
}
