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
	b.irqBoot()
	b.duptermBoot()
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

// hwArgs is a _hw call's arguments decoded by hwFunc: the ints and GPIO
// numbers in order, and the one guest buffer.
type hwArgs struct {
	n   []int
	buf []byte
	raw []Value // the arguments as passed
}

// hwFunc registers _hw.name, whose arguments spec describes one letter
// each: 'i' an int, 'p' a GPIO checked as machine.Pin checks it (scripts
// may call _hw directly), 'b' a guest buffer passed as (address, length).
// A call with arguments that do not fit raises before f runs.
func hwFunc(name, spec string, f func(b *Board, a hwArgs) (Value, error)) {
	RegisterFunc("_hw", name, func(b *Board, args []Value) (Value, error) {
		a := hwArgs{raw: args}
		i := 0
		for _, c := range spec {
			if c == 'b' {
				buf, err := b.ArgBuf(args, i)
				if err != nil {
					return nil, err
				}
				a.buf, i = buf, i+2
				continue
			}
			v, err := ArgInt(args, i)
			if err != nil {
				return nil, err
			}
			if c == 'p' && !machine.ValidPin(v) {
				return nil, ValueError("invalid pin")
			}
			a.n, i = append(a.n, v), i+1
		}
		return f(b, a)
	})
}

