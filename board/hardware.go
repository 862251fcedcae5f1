package board

import (
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/esp8266sim/esp8266sim/board/machine"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// The _hw host module: the board's side of the Python machine module. The
// peripherals themselves are modelled in board/machine; this file hands
// them the board's clock and turns what they ask for (a watchdog reset, a
// deep-sleep wake) into the board's reboots.

type hardwareKey struct{}

// hardware is the board's peripherals and the reboot they may ask for.
type hardware struct {
	hw *machine.Hardware
	// cause is the reset cause of the next boot a peripheral asked for
	// (0: none), read by the goroutine running Run.
	cause atomic.Int32

	mu sync.Mutex
	// Guarded by mu:
	wdt tcpip.Timer // the watchdog's expiry on the simulator clock
	gen int         // bumped at each boot: a stale expiry does nothing
}

// Hardware returns the board's peripherals, for wiring inputs (a button's
// presses, a sensor) before or during a run and for reading what the
// script did.
func (b *Board) Hardware() *machine.Hardware { return b.hardware().hw }

func (b *Board) hardware() *hardware {
	b.extMu.Lock()
	h, _ := b.ext[hardwareKey{}].(*hardware)
	created := h == nil
	if created {
		h = &hardware{hw: machine.New()}
		b.ext[hardwareKey{}] = h
	}
	b.extMu.Unlock()
	if created {
		// A closed board's watchdog no longer counts.
		b.OnClose(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.gen++
			if h.wdt != nil {
				h.wdt.Stop()
				h.wdt = nil
			}
		})
	}
	return h
}

// hardwareBoot resets the peripherals for a fresh interpreter, as main.c's
// pin_init0 and friends do at every boot.
func (b *Board) hardwareBoot() {
	b.hardwareOff()
	b.Hardware().Booted(b.clock.Elapsed(), b.resetCause)
}

// hardwareOff stops every peripheral (the watchdog included), as a reset
// or deep sleep does.
func (b *Board) hardwareOff() {
	h := b.hardware()
	h.mu.Lock()
	h.gen++
	if h.wdt != nil {
		h.wdt.Stop()
		h.wdt = nil
	}
	h.mu.Unlock()
	h.hw.Boot()
}

// resetDeepSleep is the cause of a boot after deep sleep
// (machine.DEEPSLEEP_RESET).
const resetDeepSleep = machine.DeepSleepReset

// takeResetCause returns the cause of the boot that follows: the one a
// peripheral asked for, or def.
func (b *Board) takeResetCause(def int) int {
	if c := b.hardware().cause.Swap(0); c != 0 {
		return int(c)
	}
	return def
}

// armWDT (re)starts the watchdog's expiry: when it passes unfed, the board
// resets with machine.WDT_RESET whatever it is doing, through the same path
// as the RST pin.
func (b *Board) armWDT(deadline time.Duration) {
	h := b.hardware()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.wdt != nil {
		h.wdt.Stop()
	}
	gen := h.gen
	h.wdt = b.clock.AfterFunc(deadline-b.clock.Elapsed(), func() {
		h.mu.Lock()
		stale := gen != h.gen
		h.mu.Unlock()
		if stale || !h.hw.WDTExpired(b.clock.Elapsed()) {
			return
		}
		h.cause.Store(machine.WDTReset)
		b.ExternalReset()
	})
}

func hwPyErr(err error) error {
	if pe, ok := err.(*machine.PinError); ok {
		return &PyError{Type: pe.Type, Arg: pe.Msg}
	}
	return ValueError(err.Error())
}

// pinArg is argument i as a GPIO number, checked as machine.Pin checks it
// (scripts may call _hw directly).
func pinArg(args []Value, i int) (int, error) {
	p, err := ArgInt(args, i)
	if err != nil {
		return 0, err
	}
	if p < 0 || p > 16 || !machine.ValidPin(int(p)) {
		return 0, ValueError("invalid pin")
	}
	return int(p), nil
}

