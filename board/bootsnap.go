package board

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"sync"

	"github.com/tetratelabs/wazero/api"

	"github.com/esp8266sim/esp8266sim/board/firmware"
)

// Boot snapshots (issue 8: one board boots to idle in a few milliseconds).
//
// Preparing a fresh interpreter (runOnce's setup: the board profile, the
// surface patch, the board's own modules compiled from source, the heap
// fill) is most of a boot, and it is the same work for every board with the
// same heap budget, console mode and preloaded modules: on the real board
// those modules are frozen bytecode in flash. The first such boot in a
// process runs the setup and records what it asked of the host
// (setupRecord); when nothing it asked depends on the board (its name, MAC,
// clock, files other than the ones it read, host state other than what is
// captured here), the interpreter's linear memory and the host's
// per-instance state are kept, and later boots with the same key restore
// them into a fresh instance instead of running the setup again. The one
// board-dependent value the setup takes, the random module's seed, is drawn
// from the board's own generator at the same point of its sequence and
// written where the seed lives. A restored interpreter is byte for byte the
// one the setup would have built (TestBootSnapshotMatchesSetup).

// bootSnapshot is an interpreter's state at the end of setup.
type bootSnapshot struct {
	// pages are the 4 KiB pages of linear memory that differ from a fresh
	// instance's, by offset.
	pages    []snapPage
	memSize  uint32
	sp       uint64
	count    uint64
	hasCount bool
	// fsPaths and fsPrint: what the setup read of the filesystem.
	fsPaths map[string]bool
	fsPrint string
	// randAddr is where the random module keeps its seed (0: no draw).
	randAddr uint32
	nRandoms int
	replay   []setupCall

	refs      jsRefs
	reserve   []reserved
	heapLow   uint32
	gcRef     uint32
	gcScratch uint32
	roots     rootList
	gcs       gcSafety
	ovf       overflowRaise
	kbdWords  []kbdWord
	intChar   uint32
	// irq is where machine's handler runner is (hwirq.go): machine's
	// import tells the host during the setup.
	irq irqState
	// hidden are the board modules whose files hideModules took off
	// frozenDir (fs_frozen.go): host state, re-applied at a restore.
	hidden []string
	// boot is the heap as the setup left it, which the host's marker
	// reads through (gcboot.go); shared by every restored board.
	boot *bootHeap
	// fileKinds and tbHidden are the host's memos of which qstrs name
	// which files (cpuframes.go, tracehide.go) as the setup left them: a
	// restored board does not ask the firmware what the set-up one
	// remembers (the asking leaves no trace either, qstrText).
	fileKinds map[uint32]uint8
	tbHidden  map[uint32]bool
}

type snapPage struct {
	off  uint32
	data []byte
}

// bootSnaps is a firmware's snapshots by key.
type bootSnaps struct {
	mu sync.Mutex
	// disabled turns snapshots off (tests compare against the full setup).
	disabled bool
	// onSetup, when set (tests), sees each board once its interpreter is
	// set up, and whether a snapshot did it.
	onSetup func(b *Board, restored bool)
	byKey   map[string]*bootSnapshot
	// fresh holds the non-zero pages of a fresh instance's memory.
	fresh map[uint32][]byte
}

// maxBootSnaps bounds how many distinct setups a process keeps (each is
// about the memory one booted board has written).
const maxBootSnaps = 16

const snapPageSize = 4096

// pureSetupCalls are host functions the setup may call without its result
// depending on the board: file reads (checked by fingerprint), proxy
// plumbing, the heap-growth refusal, and the calls whose effects the
// snapshot carries (probe: gcs; overflow_exc: ovf; the random seed).
var pureSetupCalls = map[string]bool{
	"__syscall_openat": true, "__syscall_stat64": true, "__syscall_fstat64": true,
	"__syscall_newfstatat": true, "__syscall_lstat64": true, "fd_close": true,
	"fd_read": true, "fd_seek": true, "lookup_attr": true, "has_attr": true,
	"call0": true, "call1": true, "call2": true, "calln": true,
	"proxy_js_free_obj": true, "emscripten_resize_heap": true,
	"mp_js_random_u32": true, "_board.probe": true, "_board.overflow_exc": true,
	// machine's import hooks its interrupt runner (the snapshot carries
	// irqState; the scheduler's layout is learnt once per firmware).
	// hideModules' keep: its effect is on the refs the snapshot carries.
	"_board.keep":    true,
	"_hw.sched_mark": true, "_hw.irq_hook": true, "_hw.irq_begin": true, "_hw.irq_end": true,
}

// replaySetupCalls are host functions without arguments whose effect is
// on host state of the current instance, or whose answer depends on the
// board's world: a restore calls them again, and falls back to the full
// setup unless each answers what it answered the setup.
var replaySetupCalls = map[string]bool{"_sock.init": true, "_sock.tls_flavor": true}

