package machine

import "time"

// WDTTimeout is the ESP8266 watchdog's fixed timeout: machine.WDT accepts
// only timeout=5000 (machine_wdt.c).
const WDTTimeout = 5 * time.Second

// StartWDT is machine.WDT(): from now on the board resets unless fed
// within WDTTimeout. It returns the deadline.
func (h *Hardware) StartWDT(now time.Duration) time.Duration {
	return h.FeedWDT(now)
}

// FeedWDT is WDT.feed(); it returns the new deadline.
func (h *Hardware) FeedWDT(now time.Duration) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.wdtOn, h.wdtFed = true, now
	return now + WDTTimeout
}

// WDTExpired reports whether the running watchdog was not fed in time.
func (h *Hardware) WDTExpired(now time.Duration) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.wdtOn && now-h.wdtFed >= WDTTimeout {
		h.logLocked(Event{At: now, Kind: "wdt", Pin: -1, Value: 1, Detail: "not fed: reset"})
		h.wdtOn = false
		return true
	}
	return false
}
