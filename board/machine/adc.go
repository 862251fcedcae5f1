package machine

import (
	"sort"
	"time"
)

// ADCMax is the ESP8266 ADC's full scale: ADC(0).read() returns 0..1024.
const ADCMax = 1024

// ADCPoint is the A0 input taking a value at a time (a potentiometer
// turned, a light sensor seeing dusk).
type ADCPoint struct {
	At    time.Duration
	Value int
}

// SetADC sets what the A0 input reads from now on (clamped to 0..ADCMax).
func (h *Hardware) SetADC(v int) { h.DriveADC([]ADCPoint{{Value: v}}) }

// DriveADC gives the A0 input as a timeline (replacing any earlier one).
func (h *Hardware) DriveADC(points []ADCPoint) {
	p := append([]ADCPoint(nil), points...)
	for i := range p {
		p[i].Value = min(max(p[i].Value, 0), ADCMax)
	}
	sort.SliceStable(p, func(i, j int) bool { return p[i].At < p[j].At })
	h.mu.Lock()
	defer h.mu.Unlock()
	h.adc = p
}

// ReadADC is ADC(0).read() at now: 0 when nothing is wired to A0.
func (h *Hardware) ReadADC(now time.Duration) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	v := 0
	for _, p := range h.adc {
		if p.At > now {
			break
		}
		v = p.Value
	}
	return v
}
