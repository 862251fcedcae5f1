package machine

import (
	"fmt"
	"time"
)

// timer is one machine.Timer (an os_timer on the port): virtual, any id.
type timer struct {
	armed    bool
	periodic bool
	period   time.Duration
	next     time.Duration
}

// ArmTimer is Timer.init(mode=, period=): the first expiry is one period
// from now; a periodic timer then fires every period.
func (h *Hardware) ArmTimer(now time.Duration, id int, period time.Duration, periodic bool) error {
	if period < 0 {
		return fmt.Errorf("timer %d: negative period", id)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.advanceLocked(now)
	if period == 0 {
		// A zero period would fire endlessly at one instant; the SDK's
		// os_timer treats it as the next tick.
		period = time.Millisecond
	}
	h.timers[id] = &timer{armed: true, periodic: periodic, period: period, next: now + period}
	mode := "one-shot"
	if periodic {
		mode = "periodic"
	}
	h.logLocked(Event{At: now, Kind: "timer", Pin: id, Value: 0, Detail: fmt.Sprintf("%s %v", mode, period)})
	return nil
}

// StopTimer is Timer.deinit().
func (h *Hardware) StopTimer(id int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.timers, id)
	src := fmt.Sprintf("t%d", id)
	for i, s := range h.pending {
		if s == src {
			h.pending = append(h.pending[:i], h.pending[i+1:]...)
			break
		}
	}
}
