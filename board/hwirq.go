package board

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// Interrupt handlers (Pin.irq, machine.Timer callbacks) run when the board
// checks its pending callbacks, as the port's mp_handle_pending does: at the
// VM's jump instructions, and inside every wait (a sleep, a blocking socket
// call, select/poll, input(), the REPL waiting for a key).
//
// Waits: the board's waits (Sleep, Park) are host calls made from Python, a
// clean point like the C code that calls mp_handle_pending in a wait. There
// the board calls machine._run, the Python side's handler runner, re-entrantly
// (callPy), and then goes on waiting; a wait never parks past the next
// hardware event that may make a handler due.
//
// Busy loops: a `while True: pass` makes no host call, only reaches the
// loop safe point (safepoint.go), which may sit in any C loop (the collector,
// a copy): no Python may run there. It does what the chip's interrupt
// handler does instead: it puts machine._run in the scheduler's queue
// (mp_sched_schedule's few stores), and the VM runs it at its next jump.
// The queue's place in static memory is learnt once per firmware, as the
// keyboard interrupt's words are (interrupt.go): machine.py schedules _run
// once between two host calls and the board diffs static memory around it.

// schedLayout is where the firmware keeps its scheduler (py/mpstate.h):
// the word holding sched_state (int16), sched_len and sched_idx (uint8
// each), and sched_queue, schedDepth (func, arg) pairs.
type schedLayout struct {
	state, queue uint32
}

// schedDepth is MICROPY_SCHEDULER_DEPTH (py/mpconfig.h's default, which the
// webassembly port keeps).
const schedDepth = 4

// mp_sched_state values (py/mpstate.h).
const (
	schedIdle    = 1
	schedPending = 0
)

// schedLayouts caches each firmware's learnt layout: static memory is the
// same in every instance of a firmware image.
var schedLayouts sync.Map // *Firmware → schedLayout

// spinCharge is the ESP8266 CPU time of one safe-point interval
// (safepointEvery loop iterations at about 2.2 ns each, the calibration of
// issue #20's CPU model) that a busy loop spends while it waits for an
// interrupt: without it simulated time would stand still in fast mode and
// the button press or timer expiry the loop waits for would never come.
// The board charges it only while a handler is armed and only with
// --cpu native: the CPU model (cputime.go) charges every interval itself.
const spinCharge = 145 * time.Microsecond

// irqState is the board's side of the handler runner, reset at each boot.
type irqState struct {
	runID   uint32 // id(machine._run): its address, for the queue
	noneID  uint32 // id(None)
	hooked  bool
	mark    []byte // static memory before the learning schedule
	queued  bool   // _run is in the scheduler's queue, not yet run
	running bool   // a handler is running: handlers do not nest
}

type irqKey struct{}

func (b *Board) irq() *irqState {
	s, _ := b.Value(irqKey{}).(*irqState)
	if s == nil {
		s = &irqState{}
		b.SetValue(irqKey{}, s)
	}
	return s
}

// irqBoot forgets the previous interpreter's runner.
func (b *Board) irqBoot() { b.SetValue(irqKey{}, &irqState{}) }

// serveIRQs runs the handlers that are due at the current time, from a wait.
func (b *Board) serveIRQs() {
	s := b.irq()
	if !s.hooked || s.running || b.runCtx == nil {
		return
	}
	if !b.Hardware().Advance(b.clock.Elapsed()) {
		return
	}
	// machine._run is looked up at each use: a handle kept across calls
	// would hold a slot of the firmware's proxy table, heap the script's.
	// Errors are the handler's (printed by _run) or the run ending, which
	// the wait that called us sees next.
	b.callNested("machine", "_run", nil)
}

