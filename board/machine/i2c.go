package machine

import (
	"fmt"
	"sort"
	"time"
)

// I2CDevice is a part on the board's I2C bus. The bus calls it with the
// bytes of one transaction addressed to it.
type I2CDevice interface {
	// I2CWrite receives the bytes a controller wrote after the address.
	I2CWrite(data []byte)
	// I2CRead returns n bytes for a controller reading.
	I2CRead(n int) []byte
}

// The board has one I2C bus: machine.I2C and SoftI2C bit-bang it on any
// two pins, and the simulator wires every I2C device to it whichever pins
// the script names (a real board would simply need the right two).

// AttachI2C puts d on the bus at the 7-bit address addr.
func (h *Hardware) AttachI2C(addr int, d I2CDevice) error {
	if addr < 0 || addr > 0x7f {
		return fmt.Errorf("i2c address %#x out of range", addr)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.i2c == nil {
		h.i2c = map[int]I2CDevice{}
	}
	h.i2c[addr] = d
	return nil
}

// I2CScan is I2C.scan(): the addresses that acknowledge, in order.
func (h *Hardware) I2CScan() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	var a []int
	for addr := range h.i2c {
		a = append(a, addr)
	}
	sort.Ints(a)
	return a
}

// I2CWrite writes data to addr; false when no device acknowledges (the
// port's OSError ENODEV).
func (h *Hardware) I2CWrite(now time.Duration, addr int, data []byte) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.i2c[addr]
	h.logLocked(Event{At: now, Kind: "i2c", Pin: addr, Value: len(data), Detail: "write"})
	if d == nil {
		return false
	}
	d.I2CWrite(append([]byte(nil), data...))
	return true
}

// I2CRead reads n bytes from addr; false when no device acknowledges.
func (h *Hardware) I2CRead(now time.Duration, addr, n int) ([]byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.i2c[addr]
	h.logLocked(Event{At: now, Kind: "i2c", Pin: addr, Value: n, Detail: "read"})
	if d == nil {
		return nil, false
	}
	out := d.I2CRead(n)
	if len(out) < n {
		out = append(out, make([]byte, n-len(out))...)
	}
	return out[:n], true
}

// I2CDevice returns the device at addr, or nil.
func (h *Hardware) I2CDevice(addr int) I2CDevice {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.i2c[addr]
}
