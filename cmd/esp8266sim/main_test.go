package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// buildBinary builds esp8266sim once per test binary.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "esp8266sim")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestRunExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ok := write("ok.py", []byte("print('hi')\n"))
	boom := write("boom.py", []byte("print('a')\nraise ValueError('bad')\n"))
	latin := write("latin.py", []byte("print('caf\xe9')\n"))
	notWasm := write("fw.wasm", []byte("not wasm"))
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string
		stderrPart string
	}{
		{"clean", []string{"run", ok}, 0, "hi\n", "PASS ok.py"},
		{"exception", []string{"run", boom}, 1, "a\nTraceback (most recent call last):\n  File \"main.py\", line 2, in <module>\nValueError: bad\n", "FAIL boom.py"},
		{"missing script", []string{"run", filepath.Join(dir, "nope.py")}, 2, "", "does not exist"},
		{"directory", []string{"run", dir}, 2, "", "is a directory"},
		{"non-utf8", []string{"run", latin}, 2, "", "is not UTF-8"},
		{"bad firmware", []string{"--firmware", notWasm, "run", ok}, 2, "", "run `make`"},
		{"missing firmware", []string{"--firmware", filepath.Join(dir, "none.wasm"), "run", ok}, 2, "", "run `make`"},
		{"two args", []string{"run", ok, ok}, 2, "", "at most one"},
		{"unknown scenario name", []string{"run", "no_such_scenario"}, 2, "", "esp8266sim list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runWith(tt.args, &stdout, &stderr)
			if code != tt.code || stdout.String() != tt.stdout || !strings.Contains(stderr.String(), tt.stderrPart) {
				t.Errorf("code %d stdout %q stderr %q; want %d %q %q", code, stdout.String(), stderr.String(), tt.code, tt.stdout, tt.stderrPart)
			}
			if tt.code == 2 && strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
				t.Errorf("usage error should be one line: %q", stderr.String())
			}
		})
	}
}

// openPTY opens a pseudo-terminal pair.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func TestReplThroughPTY(t *testing.T) {
	bin := buildBinary(t)
	master, slave := openPTY(t)
	defer master.Close()
	cmd := exec.Command(bin, "repl")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	defer cmd.Process.Kill()
	chunks := make(chan []byte, 64)
	go func() {
		for {
			buf := make([]byte, 1024)
			n, err := master.Read(buf)
			if n > 0 {
				chunks <- buf[:n]
			}
			if err != nil {
				close(chunks)
				return
			}
		}
	}()
	var got bytes.Buffer
	readUntil := func(want string) {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for !strings.Contains(got.String(), want) {
			select {
			case c, ok := <-chunks:
				if !ok {
					t.Fatalf("repl output ended waiting for %q, got %q", want, got.String())
				}
				got.Write(c)
			case <-timeout:
				t.Fatalf("waiting for %q, got %q", want, got.String())
			}
		}
	}
	readUntil(">>> ")
	if !strings.Contains(got.String(), "ESP module with ESP8266") {
		t.Errorf("banner %q does not name the board", got.String())
	}
	master.Write([]byte("1+2\r"))
	readUntil("3\r\n>>> ")
	master.Write([]byte{0x18}) // Ctrl-X exits
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("repl did not exit on Ctrl-X")
	}
}
