package board

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// The ESP8266 firmware's banner: the build date is the firmware's own.
const banner = "MicroPython v1.27.0 on 2025-12-10; ESP module with ESP8266\r\nType \"help()\" for more information.\r\n"

// replSession drives a board's REPL through a pipe.
type replSession struct {
	t   *testing.T
	b   *Board
	w   *io.PipeWriter
	out *syncBuffer
	res chan Result
}

func startREPL(t *testing.T, files map[string][]byte) *replSession {
	t.Helper()
	return startREPLOn(t, files, newClock(t))
}

// startREPLOn starts an interactive board on the given clock.
func startREPLOn(t *testing.T, files map[string][]byte, clock *vclock.Clock) *replSession {
	t.Helper()
	r, w := io.Pipe()
	s := &replSession{t: t, w: w, out: &syncBuffer{}, res: make(chan Result, 1)}
	b, err := New(Config{Name: "esp1", Files: files, Console: s.out, Stdin: r, Watchdog: -1}, testFirmware(t), clock)
	if err != nil {
		t.Fatal(err)
	}
	s.b = b
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
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

// realtimeClock starts a wall-clock clock owned by the test.
func realtimeClock(t *testing.T) *vclock.Clock {
	t.Helper()
	c := vclock.New(vclock.Config{Mode: vclock.Realtime})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		c.Close()
	})
	return c
}

func (s *replSession) send(keys string) {
	s.t.Helper()
	if _, err := s.w.Write([]byte(keys)); err != nil {
		s.t.Fatal(err)
	}
}