func intArgs(args []Value, n int) ([]int, error) {
	out := make([]int, n)
	for i := range out {
		v, err := ArgInt(args, i)
		if err != nil {
			return nil, err
		}
		out[i] = int(v)
	}
	return out, nil
}

// hwWait is a wait of d that ends early when an interrupt handler becomes
// pending (a timer expiry, an input edge): it returns the time left then,
// or -1 when the whole wait passed with nothing pending.
func (b *Board) hwWait(d time.Duration) (time.Duration, error) {
	hw := b.Hardware()
	deadline := b.clock.Elapsed() + d
	for {
		now := b.clock.Elapsed()
		if hw.Advance(now) {
			return max(deadline-now, 0), nil
		}
		if now >= deadline {
			return -1, nil
		}
		step := deadline - now
		if n, ok := hw.Next(now); ok && n-now < step {
			step = n - now
		}
		if err := b.Sleep(step); err != nil {
			return 0, err
		}
	}
}

func init() {
	RegisterFunc("_hw", "pin_init", func(b *Board, args []Value) (Value, error) {
		a, err := intArgs(args, 4)
		if err != nil {
			return nil, err
		}
		if err := b.Hardware().InitPin(b.clock.Elapsed(), a[0], a[1], a[2], a[3]); err != nil {
			return nil, hwPyErr(err)
		}
		return nil, nil
	})
	RegisterFunc("_hw", "pin_check", func(b *Board, args []Value) (Value, error) {
		p, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		if !machine.ValidPin(int(p)) {
			return nil, ValueError("invalid pin")
		}
		return nil, nil
	})
	RegisterFunc("_hw", "pin_read", func(b *Board, args []Value) (Value, error) {
		p, err := pinArg(args, 0)
		if err != nil {
			return nil, err
		}
		if err := b.PollYield(); err != nil {
			return nil, err
		}
		return int64(b.Hardware().Read(b.clock.Elapsed(), p)), nil
	})
	RegisterFunc("_hw", "pin_out", func(b *Board, args []Value) (Value, error) {
		p, err := pinArg(args, 0)
		if err != nil {
			return nil, err
		}
		return int64(b.Hardware().Output(p)), nil
	})
	// pin_write(pin, v) → True when an interrupt handler became pending.
	RegisterFunc("_hw", "pin_write", func(b *Board, args []Value) (Value, error) {
		a, err := intArgs(args, 2)
		if err != nil {
			return nil, err
		}
		if _, err := pinArg(args, 0); err != nil {
			return nil, err
		}
		b.logPinWrite(a[0], a[1])
		return b.Hardware().Write(b.clock.Elapsed(), a[0], a[1]), nil
	})
	RegisterFunc("_hw", "pin_irq", func(b *Board, args []Value) (Value, error) {
		a, err := intArgs(args, 2)
		if err != nil {
			return nil, err
		}
		if _, err := pinArg(args, 0); err != nil {
			return nil, err
		}
		if err := b.Hardware().SetIRQ(b.clock.Elapsed(), a[0], a[1]); err != nil {
			return nil, hwPyErr(err)
		}
		return nil, nil
	})
	RegisterFunc("_hw", "take", func(b *Board, args []Value) (Value, error) {
		return b.Hardware().TakePending(), nil
	})
	// wait(seconds) → -1 when the wait passed, else the seconds left when
	// an interrupt handler became pending.
	// wait(us) sleeps us microseconds unless an interrupt handler becomes
	// due first; it returns the microseconds left (0 or more) so the
	// caller can run the handler and wait again, or -1 when the whole
	// wait passed. Whole microseconds in and out: a float would be a heap
	// allocation here (the board's floats live in the object word), and a
	// sleep must work with the heap locked.
	RegisterFunc("_hw", "wait", func(b *Board, args []Value) (Value, error) {
		us, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		if us < 0 {
			return nil, ValueError("sleep length must be non-negative")
		}
		us = min(us, int(1e15))
		left, err := b.hwWait(time.Duration(us) * time.Microsecond)
		if err != nil {
			return nil, err
		}
		if left < 0 {
			return int64(-1), nil
		}
		return int64(left / time.Microsecond), nil
	})
	RegisterFunc("_hw", "timer_arm", func(b *Board, args []Value) (Value, error) {
		a, err := intArgs(args, 3)
		if err != nil {
			return nil, err
		}
		if err := b.Hardware().ArmTimer(b.clock.Elapsed(), a[0], time.Duration(a[1])*time.Microsecond, a[2] != 0); err != nil {
			return nil, ValueError(err.Error())
		}
		return nil, nil
	})
	RegisterFunc("_hw", "timer_stop", func(b *Board, args []Value) (Value, error) {
		id, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		b.Hardware().StopTimer(int(id))
		return nil, nil
	})
	RegisterFunc("_hw", "wdt_feed", func(b *Board, args []Value) (Value, error) {
		b.armWDT(b.Hardware().FeedWDT(b.clock.Elapsed()))
		return nil, nil
	})
	RegisterFunc("_hw", "rtc_mem", func(b *Board, args []Value) (Value, error) {
		return hex.EncodeToString(b.Hardware().RTCMemory()), nil
	})
	RegisterFunc("_hw", "rtc_mem_set", func(b *Board, args []Value) (Value, error) {
		buf, err := b.ArgBuf(args, 0)
		if err != nil {
			return nil, err
		}
		if err := b.Hardware().SetRTCMemory(buf); err != nil {
			return nil, ValueError(err.Error())
		}
		return nil, nil
	})
	RegisterFunc("_hw", "alarm", func(b *Board, args []Value) (Value, error) {
		ms, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		b.Hardware().SetAlarm(b.clock.Elapsed() + time.Duration(ms)*time.Millisecond)
		return nil, nil
	})
	RegisterFunc("_hw", "alarm_wake", func(b *Board, args []Value) (Value, error) {
		on, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		b.Hardware().SetAlarmWake(on != 0)
		return nil, nil
	})
	RegisterFunc("_hw", "alarm_left", func(b *Board, args []Value) (Value, error) {
		return b.Hardware().AlarmLeft(b.clock.Elapsed()).Milliseconds(), nil
	})
	// deepsleep(ms or -1): the chip sleeps, then boots with
	// DEEPSLEEP_RESET; RTC memory and the RTC keep going. With neither a
	// time nor an alarm it sleeps until the RST pin (ExternalReset).
	RegisterFunc("_hw", "deepsleep", func(b *Board, args []Value) (Value, error) {
		ms, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		maxD := time.Duration(-1)
		if ms >= 0 {
			maxD = time.Duration(ms) * time.Millisecond
		}
		hw := b.Hardware()
		d, ok := hw.DeepSleepFor(b.clock.Elapsed(), maxD)
		b.hardwareOff() // the CPU and its peripherals are off
		if !ok {
			for {
				if err := b.Park(-1); err != nil && err != ErrInterrupted {
					return nil, err
				}
			}
		}
		end := b.clock.Elapsed() + d
		for b.clock.Elapsed() < end {
			// Ctrl-C cannot reach a sleeping chip.
			if err := b.Sleep(end - b.clock.Elapsed()); err != nil && err != ErrInterrupted {
				return nil, err
			}
		}
		b.hardware().cause.Store(machine.DeepSleepReset)
		b.resetReq = "hard"
		b.out.mute = true
		return nil, &PyError{Type: "SystemExit"}
	})
	RegisterFunc("_hw", "adc", func(b *Board, args []Value) (Value, error) {
		if err := b.PollYield(); err != nil {
			return nil, err
		}
		return int64(b.Hardware().ReadADC(b.clock.Elapsed())), nil
	})
	RegisterFunc("_hw", "pwm", func(b *Board, args []Value) (Value, error) {
		a, err := intArgs(args, 3)
		if err != nil {
			return nil, err
		}
		if _, err := pinArg(args, 0); err != nil {
			return nil, err
		}
		if err := b.Hardware().SetPWM(b.clock.Elapsed(), a[0], a[1], a[2]); err != nil {
			return nil, hwPyErr(err)
		}
		return nil, nil
	})
	RegisterFunc("_hw", "pwm_stop", func(b *Board, args []Value) (Value, error) {
		p, err := pinArg(args, 0)
		if err != nil {
			return nil, err
		}
		b.Hardware().StopPWM(b.clock.Elapsed(), int(p))
		return nil, nil
	})
	// pulse(pin, level, timeout_us) → machine.time_pulse_us's result; the
	// board waits as long as the measurement took.
	RegisterFunc("_hw", "pulse", func(b *Board, args []Value) (Value, error) {
		a, err := intArgs(args, 3)
		if err != nil {
			return nil, err
		}
		if _, err := pinArg(args, 0); err != nil {
			return nil, err
		}
		us, took := b.Hardware().PulseUS(b.clock.Elapsed(), a[0], a[1], time.Duration(a[2])*time.Microsecond)
		if took > 0 {
			if err := b.Sleep(took); err != nil {
				return nil, err
			}
		}
		return us, nil
	})
	// dht(pin, buf): esp.dht_readinto.
	RegisterFunc("_hw", "dht", func(b *Board, args []Value) (Value, error) {
		p, err := pinArg(args, 0)
		if err != nil {
			return nil, err
		}
		// The exchange: 18 ms start pulse, then 40 bits (about 5 ms).
		if err := b.Sleep(23 * time.Millisecond); err != nil {
			return nil, err
		}
		// After the wait: guest memory may have moved while the board
		// was parked.
		buf, err := b.ArgBuf(args, 1)
		if err != nil {
			return nil, err
		}
		if len(buf) < 5 {
			return nil, ValueError("buffer too small")
		}
		f, err := b.Hardware().DHTRead(b.clock.Elapsed(), int(p))
		if err != nil {
			return nil, OSError(110) // ETIMEDOUT, as dht_readinto
		}
		copy(buf, f[:])
		return nil, nil
	})
}

