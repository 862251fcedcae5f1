package board

import (
	"context"

	boardnet "github.com/esp8266sim/esp8266sim/board/net"
)

// Reset causes machine.reset_cause() reports (the SDK's rst_info.reason,
// ports/esp8266/modmachine.c maps machine.*_RESET onto REASON_*).
const (
	resetPowerOn  = 0 // REASON_DEFAULT_RST: power-on (machine.PWRON_RESET)
	resetSoft     = 4 // REASON_SOFT_RESTART: machine.reset() (machine.SOFT_RESET)
	resetExternal = 6 // REASON_EXT_SYS_RST: the RST pin (machine.HARD_RESET)
)

// ExternalReset is pressing the board's RST button (or the NodeMCU
// auto-reset circuit pulling RST through RTS): whatever the board is doing
// — running Python, sleeping, blocked in a socket, waiting at the REPL — it
// stops at once and the board boots again: machine.reset_cause() is
// machine.HARD_RESET (6), boot.py and main.py run again and the REPL
// follows when the board is interactive. The flash filesystem persists, as
// flash does; RAM (the interpreter) does not.
//
// Safe from any goroutine. The reset is taken by the goroutine running Run;
// if no Run is in progress, the next Run boots as after an external reset.
func (b *Board) ExternalReset() {
	// The chip's UART FIFO and the firmware's ring buffer are RAM: what was
	// received and not yet read is gone.
	b.uart.mu.Lock()
	b.uart.buf = nil
	b.uart.mu.Unlock()
	b.extReset.Store(true)
	// The running program leaves the guest at its next host crossing; a
	// wait (sleep, socket, REPL key) is woken and sees stopping.
	b.stopping.Store(true)
	b.actor.Load().Wake()
}

// takeExternalReset reports whether the run stopped because of
// ExternalReset (and not because the run itself is ending); the board then
// resumes running.
func (b *Board) takeExternalReset(ctx context.Context) bool {
	if !b.extReset.Load() || ctx.Err() != nil || b.closed.Load() {
		return false
	}
	b.extReset.Store(false)
	b.stopping.Store(false)
	// A Close or the end of the run racing with the reset wins.
	if ctx.Err() != nil || b.closed.Load() {
		b.stopping.Store(true)
		return false
	}
	return true
}

// hardBoot records a hard reset of the given cause: ticks restart from 0
// and the REPL mode (a C global on the board) is friendly again.
func (b *Board) hardBoot(cause int) {
	boardnet.PowerOffSockets(b)
	b.bootAt = b.clock.Elapsed()
	b.resetCause = cause
	b.replMode = friendlyREPL
}