// expect waits until the console holds want.
func (s *replSession) expect(want string) {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(s.out.String(), want) {
		if time.Now().After(deadline) {
			s.t.Fatalf("console lacks %q:\n%q", want, s.out.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// mark is the console's length now.
func (s *replSession) mark() int { return len(s.out.String()) }

// exchange sends keys and checks that the console then shows exactly want
// (and nothing more, after a short pause).
func (s *replSession) exchange(keys, want string) {
	s.t.Helper()
	from := s.mark()
	s.send(keys)
	s.expectSince(from, want)
}

// expectSince waits until the console from position from is exactly want.
func (s *replSession) expectSince(from int, want string) {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := s.out.String()[from:]
		if len(got) >= len(want) {
			time.Sleep(20 * time.Millisecond)
			got = s.out.String()[from:]
			if got != want {
				s.t.Fatalf("after %d bytes the console shows\n%q\nwant\n%q", from, got, want)
			}
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("after %d bytes the console shows\n%q\nwant\n%q", from, got, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestREPLHardBootBanner(t *testing.T) {
	s := startREPL(t, map[string][]byte{"boot.py": nil, "main.py": []byte("print('hi')\n")})
	// main.c's init_done: boot.py, main.py, "\r\n", then the friendly REPL.
	s.expectSince(0, "hi\r\n\r\n"+banner+">>> ")
	s.exchange("x = 20\r", "x = 20\r\n>>> ")
	s.exchange("x + 22\r", "x + 22\r\n42\r\n>>> ")
	s.exchange("print('a\\nb')\r", "print('a\\nb')\r\na\r\nb\r\n>>> ")
}

func TestREPLFriendlySoftReboot(t *testing.T) {
	s := startREPL(t, map[string][]byte{"boot.py": nil, "main.py": []byte("print('hi')\nx = 20\n")})
	s.expect(">>> ")
	s.exchange("y = 1\r", "y = 1\r\n>>> ")
	// Ctrl-D: "\r\n", soft_reset()'s message, boot.py and main.py, then the
	// banner without the blank line of a hard boot.
	s.exchange("\x04", "\r\nMPY: soft reboot\r\nhi\r\n"+banner+">>> ")
	s.exchange("print(x, 'y' in globals())\r", "print(x, 'y' in globals())\r\n20 False\r\n>>> ")
}

func TestREPLPasteModeAndCtrlC(t *testing.T) {
	s := startREPL(t, map[string][]byte{"boot.py": nil})
	s.expect(">>> ")
	s.exchange("\x05", "\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ")
	s.exchange("def f():\r    return 'pasted'\r", "def f():\r\n===     return 'pasted'\r\n=== ")
	s.exchange("\x04", "\r\n>>> ")
	s.exchange("f()\r", "f()\r\n'pasted'\r\n>>> ")
	// Ctrl-C on a line cancels it.
	s.exchange("abc\x03", "abc\r\n>>> ")
	// The ESP8266 build has no Emacs keys: Ctrl-U, Ctrl-K do nothing.
	s.exchange("12\x15\x0b3\r", "123\r\n123\r\n>>> ")
	// In paste mode every key is text, echoed.
	s.exchange("\x05", "\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ")
	s.exchange("x = '\x15'\r\x04", "x = '\x15'\r\n=== \r\n>>> ")
	s.exchange("ord(x)\r", "ord(x)\r\n21\r\n>>> ")
}

func TestRawREPL(t *testing.T) {
	s := startREPL(t, map[string][]byte{"boot.py": []byte("print('boot')\n"), "main.py": []byte("print('main')\n")})
	s.expect(">>> ")
	s.exchange("\x01", "\r\nraw REPL; CTRL-B to exit\r\n>")
	s.exchange("print(6 * 7)\x04", "OK42\r\n\x04\x04>")
	s.exchange("1/0\x04", "OK\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\nZeroDivisionError: divide by zero\r\n\x04>")
	// Ctrl-C interrupts a running command, framed as any exception.
	from := s.mark()
	s.send("while True: pass\n\x04")
	s.expectSince(from, "OK")
	time.Sleep(50 * time.Millisecond)
	s.send("\x03")
	s.expectSince(from, "OK\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\nKeyboardInterrupt: \r\n\x04>")
	// Ctrl-C clears the line; Ctrl-A starts the raw REPL over.
	s.exchange("garbage\x03print(1)\x04", "OK1\r\n\x04\x04>")
	s.exchange("\x01", "raw REPL; CTRL-B to exit\r\n>")
	// An empty command soft-resets and the board stays raw: boot.py runs,
	// main.py does not (main.c runs it in the friendly mode only).
	s.exchange("\x04", "OK\r\nMPY: soft reboot\r\nboot\r\nraw REPL; CTRL-B to exit\r\n>")
	s.exchange("print('still raw')\x04", "OKstill raw\r\n\x04\x04>")
	// sys.exit() in the raw REPL is a soft reboot too.
	s.exchange("import sys; sys.exit()\x04", "OK\x04\x04MPY: soft reboot\r\nboot\r\nraw REPL; CTRL-B to exit\r\n>")
	// Ctrl-B: back to the friendly REPL.
	s.exchange("\x02", "\r\n"+banner+">>> ")
	s.exchange("\x04", "\r\nMPY: soft reboot\r\nboot\r\nmain\r\n"+banner+">>> ")
}

// rawPasteClient sends src in raw-paste mode as pyboard.py does, honouring
// the board's flow control, and returns what the board answered after the
// end of the data.
func rawPasteClient(t *testing.T, s *replSession, src string) string {
	t.Helper()
	from := s.mark()
	s.send("\x05A\x01")
	s.expectSince(from, "R\x01\x80\x00\x01")
	window, credit := 128, 128
	acks := 1
	pos := from + 5
	for i := 0; i < len(src); {
		if credit == 0 {
			deadline := time.Now().Add(10 * time.Second)
			for credit == 0 {
				out := s.out.String()
				for ; pos < len(out); pos++ {
					if out[pos] != 0x01 {
						t.Fatalf("unexpected byte %q during raw-paste flow control", out[pos])
					}
					credit += window
					acks++
				}
				if time.Now().After(deadline) {
					t.Fatalf("no window increment after %d of %d bytes", i, len(src))
				}
				time.Sleep(time.Millisecond)
			}
		}
		n := min(credit, len(src)-i)
		s.send(src[i : i+n])
		i += n
		credit -= n
	}
	s.send("\x04")
	// Whatever increments the board still sends come before the ack.
	deadline := time.Now().Add(15 * time.Second)
	for {
		out := s.out.String()
		for pos < len(out) && out[pos] == 0x01 {
			pos++
			acks++
		}
		if pos < len(out) && strings.HasSuffix(out, ">") && strings.Count(out[pos:], "\x04") >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no end of raw-paste: %q", out[from:])
		}
		time.Sleep(2 * time.Millisecond)
	}
	// The board acknowledges one window per 128 bytes it read.
	if want := 1 + len(src)/window; acks != want {
		t.Errorf("window increments = %d, want %d for %d bytes", acks, want, len(src))
	}
	return s.out.String()[pos:]
}

func TestRawPaste(t *testing.T) {
	s := startREPL(t, map[string][]byte{"boot.py": nil})
	s.expect(">>> ")
	s.exchange("\x01", "\r\nraw REPL; CTRL-B to exit\r\n>")
	// A 5 KB script.
	var src strings.Builder
	src.WriteString("total = 0\n")
	for i := 0; src.Len() < 5*1024; i++ {
		fmt.Fprintf(&src, "total += %d  # line %d of a long pasted script\n", i, i)
	}
	src.WriteString("print('sum', total)\n")
	n := strings.Count(src.String(), "total +=")
	got := rawPasteClient(t, s, src.String())
	if want := fmt.Sprintf("\x04sum %d\r\n\x04\x04>", n*(n-1)/2); got != want {
		t.Errorf("raw-paste answer %q, want %q", got, want)
	}
	// An exception is framed as in the raw REPL.
	got = rawPasteClient(t, s, "x = 1\nraise ValueError('boom')\n")
	if want := "\x04\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 2, in <module>\r\nValueError: boom\r\n\x04>"; got != want {
		t.Errorf("raw-paste exception %q, want %q", got, want)
	}
	// An unknown raw-paste command is refused and the raw REPL goes on.
	s.exchange("\x05B\x01", "R\x00>")
	s.exchange("print(x)\x04", "OK1\r\n\x04\x04>")
	// Ctrl-C while the text arrives: end of data, KeyboardInterrupt.
	from := s.mark()
	s.send("\x05A\x01")
	s.expectSince(from, "R\x01\x80\x00\x01")
	s.exchange("print(1)\n\x03", "\x04\x04KeyboardInterrupt: \r\n\x04>")
	// sys.exit() in raw-paste is a soft reboot that stays raw.
	got = rawPasteClient(t, s, "import sys\nsys.exit()\n")
	if want := "\x04\x04\x04MPY: soft reboot\r\nraw REPL; CTRL-B to exit\r\n>"; got != want {
		t.Errorf("raw-paste sys.exit %q, want %q", got, want)
	}
}

// TestRawREPLManySoftResets: tools soft-reset before every command; that
// is never a reset loop, and machine.reset() brings the friendly REPL back.
func TestRawREPLManySoftResets(t *testing.T) {
	s := startREPL(t, map[string][]byte{"boot.py": nil})
	s.expect(">>> ")
	s.exchange("\x01", "\r\nraw REPL; CTRL-B to exit\r\n>")
	for i := 0; i < 20; i++ {
		s.exchange("\x04", "OK\r\nMPY: soft reboot\r\nraw REPL; CTRL-B to exit\r\n>")
	}
	s.exchange("import machine; machine.reset()\x04", "OK"+"\r\n"+banner+">>> ")
	s.exchange("import machine; machine.reset_cause()\r", "import machine; machine.reset_cause()\r\n4\r\n>>> ")
}