// logPinWrite records a GPIO write in the board's PinWrites log.
func (b *Board) logPinWrite(pin, v int) {
	l, _ := b.Value(pinLogKey{}).(*pinLog)
	if l == nil {
		l = &pinLog{}
		b.SetValue(pinLogKey{}, l)
	}
	l.mu.Lock()
	if len(l.writes) < 1<<16 {
		l.writes = append(l.writes, PinWrite{At: b.clock.Elapsed(), Pin: pin, Value: v})
	}
	l.mu.Unlock()
}

func init() {
	RegisterFunc("_hw", "i2c_scan", func(b *Board, args []Value) (Value, error) {
		var s []string
		for _, a := range b.Hardware().I2CScan() {
			s = append(s, strconv.Itoa(a))
		}
		return strings.Join(s, ","), nil
	})
	// i2c_write(addr, buf, len) → False when nothing acknowledges.
	RegisterFunc("_hw", "i2c_write", func(b *Board, args []Value) (Value, error) {
		addr, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		buf, err := b.ArgBuf(args, 1)
		if err != nil {
			return nil, err
		}
		return b.Hardware().I2CWrite(b.clock.Elapsed(), int(addr), buf), nil
	})
	// i2c_read(addr, buf, len) → False when nothing acknowledges.
	RegisterFunc("_hw", "i2c_read", func(b *Board, args []Value) (Value, error) {
		addr, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		buf, err := b.ArgBuf(args, 1)
		if err != nil {
			return nil, err
		}
		got, ok := b.Hardware().I2CRead(b.clock.Elapsed(), int(addr), len(buf))
		copy(buf, got)
		return ok, nil
	})
	// bitstream(pin, buf, len): machine.bitstream's frame.
	RegisterFunc("_hw", "bitstream", func(b *Board, args []Value) (Value, error) {
		p, err := pinArg(args, 0)
		if err != nil {
			return nil, err
		}
		buf, err := b.ArgBuf(args, 1)
		if err != nil {
			return nil, err
		}
		b.Hardware().Bitstream(b.clock.Elapsed(), int(p), buf)
		return nil, nil
	})
	// 1-Wire slots on a pin (the firmware's _onewire primitives).
	RegisterFunc("_hw", "ow_reset", func(b *Board, args []Value) (Value, error) {
		p, err := pinArg(args, 0)
		if err != nil {
			return nil, err
		}
		return b.Hardware().OneWireReset(b.clock.Elapsed(), int(p)), nil
	})
	RegisterFunc("_hw", "ow_readbit", func(b *Board, args []Value) (Value, error) {
		p, err := pinArg(args, 0)
		if err != nil {
			return nil, err
		}
		return int64(b.Hardware().OneWireReadBit(int(p))), nil
	})
	RegisterFunc("_hw", "ow_writebit", func(b *Board, args []Value) (Value, error) {
		a, err := intArgs(args, 2)
		if err != nil {
			return nil, err
		}
		if _, err := pinArg(args, 0); err != nil {
			return nil, err
		}
		b.Hardware().OneWireWriteBit(a[0], a[1])
		return nil, nil
	})
	RegisterFunc("_hw", "ow_readbyte", func(b *Board, args []Value) (Value, error) {
		p, err := pinArg(args, 0)
		if err != nil {
			return nil, err
		}
		v := 0
		for i := 0; i < 8; i++ {
			v |= b.Hardware().OneWireReadBit(int(p)) << i
		}
		return int64(v), nil
	})
	RegisterFunc("_hw", "ow_writebyte", func(b *Board, args []Value) (Value, error) {
		a, err := intArgs(args, 2)
		if err != nil {
			return nil, err
		}
		if _, err := pinArg(args, 0); err != nil {
			return nil, err
		}
		for i := 0; i < 8; i++ {
			b.Hardware().OneWireWriteBit(a[0], a[1]>>i&1)
		}
		return nil, nil
	})
	// flash_read(offset, buf, len) / flash_write(offset, buf, len) /
	// flash_erase(sector): esp's raw flash access.
	RegisterFunc("_hw", "flash_read", func(b *Board, args []Value) (Value, error) {
		off, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		buf, err := b.ArgBuf(args, 1)
		if err != nil {
			return nil, err
		}
		if b.Hardware().FlashRead(int(off), buf) != nil {
			return nil, OSError(5) // EIO
		}
		return nil, nil
	})
	RegisterFunc("_hw", "flash_write", func(b *Board, args []Value) (Value, error) {
		off, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		buf, err := b.ArgBuf(args, 1)
		if err != nil {
			return nil, err
		}
		if len(buf)%4 != 0 {
			return nil, ValueError("len must be multiple of 4")
		}
		if b.Hardware().FlashWrite(int(off), buf) != nil {
			return nil, OSError(5)
		}
		return nil, nil
	})
	RegisterFunc("_hw", "flash_erase", func(b *Board, args []Value) (Value, error) {
		n, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		if b.Hardware().FlashErase(int(n)) != nil {
			return nil, OSError(5)
		}
		return nil, nil
	})
	// uart1(buf, len): UART1 transmits (GPIO 2); the bytes go to the trace.
	RegisterFunc("_hw", "uart1", func(b *Board, args []Value) (Value, error) {
		buf, err := b.ArgBuf(args, 0)
		if err != nil {
			return nil, err
		}
		b.Hardware().UART1(b.clock.Elapsed(), buf)
		return nil, nil
	})
}