// snapKey names what the setup's result depends on besides the record.
func (b *Board) snapKey(interactive bool) string {
	return fmt.Sprintf("%d|%v|%s", b.cfg.HeapBytes, interactive, b.preloadSource(interactive))
}

// restoreBootSnapshot gives the board a fresh instance in the state the
// setup leaves, if a snapshot for key fits this board. It reports whether
// it did; when not, the board is as it was.
func (b *Board) restoreBootSnapshot(ctx context.Context, key string) (bool, error) {
	bs := &b.fw.snaps
	bs.mu.Lock()
	s := bs.byKey[key]
	disabled := bs.disabled
	bs.mu.Unlock()
	// As the setup does first: the board's modules are on frozenDir.
	b.fs.unhideFrozen()
	if s == nil || disabled || b.fsFingerprint(s.fsPaths) != s.fsPrint {
		return false, nil
	}
	if err := b.instantiate(ctx); err != nil {
		return false, err
	}
	if b.mem.Size() != s.memSize {
		return false, fmt.Errorf("board %s: restoring boot snapshot: memory is %d bytes, not %d", b.cfg.Name, b.mem.Size(), s.memSize)
	}
	if b.fn.stackInit != nil {
		// Sets the stack bounds (globals only): the same in every instance.
		if _, err := b.fn.stackInit.Call(ctx); err != nil {
			return false, b.guestErr("initialising the stack", err)
		}
	}
	for _, p := range s.pages {
		b.mem.Write(p.off, p.data)
	}
	if b.inv.sp != nil {
		b.inv.sp.Set(s.sp)
	}
	if g, ok := b.mod.ExportedGlobal(firmware.SafepointCountdownExport).(api.MutableGlobal); ok && s.hasCount {
		g.Set(s.count)
	}
	b.refs = jsRefs{objs: append([]any(nil), s.refs.objs...), keyOf: maps.Clone(s.refs.keyOf), next: s.refs.next,
		pendingFree: append([]uint32(nil), s.refs.pendingFree...)}
	b.reserve = append([]reserved(nil), s.reserve...)
	b.heapLow, b.gcRef, b.gcScratch, b.roots, b.ovf = s.heapLow, s.gcRef, s.gcScratch, s.roots, s.ovf
	b.gcs = s.gcs
	b.useBootHeap(s.boot)
	if s.fileKinds != nil && s.tbHidden != nil {
		b.cpu.fileKind = maps.Clone(s.fileKinds)
		b.tracebackHide().hidden = maps.Clone(s.tbHidden)
	}
	b.gcs.callTypes, b.gcs.objs = maps.Clone(s.gcs.callTypes), maps.Clone(s.gcs.objs)
	b.kbdMu.Lock()
	b.kbdWords, b.kbdMem, b.intCharAddr = s.kbdWords, b.mem, s.intChar
	b.kbdMu.Unlock()
	for _, c := range s.replay {
		v, err := b.runHostFunc(c.f, nil)
		if err != nil || fmt.Sprintf("%#v", v) != c.result {
			// This board's world answers differently: set up in full
			// (before drawing from the board's generator, which the full
			// setup does itself).
			return false, nil
		}
	}
	for i := 0; i < s.nRandoms; i++ {
		v := b.rng.Uint32()
		if i == 0 && s.randAddr != 0 {
			b.mem.WriteUint32Le(s.randAddr, v)
		}
	}
	irq := s.irq
	b.SetValue(irqKey{}, &irq)
	b.fs.hideFrozen(s.hidden)
	return true, nil
}

