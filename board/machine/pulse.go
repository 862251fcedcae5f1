package machine

import "time"

// PulseUS is machine.time_pulse_us(pin, level, timeout) on an input driven
// from outside: it waits for the pin to reach level, then times how long it
// stays there. It returns the pulse in microseconds (-2: the level never
// came, -1: it never ended, as extmod/machine_pulse.c) and the simulated
// time the call took.
func (h *Hardware) PulseUS(now time.Duration, p, level int, timeout time.Duration) (us int64, took time.Duration) {
	if !ValidPin(p) {
		return -2, 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.advanceLocked(now)
	// The times the level can change: the drive's changes after now.
	next := func(t time.Duration) (time.Duration, bool) {
		for _, c := range h.pins[p].drive {
			if c.At > t {
				return c.At, true
			}
		}
		return 0, false
	}
	t := now
	for h.levelLocked(p, t) != level {
		n, ok := next(t)
		if !ok || n-now > timeout {
			return -2, timeout
		}
		t = n
	}
	start := t
	for h.levelLocked(p, t) == level {
		n, ok := next(t)
		if !ok || n-start > timeout {
			return -1, start - now + timeout
		}
		t = n
	}
	return int64((t - start) / time.Microsecond), t - now
}
