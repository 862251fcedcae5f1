package board

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// loop10kRef is what a 10,000-iteration `for i in range(n): pass` takes on
// the ESP8266 at 80 MHz by the model calibrated on pystone (RATIONALE.md,
// "Executed work costs simulated time"): 1.6 µs per counted iteration,
// about 8.4 iterations per pass.
const loop10kRef = 134_000 // µs

// timings runs main.py and returns the integers it printed as "name value".
func timings(t *testing.T, cfg Config, main string) map[string]int {
	t.Helper()
	cfg.Files = files(main)
	out, res := runScript(t, cfg, nil)
	if res.Outcome != Finished {
		t.Fatalf("outcome %v: %s\n%s", res.Outcome, res.Traceback, out)
	}
	got := map[string]int{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		if v, err := strconv.Atoi(f[1]); err == nil {
			got[f[0]] = v
		}
	}
	return got
}

const loopScript = `
import time, machine
def loop(n):
    t0 = time.ticks_us()
    for i in range(n):
        pass
    return time.ticks_diff(time.ticks_us(), t0)
print("loop80", loop(10000))
machine.freq(160000000)
print("loop160", loop(10000))
machine.freq(80000000)
print("again80", loop(10000))
`

func TestCPUTimeLoopCostsBoardTime(t *testing.T) {
	got := timings(t, Config{}, loopScript)
	l80, l160, again := got["loop80"], got["loop160"], got["again80"]
	if l80 < loop10kRef*3/4 || l80 > loop10kRef*5/4 {
		t.Errorf("10,000-iteration loop at 80 MHz took %d µs, want %d µs ± 25%%", l80, loop10kRef)
	}
	if half := float64(l160) / float64(l80); half < 0.48 || half > 0.52 {
		t.Errorf("at 160 MHz the loop took %d µs, %.2f× the 80 MHz time; want half", l160, half)
	}
	if d := again - l80; d < -l80/100 || d > l80/100 {
		t.Errorf("back at 80 MHz the loop took %d µs, first %d µs", again, l80)
	}
}

func TestCPUTimeSameRunSameTimes(t *testing.T) {
	script := loopScript + `
t0 = time.ticks_us()
print("x" * 300)
print("print", time.ticks_diff(time.ticks_us(), t0))
print("uptime", time.ticks_us())
`
	a := timings(t, Config{Seed: 7}, script)
	b := timings(t, Config{Seed: 7}, script)
	if len(a) != 5 {
		t.Fatalf("got %v", a)
	}
	for k, v := range a {
		if b[k] != v {
			t.Errorf("%s: %d then %d µs in the same run", k, v, b[k])
		}
	}
}

func TestCPUTimeConsoleCostsUARTTime(t *testing.T) {
	// 2000 characters and "\n" at 115200 baud, 10 bits a byte: 174 ms on
	// the wire; print returns with the FIFO's 128 bytes still to send.
	for _, tc := range []struct {
		name   string
		setup  string
		wantMS float64
	}{
		{"115200", "", 2001 * 10 / 115.2},
		{"UART(0, 9600)", "machine.UART(0, 9600)", 2001 * 10 / 9.6},
		{"init(baudrate=)", "machine.UART(0).init(baudrate=230400)", 2001 * 10 / 230.4},
		// UART(1, baud) sets the ROM's rate without reprogramming UART0 …
		{"UART(1, 9600)", "machine.UART(1, 9600)", 2001 * 10 / 115.2},
		// … until UART(0) is set up again (machine_uart.c, UartDev).
		{"UART(1) then UART(0)", "machine.UART(1, 9600)\nmachine.UART(0)", 2001 * 10 / 9.6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := timings(t, Config{}, "import time, machine\n"+tc.setup+`
s = "x" * 2000
t0 = time.ticks_us()
print(s)
print("print", time.ticks_diff(time.ticks_us(), t0))
`)
			ms := float64(got["print"]) / 1000
			if ms < tc.wantMS*0.9 || ms > tc.wantMS*1.1 {
				t.Errorf("printing 2000 characters took %.1f ms, want %.1f ms ± 10%%", ms, tc.wantMS)
			}
		})
	}
}

func TestCPUNativeCodeIsFree(t *testing.T) {
	got := timings(t, Config{CPU: CPUNative}, loopScript)
	if got["loop80"] != 0 || got["loop160"] != 0 {
		t.Errorf("with CPUNative the loops took %d and %d µs, want 0", got["loop80"], got["loop160"])
	}
}

func TestParseCPUModel(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want CPUModel
		ok   bool
	}{{"", CPUBoard, true}, {"board", CPUBoard, true}, {"native", CPUNative, true}, {"fast", CPUBoard, false}} {
		if got, ok := ParseCPUModel(tc.in); got != tc.want || ok != tc.ok {
			t.Errorf("ParseCPUModel(%q) = %v, %v", tc.in, got, ok)
		}
	}
}

func TestCPUTimeSpinningPollJumps(t *testing.T) {
	// machine.idle() in a loop is a spin on a status poll: the board
	// parks instead of executing each pass, yet the loop ends on time.
	got := timings(t, Config{}, `
import time, machine
t0 = time.ticks_ms()
n = 0
while time.ticks_diff(time.ticks_ms(), t0) < 2000:
    machine.idle()
    n += 1
print("passes", n)
print("elapsed", time.ticks_diff(time.ticks_ms(), t0))
`)
	// Executing every pass (~150 µs each) would be over 13,000 passes.
	if n := got["passes"]; n == 0 || n > 1000 {
		t.Errorf("the spin ran %d passes, want a few hundred jumps", n)
	}
	if e := got["elapsed"]; e < 2000 || e > 2000+int(jumpMax.Milliseconds())+5 {
		t.Errorf("the 2 s spin ended after %d ms", e)
	}
}

