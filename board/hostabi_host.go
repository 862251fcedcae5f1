package board

import (
	"errors"
	"time"

	"github.com/esp8266sim/esp8266sim/board/hostabi"
)

// The board's side of board/hostabi: the names host functions written in
// this package use (kept here so they read as before the split), and the
// methods by which a Board is a hostabi.Host.

// Value is a value crossing between Python and Go (hostabi.Value).
type Value = hostabi.Value

// PyObject is a Python object passed to a host function (hostabi.PyObject).
type PyObject = hostabi.PyObject

// PyError makes Python raise an exception (hostabi.PyError).
type PyError = hostabi.PyError

type undefinedT = hostabi.UndefinedT

type hostFinaliser = hostabi.Finaliser

// Undefined is the firmware's `undefined` value (hostabi.Undefined).
var Undefined = hostabi.Undefined

// ErrInterrupted is hostabi.ErrInterrupted: Sleep, Park and PollYield
// return it on Ctrl-C.
var ErrInterrupted = hostabi.ErrInterrupted

// OSError returns the error that raises OSError(errno).
func OSError(errno int) error { return hostabi.OSError(errno) }

// OSErrorMsg returns the error that raises OSError(msg).
func OSErrorMsg(msg string) error { return hostabi.OSErrorMsg(msg) }

// ValueError returns the error that raises ValueError(msg).
func ValueError(msg string) error { return hostabi.ValueError(msg) }

// TypeError returns the error that raises TypeError(msg).
func TypeError(msg string) error { return hostabi.TypeError(msg) }

// RuntimeError returns the error that raises RuntimeError(msg).
func RuntimeError(msg string) error { return hostabi.RuntimeError(msg) }

// ArgInt returns args[i] as an int (hostabi.ArgInt).
func ArgInt(args []Value, i int) (int, error) { return hostabi.ArgInt(args, i) }

// ArgStr returns args[i] as a string (hostabi.ArgStr).
func ArgStr(args []Value, i int) (string, error) { return hostabi.ArgStr(args, i) }

// ArgFloat returns args[i] (int or float) as a float64 (hostabi.ArgFloat).
func ArgFloat(args []Value, i int) (float64, error) { return hostabi.ArgFloat(args, i) }

// HostFunc is a host function that needs the whole Board (the board's own
// modules: machine, time, os…). Rooms below board write hostabi.HostFunc.
type HostFunc func(b *Board, args []Value) (Value, error)

// RegisterFunc adds a host function reachable from Python as
// `import module; module.name(...)` (see hostabi.RegisterFunc).
func RegisterFunc(module, name string, f HostFunc) {
	if f == nil {
		panic("board.RegisterFunc: nil function for " + module + "." + name)
	}
	hostabi.RegisterFunc(module, name, func(h hostabi.Host, args []Value) (Value, error) {
		return f(h.(*Board), args)
	})
}

// RegisterConst adds a constant attribute to a host module.
func RegisterConst(module, name string, v Value) { hostabi.RegisterConst(module, name, v) }

var _ hostabi.Host = (*Board)(nil)

// Seed is the world's random seed (Config.Seed).
func (b *Board) Seed() uint64 { return b.cfg.Seed }

// HeapBytes is the MicroPython GC heap budget (Config.HeapBytes).
func (b *Board) HeapBytes() int { return b.cfg.HeapBytes }

// BootTime is the simulator time of the last hard reset.
func (b *Board) BootTime() time.Duration { return b.bootAt }

// ConsoleWrite prints to the console as the firmware's own output does.
func (b *Board) ConsoleWrite(p []byte) { b.consoleWrite(p) }

// Instance identifies the running firmware instance (it changes at every
// reset).
func (b *Board) Instance() any { return b.mod }

// ArgBuf returns the guest memory of a buffer passed as two arguments,
// args[i] = uctypes.addressof(buf) and args[i+1] = len(buf). The slice
// aliases guest memory: valid until the host function returns, and only
// while the function does not call back into the guest.
func (b *Board) ArgBuf(args []Value, i int) ([]byte, error) {
	addr, err := ArgInt(args, i)
	if err != nil {
		return nil, err
	}
	n, err := ArgInt(args, i+1)
	if err != nil {
		return nil, err
	}
	buf, ok := b.Mem(uint32(addr), uint32(n))
	if !ok || n < 0 {
		return nil, ValueError("buffer outside memory")
	}
	return buf, nil
}

// Mem returns n bytes of guest memory at addr, aliasing it (zero-copy).
func (b *Board) Mem(addr, n uint32) ([]byte, bool) {
	if b.mem == nil {
		return nil, false
	}
	return b.mem.Read(addr, n)
}

// isStop reports whether err means the run is over (context done, closed).
func isStop(err error) bool {
	return errors.Is(err, errStopped)
}
