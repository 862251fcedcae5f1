package machine

import (
	"fmt"
	"sort"
	"time"
)

// Pin modes, pulls and triggers: the constants of machine.Pin on the port.
const (
	ModeIn        = 0 // Pin.IN (GPIO_MODE_INPUT)
	ModeOut       = 1 // Pin.OUT
	ModeOpenDrain = 2 // Pin.OPEN_DRAIN
	PullUp        = 1 // Pin.PULL_UP (the only pull the port offers)
	IRQRising     = 1 // Pin.IRQ_RISING (GPIO_PIN_INTR_POSEDGE)
	IRQFalling    = 2 // Pin.IRQ_FALLING
)

// Change is an outside input taking a level at a time: a button pulling a
// pin to ground, a switch released.
type Change struct {
	At    time.Duration
	Level int // 0 or 1; -1 lets go of the pin (high impedance)
}

type pinState struct {
	mode    int
	pull    int
	out     int // the output latch
	trigger int // IRQ_RISING|IRQ_FALLING bits, 0: no handler
	drive   []Change
}

// ValidPin reports whether id is a GPIO machine.Pin accepts: the port's
// pyb_pin_obj table leaves out 6, 7, 8 and 11 (the flash's SPI lines) and
// keeps 9 and 10.
func ValidPin(id int) bool {
	switch id {
	case 0, 1, 2, 3, 4, 5, 9, 10, 12, 13, 14, 15, 16:
		return true
	}
	return false
}

// PinError is a machine.Pin misuse, with the port's exception and message.
type PinError struct {
	Type string // "ValueError" or "OSError"
	Msg  string
}

func (e *PinError) Error() string { return e.Type + ": " + e.Msg }

// Drive gives the outside input of pin p as a timeline (replacing any
// earlier one). Changes are kept in time order.
func (h *Hardware) Drive(p int, changes []Change) error {
	if p < 0 || p >= len(h.pins) {
		return fmt.Errorf("gpio %d: no such pin", p)
	}
	c := append([]Change(nil), changes...)
	sort.SliceStable(c, func(i, j int) bool { return c[i].At < c[j].At })
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pins[p].drive = c
	return nil
}

// driveAt is the outside level of pin p at t: 0 or 1, or -1 when nothing
// outside drives it.
func (h *Hardware) driveAt(p int, t time.Duration) int {
	lv := -1
	for _, c := range h.pins[p].drive {
		if c.At > t {
			break
		}
		lv = c.Level
	}
	return lv
}

// levelLocked is the level the pin's input register reads at t.
func (h *Hardware) levelLocked(p int, t time.Duration) int {
	s := &h.pins[p]
	ext := h.driveAt(p, t)
	switch s.mode {
	case ModeOut:
		return s.out
	case ModeOpenDrain:
		if s.out == 0 {
			return 0
		}
	}
	if ext >= 0 {
		return ext
	}
	if s.pull&PullUp != 0 || boardPullUp(p) {
		return 1
	}
	// A floating input: the simulator reads it as 0 (a real one picks up
	// noise), so scripts that forget the pull-up see a steady wrong value.
	return 0
}

// InitPin is Pin.init(mode, pull, value=): it checks the port's rules.
// value < 0 leaves the output latch as it is.
func (h *Hardware) InitPin(now time.Duration, p, mode, pull, value int) error {
	if !ValidPin(p) {
		return &PinError{"ValueError", "invalid pin"}
	}
	if p == 16 && pull != 0 {
		return &PinError{"ValueError", "Pin(16) doesn't support pull"}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.advanceLocked(now)
	before := h.levelLocked(p, now)
	h.pins[p].mode = mode
	h.pins[p].pull = pull
	if value >= 0 {
		h.pins[p].out = value & 1
	}
	h.edgeLocked(p, now, before, h.levelLocked(p, now))
	return nil
}

// Read is Pin.value(): the level of the pin at now.
func (h *Hardware) Read(now time.Duration, p int) int {
	if !ValidPin(p) {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.advanceLocked(now)
	return h.levelLocked(p, now)
}

// Output returns the pin's output latch (what Pin.toggle inverts).
func (h *Hardware) Output(p int) int {
	if !ValidPin(p) {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pins[p].out
}

// Write is Pin.value(v): it sets the output latch; on an input pin the
// latch is kept for when the pin becomes an output, as on the chip. It
// reports whether an interrupt became pending (a pin wired to itself).
func (h *Hardware) Write(now time.Duration, p, v int) bool {
	if !ValidPin(p) {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.advanceLocked(now)
	before := h.levelLocked(p, now)
	h.pins[p].out = v & 1
	after := h.levelLocked(p, now)
	h.logLocked(Event{At: now, Kind: "pin", Pin: p, Value: after})
	h.edgeLocked(p, now, before, after)
	return len(h.pending) > 0
}

// edgeLocked makes the pin's handler pending when the level change matches
// its trigger.
func (h *Hardware) edgeLocked(p int, at time.Duration, before, after int) {
	if before == after {
		return
	}
	tr := h.pins[p].trigger
	if after == 1 && tr&IRQRising != 0 || after == 0 && tr&IRQFalling != 0 {
		dir := "rising"
		if after == 0 {
			dir = "falling"
		}
		h.logLocked(Event{At: at, Kind: "irq", Pin: p, Value: after, Detail: dir})
		h.pendLocked(fmt.Sprintf("p%d", p))
	}
}

// SetIRQ is Pin.irq(handler, trigger): trigger 0 disarms. GPIO 16 has no
// interrupt on the ESP8266.
func (h *Hardware) SetIRQ(now time.Duration, p, trigger int) error {
	if !ValidPin(p) {
		return &PinError{"ValueError", "invalid pin"}
	}
	if p >= 16 {
		return &PinError{"OSError", "pin does not have IRQ capabilities"}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.advanceLocked(now)
	h.pins[p].trigger = trigger
	// Arming clears the status bit: an edge before this call is not seen.
	src := fmt.Sprintf("p%d", p)
	for i, s := range h.pending {
		if s == src {
			h.pending = append(h.pending[:i], h.pending[i+1:]...)
			break
		}
	}
	return nil
}

// PinLevels returns the level each valid pin reads at now, for the report.
func (h *Hardware) PinLevels(now time.Duration) map[int]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := map[int]int{}
	for p := range h.pins {
		if ValidPin(p) {
			m[p] = h.levelLocked(p, now)
		}
	}
	return m
}

// boardPullUp reports whether the module holds the pin high when nothing
// else drives it: an ESP-12 module (NodeMCU, Wemos D1 mini) pulls GPIO 0
// and 2 up with 10 kΩ for the boot mode straps (GPIO 15 is pulled down),
// and the USB-serial chip holds the idle UART lines GPIO 1 and 3 high.
func boardPullUp(p int) bool { return p == 0 || p == 1 || p == 2 || p == 3 }
