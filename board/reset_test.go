package board

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// resetProbe counts its boots in a flash file and prints the count and the
// reset cause; on the first boot it then does what the case wants.
const resetProbe = `import machine, time
n = 0
try:
    n = int(open('count').read())
except OSError:
    pass
with open('count', 'w') as f:
    f.write(str(n + 1))
print('boot', n, machine.reset_cause())
if n == 0:
`

func TestExternalReset(t *testing.T) {
	tests := []struct {
		name        string
		wait        string
		interactive bool
	}{
		{name: "sleeping", wait: "    while True:\n        time.sleep(3600)\n"},
		{name: "spinning", wait: "    while True:\n        pass\n"},
		{name: "catching KeyboardInterrupt", wait: "    while True:\n        try:\n            time.sleep(1)\n        except KeyboardInterrupt:\n            pass\n"},
		{name: "at the REPL", wait: "    pass\n", interactive: true},
	}
	clock := newClock(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &syncBuffer{}
			cfg := Config{Name: "esp1", Console: out, Watchdog: -1,
				Files: map[string][]byte{"boot.py": nil, "main.py": []byte(resetProbe + tt.wait)}}
			var stdin *io.PipeWriter
			if tt.interactive {
				var r *io.PipeReader
				r, stdin = io.Pipe()
				cfg.Stdin = r
			}
			b, err := New(cfg, testFirmware(t), clock)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			done := make(chan Result, 1)
			go func() {
				res, err := b.Run(ctx)
				if err != nil {
					t.Errorf("Run: %v", err)
				}
				done <- res
			}()
			waitConsole(t, out, "boot 0 0")
			if tt.interactive {
				waitConsole(t, out, ">>> ")
			}
			time.Sleep(20 * time.Millisecond) // let the program reach its wait
			b.ExternalReset()
			waitConsole(t, out, "boot 1 6")
			if tt.interactive {
				// The REPL is back, with main.py's globals.
				if _, err := stdin.Write([]byte("print(n + 40)\r")); err != nil {
					t.Fatal(err)
				}
				waitConsole(t, out, "41")
				waitConsole(t, out, "41\r\n>>> ")
				stdin.Close()
			}
			res := <-done
			if res.Outcome != Finished {
				t.Errorf("outcome = %v (%s), want finished\n%s", res.Outcome, res.Message, out)
			}
			if got := string(b.Files()["/count"]); got != "2" {
				t.Errorf("count file = %q after two boots, want 2 (flash persists)", got)
			}
			if strings.Contains(out.String(), "Traceback") {
				t.Errorf("the reset printed a traceback:\n%s", out)
			}
		})
	}
}

// TestExternalResetBeforeRun: a reset while the board is not running
// makes its next boot an external one.
func TestExternalResetBeforeRun(t *testing.T) {
	got, res := runScript(t, Config{Files: map[string][]byte{"main.py": []byte("import machine\nprint(machine.reset_cause())\n")}}, nil)
	_ = res
	if got != "0\n" {
		t.Fatalf("power-on cause: %q", got)
	}
	out := &syncBuffer{}
	b, err := New(Config{Name: "esp1", Console: out, Files: map[string][]byte{"main.py": []byte("import machine\nprint(machine.reset_cause())\n")}}, testFirmware(t), newClock(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.ExternalReset()
	if _, err := b.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if out.String() != "6\n" {
		t.Errorf("console = %q, want the external reset cause 6", out)
	}
}

// waitConsole waits until the console holds want.
func waitConsole(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("console lacks %q:\n%s", want, out.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
}
