package machine

import (
	"fmt"
	"time"
)

// SPIDevice is a part on the board's SPI bus, selected by its chip-select
// pin and told commands from data by a D/C pin, as an SSD1306 in 4-wire
// SPI mode is.
type SPIDevice interface {
	// SPIWrite receives the bytes clocked out while the device was
	// selected; dc is the D/C pin's level then (0: commands, 1: data).
	SPIWrite(data []byte, dc int)
}

type spiSlot struct {
	cs, dc int
	dev    SPIDevice
}

// The board has one SPI bus: machine.SPI(1) (HSPI) and SoftSPI on any pins
// clock the same wires in the simulator; a device listens while its CS pin
// is low (a real board would simply need the right SCK and MOSI).

// AttachSPI puts d on the bus with its chip select on GPIO cs and its D/C
// input on GPIO dc.
func (h *Hardware) AttachSPI(cs, dc int, d SPIDevice) error {
	if !ValidPin(cs) || !ValidPin(dc) || cs == dc {
		return fmt.Errorf("spi device: cs %d and dc %d must be two usable GPIOs", cs, dc)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.spi = append(h.spi, spiSlot{cs: cs, dc: dc, dev: d})
	return nil
}

// SPIDevice returns the device whose chip select is GPIO cs, or nil.
func (h *Hardware) SPIDevice(cs int) SPIDevice {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.spi {
		if s.cs == cs {
			return s.dev
		}
	}
	return nil
}

// SPIWrite clocks buf out on the bus: every device whose chip select
// reads low receives it with its D/C level.
func (h *Hardware) SPIWrite(now time.Duration, buf []byte) {
	h.mu.Lock()
	var to []spiSlot
	dcs := map[int]int{}
	for _, s := range h.spi {
		if h.levelLocked(s.cs, now) == 0 {
			to = append(to, s)
			dcs[s.dc] = h.levelLocked(s.dc, now)
		}
	}
	h.logLocked(Event{At: now, Kind: "spi", Pin: -1, Value: len(buf), Detail: fmt.Sprintf("%d selected", len(to))})
	h.mu.Unlock()
	// Outside the lock: a device may be slow to take a whole frame.
	for _, s := range to {
		s.dev.SPIWrite(append([]byte(nil), buf...), dcs[s.dc])
	}
}
