package services_test

import (
	"fmt"
	"time"

	"github.com/esp8266sim/esp8266sim/netstack/services"
)

// What MicroPython's ntptime sends, and the time it reads back.
func ExampleNTPAnswer() {
	query := make([]byte, 48)
	query[0] = 0x1b // LI 0, version 3, client
	now := time.Date(2026, 1, 1, 12, 30, 0, 0, time.UTC)
	reply := services.NTPAnswer(query, now)
	t, err := services.NTPTime(reply)
	fmt.Println(t, err, reply[1])
	// Output: 2026-01-01 12:30:00 +0000 UTC <nil> 1
}
