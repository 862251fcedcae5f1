package sim

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestConsoleInputCtrlC: a scenario's Ctrl-C interrupts the blink loop at
// its time, in fast and real time alike, and a typed line then runs at the
// REPL.
func TestConsoleInputCtrlC(t *testing.T) {
	var fastConsole string
	for _, mode := range []string{"fast", "fast", "fast", "realtime"} {
		t.Run(mode, func(t *testing.T) {
			res := runYAML(t, `
time_mode: `+mode+`
duration: 4s
boards:
  - name: esp1
    code: |
      import time, machine
      led = machine.Pin(2, machine.Pin.OUT)
      n = 0
      while True:
          led(not led())
          n += 1; t = time.ticks_ms()
          time.sleep_ms(100)
console_input:
  - {at: 1s, board: esp1, text: "\x03"}
  - {at: 2s, board: esp1, line: "print('blinks', n, t)"}
expect:
  - console_contains: "blinks "
`)
			out := res.Boards[0].Console
			if mode == "fast" {
				// Same scenario, same console: the key lands at its
				// simulator time, not when a goroutine gets to it.
				if fastConsole != "" && out != fastConsole {
					t.Errorf("fast runs differ:\n%q\n%q", fastConsole, out)
				}
				fastConsole = out
			}
			if !strings.Contains(out, "  File \"main.py\", line 7, in <module>\r\nKeyboardInterrupt: \r\n") {
				t.Fatalf("no KeyboardInterrupt in main.py:\n%q", out)
			}
			// The Ctrl-C lands at 1 s of the board's clock, during the sleep
			// after the last blink: that blink was at most 100 ms before.
			// Real time counts the board's own work as time (boot,
			// each loop), so a loaded machine makes fewer blinks, but the
			// last one still sits within 100 ms before the key; slack covers
			// a wake the OS delivers late.
			want := regexp.MustCompile(`>>> print\('blinks', n, t\)\r\nblinks (\d+) (\d+)\r\n>>> `).FindStringSubmatch(out)
			if want == nil {
				t.Fatalf("the typed line did not run:\n%q", out)
			}
			n, _ := strconv.Atoi(want[1])
			last, _ := strconv.Atoi(want[2])
			if mode == "fast" {
				// Each pass's code costs CPU time (board/cputime.go), and
				// main.py starts after its compile: fewer than 10 blinks,
				// the last within 100 ms before the key.
				if n < 5 || n > 11 || last < 900 || last > 1000 {
					t.Errorf("%d blinks, the last at %d ms, before the Ctrl-C at 1 s", n, last)
				}
				return
			}
			const slack = 150
			if n < 1 || last < 900-slack || last > 1000+slack {
				t.Errorf("%d blinks, the last at %d ms, before the Ctrl-C at 1 s", n, last)
			}
		})
	}
}
