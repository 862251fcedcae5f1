package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSocketModuleSurvivesHeapExhaustion: after opening sockets until the
// heap is full and freeing them, socket.socket() works again. It used to
// fail for good with "TypeError: 'socket' object isn't callable": the board
// answered a later lookup of _sock.socket with a proxy reference whose
// firmware-side slot had been lost while the heap was full.
func TestSocketModuleSurvivesHeapExhaustion(t *testing.T) {
	script := filepath.Join(t.TempDir(), "exhaust.py")
	if err := os.WriteFile(script, []byte(`import socket, gc
l = []
err = None
try:
    while True:
        l.append(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
except Exception as e:
    err = e
n = len(l)
l = None
gc.collect()
print("stopped at", n, repr(err))
for i in range(3):
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        print("ok", s)
        s.close()
    except Exception as e:
        print("again", repr(e))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    print(s.recv(0x7fffffff))
except Exception as e:
    print(repr(e))
`), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := runWith([]string{"run", script}, &stdout, &stderr)
	// How many sockets fit depends on the heap; what matters is that the
	// module works once they are freed.
	want := "ok <socket object"
	if got := stdout.String(); code != 0 || strings.Count(got, want) != 3 || strings.Contains(got, "TypeError") {
		t.Errorf("exit %d, console:\n%s\nwant exit 0, three lines with %q and no TypeError; stderr: %s", code, got, want, stderr.String())
	}
}

// TestCraftedInputIsOneSentence: flag values and files that used to panic,
// exhaust threads or be silently taken as the default are refused with one
// line and exit status 2.
func TestCraftedInputIsOneSentence(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.py")
	if err := os.WriteFile(ok, []byte("print('hi')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The 39-byte module FuzzFirmwareImage found: its type section's count
	// runs past the section, which sliced out of bounds in
	// patchLoopSafepoints.
	crafted, err := os.ReadFile(filepath.Join("..", "..", "board", "testdata", "fuzz", "FuzzFirmwareImage", "d1afcbd7b04d8dda"))
	if err != nil {
		t.Fatal(err)
	}
	fw := filepath.Join(dir, "crafted.wasm")
	if err := os.WriteFile(fw, fuzzCorpusBytes(t, crafted), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		stderrPart string
	}{
		{"crafted firmware", []string{"--firmware", fw, "run", ok}, "firmware"},
		{"too many cpus", []string{"run", ok, "--cpus", "100000"}, "--cpus must be between 1 and"},
		{"zero cpus", []string{"run", ok, "--cpus", "0"}, "--cpus must be between 1 and"},
		{"negative watchdog", []string{"run", ok, "--watchdog", "-1s"}, "--watchdog must be positive"},
		{"zero watchdog", []string{"run", ok, "--watchdog", "0s"}, "--watchdog must be positive"},
		{"zero boards", []string{"run", ok, "--boards", "0"}, "--boards must be at least 1"},
		{"validate a script", []string{"validate", ok}, "is a MicroPython script, not a scenario file"},
		{"validate an unknown name", []string{"validate", "no_such"}, "no built-in scenario of that name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runWith(tt.args, &stdout, &stderr)
			msg := strings.TrimSpace(stderr.String())
			if code != 2 || !strings.Contains(msg, tt.stderrPart) || strings.Contains(msg, "\n") || strings.Contains(msg, ".yaml:") {
				t.Errorf("esp8266sim %s: exit %d, stderr %q; want 2 and one line with %q", strings.Join(tt.args, " "), code, msg, tt.stderrPart)
			}
		})
	}
}

// fuzzCorpusBytes decodes a go-fuzz corpus file holding one []byte.
func fuzzCorpusBytes(t *testing.T, file []byte) []byte {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(file)), "\n")
	v := lines[len(lines)-1]
	if !strings.HasPrefix(v, "[]byte(") {
		t.Fatalf("corpus file holds %q, want []byte(...)", v)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(v, "[]byte("), ")"))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(s)
}