func init() {
	// A host function standing for C work the board does (the TLS engine's).
	RegisterFunc("_cputest", "work_ms", func(b *Board, args []Value) (Value, error) {
		ms, err := ArgInt(args, 0)
		if err != nil {
			return nil, err
		}
		b.ChargeCPU(time.Duration(ms) * time.Millisecond)
		return nil, nil
	})
}

func TestChargeCPUCostsBoardTime(t *testing.T) {
	script := `
import time, machine, _cputest
t0 = time.ticks_us()
_cputest.work_ms(500)
print("at80", time.ticks_diff(time.ticks_us(), t0))
machine.freq(160000000)
t0 = time.ticks_us()
_cputest.work_ms(500)
print("at160", time.ticks_diff(time.ticks_us(), t0))
`
	got := timings(t, Config{}, script)
	if v := got["at80"]; v < 500_000 || v > 510_000 {
		t.Errorf("500 ms of charged work took %d µs at 80 MHz", v)
	}
	if v := got["at160"]; v < 250_000 || v > 260_000 {
		t.Errorf("500 ms of charged work took %d µs at 160 MHz", v)
	}
	if got := timings(t, Config{CPU: CPUNative}, script); got["at80"] != 0 {
		t.Errorf("CPUNative: charged work took %d µs", got["at80"])
	}
}

// The collections the firmware runs when the host's own calls return to
// its top level (cpugc.go) are not the script's code: main.py's first
// statement used to read ticks_ms ≈ 515, half a second of collector loops
// charged at the script's rate.
func TestCPUTimeTopLevelCollectionsAreNotScriptTime(t *testing.T) {
	got := timings(t, Config{}, "import time\nprint('first', time.ticks_ms())\n")
	if v, ok := got["first"]; !ok || v > 100 {
		t.Errorf("main.py's first statement read ticks_ms %d (ok %v), want under 100 ms: compiling two lines", v, ok)
	}
}

// A short counted loop of status polls is executed, not jumped: 100
// machine.idle() calls take 100 calls' code time, as on the board (jumping
// from the 33rd poll made each take up to 20 ms).
func TestCPUTimeShortPollLoopIsExact(t *testing.T) {
	got := timings(t, Config{}, `
import time, machine
t0 = time.ticks_us()
for i in range(100):
    machine.idle()
print("polls", time.ticks_diff(time.ticks_us(), t0))
`)
	if v := got["polls"]; v <= 0 || v > int(spinBeforeJump/time.Microsecond) {
		t.Errorf("100 machine.idle() calls took %d µs, want their code's time (under %v)", v, spinBeforeJump)
	}
}

// While a board pays CPU time the watchdog is held: the wall time parked
// (a fleet's board can wait there for seconds while the others catch up)
// does not count, and the budget is not renewed either, so a runaway loop
// that pays every few milliseconds is still stopped.
func TestWatchdogHeldWhilePayingCPU(t *testing.T) {
	var w watchdog
	fired := make(chan struct{}, 1)
	w.arm(150*time.Millisecond, func() { fired <- struct{}{} })
	defer w.stop()
	time.Sleep(50 * time.Millisecond) // 50 ms of code
	w.hold()
	time.Sleep(300 * time.Millisecond) // parked: not counted
	select {
	case <-fired:
		t.Fatal("the watchdog fired while held")
	default:
	}
	w.release()
	for i := 0; i < 3; i++ { // more payments: the budget is not renewed
		w.hold()
		w.release()
	}
	select {
	case <-fired:
	case <-time.After(2 * time.Second):
		t.Fatal("the watchdog never fired after its budget of running time")
	}
}

// An SPI transfer holds the CPU for its bus time (machine_spi_transfer
// waits on each spi_transaction): 3200 bytes at 2 MHz are 12.8 ms, whatever
// the CPU clock, on top of the stand-in's own few milliseconds of Python.
func TestSPITransferCostsBusTime(t *testing.T) {
	const script = `
import time, machine
from machine import SPI
s = SPI(1, baudrate=2000000)
w = b"abcdefghijklmnop" * 200
r = bytearray(len(w))
def timed(f):
    t0 = time.ticks_us()
    f()
    return time.ticks_diff(time.ticks_us(), t0)
print("write80", timed(lambda: s.write(w)))
print("readinto80", timed(lambda: s.readinto(r)))
machine.freq(160000000)
print("write160", timed(lambda: s.write(w)))
print("ff", r[0] + r[-1])
`
	got := timings(t, Config{}, script)
	const bus = 12800 // µs: 3200 · 8 bits / 2 MHz
	for _, k := range []string{"write80", "readinto80", "write160"} {
		if v := got[k]; v < bus || v > bus*3/2 {
			t.Errorf("%s: %d µs, want the bus time %d µs plus at most half again of Python", k, v, bus)
		}
	}
	if got["ff"] != 0x1fe {
		t.Errorf("readinto filled %d, want MISO idle (0xff) in every byte", got["ff"])
	}
	native := timings(t, Config{CPU: CPUNative}, script)
	if native["write80"] != 0 || native["readinto80"] != 0 {
		t.Errorf("--cpu native: write %d µs, readinto %d µs; want 0", native["write80"], native["readinto80"])
	}
}
