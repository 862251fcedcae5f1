package serialport

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openSlave opens the PTY's device as a client does.
func openSlave(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func readFor(t *testing.T, f *os.File, want string) string {
	t.Helper()
	f.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got []byte
	buf := make([]byte, 256)
	for !strings.Contains(string(got), want) {
		n, err := f.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("reading for %q: got %q, %v", want, got, err)
		}
	}
	return string(got)
}

func TestPTY(t *testing.T) {
	if _, err := os.Stat("/dev/ptmx"); err != nil {
		t.Skip("no pseudo-terminals here")
	}
	dir := t.TempDir()
	link := filepath.Join(dir, "serial", "esp1")
	line := NewLine("esp1")
	p, err := OpenPTY(line, link)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if target, err := os.Readlink(link); err != nil || target != p.Path {
		t.Fatalf("symlink %s -> %q (%v), want %s", link, target, err, p.Path)
	}

	// Nobody has the port open: output is dropped, not kept for later.
	line.Write([]byte("before anyone listened\n"))
	deadline := time.Now().Add(5 * time.Second)
	for line.Dropped.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if line.Dropped.Load() == 0 {
		t.Fatal("output with nobody connected was not dropped")
	}

	c := openSlave(t, link)
	// Raw mode: bytes pass unchanged both ways (no echo, no CR/LF mapping).
	line.Write([]byte("a\nb\r\n"))
	if got := readFor(t, c, "b\r\n"); got != "a\nb\r\n" {
		t.Errorf("client read %q, want the bytes unchanged", got)
	}
	c.Write([]byte("1+1\r\x03"))
	buf := make([]byte, 16)
	n, _ := line.Read(buf)
	for n < 5 {
		m, _ := line.Read(buf[n:])
		n += m
	}
	if string(buf[:n]) != "1+1\r\x03" {
		t.Errorf("board read %q", buf[:n])
	}
	// A client closing and reopening sees output again.
	c.Close()
	c = openSlave(t, link)
	line.Write([]byte("again\n"))
	readFor(t, c, "again\n")
	c.Close()

	p.Close()
	if _, err := os.Lstat(link); err == nil {
		t.Error("Close left the symlink")
	}
}

func TestPTYLinkPlacement(t *testing.T) {
	if _, err := os.Stat("/dev/ptmx"); err != nil {
		t.Skip("no pseudo-terminals here")
	}
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale")
	os.Symlink("/dev/pts/999999", stale)
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	tests := []struct {
		name, link, wantErr string
	}{
		{"stale symlink replaced", stale, ""},
		{"regular file kept", file, "exists and is not a symlink"},
		{"directory under a file", filepath.Join(file, "esp1"), "cannot create the serial directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := OpenPTY(NewLine("esp1"), tt.link)
			if p != nil {
				defer p.Close()
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("OpenPTY(%s) error %v, want %q", tt.link, err, tt.wantErr)
			}
		})
	}
}