// nestedCalls caches, per interpreter and nesting depth, the exported
// functions a host function uses to call Python while another Python call
// is on the stack: wazero's call engine of an exported function is not
// re-entrant (the outer call's state would be overwritten and its
// exception lost), so each depth gets its own, as invoke_ does.
type nestedCalls struct {
	mod   api.Module
	depth int
	fns   [][3]api.Function // doImport, lookupAttr, cToJsCall
}

type nestedKey struct{}

// callNested calls module.name(arg) (no argument when arg is nil) from a
// host function, on call engines of its own; errors (the callee's
// exception, the run ending) are dropped: the caller's own wait or output
// goes on, and the run's end is seen there.
func (b *Board) callNested(module, name string, arg Value) {
	n, _ := b.Value(nestedKey{}).(*nestedCalls)
	if n == nil || n.mod != b.mod {
		n = &nestedCalls{mod: b.mod}
		b.SetValue(nestedKey{}, n)
	}
	for len(n.fns) <= n.depth {
		get := b.mod.ExportedFunction
		n.fns = append(n.fns, [3]api.Function{get("mp_js_do_import"), get("proxy_c_to_js_lookup_attr"), get("proxy_c_to_js_call")})
	}
	saved := b.fn
	f := n.fns[n.depth]
	b.fn.doImport, b.fn.lookupAttr, b.fn.cToJsCall = f[0], f[1], f[2]
	n.depth++
	defer func() {
		n.depth--
		b.fn.doImport, b.fn.lookupAttr, b.fn.cToJsCall = saved.doImport, saved.lookupAttr, saved.cToJsCall
	}()
	ctx := b.runCtx
	mod, err := b.importPy(ctx, module)
	if err != nil {
		return
	}
	fn, err := b.attrPy(ctx, mod, name)
	if err != nil {
		return
	}
	if arg == nil {
		_, _ = b.callPy(ctx, fn)
	} else {
		_, _ = b.callPy(ctx, fn, arg)
	}
}

// hwWaitStep caps a wait of d at the next hardware event that may make a
// handler due, so the wait can serve it.
func (b *Board) hwWaitStep(d time.Duration) time.Duration {
	s := b.irq()
	if !s.hooked || s.running {
		return d
	}
	now := b.clock.Elapsed()
	if n, ok := b.Hardware().Next(now); ok && (d < 0 || n-now < d) {
		return n - now
	}
	return d
}

// irqSafepoint queues the handler runner from the loop safe point when a
// handler is due, and charges a spinning loop its CPU time while one is
// armed.
func (b *Board) irqSafepoint() {
	s := b.irq()
	if !s.hooked || s.running || s.queued {
		return
	}
	hw := b.Hardware()
	now := b.clock.Elapsed()
	if !hw.Advance(now) {
		if _, armed := hw.Next(now); !armed || b.cpu.model == CPUBoard {
			// Under the CPU model the loop paid its own time
			// (cpuSafepoint); spinCharge stands in for it only
			// with --cpu native.
			return
		}
		// Only the clock moves during the park: no Python runs here.
		err := b.block(func(ctx context.Context) error {
			return b.actor.Load().Park(ctx, spinCharge)
		})
		switch err {
		case nil:
		case ErrInterrupted:
			b.raiseKeyboardInterrupt() // the VM raises it at its next check
		default:
			panic(errStopped) // the run is over: abandon the guest
		}
		if !hw.Advance(b.clock.Elapsed()) {
			return
		}
	}
	b.irqQueue()
}

// irqQueue puts the handler runner in the scheduler's queue, as the port's
// interrupt handlers call mp_sched_schedule. Without a learnt queue the
// handlers wait for the board's next wait.
func (b *Board) irqQueue() {
	s := b.irq()
	if !s.hooked || s.queued {
		return
	}
	if l, ok := schedLayouts.Load(b.fw); ok {
		s.queued = b.schedule(l.(schedLayout), s.runID, s.noneID)
	}
}

