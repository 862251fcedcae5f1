package board

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// replSession drives a board's REPL through a pipe.
type replSession struct {
	t   *testing.T
	w   *io.PipeWriter
	out *syncBuffer
	res chan Result
}

func startREPL(t *testing.T, files map[string][]byte) *replSession {
	t.Helper()
	r, w := io.Pipe()
	s := &replSession{t: t, w: w, out: &syncBuffer{}, res: make(chan Result, 1)}
	b, err := New(Config{Name: "esp1", Files: files, Console: s.out, Stdin: r, Watchdog: -1}, testFirmware(t), newClock(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	go func() {
		res, err := b.Run(ctx)
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		s.res <- res
	}()
	t.Cleanup(func() {
		w.Close()
		cancel()
		<-s.res
		b.Close()
	})
	return s
}

func (s *replSession) send(keys string) {
	s.t.Helper()
	if _, err := s.w.Write([]byte(keys)); err != nil {
		s.t.Fatal(err)
	}
}

// expect waits until the console holds want after position from.
func (s *replSession) expect(want string) {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(s.out.String(), want) {
		if time.Now().After(deadline) {
			s.t.Fatalf("console lacks %q:\n%s", want, s.out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestREPL(t *testing.T) {
	s := startREPL(t, map[string][]byte{"main.py": []byte("x = 20\n")})
	s.expect("MicroPython v1.27.0")
	s.expect("; ESP module with ESP8266\r\nType \"help()\" for more information.\r\n>>> ")
	s.send("x + 22\r")
	s.expect("x + 22\r\n42\n>>> ")

	// Ctrl-C interrupts running code.
	s.send("while True: pass\r")
	s.expect("... ")
	s.send("\r")
	time.Sleep(100 * time.Millisecond)
	s.send("\x03")
	s.expect("KeyboardInterrupt: ")

	// Ctrl-C also ends a sleep at once.
	s.send("import time; time.sleep(3600)\r")
	time.Sleep(100 * time.Millisecond)
	s.send("\x03")
	s.expect("KeyboardInterrupt")

	// Paste mode.
	s.send("\x05")
	s.expect("paste mode; Ctrl-C to cancel, Ctrl-D to finish")
	s.send("def f():\r    return 'pasted'\r\x04")
	s.send("f()\r")
	s.expect("'pasted'")

	// Ctrl-D soft-resets: main.py runs again in a fresh interpreter.
	s.send("y = 1\r\x04")
	s.expect("MPY: soft reboot\r\n")
	s.send("print(x, 'y' in globals())\r")
	s.expect("20 False")
}
