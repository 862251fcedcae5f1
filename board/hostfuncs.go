package board

import (
	"encoding/hex"
	"math"
	"strconv"
	"sync"
	"time"
)

// The _board host module: clock, errors, resets and the ESP8266 profile.
// Extension layers add their own functions to _board (or to a module of
// their own) with RegisterFunc from an init function.

// epoch2000 is the ESP8266 port's epoch (MICROPY_EPOCH_IS_1970 is 0 there).
var epoch2000 = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// ticksPeriod is MICROPY_PY_TIME_TICKS_PERIOD on a 32-bit port.
const ticksPeriod = 1 << 30

// rtcNow is the board's real-time clock: simulator time plus whatever the
// script set with machine.RTC().datetime() (kept across soft resets).
func (b *Board) rtcNow() time.Time { return b.clock.Now().Add(b.rtcOffset) }

// PinWrite is one write to a GPIO pin, recorded with simulator time.
type PinWrite struct {
	At    time.Duration
	Pin   int
	Value int
}

type pinLog struct {
	mu     sync.Mutex
	writes []PinWrite
}

type pinLogKey struct{}

// PinWrites returns the GPIO writes the script made, in order.
func (b *Board) PinWrites() []PinWrite {
	l, _ := b.Value(pinLogKey{}).(*pinLog)
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]PinWrite(nil), l.writes...)
}

func init() {
	RegisterConst("_board", "UNDEF", Undefined)
	RegisterFunc("_board", "sleep", func(b *Board, args []Value) (Value, error) {
		s, err := ArgFloat(args, 0)
		if err != nil {
			return nil, err
		}
		if s < 0 || math.IsNaN(s) {
			return nil, ValueError("sleep length must be non-negative")
		}
		if s > 1e9 {
			s = 1e9
		}
		return nil, b.Sleep(time.Duration(s * float64(time.Second)))
	})
	RegisterFunc("_board", "sleep_ms", func(b *Board, args []Value) (Value, error) {
		ms, err := ArgFloat(args, 0)
		if err != nil {
			return nil, err
		}
		if ms <= 0 {
			return nil, b.yieldZero()
		}
		return nil, b.Sleep(time.Duration(ms * float64(time.Millisecond)))
	})
	RegisterFunc("_board", "sleep_us", func(b *Board, args []Value) (Value, error) {
		us, err := ArgFloat(args, 0)
		if err != nil {
			return nil, err
		}
		if us <= 0 {
			return nil, b.yieldZero()
		}
		return nil, b.Sleep(time.Duration(us * float64(time.Microsecond)))
	})
	RegisterFunc("_board", "ticks_us", func(b *Board, args []Value) (Value, error) {
		if err := b.timeRead(); err != nil {
			return nil, err
		}
		return int64(b.Uptime().Microseconds() % ticksPeriod), nil
	})
	RegisterFunc("_board", "ticks_cpu", func(b *Board, args []Value) (Value, error) {
		if err := b.timeRead(); err != nil {
			return nil, err
		}
		return int64((b.Uptime().Nanoseconds() * 80 / 1000) % ticksPeriod), nil
	})
	RegisterFunc("_board", "time", func(b *Board, args []Value) (Value, error) {
		return int64(b.rtcNow().Sub(epoch2000) / time.Second), nil
	})
	RegisterFunc("_board", "time_ns", func(b *Board, args []Value) (Value, error) {
		return strconv.FormatInt(b.rtcNow().Sub(epoch2000).Nanoseconds(), 10), nil
	})
	// rtc_set(seconds since 2000, microseconds): machine.RTC().datetime(t).
	RegisterFunc("_board", "rtc_set", func(b *Board, args []Value) (Value, error) {
		secs, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		us, err := ArgInt(args, 1)
		if err != nil {
			return nil, err
		}
		want := epoch2000.Add(time.Duration(secs)*time.Second + time.Duration(us)*time.Microsecond)
		b.rtcOffset = want.Sub(b.clock.Now())
		return nil, nil
	})
	RegisterFunc("_board", "rtc_us", func(b *Board, args []Value) (Value, error) {
		return int64(b.rtcNow().Nanosecond() / 1000), nil
	})
	RegisterFunc("_board", "reset_cause", func(b *Board, args []Value) (Value, error) {
		return int64(b.resetCause), nil
	})
	RegisterFunc("_board", "err_type", func(b *Board, args []Value) (Value, error) {
		if b.pending == nil {
			return "RuntimeError", nil
		}
		return b.pending.typ, nil
	})
	RegisterFunc("_board", "err_arg", func(b *Board, args []Value) (Value, error) {
		if b.pending == nil {
			return "host call failed", nil
		}
		p := b.pending
		b.pending = nil
		return p.arg, nil
	})
	RegisterFunc("_board", "reset", func(b *Board, args []Value) (Value, error) {
		kind, err := ArgStr(args, 0)
		if err != nil {
			return nil, err
		}
		if kind != "soft" {
			kind = "hard"
		}
		b.resetReq = kind
		// The chip restarts there: nothing the firmware would print while
		// unwinding (the raw REPL's "\x04" framing) reaches the UART.
		b.out.mute = true
		return nil, &PyError{Type: "SystemExit"}
	})
	RegisterFunc("_board", "mac", func(b *Board, args []Value) (Value, error) {
		return hex.EncodeToString(b.mac[:]), nil
	})
	RegisterFunc("_board", "name", func(b *Board, args []Value) (Value, error) {
		return b.cfg.Name, nil
	})
	RegisterFunc("_board", "heap", func(b *Board, args []Value) (Value, error) {
		return int64(b.cfg.HeapBytes), nil
	})
	RegisterFunc("_board", "pin_write", func(b *Board, args []Value) (Value, error) {
		pin, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		v, err := ArgInt(args, 1)
		if err != nil {
			return nil, err
		}
		b.logPinWrite(pin, v)
		return nil, nil
	})
	RegisterFunc("_board", "urandom", func(b *Board, args []Value) (Value, error) {
		buf, err := b.ArgBuf(args, 0)
		if err != nil {
			return nil, err
		}
		for i := range buf {
			buf[i] = byte(b.rng.Uint32())
		}
		return nil, nil
	})
	RegisterFunc("_board", "overflow_exc", func(b *Board, args []Value) (Value, error) {
		addr, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		b.intMu.Lock()
		setup := b.inSetup
		b.intMu.Unlock()
		if !setup {
			return nil, nil // the board's boot sets it; a script cannot
		}
		return nil, b.setOverflowException(uint32(addr))
	})
	RegisterFunc("_board", "rescue", func(b *Board, args []Value) (Value, error) {
		b.rescueMemory()
		return nil, nil
	})
	RegisterFunc("_board", "poll", func(b *Board, args []Value) (Value, error) {
		return nil, b.PollYield()
	})
}
