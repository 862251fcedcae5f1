package board

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// The UART0 receive side. Bytes arrive from any goroutine (a terminal
// pump, a scenario's console input on the clock) through UARTWrite; the
// board's goroutine takes them one at a time (the REPL, input(),
// sys.stdin). As in ports/esp8266/uart.c, the receive interrupt compares
// each byte with the interrupt character the firmware has set
// (mp_interrupt_char: Ctrl-C while Python code runs, none while the REPL
// reads a line or the board boots): that byte raises KeyboardInterrupt and
// is not stored.

// uartRX is the receive buffer.
type uartRX struct {
	mu sync.Mutex
	// Guarded by mu.
	buf []byte
	// eof is set when the board's input has ended (Config.Stdin closed).
	eof bool
}

// maxUARTBuffer bounds what waits unread; more is dropped, as a full
// receive buffer drops bytes on the board.
const maxUARTBuffer = 1 << 20

// UARTWrite delivers bytes to the board's UART receive pin, as a USB-serial
// adapter would. Safe from any goroutine and never blocks. The interrupt
// character (Ctrl-C while a program runs) raises KeyboardInterrupt at once;
// other bytes wait for the REPL or the program to read them.
func (b *Board) UARTWrite(p []byte) {
	if b.uart0Detached(p) {
		b.Wake()
		return // os.dupterm(None, 1): the bytes are UART0's, not stdin's
	}
	start := 0
	for i, c := range p {
		if int32(c) != b.interruptChar() {
			continue
		}
		b.uartStore(p[start:i])
		start = i + 1
		b.interruptNow()
	}
	b.uartStore(p[start:])
}

// uartReceiveWaiting is UARTWrite for bytes that arrive on the board's own
// goroutine while it waits for input (a WebREPL client's keys, read by the
// waiting reader): the interrupt character ends the wait the reader is in
// with KeyboardInterrupt, as a Ctrl-C from another goroutine does.
func (b *Board) uartReceiveWaiting(p []byte) {
	start := 0
	for i, c := range p {
		if int32(c) != b.interruptChar() {
			continue
		}
		b.uartStore(p[start:i])
		start = i + 1
		b.interrupted.Store(true)
	}
	b.uartStore(p[start:])
}

func (b *Board) uartStore(p []byte) {
	if len(p) == 0 {
		return
	}
	b.uart.mu.Lock()
	if len(b.uart.buf)+len(p) <= maxUARTBuffer {
		b.uart.buf = append(b.uart.buf, p...)
	}
	b.uart.mu.Unlock()
	b.Wake()
}

// uartClose marks the end of the input (the terminal went away).
func (b *Board) uartClose() {
	b.uart.mu.Lock()
	b.uart.eof = true
	b.uart.mu.Unlock()
	b.Wake()
}

// uartTake returns the next received byte without waiting.
func (b *Board) uartTake() (c byte, ok, eof bool) {
	b.uart.mu.Lock()
	defer b.uart.mu.Unlock()
	if len(b.uart.buf) == 0 {
		return 0, false, b.uart.eof
	}
	c = b.uart.buf[0]
	b.uart.buf = b.uart.buf[1:]
	if len(b.uart.buf) == 0 {
		b.uart.buf = nil
	}
	return c, true, false
}

// uartAvailable reports whether a byte is waiting.
func (b *Board) uartAvailable() bool {
	b.uart.mu.Lock()
	defer b.uart.mu.Unlock()
	return len(b.uart.buf) > 0
}

// uartReadREPL waits for the next byte for the REPL. ok is false when the
// input has ended (and no WebREPL client can type any more). Waiting at
// the REPL is idle time: simulator time moves.
func (b *Board) uartReadREPL(ctx context.Context) (byte, bool, error) {
	for {
		w := b.webREPL()
		if w != nil {
			w.serve(ctx)
		}
		c, ok, eof := b.uartTake()
		if ok {
			return c, true, nil
		}
		if eof && w == nil {
			return 0, false, nil
		}
		wait := time.Duration(-1)
		if w != nil {
			wait = webreplPoll
		}
		// The REPL waiting for a key runs due interrupt handlers, as the
		// port's stdin read calls mp_handle_pending (hwirq.go).
		b.serveIRQs()
		if b.uartAvailable() {
			continue
		}
		if b.duptermRX() {
			if b.uartAvailable() {
				continue
			}
			wait = duptermPoll
		}
		wait = b.hwWaitStep(wait)
		err := b.actor.Load().Park(ctx, wait)
		if err != nil || ctx.Err() != nil || b.stopping.Load() {
			return 0, false, errStopped
		}
	}
}

