package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// ptyBoard is `esp8266sim repl` on a PTY, read as a serial tool reads it.
type ptyBoard struct {
	t      *testing.T
	master *os.File
	chunks chan []byte
	got    bytes.Buffer
}

func startPTYBoard(t *testing.T) *ptyBoard {
	t.Helper()
	bin := buildBinary(t)
	master, slave := openPTY(t)
	cmd := exec.Command(bin, "repl")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	p := &ptyBoard{t: t, master: master, chunks: make(chan []byte, 256)}
	go func() {
		for {
			buf := make([]byte, 4096)
			n, err := master.Read(buf)
			if n > 0 {
				p.chunks <- buf[:n]
			}
			if err != nil {
				close(p.chunks)
				return
			}
		}
	}()
	t.Cleanup(func() {
		master.Write([]byte{0x18}) // Ctrl-X: the simulator's exit key
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		master.Close()
	})
	return p
}

func (p *ptyBoard) write(s string) {
	p.t.Helper()
	if _, err := p.master.Write([]byte(s)); err != nil {
		p.t.Fatal(err)
	}
}

// readUntil returns everything up to and including want, keeping the rest.
func (p *ptyBoard) readUntil(want string) string {
	p.t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		if i := strings.Index(p.got.String(), want); i >= 0 {
			s := p.got.String()
			p.got.Reset()
			p.got.WriteString(s[i+len(want):])
			return s[:i+len(want)]
		}
		select {
		case c, ok := <-p.chunks:
			if !ok {
				p.t.Fatalf("output ended waiting for %q, got %q", want, p.got.String())
			}
			p.got.Write(c)
		case <-timeout:
			p.t.Fatalf("waiting for %q, got %q", want, p.got.String())
		}
	}
}

// TestReplSerialProtocols drives the board as pyboard.py, mpremote and
// Thonny do: raw REPL across a soft reset, raw-paste of a 5 KB script with
// flow control, Ctrl-C ending a sleep within the bound, input().
func TestReplSerialProtocols(t *testing.T) {
	p := startPTYBoard(t)
	p.readUntil(">>> ")

	// pyboard.py's enter_raw_repl: interrupt, raw REPL, soft reset.
	p.write("\r\x03\x03\x01")
	p.readUntil("raw REPL; CTRL-B to exit\r\n>")
	p.write("\x04")
	p.readUntil("soft reboot\r\n")
	p.readUntil("raw REPL; CTRL-B to exit\r\n>")

	// Raw-paste of a 5 KB script.
	var src strings.Builder
	src.WriteString("n = 0\n")
	for i := 0; src.Len() < 5*1024; i++ {
		fmt.Fprintf(&src, "n += %d  # padding the pasted script to five kilobytes\n", i)
	}
	src.WriteString("print('pasted', n)\n")
	p.write("\x05A\x01")
	if got := p.readUntil("R\x01"); got != "R\x01" {
		t.Fatalf("raw-paste reply %q", got)
	}
	head := p.readUntil("\x01")
	if len(head) != 3 {
		t.Fatalf("window %q", head)
	}
	// The ESP8266's window: MICROPY_REPL_STDIN_BUFFER_MAX (256) / 2.
	window := int(head[0]) | int(head[1])<<8
	if window != 128 {
		t.Fatalf("window %d, want 128", window)
	}
	credit := window
	data := src.String()
	for i := 0; i < len(data); {
		for credit == 0 {
			if got := p.readUntil("\x01"); got != "\x01" {
				t.Fatalf("unexpected %q during flow control", got)
			}
			credit += window
		}
		n := min(credit, len(data)-i)
		p.write(data[i : i+n])
		i += n
		credit -= n
	}
	p.write("\x04")
	out := strings.TrimLeft(p.readUntil("\x04\x04>"), "\x01")
	if k := strings.Count(data, "n +="); out != fmt.Sprintf("\x04pasted %d\r\n\x04\x04>", k*(k-1)/2) {
		t.Errorf("raw-paste output %q", out)
	}

	// Ctrl-C ends time.sleep(30) at once (issue bound: 200 ms).
	p.write("\x02")
	p.readUntil(">>> ")
	p.write("import time; time.sleep(30)\r")
	p.readUntil("time.sleep(30)\r\n")
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	p.write("\x03")
	p.readUntil("KeyboardInterrupt: \r\n>>> ")
	if took := time.Since(start); took > 200*time.Millisecond {
		t.Errorf("Ctrl-C took %v (bound 200 ms)", took)
	}

	// input() reads a typed line.
	p.write("x = input('? ')\r")
	p.readUntil("? ")
	p.write("typed\r")
	p.readUntil(">>> ")
	p.write("x\r")
	if got := p.readUntil(">>> "); got != "x\r\n'typed'\r\n>>> " {
		t.Errorf("input() gave %q", got)
	}
}
