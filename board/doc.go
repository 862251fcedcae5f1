// Package board is one virtual ESP8266: the real MicroPython 1.27 firmware
// (the official WebAssembly build, pyscript variant) running in wazero, with
// the host side of its imports written in Go, a flash filesystem, a UART
// console, the simulator clock and the board's limits.
//
// # Using a board
//
//	fw, err := board.DefaultFirmware()         // compiled once per process
//	clock := vclock.New(vclock.Config{Mode: vclock.Fast})
//	go clock.Run(ctx)
//	b, err := board.New(board.Config{
//		Name:    "esp1",
//		Files:   map[string][]byte{"main.py": src},
//		Console: os.Stdout,
//	}, fw, clock)
//	defer b.Close()
//	res, err := b.Run(ctx) // boot.py, main.py, then the REPL if Config.Stdin is set
//
// An interactive board (Config.Stdin) is a serial device: the REPL is the
// ESP8266 firmware's byte for byte (see repl.go), input() and sys.stdin
// read the UART, Ctrl-C interrupts any wait. UARTWrite delivers bytes from
// any goroutine (a scenario's console input at its simulator time);
// ExternalReset is the RST pin.
//
// Run returns a Result: Finished, Exception (with the traceback exactly as
// the board printed it), WatchdogExpired, ResetLoop or Stopped. Its error is
// reserved for simulator faults. Each board runs on the goroutine that calls
// Run; a hundred boards in one process are a hundred goroutines sharing one
// compiled firmware. A board is one vclock Actor: simulator time stands
// still while it runs Python code and moves while it sleeps or waits; when a
// run ends the board stops holding time.
//
// # What a script sees
//
// sys.platform 'esp8266', os.uname() of the board, the ESP8266's epoch
// (2000) and integer time.time(), machine (reset, soft_reset, unique_id,
// freq, Pin recording its writes, idle), esp, a flash filesystem with
// boot.py/main.py, a writable /lib for the user's libraries (mip installs
// there) and the board's own modules (board/lib, embedded in the binary) in
// a hidden read-only /.frozen that comes first on sys.path, as the frozen
// modules of the ESP8266 firmware do. A board can never read host files.
//
// The heap budget (Config.HeapBytes, 38 KiB like the ESP8266's static GC
// heap) is enforced for real: the C heap is reserved so the firmware cannot
// grow its GC heap, bytearray(64*1024) raises MemoryError and
// bytearray(16*1024) does not. The board's own modules are compiled at boot
// into a separate allowance (they are frozen in flash on the real board), so
// the script gets its whole budget as one contiguous region.
//
// Garbage collection: the pyscript build only collects when control
// returns to its top level (WebAssembly cannot scan its own stack). The board
// also collects in the middle of a script — when the firmware asks for it or
// after a fixed amount of interpreter work — at points where everything the
// interpreter holds is on its Python stack: when the VM calls a function or
// steps a for loop, and at host crossings (the board's modules, print(),
// ticks_ms). The C shadow stack is copied into the roots first. It does so
// only when no C builtin that may hold objects in WebAssembly locals is
// between the script and that point (list(gen), sorted(key=…), map…; the
// call shapes are learnt from the firmware at boot, see gcsafety.go). A
// `while` loop that allocates more than the budget without calling anything
// still raises MemoryError where a real board would have collected.
//
// Stopping: Close, the end of Run's context and the watchdog make the
// board leave the guest at its next host crossing. Python code crosses
// constantly, and every loop of the firmware counts down to a crossing
// (env.__esp_safepoint, added when the firmware is compiled; see
// board/firmware/safepoint.go), so even `while True: pass` reaches one within a
// millisecond. That crossing is also what lets Go's garbage collector stop
// the world while a board spins: compiled code has no safe points of its
// own.
//
// # Extending the board: host modules
//
// Other layers (sockets, network) give Python access to Go through host
// modules. In an init function of the file implementing the layer:
//
//	func init() {
//		board.RegisterFunc("_sock", "recv_into", sockRecvInto)
//		board.RegisterConst("_sock", "MSS", 1460)
//	}
//
//	// recv_into(fd, addressof(buf), len(buf)) -> n
//	func sockRecvInto(b *board.Board, args []board.Value) (board.Value, error) {
//		fd, err := board.ArgInt(args, 0)
//		if err != nil {
//			return nil, err
//		}
//		buf, err := b.ArgBuf(args, 1) // zero-copy view of guest memory
//		if err != nil {
//			return nil, err
//		}
//		t := b.Value(tableKey{}).(*table)  // per-board state, see SetValue
//		for {
//			n, err := t.read(fd, buf)
//			if err != errWouldBlock {
//				return n, err           // *PyError → Python exception
//			}
//			if err := b.Park(-1); err != nil { // network callbacks call b.Wake()
//				return nil, err
//			}
//		}
//	}
//
// Python reaches it with `import _sock`; the board's /lib module wraps it:
//
//	from uctypes import addressof
//	from _sock import recv_into as _recv_into
//	from _hostcall import U as _U, exc as _exc
//
//	def recv_into(self, buf):
//	    r = _recv_into(self._fd, addressof(buf), len(buf))
//	    if r is _U:
//	        raise _exc()
//	    return r
//
// Conventions:
//
//   - Values: see Value. Bytes never cross as values: Python passes
//     uctypes.addressof(buf), len(buf) and Go reads or writes the guest memory
//     in place (Board.ArgBuf, Board.Mem). Big integers cross as strings.
//   - Errors: return OSError(errno), OSErrorMsg, ValueError, TypeError, or
//     &PyError{Type, Arg}. The call then returns the marker _board.UNDEF and
//     the /lib wrapper raises the exception itself, so the traceback names
//     the user's line (and the wrapper's); see the wrapper below. Bind host
//     functions at import time (from _sock import f): each attribute lookup
//     on a host module is a host round trip.
//   - Blocking: a host function runs on its board's goroutine and blocks only
//     that board. Wait with Board.Sleep (simulated time), Board.Park (until
//     Board.Wake from any goroutine, or a timeout) — they park the board's
//     vclock actor and pause the watchdog. Functions a script may call in a
//     busy loop (isconnected(), status(), a non-blocking poll) call
//     Board.PollYield first so simulated time moves in fast mode. All three
//     return ErrInterrupted after Ctrl-C (return it: Python raises
//     KeyboardInterrupt) or an error that ends the run (return it as is).
//   - State: Board.SetValue/Value keep per-board state keyed by a type the
//     layer owns; Board.OnClose releases it; Config.Env carries what sim
//     wires in (for example a network attachment), read with Board.Env.
//   - A Go panic in a host function ends the run with an error naming the
//     function; it never crashes the process.
//
// The firmware's JS-proxy protocol (ports/webassembly proxy_c.c,
// objjsproxy.c, proxy_js.js at v1.27.0) is implemented in proxy.go; host
// modules are registered with mp_js_register_js_module. Emscripten's
// setjmp/longjmp crossings (invoke_*) are served through small exports the
// loader adds to the firmware (board/firmware/invoke.go; guestcall.go here).
package board
