package board

import (
	"strings"
	"testing"
	"time"
)

// ctrlCBound is the wall-clock bound for Ctrl-C to end a wait,
// with margin for a loaded 2-core machine.
const (
	ctrlCBound  = 200 * time.Millisecond
	ctrlCMargin = 3
)

// TestCtrlCEndsWaits: in real time, Ctrl-C typed while a program waits
// raises KeyboardInterrupt at once, wherever it waits.
func TestCtrlCEndsWaits(t *testing.T) {
	tests := []struct {
		name  string
		setup string // lines typed first
		wait  string // the line that waits
	}{
		{name: "time.sleep", wait: "import time; time.sleep(30)"},
		{name: "sleep_ms", wait: "import time; time.sleep_ms(30000)"},
		{name: "blink loop", setup: "import time, machine\rled = machine.Pin(2, machine.Pin.OUT)\r", wait: "while True: led(not led()); time.sleep_ms(500)"},
		{name: "busy loop", wait: "while True: pass"},
		{name: "input", wait: "x = input()"},
		{name: "sys.stdin.read", wait: "import sys; sys.stdin.read(5)"},
		{name: "socket accept", setup: "import socket\rs = socket.socket()\rs.bind(('0.0.0.0', 8080))\rs.listen(1)\r", wait: "s.accept()"},
		{name: "socket recv", setup: "import socket\ru = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ru.bind(('0.0.0.0', 5000))\r", wait: "u.recv(10)"},
		{name: "select", setup: "import socket, select\ru = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ru.bind(('0.0.0.0', 5001))\r", wait: "select.select([u], [], [])"},
		{name: "poll", setup: "import socket, select\ru = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ru.bind(('0.0.0.0', 5002))\rp = select.poll()\rp.register(u, select.POLLIN)\r", wait: "p.poll()"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startREPLOn(t, map[string][]byte{"boot.py": nil}, realtimeClock(t))
			s.expect(">>> ")
			if tt.setup != "" {
				s.send(tt.setup)
				s.expect(">>> " + tt.setup[strings.LastIndex(tt.setup[:len(tt.setup)-1], "\r")+1:len(tt.setup)-1] + "\r\n>>> ")
			}
			from := s.mark()
			if strings.Contains(tt.wait, ":") {
				// A compound statement ends with an empty line.
				s.send(tt.wait + "\r\r")
				s.expectSince(from, tt.wait+"\r\n... \r\n")
			} else {
				s.send(tt.wait + "\r")
				s.expectSince(from, tt.wait+"\r\n")
			}
			time.Sleep(150 * time.Millisecond) // let it reach its wait
			from = s.mark()
			start := time.Now()
			s.send("\x03")
			deadline := start.Add(10 * time.Second)
			for !strings.Contains(s.out.String()[from:], "KeyboardInterrupt: \r\n>>> ") {
				if time.Now().After(deadline) {
					t.Fatalf("no KeyboardInterrupt:\n%q", s.out.String())
				}
				time.Sleep(time.Millisecond)
			}
			took := time.Since(start)
			t.Logf("Ctrl-C → KeyboardInterrupt in %v", took)
			if took > ctrlCBound*ctrlCMargin {
				t.Errorf("Ctrl-C took %v, want < %v", took, ctrlCBound)
			}
			if got := s.out.String()[from:]; !strings.HasPrefix(got, "Traceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\nKeyboardInterrupt: \r\n>>> ") {
				t.Errorf("interrupt output %q", got)
			}
			// The board is usable afterwards.
			s.exchange("print(7 * 6)\r", "print(7 * 6)\r\n42\r\n>>> ")
		})
	}
}

func TestInputReadsUART(t *testing.T) {
	s := startREPL(t, map[string][]byte{"boot.py": nil})
	s.expect(">>> ")
	s.exchange("x = input('name? ')\r", "x = input('name? ')\r\nname? ")
	// Typed characters are echoed; backspace erases.
	s.exchange("esq\x7fp", "esq\b\x1b[Kp")
	s.exchange("\r", "\r\n>>> ")
	s.exchange("x\r", "x\r\n'esp'\r\n>>> ")
	// Ctrl-D on an empty line: EOFError.
	s.send("input()\r")
	s.expect("input()\r\n")
	from := s.mark()
	s.send("\x04")
	s.expectSince(from, "Traceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\nEOFError: \r\n>>> ")
	// sys.stdin.read(n) waits for n characters, Enter reads as "\n";
	// sys.stdin.buffer gives the bytes as sent.
	s.exchange("import sys\r", "import sys\r\n>>> ")
	s.send("sys.stdin.read(3)\r")
	s.expect("sys.stdin.read(3)\r\n")
	s.exchange("ab\r", "'ab\\n'\r\n>>> ")
	s.send("sys.stdin.buffer.read(2)\r")
	s.expect("sys.stdin.buffer.read(2)\r\n")
	s.exchange("\r\x01", "b'\\r\\x01'\r\n>>> ")
	// select/poll see a waiting key (esp_mphal.c mp_hal_stdio_poll).
	s.exchange("import select\r", "import select\r\n>>> ")
	s.exchange("select.select([sys.stdin], [], [], 0)\r", "select.select([sys.stdin], [], [], 0)\r\n([], [], [])\r\n>>> ")
	s.send("p = select.poll(); p.register(sys.stdin, select.POLLIN); r = p.poll(); print(len(r), r[0][1], sys.stdin.read(1))\r")
	s.expect("sys.stdin.read(1))\r\n")
	s.exchange("k", "1 1 k\r\n>>> ")
	s.send("sys.stdin.readline()\r")
	s.expect("sys.stdin.readline()\r\n")
	s.exchange("hello\r", "'hello\\n'\r\n>>> ")
}

// TestCtrlCDuringBoot: Ctrl-C typed while the board boots cannot break the
// board's own setup (the heap limit, the ESP8266 profile).
func TestCtrlCDuringBoot(t *testing.T) {
	s := startREPL(t, map[string][]byte{"boot.py": nil, "main.py": []byte("x = 1\n")})
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			s.b.Interrupt()
			time.Sleep(100 * time.Microsecond)
		}
	}()
	for i := 0; i < 3; i++ {
		s.send("\x03")
		time.Sleep(time.Millisecond)
	}
	s.expect(">>> ")
	close(stop)
	<-done
	from := s.mark()
	s.send("import sys, gc\rprint(sys.platform)\r")
	s.expect("esp8266")
	s.send("try:\r bytearray(64 * 1024)\rexcept MemoryError:\r print('heap limit holds')\r\r")
	s.expect("heap limit holds")
	if out := s.out.String(); strings.Contains(out, "NameError") || strings.Contains(out, "_esp8266") {
		t.Errorf("setup was broken:\n%s", out[from:])
	}
}
