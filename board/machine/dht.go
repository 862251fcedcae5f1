package machine

import (
	"errors"
	"math"
	"time"
)

// DHT is a DHT11 or DHT22 humidity and temperature sensor on a pin.
type DHT struct {
	Model       int     // 11 or 22
	Temperature float64 // °C
	Humidity    float64 // %RH
}

// ErrNoSensor is what dht_readinto sees when nothing answers on the pin:
// the port raises OSError(ETIMEDOUT).
var ErrNoSensor = errors.New("no sensor answered")

// AttachDHT wires a DHT sensor to pin p (nil removes it).
func (h *Hardware) AttachDHT(p int, d *DHT) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.dht == nil {
		h.dht = map[int]*DHT{}
	}
	if d == nil {
		delete(h.dht, p)
		return
	}
	c := *d
	h.dht[p] = &c
}

// SetDHT changes the reading of the sensor on pin p.
func (h *Hardware) SetDHT(p int, temp, hum float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if d := h.dht[p]; d != nil {
		d.Temperature, d.Humidity = temp, hum
	}
}

// DHTRead is esp.dht_readinto(pin, buf): the sensor's 5-byte frame
// (humidity, temperature, checksum) in the encoding of its model.
func (h *Hardware) DHTRead(now time.Duration, p int) ([5]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var f [5]byte
	d := h.dht[p]
	if d == nil {
		return f, ErrNoSensor
	}
	if d.Model == 11 {
		f[0] = byte(math.Round(math.Max(0, math.Min(d.Humidity, 255))))
		t := math.Round(d.Temperature)
		f[2] = byte(math.Max(0, math.Min(t, 255)))
	} else {
		hum := uint16(math.Round(math.Max(0, math.Min(d.Humidity, 100)) * 10))
		t := math.Round(math.Abs(d.Temperature) * 10)
		tv := uint16(math.Min(t, 0x7fff))
		if d.Temperature < 0 {
			tv |= 0x8000
		}
		f[0], f[1] = byte(hum>>8), byte(hum)
		f[2], f[3] = byte(tv>>8), byte(tv)
	}
	f[4] = f[0] + f[1] + f[2] + f[3]
	h.logLocked(Event{At: now, Kind: "dht", Pin: p, Value: int(f[4])})
	return f, nil
}
