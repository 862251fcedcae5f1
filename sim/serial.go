package sim

import (
	"fmt"
	"io"
)

// Serial is a board's UART as the host sees it: what clients type and
// where the board's output goes (a PTY, a TCP client: see
// internal/serialport). A board with a Serial is interactive: after
// main.py it sits at the REPL until the run ends, like a board on a desk.
// Scheduled console input (the scenario's console_input) does not reach a
// board that has one: its keyboard is the client's.
type Serial struct {
	// In is read for the board's input; it should block until input comes
	// and return an error only when the board's input ends for good.
	In io.Reader
	// Out receives the board's output byte for byte as its UART sends it
	// (an interactive board cooks print's newlines to CR LF itself). It
	// should not block for long: the board waits for it.
	Out io.Writer
}

// serialConsole is what a board with a serial port writes to and reads
// from: the recorded console and the port.
func serialConsole(rec *console, s Serial) (io.Writer, io.Reader) {
	var out io.Writer = rec
	if s.Out != nil {
		out = io.MultiWriter(rec, s.Out)
	}
	return out, s.In
}

// ExternalReset pulls the named board's RST pin: it reboots with
// machine.reset_cause() == machine.HARD_RESET.
func (w *World) ExternalReset(name string) error {
	bn := w.byName[name]
	if bn == nil {
		return fmt.Errorf("no board named %q", name)
	}
	bn.mu.Lock()
	b := bn.board
	bn.mu.Unlock()
	if b == nil {
		return fmt.Errorf("board %s has not started", name)
	}
	b.ExternalReset()
	return nil
}
