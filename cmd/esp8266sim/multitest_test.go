package main

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

func TestMultitestFlags(t *testing.T) {
	for _, tt := range []struct {
		name    string
		f       multitestFlags
		loss    float64
		wantErr string
	}{
		{"defaults", multitestFlags{format: "text", loss: "0", timeout: time.Minute}, 0, ""},
		{"percent sign", multitestFlags{format: "junit", loss: "5%", timeout: time.Minute}, 5, ""},
		{"plain number", multitestFlags{format: "text", loss: " 2.5 ", timeout: time.Minute}, 2.5, ""},
		{"bad format", multitestFlags{format: "xml", loss: "0", timeout: time.Minute}, 0, "not a report format"},
		{"loss too big", multitestFlags{format: "text", loss: "101", timeout: time.Minute}, 0, "percentage from 0 to 100"},
		{"loss not a number", multitestFlags{format: "text", loss: "lots", timeout: time.Minute}, 0, "percentage"},
		{"negative latency", multitestFlags{format: "text", loss: "0", latency: -time.Millisecond, timeout: time.Minute}, 0, "negative"},
		{"zero timeout", multitestFlags{format: "text", loss: "0"}, 0, "must be positive"},
		{"too many instances", multitestFlags{format: "text", loss: "0", timeout: time.Minute, instances: 99}, 0, "--instances 99"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, err := tt.f.options()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("options() error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || o.Loss != tt.loss {
				t.Fatalf("options() = %+v, %v; want loss %v", o, err, tt.loss)
			}
		})
	}
}

// The command runs test files, prints a verdict per file, the diff of a
// failing one and the summary, and exits 1 when one failed.
func TestMultitestCommand(t *testing.T) {
	const wrong = "../../sim/multitest/testdata/wrong/echo.py"
	const noexp = "../../sim/multitest/testdata/noexp/noexp.py"
	var stdout, stderr bytes.Buffer
	code := runWith([]string{"multitest", wrong, noexp}, &stdout, &stderr)
	out := stdout.String()
	if code != 1 {
		t.Errorf("exit %d, want 1; stderr %s", code, stderr.String())
	}
	for _, want := range []string{
		"SKIP " + noexp + " on instance0|instance1: no noexp.py.exp",
		"FAIL " + wrong + " on instance0|instance1: the output differs from echo.py.exp\n",
		"### DIFF ###\n--- echo.py.exp\n+++ echo.py.out\n",
		"-b'WORLD'\n+b'world'\n",
		"0 passed, 1 failed, 1 skipped\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}

	stdout.Reset()
	stderr.Reset()
	code = runWith([]string{"multitest", "--format", "junit", "--loss", "5%", "--latency", "20ms", noexp}, &stdout, &stderr)
	if code != 0 {
		t.Errorf("junit run exit %d; stderr %s", code, stderr.String())
	}
	var doc struct {
		Tests   int `xml:"tests,attr"`
		Skipped int `xml:"skipped,attr"`
	}
	if err := xml.Unmarshal(stdout.Bytes(), &doc); err != nil || doc.Tests != 1 || doc.Skipped != 1 {
		t.Errorf("JUnit %+v (%v):\n%s", doc, err, stdout.String())
	}
	if !strings.Contains(stderr.String(), "0 passed, 0 failed, 1 skipped") {
		t.Errorf("summary not on stderr: %q", stderr.String())
	}

	for _, args := range [][]string{
		{"multitest"},
		{"multitest", "no/such/test.py"},
		{"multitest", "--loss", "200", noexp},
	} {
		stdout.Reset()
		stderr.Reset()
		if code := runWith(args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage); stderr %s", args, code, stderr.String())
		}
	}
}