// keepBootSnapshot stores the state the setup just built under key when
// the record shows no other board could have got a different one.
func (b *Board) keepBootSnapshot(key string, rec *setupRecord) {
	bs := &b.fw.snaps
	bs.mu.Lock()
	full := bs.disabled || bs.byKey[key] != nil || len(bs.byKey) >= maxBootSnaps
	bs.mu.Unlock()
	if full || !b.snapshotable(rec) {
		return
	}
	fresh, err := b.fw.freshPages()
	if err != nil {
		return
	}
	size := b.mem.Size()
	mem, ok := b.mem.Read(0, size)
	if !ok {
		return
	}
	// The fingerprint is of the filesystem as the setup found it, before
	// hideModules took the board's modules off frozenDir (a restore
	// compares it after unhiding them, as the setup does first).
	hidden := b.fs.hiddenFrozen()
	b.fs.unhideFrozen()
	fsPrint := b.fsFingerprint(rec.paths)
	b.fs.hideFrozen(hidden)
	s := &bootSnapshot{memSize: size, fsPaths: maps.Clone(rec.paths), fsPrint: fsPrint, hidden: hidden,
		nRandoms: len(rec.randoms), heapLow: b.heapLow, gcRef: b.gcRef, gcScratch: b.gcScratch, roots: b.roots, ovf: b.ovf}
	zero := make([]byte, snapPageSize)
	for off := uint32(0); off+snapPageSize <= size; off += snapPageSize {
		page := mem[off : off+snapPageSize]
		want, ok := fresh[off]
		if !ok {
			want = zero
		}
		if !bytes.Equal(page, want) {
			s.pages = append(s.pages, snapPage{off, append([]byte(nil), page...)})
		}
	}
	if len(rec.randoms) > 0 {
		if s.randAddr = findRandomSeed(mem[:b.heapLow&^3], rec.randoms[0]); s.randAddr == 0 {
			return
		}
	}
	if b.inv.sp != nil {
		s.sp = b.inv.sp.Get()
	}
	if g, ok := b.mod.ExportedGlobal(firmware.SafepointCountdownExport).(api.MutableGlobal); ok {
		s.count, s.hasCount = g.Get(), true
	}
	s.replay = append([]setupCall(nil), rec.replay...)
	s.refs = jsRefs{objs: append([]any(nil), b.refs.objs...), keyOf: maps.Clone(b.refs.keyOf), next: b.refs.next,
		pendingFree: append([]uint32(nil), b.refs.pendingFree...)}
	s.reserve = append([]reserved(nil), b.reserve...)
	s.gcs = b.gcs
	s.boot = b.gcb.heap
	s.fileKinds, s.tbHidden = maps.Clone(b.cpu.fileKind), maps.Clone(b.tracebackHide().hidden)
	s.gcs.callTypes, s.gcs.objs = maps.Clone(b.gcs.callTypes), maps.Clone(b.gcs.objs)
	b.kbdMu.Lock()
	s.kbdWords, s.intChar = b.kbdWords, b.intCharAddr
	b.kbdMu.Unlock()
	s.irq = *b.irq()
	s.irq.mark = nil
	bs.mu.Lock()
	if bs.byKey == nil {
		bs.byKey = map[string]*bootSnapshot{}
	}
	if bs.byKey[key] == nil && len(bs.byKey) < maxBootSnaps {
		bs.byKey[key] = s
	}
	bs.mu.Unlock()
}

// snapshotable reports whether the setup just run depended on nothing
// but the snapshot's key and what the snapshot carries.
func (b *Board) snapshotable(rec *setupRecord) bool {
	// A setup that polled or took simulated time would leave the clock
	// somewhere a restore does not.
	if rec == nil || rec.console != 0 || len(rec.randoms) > 1 || b.pending != nil || b.hostFault != nil ||
		len(b.fds.files) != 0 || b.cwd != "/" || b.mem == nil || b.pollCount != 0 || b.pollOwed != 0 ||
		b.clock.Elapsed() != rec.elapsed {
		return false
	}
	for name := range rec.calls {
		if !pureSetupCalls[name] && !replaySetupCalls[name] {
			return false
		}
	}
	for _, c := range rec.replay {
		if !replaySetupCalls[c.f.module+"."+c.f.name] {
			return false
		}
	}
	for _, o := range b.refs.objs {
		switch o.(type) {
		case nil, undefinedT, hostModuleRef, hostFuncRef:
		default:
			return false // a host object with state of its own
		}
	}
	return true
}

// findRandomSeed finds the random module's state in static memory: the
// seed word followed by yasmarang_n = 69 and yasmarang_d = 233, as
// mod_random_seed leaves them (extmod/modrandom.c). 0 unless exactly one.
func findRandomSeed(static []byte, seed uint32) uint32 {
	le := binary.LittleEndian
	found := uint32(0)
	for a := 0; a+12 <= len(static); a += 4 {
		if le.Uint32(static[a:]) == seed && le.Uint32(static[a+4:]) == 69 && le.Uint32(static[a+8:]) == 233 {
			if found != 0 {
				return 0
			}
			found = uint32(a)
		}
	}
	return found
}

// freshPages returns the non-zero pages of a fresh instance's memory (its
// data segments), computed once per firmware.
func (f *Firmware) freshPages() (map[uint32][]byte, error) {
	f.snaps.mu.Lock()
	defer f.snaps.mu.Unlock()
	if f.snaps.fresh != nil {
		return f.snaps.fresh, nil
	}
	ctx := withBoardMemory(context.Background())
	mod, err := f.img.Runtime.InstantiateModule(ctx, f.img.Compiled, wazeroFreshConfig())
	if err != nil {
		return nil, err
	}
	defer mod.Close(context.Background())
	mem := mod.Memory()
	all, ok := mem.Read(0, mem.Size())
	if !ok {
		return nil, fmt.Errorf("reading a fresh instance's memory")
	}
	fresh := map[uint32][]byte{}
	zero := make([]byte, snapPageSize)
	for off := uint32(0); off+snapPageSize <= uint32(len(all)); off += snapPageSize {
		if p := all[off : off+snapPageSize]; !bytes.Equal(p, zero) {
			fresh[off] = append([]byte(nil), p...)
		}
	}
	f.snaps.fresh = fresh
	return fresh, nil
}
