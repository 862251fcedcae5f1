package machine

import (
	"fmt"
	"time"
)

// maxUART1 bounds what UART1 keeps for the report.
const maxUART1 = 64 << 10

// UART1 records bytes UART1 sent (it only transmits, on GPIO 2).
func (h *Hardware) UART1(now time.Duration, p []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := maxUART1 - len(h.uart1); n > 0 {
		h.uart1 = append(h.uart1, p[:min(n, len(p))]...)
	}
	h.logLocked(Event{At: now, Kind: "uart1", Pin: 2, Value: len(p), Detail: fmt.Sprintf("%q", p)})
}

// UART1Sent returns what UART1 sent so far.
func (h *Hardware) UART1Sent() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]byte(nil), h.uart1...)
}
