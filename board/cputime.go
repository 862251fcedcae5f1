package board

import (
	"github.com/esp8266sim/esp8266sim/board/firmware"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// Executed work costs simulated time.
//
// The loop countdown safepoint.go adds to every wasm loop counts executed
// work for free: each `loop` iteration (the VM's bytecode dispatch, and the
// loops of the C runtime beneath it: hashing, copying, GC marking)
// decrements it. The host reads it at every crossing (a Python host call,
// the safe point itself, console output) and converts the iterations into
// ESP8266 CPU time: cpuPsPerIter at 80 MHz, half after
// machine.freq(160000000). The time is owed by the board — its own clock
// (Uptime, ticks_us) includes it at once — and paid by parking the actor
// once cpuPark has accrued or before any real wait, so fast mode stays
// deterministic: the same script executes the same iterations.
//
// The board's own modules that are C on the ESP8266 are not charged while
// their frames run; a call into one costs a C call (cpuframes.go).
//
// CPUNative keeps the old model: Python code takes no simulated time and
// polls are charged by the poll heuristic, but a spin on a status poll
// jumps as under the CPU model (nativePoll, cpuspin.go).

// CPUModel says how a board's executed code costs simulated time.
type CPUModel int

const (
	// CPUBoard charges executed code ESP8266 CPU time (the default).
	CPUBoard CPUModel = iota
	// CPUNative makes code free: simulated time moves only in waits and
	// by PollYield's poll heuristic.
	CPUNative
)

// ParseCPUModel reads "board" or "native" ("" is board).
func ParseCPUModel(s string) (CPUModel, bool) {
	switch s {
	case "", "board":
		return CPUBoard, true
	case "native":
		return CPUNative, true
	}
	return CPUBoard, false
}

// cpuPsPerIter is the ESP8266's time per counted loop iteration at 80 MHz,
// in picoseconds. Calibrated so MicroPython's perf_bench pystone runs at
// 217 pystones/s at 80 MHz (recalibrated from 2.222 µs when the firmware's
// ESP8266 surface patches changed what a pystone executes), the middle of the ESP8266's published 203–233
// (RATIONALE.md); sim/testdata/bench/stones.py is our own program that
// tracks it in `make bench`.
const cpuPsPerIter = 1_600_000

// cpuPark is how much owed CPU time the board accrues before it parks to
// let the world catch up. Smaller is closer to the board's interleaving of
// computation and network; larger is cheaper in wall time.
const cpuPark = 5 * time.Millisecond

// Idle polling: a status poll (isconnected, status, a pin read, a
// non-blocking recv that found nothing) that follows the previous one
// within idlePollIters iterations of the script's code (about 3 ms; the
// board's own modules and collections do not count, so a collection
// between two passes does not end a spin) is part of a spin loop. Once a
// spin has lasted spinBeforeJump of board time or spinPassesBeforeJump
// polls, executed pass by pass, the board stops executing the loop and
// parks instead — woken by any event that wakes it (network callbacks) or
// after a jump growing from jumpMin to jumpMax — and the parked time is
// the time the loop would have spun. What the script sees changes only on
// events, so it sees each change at most jumpMax late (the board would see
// it one loop pass late). Both bounds keep short counted loops exact: 100
// reads of a pin or of isconnected() take 100 passes' time, as on the
// board, where jumping from the 33rd poll on made each take up to 20 ms.
// The pass bound is for fleets' wall time: with the board's modules
// charged as C a poll costs ~20 µs, and 20 ms of them would be a thousand
// executed passes per spin and board.
const (
	idlePollIters  = 2_000
	spinBeforeJump = 20 * time.Millisecond
	// spinPassesBeforeJump is above the 100 polls of a short counted
	// loop.
	spinPassesBeforeJump = 128
	jumpMin              = 100 * time.Microsecond
	jumpMax              = 20 * time.Millisecond
)

// uartFIFO is the ESP8266 UART's transmit FIFO: mp_hal_stdout_tx_strn
// returns once the last byte is in it, so up to this many bytes are still
// on the wire when print returns.
const uartFIFO = 128

// DefaultConsoleBaud is the baud rate of UART0 at boot.
const DefaultConsoleBaud = 115200

type cpuMeter struct {
	model CPUModel
	// g is the countdown global; base its value at the last sync.
	g    api.MutableGlobal
	base uint32
	// iters counts every iteration since the board was created.
	iters uint64
	// ps is owed CPU time in picoseconds (board goroutine only).
	ps int64
	// mhz is 80 or 160.
	mhz int64
	// baud is UART0's rate; txEnd the uptime at which its last byte has left.
	baud  int
	txEnd time.Duration
	// charged counts the iterations charged as the script's code (not
	// the board's own modules', a collection's or the setup's).
	charged uint64
	// lastPoll is charged at the last status poll; spinStart the uptime
	// of the first poll of the current spin.
	lastPoll  uint64
	spinStart time.Duration
	// frozen is set while the board compiles one of its own modules
	// (cpuFrozenImport).
	frozen bool
	// frames is the VM's frame stack and inFrozen whether its innermost
	// frame runs one of the board's own modules (cpuframes.go).
	frames   []cpuFrame
	inFrozen bool
	// bound is the frame whose arguments were bound last (cpuframes.go).
	bound uint32
	// fileKind memoises fileKind by file qstr, for the current instance.
	fileKind map[uint32]uint8
	// inGC is set during a garbage collection.
	inGC bool
}

// resetCPU is called at every boot: the chip restarts at 80 MHz, UART0 at
// 115200 baud.
func (b *Board) resetCPU(mod api.Module) {
	b.cpu.model = b.cfg.CPU
	b.cpu.g = nil
	if g, ok := mod.ExportedGlobal(firmware.SafepointCountdownExport).(api.MutableGlobal); ok {
		b.cpu.g = g
		b.cpu.base = uint32(g.Get())
	}
	b.cpu.ps = 0
	b.cpu.mhz = 80
	b.cpu.baud = DefaultConsoleBaud
	b.cpu.txEnd = 0
	b.cpu.inGC = false
	b.cpu.frozen = false
	b.cpu.frames = b.cpu.frames[:0]
	b.cpu.inFrozen = false
	b.cpu.bound = 0
	b.cpu.fileKind = map[uint32]uint8{}
}

// Iterations reports how many counted loop iterations the board has
// executed (the work the CPU model charges).
func (b *Board) Iterations() uint64 {
	b.cpuSync()
	return b.cpu.iters
}

// SetCPUFreq is machine.freq(hz): 80 or 160 MHz.
func (b *Board) SetCPUFreq(hz int) {
	b.cpuSync()
	if hz >= 160_000_000 {
		b.cpu.mhz = 160
	} else {
		b.cpu.mhz = 80
	}
}

// SetConsoleBaud is machine.UART(0, baud): what console output costs.
func (b *Board) SetConsoleBaud(baud int) {
	if baud > 0 {
		b.cpu.baud = baud
	}
}

// cpuOwed is the CPU time the board has run ahead of the world.
func (b *Board) cpuOwed() time.Duration {
	return time.Duration(b.cpu.ps / 1000)
}

// cpuSync adds the iterations run since the last sync to what is owed.
func (b *Board) cpuSync() {
	if b.cpu.g == nil {
		return
	}
	cur := uint32(b.cpu.g.Get())
	b.cpuAdd(uint64(b.cpu.base - cur))
	b.cpu.base = cur
}

func (b *Board) cpuAdd(n uint64) {
	b.cpu.iters += n
	if b.cpu.model != CPUBoard || b.cpu.frozen || b.cpu.inFrozen || b.cpu.inGC || b.inSetupNow() {
		return
	}
	b.cpu.charged += n
	b.cpu.ps += int64(n) * cpuPsPerIter * 80 / b.cpu.mhz
}

func (b *Board) inSetupNow() bool {
	b.intMu.Lock()
	defer b.intMu.Unlock()
	return b.inSetup
}

// cpuSafepoint runs at every countdown expiry: the whole budget was spent.
func (b *Board) cpuSafepoint() {
	// The countdown reads 0 until the hook returns and the loop stores
	// the new budget.
	b.cpuAdd(uint64(b.cpu.base))
	b.cpu.base = 0
	b.cpuPay(cpuPark)
	b.cpu.base = firmware.SafepointEvery
}

// cpuPay parks the board for what it owes once that reaches min. A Ctrl-C
// arriving meanwhile is raised in the running code; a run that ends
// abandons the guest.
func (b *Board) cpuPay(min time.Duration) {
	d := b.cpuOwed()
	if d < min || d <= 0 || b.actor.Load() == nil {
		return
	}
	b.cpu.ps -= int64(d) * 1000
	b.computing.Store(true)
	err := b.blockAs(b.sleepFor(d), false)
	b.computing.Store(false)
	if err != nil {
		if isStop(err) {
			panic(errStopped)
		}
		b.raiseKeyboardInterrupt()
	}
}

// The board's own modules (frozenDir) are frozen bytecode on a real ESP8266
// (network, socket, time are C modules or frozen .mpy): importing one costs
// almost nothing there, while here the firmware reads and compiles the
// source. Opening one of their files stops the charge until the module's
// code starts (its frame enters, cpuframes.go) or, in a firmware without
// the frame hooks, reaches the host: the compile is free, and the body
// runs as the board's own code.
func (b *Board) cpuFrozenImport() {
	b.cpuSync()
	b.cpu.frozen = true
}

func (b *Board) cpuFrozenDone() {
	if b.cpu.frozen {
		b.cpuSync()
		b.cpu.frozen = false
	}
}

// A garbage collection costs gcCost at 80 MHz instead of what it executes
// here: the WebAssembly build's collector copies and scans the C shadow
// stack and a larger static area word by word, tens of times the loop
// iterations of the ESP8266's mark-sweep over its 36 KiB heap.
const gcCost = 2 * time.Millisecond

// cpuGC brackets a collection; call the function it returns at the end.
func (b *Board) cpuGC() func() {
	if b.cpu.inGC {
		return func() {}
	}
	b.cpuSync()
	b.cpu.inGC = true
	return func() {
		b.cpuSync()
		b.cpu.inGC = false
		if b.cpu.model == CPUBoard && !b.inSetupNow() && !b.cpu.frozen {
			b.cpu.ps += int64(gcCost) * 1000 * 80 / b.cpu.mhz
		}
	}
}

// cpuHostCall runs before every Python host function.
func (b *Board) cpuHostCall() {
	b.cpuFrozenDone()
	b.cpuSync()
	b.cpuPay(cpuPark)
}

// takeOwed returns the owed time and clears it (a wait pays it).
func (b *Board) takeOwed() time.Duration {
	b.cpuSync()
	d := b.cpuOwed()
	b.cpu.ps -= int64(d) * 1000
	return d
}

// cpuBeforeConsole pays the owed CPU time before the script's console
// output goes out, so the output reaches the world at the board's time:
// a print after 25 ms of code is seen at 25 ms, and what the script does
// right after it (raise, crash) happens at that instant too, before the
// world can act on the printed text (end the run once expectations hold).
func (b *Board) cpuBeforeConsole() {
	if b.cpu.model != CPUBoard || b.inSetupNow() {
		return
	}
	b.cpuSync()
	b.cpuPay(time.Nanosecond)
}

// chargeConsole charges UART time for n bytes written to the console:
// the writer blocks until all but the FIFO's worth are on the wire.
func (b *Board) chargeConsole(n int) {
	if b.cpu.model != CPUBoard || n == 0 || b.inSetupNow() {
		return
	}
	b.cpuSync()
	now := b.Uptime()
	per := time.Second * 10 / time.Duration(b.cpu.baud)
	start := b.cpu.txEnd
	if start < now {
		start = now
	}
	b.cpu.txEnd = start + time.Duration(n)*per
	if block := b.cpu.txEnd - uartFIFO*per - now; block > 0 {
		b.cpu.ps += int64(block) * 1000
	}
}

// yieldZero is sleep_ms(0)/sleep_us(0): on the board it returns at once
// (the SDK gets the CPU for a moment), so under the CPU model it costs only
// the executed code; it is not a status poll, since scripts call it from
// loops that do real work between calls.
func (b *Board) yieldZero() error {
	if b.cpu.model != CPUBoard {
		return b.nativePoll(false)
	}
	return nil
}

// timeRead runs before ticks_ms/ticks_us/ticks_cpu: the clock includes
// the owed time; no jump (a script timing code must see its cost).
func (b *Board) timeRead() error {
	if b.cpu.model != CPUBoard {
		return b.nativePoll(false)
	}
	b.cpuSync()
	b.cpuPay(cpuPark)
	return nil
}

func init() {
	// machine.freq(hz) and machine.UART(0, baudrate=...) tell the CPU model.
	RegisterFunc("_board", "set_freq", func(b *Board, args []Value) (Value, error) {
		hz, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		b.SetCPUFreq(hz)
		return nil, nil
	})
	RegisterFunc("_board", "console_baud", func(b *Board, args []Value) (Value, error) {
		baud, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		b.SetConsoleBaud(baud)
		return nil, nil
	})
}

// Computing reports whether the board is parked paying CPU time: busy
// computing as far as the world is concerned, not waiting. Safe from any
// goroutine.
func (b *Board) Computing() bool { return b.computing.Load() }

// ChargeCPU charges d of CPU time at 80 MHz (half at 160 MHz) for work the
// board does in C that the simulator does in Go: an extension layer calls
// it from a host function (the TLS engine for axTLS's RSA operations) and
// the board is parked for it at once. It does nothing under CPUNative.
// Board goroutine only.
func (b *Board) ChargeCPU(d time.Duration) {
	if b.cpu.model != CPUBoard || d <= 0 {
		return
	}
	b.blockFor(int64(d) * 1000 * 80 / b.cpu.mhz)
}

// blockFor charges ps picoseconds and parks the board for them at once:
// the CPU is busy, so what the caller does next (send the TLS flight, end
// the SPI transfer) happens after it, as on the board, not overlapped with
// a network wait that would otherwise pay it.
func (b *Board) blockFor(ps int64) {
	b.cpuSync()
	b.cpu.ps += ps
	b.cpuPay(0)
}

// maxBusMicros bounds one bus transfer's time (a SoftSPI at 1 baud over
// the whole heap is hours; the Duration must not overflow).
const maxBusMicros = int64(1e12)

// ChargeBus charges d of time the CPU spends waiting on a bus transfer
// (SPI at its baud rate): like ChargeCPU, but the same at 80 and 160 MHz.
// It does nothing under CPUNative. Board goroutine only.
func (b *Board) ChargeBus(d time.Duration) {
	if b.cpu.model != CPUBoard || d <= 0 {
		return
	}
	b.blockFor(int64(d) * 1000)
}
