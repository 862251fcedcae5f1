package sim

import (
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
			// The loop ran about a second (10 blinks) before Ctrl-C.
			if !strings.Contains(out, ">>> print('blinks', n)\r\nblinks 10\r\n>>> ") && !strings.Contains(out, "blinks 11\r\n") {
				t.Errorf("the typed line did not run after 10 blinks:\n%q", out)
			}
		})
	}
}
