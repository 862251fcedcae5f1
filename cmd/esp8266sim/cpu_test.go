package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// --cpu picks what the boards' code costs: board (default) charges the
// loop ESP8266 CPU time, native makes it free; anything else is a usage
// error. serve takes the flag too (worldFlags).
func TestCPUFlag(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "loop.py")
	src := "import time\nt0 = time.ticks_us()\nfor i in range(10000):\n    pass\nprint('loop', time.ticks_diff(time.ticks_us(), t0))\n"
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	loop := regexp.MustCompile(`loop (\d+)`)
	for _, tc := range []struct {
		args     []string
		min, max int
	}{
		{nil, 100_000, 300_000},
		{[]string{"--cpu", "board"}, 100_000, 300_000},
		{[]string{"--cpu", "native"}, 0, 0},
	} {
		var out, errb bytes.Buffer
		if code := runWith(append([]string{"run", script}, tc.args...), &out, &errb); code != 0 {
			t.Fatalf("run %v: exit %d: %s", tc.args, code, errb.String())
		}
		m := loop.FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("run %v printed %q", tc.args, out.String())
		}
		if v, _ := strconv.Atoi(m[1]); v < tc.min || v > tc.max {
			t.Errorf("run %v: the loop took %d µs, want %d–%d", tc.args, v, tc.min, tc.max)
		}
	}
	var out, errb bytes.Buffer
	if code := runWith([]string{"run", script, "--cpu", "fast"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--cpu must be board or native") {
		t.Errorf("--cpu fast: exit %d, stderr %q; want 2 and one sentence", code, errb.String())
	}
}
