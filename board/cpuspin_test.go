package board

import "testing"

// Under CPUNative a spin on a status poll jumps like the CPU model's
// (nativePoll): the 2 s loop runs a few hundred passes, not the tens of
// thousands the per-poll charge made it execute (each pass costing host
// wall time), and still ends on time.
func TestCPUNativeSpinningPollJumps(t *testing.T) {
	got := timings(t, Config{CPU: CPUNative}, `
import time, machine
pin = machine.Pin(4, machine.Pin.IN)
t0 = time.ticks_ms()
n = 0
while time.ticks_diff(time.ticks_ms(), t0) < 2000:
    pin.value()
    n += 1
print("passes", n)
print("elapsed", time.ticks_diff(time.ticks_ms(), t0))
time.sleep_ms(1)
t0 = time.ticks_us()
for i in range(100):
    pin.value()
print("short", time.ticks_diff(time.ticks_us(), t0))
`)
	if n := got["passes"]; n == 0 || n > 1000 {
		t.Errorf("the native spin ran %d passes, want a few hundred jumps", n)
	}
	if e := got["elapsed"]; e < 2000 || e > 2000+int(jumpMax.Milliseconds())+5 {
		t.Errorf("the 2 s native spin ended after %d ms", e)
	}
	// A short counted loop of polls is not a spin that jumps.
	if v := got["short"]; v > int(pollMaxCost.Microseconds())*100 {
		t.Errorf("100 native polls took %d µs", v)
	}
}
