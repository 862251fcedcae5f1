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
          n += 1
          time.sleep_ms(100)
console_input:
  - {at: 1s, board: esp1, text: "\x03"}
  - {at: 2s, board: esp1, line: "print('blinks', n)"}
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
			// The loop ran a second before Ctrl-C: 10 blinks of simulated
			// time in fast mode; in real time a loaded machine may manage
			// fewer.
			want := regexp.MustCompile(`>>> print\('blinks', n\)\r\nblinks (\d+)\r\n>>> `).FindStringSubmatch(out)
			if want == nil {
				t.Fatalf("the typed line did not run:\n%q", out)
			}
			if n, _ := strconv.Atoi(want[1]); n < 1 || n > 11 || (mode == "fast" && n != 10 && n != 11) {
				t.Errorf("%d blinks before the Ctrl-C at 1 s", n)
			}
		})
	}
}
