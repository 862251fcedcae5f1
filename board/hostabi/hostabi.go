// Package hostabi is the firmware's import protocol seen from Go: "how does
// guest code call Go?". Host modules (RegisterFunc, RegisterConst) are what
// `import _sock` and friends reach through the JS-proxy protocol of
// ports/webassembly; Value and PyError are what crosses; Host is what a host
// function may ask of the board that called it.
//
// The package knows nothing of the Board: board implements Host, and the
// rooms that serve host modules (board/net) import this package, not board.
package hostabi

import (
	"context"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// Host is the board a host function runs on, as the function sees it.
type Host interface {
	// Name is the board's name (for messages and seeded streams).
	Name() string
	// Seed is the world's random seed.
	Seed() uint64
	// HeapBytes is the MicroPython GC heap budget: the most a host call may
	// hand Python in one piece.
	HeapBytes() int

	// Value and SetValue keep per-board state keyed by a type the caller
	// owns; OnClose releases it when the board closes. Env reads what sim
	// wired in (Config.Env).
	Value(key any) any
	SetValue(key, v any)
	OnClose(f func())
	Env(key any) any

	// Clock is the simulator clock; BootTime its reading at the last hard
	// reset (read it, not Clock().Elapsed()-Uptime(): a realtime clock
	// moves between two readings). Context ends when the run does.
	Clock() *vclock.Clock
	BootTime() time.Duration
	Context() context.Context
	// Sleep, Park and PollYield block in simulator time, accounted to the
	// watchdog; they return ErrInterrupted on Ctrl-C. Wake ends a Park.
	Sleep(d time.Duration) error
	Park(timeout time.Duration) error
	PollYield() error
	Wake()

	// Mem returns n bytes of guest memory at addr (aliasing it); ArgBuf
	// the buffer passed as args[i] (address) and args[i+1] (length).
	Mem(addr, n uint32) ([]byte, bool)
	ArgBuf(args []Value, i int) ([]byte, error)

	// ConsoleWrite prints to the board's console as the firmware would.
	ConsoleWrite(p []byte)
	// Instance identifies the running firmware instance: it changes at
	// every reset, so state that holds Python objects can tell it is stale.
	Instance() any
	// ChargeCPU charges d of ESP8266 CPU time at 80 MHz for work the board
	// does in C that the simulator does in Go (axTLS's RSA operations);
	// nothing under --cpu native.
	ChargeCPU(d time.Duration)
}

// Finaliser is a host object handed to the firmware whose release by the
// firmware's collector (proxy_js_free_obj) means something on the board.
type Finaliser interface {
	Finalise()
}
