package board

import (
	"time"

	"github.com/esp8266sim/esp8266sim/board/machine"
	boardnet "github.com/esp8266sim/esp8266sim/board/net"
)

// deepSleep is machine.deepsleep(ms) (ms < 0: no time given): the chip
// sleeps, then boots with DEEPSLEEP_RESET; RTC memory and the RTC keep
// going. With neither a time nor an alarm it sleeps until the RST pin
// (ExternalReset).
func (b *Board) deepSleep(ms int) error {
	maxD := time.Duration(-1)
	if ms >= 0 {
		maxD = time.Duration(ms) * time.Millisecond
	}
	hw := b.Hardware()
	d, ok := hw.DeepSleepFor(b.clock.Elapsed(), maxD)
	b.hardwareOff() // the CPU and its peripherals are off
	// So is the radio: the access point sees the station go.
	wake := boardnet.RadioOff(b)
	if !ok {
		for {
			if err := b.Park(-1); err != nil && err != ErrInterrupted {
				return err
			}
		}
	}
	end := b.clock.Elapsed() + d
	for b.clock.Elapsed() < end {
		// Ctrl-C cannot reach a sleeping chip.
		if err := b.Sleep(end - b.clock.Elapsed()); err != nil && err != ErrInterrupted {
			return err
		}
	}
	wake()
	b.hardware().cause.Store(machine.DeepSleepReset)
	b.resetReq = "hard"
	b.out.mute = true
	return &PyError{Type: "SystemExit"}
}
