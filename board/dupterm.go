package board

import (
	"sync"
	"time"
)

// os.dupterm on the ESP8266 (ports/esp8266/main.c, esp_mphal.c, uart.c):
// the terminal is whatever sits in the two dupterm slots. main.c puts
// UART(0) in slot 1 at every boot, so print and the REPL reach the serial
// port and its received bytes reach stdin (Ctrl-C interrupting). With
// os.dupterm(None, 1) UART0 leaves the terminal: output no longer reaches
// the pin, and received bytes wait in UART0's own buffer for
// machine.UART(0).read() (Ctrl-C is then just a byte). A Python stream in a
// slot receives the terminal's output through its write method, as
// mp_os_dupterm_tx_strn calls it.

// dupterm is the board's terminal slots as the host sees them.
type dupterm struct {
	mu sync.Mutex
	// Guarded by mu:
	uart0  int    // slots holding UART(0): the firmware's uart_attached_to_dupterm
	stream bool   // a Python stream sits in a slot
	raw    []byte // bytes UART0 received while detached
	inTX   bool   // a stream's write is running: its own output is not sent back
}

type duptermKey struct{}

func (b *Board) dupterm() *dupterm {
	d, _ := b.Value(duptermKey{}).(*dupterm)
	if d == nil {
		d = &dupterm{uart0: 1}
		b.SetValue(duptermKey{}, d)
	}
	return d
}

// duptermBoot puts UART(0) back in slot 1, as main.c does at every boot.
func (b *Board) duptermBoot() {
	d := b.dupterm()
	d.mu.Lock()
	d.uart0, d.stream, d.raw = 1, false, nil
	d.mu.Unlock()
}

// uart0Attached reports whether UART0 is part of the terminal.
func (b *Board) uart0Attached() bool {
	d := b.dupterm()
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.uart0 > 0
}

// uart0Detached takes received bytes when UART0 is out of the terminal:
// they go to UART0's own buffer, and true is returned.
func (b *Board) uart0Detached(p []byte) bool {
	d := b.dupterm()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.uart0 > 0 {
		return false
	}
	if len(d.raw)+len(p) <= maxUARTBuffer {
		d.raw = append(d.raw, p...)
	}
	return true
}

// duptermTX sends the terminal's output to a Python stream in a slot
// (os._dt_tx calls its write), from the output path.
func (b *Board) duptermTX(p []byte) {
	d := b.dupterm()
	d.mu.Lock()
	send := d.stream && !d.inTX && b.runCtx != nil
	if send {
		d.inTX = true
	}
	d.mu.Unlock()
	if !send {
		return
	}
	defer func() {
		d.mu.Lock()
		d.inTX = false
		d.mu.Unlock()
	}()
	b.callNested("os", "_dt_tx", string(p))
}

// duptermPoll is how often a wait for input polls a stream in a dupterm
// slot, as the board's stdin read polls its dupterm streams.
const duptermPoll = 20 * time.Millisecond

// duptermRX polls the streams in the slots for input (os._dt_rx reads
// them and hands the bytes to the UART receive path); false when no
// stream sits in a slot.
func (b *Board) duptermRX() bool {
	d := b.dupterm()
	d.mu.Lock()
	poll := d.stream && !d.inTX && b.runCtx != nil
	d.mu.Unlock()
	if poll {
		b.callNested("os", "_dt_rx", nil)
	}
	return poll
}

func init() {
	// dupterm_rx(buf, len): bytes a dupterm stream gave, for stdin.
	hwFunc("dupterm_rx", "b", func(b *Board, a hwArgs) (Value, error) {
		b.uartReceiveWaiting(append([]byte(nil), a.buf...))
		return nil, nil
	})
	// dupterm_set(uart0_slots, has_stream): os.dupterm changed the slots.
	hwFunc("dupterm_set", "ii", func(b *Board, a hwArgs) (Value, error) {
		d := b.dupterm()
		d.mu.Lock()
		d.uart0, d.stream = a.n[0], a.n[1] != 0
		d.mu.Unlock()
		return nil, nil
	})
	// uart0_write(buf, len): machine.UART(0).write, straight to the pin
	// whether or not UART0 is in the terminal.
	hwFunc("uart0_write", "b", func(b *Board, a hwArgs) (Value, error) {
		_, _ = b.console.Write(append([]byte(nil), a.buf...))
		return int64(len(a.buf)), nil
	})
	// uart0_any() / uart0_read(buf, len): UART0's own receive buffer,
	// which fills only while UART0 is out of the terminal.
	hwFunc("uart0_any", "", func(b *Board, a hwArgs) (Value, error) {
		if err := b.PollYield(); err != nil {
			return nil, err
		}
		d := b.dupterm()
		d.mu.Lock()
		defer d.mu.Unlock()
		return int64(len(d.raw)), nil
	})
	hwFunc("uart0_read", "b", func(b *Board, a hwArgs) (Value, error) {
		d := b.dupterm()
		d.mu.Lock()
		defer d.mu.Unlock()
		n := copy(a.buf, d.raw)
		d.raw = d.raw[n:]
		return int64(n), nil
	})
}
