package machine

import (
	"fmt"
	"time"
)

// PWM limits of the port's software PWM (esppwm.c, machine_pwm.c).
const (
	PWMMaxChannels = 8
	PWMMaxFreq     = 1000
	PWMMaxDuty     = 1023
)

type pwmState struct {
	freq int
	duty int
}

// PWMState is one PWM output: frequency in Hz, duty 0..1023.
type PWMState struct {
	Pin  int
	Freq int
	Duty int
}

// SetPWM records a PWM output on pin p (freq, duty as the port clamps
// them). It fails when all channels are taken or the pin is 16.
func (h *Hardware) SetPWM(now time.Duration, p, freq, duty int) error {
	if p == 16 || !ValidPin(p) {
		return &PinError{"ValueError", fmt.Sprintf("PWM not supported on pin %d", p)}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.pwm[p]; !ok && len(h.pwm) >= PWMMaxChannels {
		// pwm_add finds no free channel: the port says the same as for
		// an unsupported pin.
		return &PinError{"ValueError", fmt.Sprintf("PWM not supported on pin %d", p)}
	}
	freq = min(max(freq, 1), PWMMaxFreq)
	duty = min(max(duty, 0), PWMMaxDuty)
	h.pwm[p] = &pwmState{freq: freq, duty: duty}
	h.logLocked(Event{At: now, Kind: "pwm", Pin: p, Value: duty, Detail: fmt.Sprintf("freq %d", freq)})
	return nil
}

// StopPWM is PWM.deinit().
func (h *Hardware) StopPWM(now time.Duration, p int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.pwm[p]; ok {
		delete(h.pwm, p)
		h.logLocked(Event{At: now, Kind: "pwm", Pin: p, Value: 0, Detail: "deinit"})
	}
}

// PWM returns pin p's PWM output, if any.
func (h *Hardware) PWM(p int) (PWMState, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.pwm[p]
	if !ok {
		return PWMState{}, false
	}
	return PWMState{Pin: p, Freq: s.freq, Duty: s.duty}, true
}
