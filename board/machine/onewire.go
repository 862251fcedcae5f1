package machine

import "time"

// OneWireDevice is a part on a 1-Wire bus, driven bit by bit as the
// firmware's _onewire module drives the pin.
type OneWireDevice interface {
	// Reset is the bus reset pulse; it reports the presence pulse.
	Reset() bool
	// WriteBit is a write slot from the controller.
	WriteBit(b int)
	// ReadBit is a read slot: 0 pulls the line low, 1 leaves it.
	ReadBit() int
}

// AttachOneWire puts d on the 1-Wire bus of pin p.
func (h *Hardware) AttachOneWire(p int, d OneWireDevice) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ow == nil {
		h.ow = map[int][]OneWireDevice{}
	}
	h.ow[p] = append(h.ow[p], d)
}

// OneWireReset resets the bus on pin p; true when a device answered.
func (h *Hardware) OneWireReset(now time.Duration, p int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	any := false
	for _, d := range h.ow[p] {
		if d.Reset() {
			any = true
		}
	}
	h.logLocked(Event{At: now, Kind: "onewire", Pin: p, Value: b2i(any), Detail: "reset"})
	return any
}

// OneWireWriteBit is a write slot on pin p.
func (h *Hardware) OneWireWriteBit(p, b int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, d := range h.ow[p] {
		d.WriteBit(b & 1)
	}
}

// OneWireReadBit is a read slot on pin p: the line is the AND of what
// every device does (open drain), 1 with nobody there.
func (h *Hardware) OneWireReadBit(p int) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	v := 1
	for _, d := range h.ow[p] {
		v &= d.ReadBit()
	}
	return v
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