// uartReadProgram waits for the next byte for a running program (input(),
// sys.stdin): Ctrl-C interrupts the wait (ErrInterrupted). At the end of
// the input the wait lasts until the run ends, as a board with nobody
// typing waits forever.
func (b *Board) uartReadProgram() (byte, error) {
	for {
		if c, ok, _ := b.uartTake(); ok {
			return c, nil
		}
		// Park serves a WebREPL client, whose keys arrive here too; a
		// stream in a dupterm slot is polled (dupterm.go).
		if b.duptermRX() {
			if b.uartAvailable() {
				continue
			}
			if err := b.Park(duptermPoll); err != nil {
				return 0, err
			}
			continue
		}
		if err := b.Park(-1); err != nil {
			return 0, err
		}
	}
}

// stdinPump copies Config.Stdin into the UART on its own goroutine. It ends
// when Read fails (EOF: the terminal closed) or the run ends.
type stdinPump struct {
	done chan struct{}
	once sync.Once
}

func newStdinPump(b *Board, r io.Reader) *stdinPump {
	p := &stdinPump{done: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			select {
			case <-p.done:
				return
			default:
			}
			if n > 0 {
				b.UARTWrite(buf[:n])
			}
			if err != nil {
				b.uartClose()
				return
			}
		}
	}()
	return p
}

func (p *stdinPump) stop() { p.once.Do(func() { close(p.done) }) }

// ---- the interrupt character ----

// interruptChar is the firmware's mp_interrupt_char (-1: none). Safe from
// any goroutine: one aligned word read, as the board's UART interrupt
// handler reads it.
func (b *Board) interruptChar() int32 {
	b.kbdMu.Lock()
	defer b.kbdMu.Unlock()
	if b.kbdMem == nil || b.intCharAddr == 0 {
		return -1
	}
	v, ok := b.kbdMem.ReadUint32Le(b.intCharAddr)
	if !ok {
		return -1
	}
	return int32(v)
}

// setInterruptChar sets mp_interrupt_char, as pyexec's
// parse_compile_execute does around the code it runs (board goroutine).
func (b *Board) setInterruptChar(c int32) {
	b.kbdMu.Lock()
	defer b.kbdMu.Unlock()
	if b.kbdMem != nil && b.intCharAddr != 0 {
		b.kbdMem.WriteUint32Le(b.intCharAddr, uint32(c))
	}
}

// learnInterruptChar finds mp_interrupt_char's address: the static word
// whose value the exported mp_hal_get_interrupt_char returns. Each word
// holding that value is given a probe value in turn until the function
// returns it. Runs at boot on the board's goroutine; cached per firmware.
func (b *Board) learnInterruptChar(ctx context.Context, get func(string) api.Function) uint32 {
	fw := &b.fw.kbd
	fw.Lock()
	defer fw.Unlock()
	if fw.intChar != 0 {
		return fw.intChar
	}
	fn := get("mp_hal_get_interrupt_char")
	if fn == nil || b.heapLow == 0 {
		return 0
	}
	res, err := fn.Call(ctx)
	if err != nil {
		return 0
	}
	cur := uint32(res[0])
	const probe = 0x5a5a0003
	for a := uint32(0); a+4 <= b.heapLow&^3; a += 4 {
		v, ok := b.mem.ReadUint32Le(a)
		if !ok || v != cur {
			continue
		}
		b.mem.WriteUint32Le(a, probe)
		res, err := fn.Call(ctx)
		b.mem.WriteUint32Le(a, v)
		if err == nil && uint32(res[0]) == probe {
			fw.intChar = a
			return a
		}
	}
	return 0
}