// schedule is mp_sched_schedule(fn, arg): false when the queue is full (the
// interrupt is lost, as on the chip).
func (b *Board) schedule(l schedLayout, fn, arg uint32) bool {
	w, ok := b.mem.ReadUint32Le(l.state)
	if !ok {
		return false
	}
	state, n, idx := int16(w), w>>16&0xff, w>>24
	if n >= schedDepth {
		return false
	}
	if state == schedIdle {
		state = schedPending
	}
	slot := l.queue + 8*((idx+n)&(schedDepth-1))
	b.mem.WriteUint32Le(slot, fn)
	b.mem.WriteUint32Le(slot+4, arg)
	b.mem.WriteUint32Le(l.state, uint32(uint16(state))|(n+1)<<16|idx<<24)
	return true
}

// schedMark snapshots static memory before machine.py's learning schedule.
func (b *Board) schedMark() {
	if _, ok := schedLayouts.Load(b.fw); ok || b.heapLow == 0 {
		return
	}
	if view, ok := b.mem.Read(0, b.heapLow&^3); ok {
		b.irq().mark = append([]byte(nil), view...)
	}
}

// schedLearn finds the queue slot holding (fn, arg) and the state word that
// went from idle to pending with one more entry.
func (b *Board) schedLearn(fn, arg uint32) {
	s := b.irq()
	before := s.mark
	s.mark = nil
	if before == nil {
		return
	}
	after, ok := b.mem.Read(0, uint32(len(before)))
	if !ok {
		return
	}
	var slot, state []uint32
	for a := uint32(0); a+8 <= uint32(len(before)); a += 4 {
		was, now := binary.LittleEndian.Uint32(before[a:]), binary.LittleEndian.Uint32(after[a:])
		if was == now {
			continue
		}
		if now == fn && binary.LittleEndian.Uint32(after[a+4:]) == arg {
			slot = append(slot, a)
		}
		if int16(was) == schedIdle && int16(now) == schedPending &&
			now>>16&0xff == was>>16&0xff+1 && now>>24 == was>>24 {
			state = append(state, a)
		}
	}
	if len(slot) != 1 || len(state) != 1 {
		return // not the layout we know: handlers run in waits only
	}
	w := binary.LittleEndian.Uint32(after[state[0]:])
	idx, n := w>>24, w>>16&0xff
	q := slot[0] - 8*((idx+n-1)&(schedDepth-1))
	schedLayouts.Store(b.fw, schedLayout{state: state[0], queue: q})
}

func init() {
	RegisterFunc("_hw", "sched_mark", func(b *Board, args []Value) (Value, error) {
		b.schedMark()
		return nil, nil
	})
	// irq_hook(id(machine._run), id(None)): machine.py tells the board
	// where its handler runner is, right after scheduling it once for
	// schedLearn.
	hwFunc("irq_hook", "ii", func(b *Board, a hwArgs) (Value, error) {
		s := b.irq()
		run, none := uint32(a.n[0]), uint32(a.n[1])
		// Once per boot (machine's import), and only what id() gives
		// for a heap function and for None (an immediate or ROM
		// object): the queue is handed these words as object pointers.
		if s.hooked || run&3 != 0 || run < b.heapLow || run >= b.mem.Size() || none >= b.heapLow {
			return nil, ValueError("irq_hook is machine's")
		}
		s.runID, s.noneID, s.hooked = run, none, true
		b.schedLearn(s.runID, s.noneID)
		// The learning schedule put _run in the queue.
		s.queued = true
		return nil, nil
	})
	// irq_begin() → the due sources ("p4,t0") and marks a handler running;
	// irq_end() ends it.
	RegisterFunc("_hw", "irq_begin", func(b *Board, args []Value) (Value, error) {
		s := b.irq()
		s.queued = false
		s.running = true
		return b.Hardware().TakePending(), nil
	})
	RegisterFunc("_hw", "irq_end", func(b *Board, args []Value) (Value, error) {
		b.irq().running = false
		return nil, nil
	})
}