func init() {
	hwFunc("pin_init", "iiii", func(b *Board, a hwArgs) (Value, error) {
		if err := b.Hardware().InitPin(b.clock.Elapsed(), a.n[0], a.n[1], a.n[2], a.n[3]); err != nil {
			return nil, hwPyErr(err)
		}
		return nil, nil
	})
	hwFunc("pin_check", "p", func(b *Board, a hwArgs) (Value, error) { return nil, nil })
	hwFunc("pin_read", "p", func(b *Board, a hwArgs) (Value, error) {
		if err := b.PollYield(); err != nil {
			return nil, err
		}
		return int64(b.Hardware().Read(b.clock.Elapsed(), a.n[0])), nil
	})
	hwFunc("pin_out", "p", func(b *Board, a hwArgs) (Value, error) {
		return int64(b.Hardware().Output(a.n[0])), nil
	})
	// pin_write(pin, v): an edge the write makes on a pin with a handler
	// (a pin wired to itself) queues the handler, as the GPIO interrupt
	// does.
	hwFunc("pin_write", "pi", func(b *Board, a hwArgs) (Value, error) {
		b.logPinWrite(a.n[0], a.n[1])
		if b.Hardware().Write(b.clock.Elapsed(), a.n[0], a.n[1]) {
			b.irqQueue()
		}
		return nil, nil
	})
	hwFunc("pin_irq", "pi", func(b *Board, a hwArgs) (Value, error) {
		if err := b.Hardware().SetIRQ(b.clock.Elapsed(), a.n[0], a.n[1]); err != nil {
			return nil, hwPyErr(err)
		}
		return nil, nil
	})
	// serve() runs the handlers that are due (machine.idle).
	hwFunc("serve", "", func(b *Board, a hwArgs) (Value, error) {
		b.serveIRQs()
		return nil, nil
	})
	hwFunc("timer_arm", "iii", func(b *Board, a hwArgs) (Value, error) {
		if err := b.Hardware().ArmTimer(b.clock.Elapsed(), a.n[0], time.Duration(a.n[1])*time.Microsecond, a.n[2] != 0); err != nil {
			return nil, ValueError(err.Error())
		}
		return nil, nil
	})
	hwFunc("timer_stop", "i", func(b *Board, a hwArgs) (Value, error) {
		b.Hardware().StopTimer(a.n[0])
		return nil, nil
	})
	hwFunc("wdt_feed", "", func(b *Board, a hwArgs) (Value, error) {
		b.armWDT(b.Hardware().FeedWDT(b.clock.Elapsed()))
		return nil, nil
	})
	hwFunc("rtc_mem", "", func(b *Board, a hwArgs) (Value, error) {
		return hex.EncodeToString(b.Hardware().RTCMemory()), nil
	})
	hwFunc("rtc_mem_set", "b", func(b *Board, a hwArgs) (Value, error) {
		if err := b.Hardware().SetRTCMemory(a.buf); err != nil {
			return nil, ValueError(err.Error())
		}
		return nil, nil
	})
	hwFunc("alarm", "i", func(b *Board, a hwArgs) (Value, error) {
		b.Hardware().SetAlarm(b.clock.Elapsed() + time.Duration(a.n[0])*time.Millisecond)
		return nil, nil
	})
	hwFunc("alarm_wake", "i", func(b *Board, a hwArgs) (Value, error) {
		b.Hardware().SetAlarmWake(a.n[0] != 0)
		return nil, nil
	})
	hwFunc("alarm_left", "", func(b *Board, a hwArgs) (Value, error) {
		return b.Hardware().AlarmLeft(b.clock.Elapsed()).Milliseconds(), nil
	})
	// deepsleep(ms or -1): the chip sleeps, then boots with
	// DEEPSLEEP_RESET; RTC memory and the RTC keep going. With neither a
	// time nor an alarm it sleeps until the RST pin (ExternalReset).
	hwFunc("deepsleep", "i", func(b *Board, a hwArgs) (Value, error) {
		return nil, b.deepSleep(a.n[0])
	})
	hwFunc("adc", "", func(b *Board, a hwArgs) (Value, error) {
		if err := b.PollYield(); err != nil {
			return nil, err
		}
		return int64(b.Hardware().ReadADC(b.clock.Elapsed())), nil
	})
	hwFunc("pwm", "pii", func(b *Board, a hwArgs) (Value, error) {
		if err := b.Hardware().SetPWM(b.clock.Elapsed(), a.n[0], a.n[1], a.n[2]); err != nil {
			return nil, hwPyErr(err)
		}
		return nil, nil
	})
	hwFunc("pwm_stop", "p", func(b *Board, a hwArgs) (Value, error) {
		b.Hardware().StopPWM(b.clock.Elapsed(), a.n[0])
		return nil, nil
	})
	// pulse(pin, level, timeout_us) → machine.time_pulse_us's result; the
	// board waits as long as the measurement took.
	hwFunc("pulse", "pii", func(b *Board, a hwArgs) (Value, error) {
		us, took := b.Hardware().PulseUS(b.clock.Elapsed(), a.n[0], a.n[1], time.Duration(a.n[2])*time.Microsecond)
		if took > 0 {
			if err := b.Sleep(took); err != nil {
				return nil, err
			}
		}
		return us, nil
	})
	// dht(pin, buf, len): esp.dht_readinto.
	hwFunc("dht", "p", func(b *Board, a hwArgs) (Value, error) {
		// The exchange: 18 ms start pulse, then 40 bits (about 5 ms).
		if err := b.Sleep(23 * time.Millisecond); err != nil {
			return nil, err
		}
		// After the wait: guest memory may have moved while the board
		// was parked.
		buf, err := b.ArgBuf(a.raw, 1)
		if err != nil {
			return nil, err
		}
		if len(buf) < 5 {
			return nil, ValueError("buffer too small")
		}
		f, err := b.Hardware().DHTRead(b.clock.Elapsed(), a.n[0])
		if err != nil {
			return nil, OSError(110) // ETIMEDOUT, as dht_readinto
		}
		copy(buf, f[:])
		return nil, nil
	})
	hwFunc("i2c_scan", "", func(b *Board, a hwArgs) (Value, error) {
		var s []string
		for _, addr := range b.Hardware().I2CScan() {
			s = append(s, strconv.Itoa(addr))
		}
		return strings.Join(s, ","), nil
	})
	// i2c_write(addr, buf, len) → False when nothing acknowledges.
	hwFunc("i2c_write", "ib", func(b *Board, a hwArgs) (Value, error) {
		return b.Hardware().I2CWrite(b.clock.Elapsed(), a.n[0], a.buf), nil
	})
	// i2c_read(addr, buf, len) → False when nothing acknowledges.
	hwFunc("i2c_read", "ib", func(b *Board, a hwArgs) (Value, error) {
		got, ok := b.Hardware().I2CRead(b.clock.Elapsed(), a.n[0], len(a.buf))
		copy(a.buf, got)
		return ok, nil
	})
	// spi_write(buf, len): SPI.write and SoftSPI.write clock buf out.
	hwFunc("spi_write", "b", func(b *Board, a hwArgs) (Value, error) {
		b.Hardware().SPIWrite(b.clock.Elapsed(), a.buf)
		return nil, nil
	})
	// spi_time(µs): an SPI transfer's bus time, which holds the CPU on the
	// board (machine_spi_transfer waits for each spi_transaction).
	hwFunc("spi_time", "i", func(b *Board, a hwArgs) (Value, error) {
		us := a.n[0]
		if us < 0 {
			return nil, ValueError("negative time")
		}
		b.ChargeBus(time.Duration(min(int64(us), maxBusMicros)) * time.Microsecond)
		return nil, nil
	})
	// bitstream(pin, buf, len): machine.bitstream's frame.
	hwFunc("bitstream", "pb", func(b *Board, a hwArgs) (Value, error) {
		b.Hardware().Bitstream(b.clock.Elapsed(), a.n[0], a.buf)
		return nil, nil
	})
	// 1-Wire slots on a pin (the firmware's _onewire primitives).
	hwFunc("ow_reset", "p", func(b *Board, a hwArgs) (Value, error) {
		return b.Hardware().OneWireReset(b.clock.Elapsed(), a.n[0]), nil
	})
	hwFunc("ow_readbit", "p", func(b *Board, a hwArgs) (Value, error) {
		return int64(b.Hardware().OneWireReadBit(a.n[0])), nil
	})
	hwFunc("ow_writebit", "pi", func(b *Board, a hwArgs) (Value, error) {
		b.Hardware().OneWireWriteBit(a.n[0], a.n[1])
		return nil, nil
	})
	hwFunc("ow_readbyte", "p", func(b *Board, a hwArgs) (Value, error) {
		v := 0
		for i := 0; i < 8; i++ {
			v |= b.Hardware().OneWireReadBit(a.n[0]) << i
		}
		return int64(v), nil
	})
	hwFunc("ow_writebyte", "pi", func(b *Board, a hwArgs) (Value, error) {
		for i := 0; i < 8; i++ {
			b.Hardware().OneWireWriteBit(a.n[0], a.n[1]>>i&1)
		}
		return nil, nil
	})
	// flash_read(offset, buf, len) / flash_write(offset, buf, len) /
	// flash_erase(sector): esp's raw flash access.
	hwFunc("flash_read", "ib", func(b *Board, a hwArgs) (Value, error) {
		if b.Hardware().FlashRead(a.n[0], a.buf) != nil {
			return nil, OSError(5) // EIO
		}
		return nil, nil
	})
	hwFunc("flash_write", "ib", func(b *Board, a hwArgs) (Value, error) {
		if len(a.buf)%4 != 0 {
			return nil, ValueError("len must be multiple of 4")
		}
		if b.Hardware().FlashWrite(a.n[0], a.buf) != nil {
			return nil, OSError(5)
		}
		return nil, nil
	})
	hwFunc("flash_erase", "i", func(b *Board, a hwArgs) (Value, error) {
		if b.Hardware().FlashErase(a.n[0]) != nil {
			return nil, OSError(5)
		}
		return nil, nil
	})
	// uart1(buf, len): UART1 transmits (GPIO 2); the bytes go to the trace.
	hwFunc("uart1", "b", func(b *Board, a hwArgs) (Value, error) {
		b.Hardware().UART1(b.clock.Elapsed(), a.buf)
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
