package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// sampleRuns are the runs the golden files render.
func sampleRuns() map[string]*Run {
	return map[string]*Run{
		"pass": {
			Scenario: "http-get", File: "scenarios/http_get.yaml", Seed: 1,
			SimTime: 12345 * time.Millisecond, WallTime: 210 * time.Millisecond, Frames: 1234,
			EndReason: "every program ended",
			Boards: []Board{{
				Name: "esp1",
				WiFi: WiFi{Status: "got_ip", SSID: "SimNet", IP: "192.168.1.100", RSSI: -55},
				Exit: Exit{Kind: ExitClean, At: 12345 * time.Millisecond},
				Console: []string{"connecting to network...", "network config: ('192.168.1.100', '255.255.255.0', '192.168.1.1', '192.168.1.1')",
					"<!DOCTYPE html>", "<html>", "  <body>Test</body>", "</html>"},
				Sockets: []Socket{{Proto: "tcp", State: "TIME_WAIT", Local: "192.168.1.100:49152", Remote: "176.58.119.26:80"}},
			}},
			Expectations: []Expectation{
				{Description: `esp1 console contains "<html>" within 30s`, Passed: true, Reason: "seen", At: 2314 * time.Millisecond},
				{Description: "capture shows a TCP handshake esp1 → micropython.org:80", Passed: true, At: 2100 * time.Millisecond},
				{Description: "esp1 exits cleanly", Passed: true, At: 12345 * time.Millisecond},
			},
		},
		"fail": {
			Scenario: "tcp-client-pc-down", Seed: 7,
			Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			SimTime: 30 * time.Second, WallTime: 1500 * time.Millisecond, Frames: 88,
			Boards: []Board{
				{
					Name: "esp1",
					WiFi: WiFi{Status: "got_ip", SSID: "SimNet", IP: "192.168.1.100"},
					Exit: Exit{Kind: ExitException, Exception: "OSError", Message: "[Errno 104] ECONNRESET", At: 3 * time.Second,
						Traceback: "Traceback (most recent call last):\n  File \"main.py\", line 12, in <module>\nOSError: [Errno 104] ECONNRESET\n"},
					Console:      []string{"line 1", "line 2", "line 3", "TCP close, please reset!", "ctrl \x03 & <tag> \"q\""},
					ConsoleLines: 42,
					ExitExpected: true,
				},
				{Name: "esp2", WiFi: WiFi{Status: "no_ap_found", SSID: "Nope"}},
			},
			Expectations: []Expectation{
				{Description: `esp1 console contains "Hello"`, Passed: false, Reason: "not seen in 30.000s of console output\nlast line: \"TCP close, please reset!\""},
				{Description: "esp1 exits cleanly", Passed: false, Reason: "exception OSError: [Errno 104] ECONNRESET", At: 3 * time.Second},
				{Description: "pc received \"Hello\"", Passed: true, At: 1 * time.Second},
			},
		},
		"error": {
			Scenario: "broken", Seed: 1,
			Error: "building the world: board esp1: firmware: file not found",
		},
	}
}

func TestGolden(t *testing.T) {
	renderers := map[string]func(*bytes.Buffer, *Run) error{
		"txt":       func(b *bytes.Buffer, r *Run) error { return WriteText(b, r, TextOptions{ConsoleLines: 3}) },
		"quiet.txt": func(b *bytes.Buffer, r *Run) error { return WriteText(b, r, TextOptions{Quiet: true}) },
		"json":      func(b *bytes.Buffer, r *Run) error { return WriteJSON(b, r) },
		"xml":       func(b *bytes.Buffer, r *Run) error { return WriteJUnit(b, r) },
	}
	for name, run := range sampleRuns() {
		for ext, render := range renderers {
			t.Run(name+"."+ext, func(t *testing.T) {
				var b bytes.Buffer
				if err := render(&b, run); err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join("testdata", name+"."+ext), b.Bytes())
			})
		}
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestPassed(t *testing.T) {
	runs := sampleRuns()
	for name, want := range map[string]bool{"pass": true, "fail": false, "error": false} {
		if got := runs[name].Passed(); got != want {
			t.Errorf("%s: Passed() = %v, want %v", name, got, want)
		}
	}
	// Without expectations, a board that crashed fails the run; one still
	// running (a server) or done does not.
	for _, tc := range []struct {
		kinds []string
		want  bool
	}{
		{nil, true},
		{[]string{ExitClean, ExitRunning}, true},
		{[]string{ExitClean, ExitException}, false},
		{[]string{ExitWatchdog}, false},
		{[]string{"reset loop"}, false},
	} {
		r := &Run{}
		for _, k := range tc.kinds {
			r.Boards = append(r.Boards, Board{Exit: Exit{Kind: k}})
		}
		if got := r.Passed(); got != tc.want {
			t.Errorf("no expectations, boards ending %v: Passed() = %v, want %v", tc.kinds, got, tc.want)
		}
	}
}

// TestJUnitStructure reads the XML back and checks what CI systems rely
// on: counts that match the testcases, one testcase per expectation, a
// failure element exactly for failed ones, only valid XML characters.
func TestJUnitStructure(t *testing.T) {
	runs := sampleRuns()
	var b bytes.Buffer
	if err := WriteJUnit(&b, runs["pass"], runs["fail"], runs["error"]); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Errors   int    `xml:"errors,attr"`
			Cases    []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
				Error   *struct{} `xml:"error"`
			} `xml:"testcase"`
			SystemOut string `xml:"system-out"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("output is not valid XML: %v\n%s", err, b.String())
	}
	if doc.Tests != 7 || doc.Failures != 2 || doc.Errors != 1 || len(doc.Suites) != 3 {
		t.Errorf("totals: tests %d failures %d errors %d suites %d; want 7, 2, 1, 3", doc.Tests, doc.Failures, doc.Errors, len(doc.Suites))
	}
	order := []string{"pass", "fail", "error"}
	for i, s := range doc.Suites {
		r := runs[order[i]]
		if s.Name != r.Scenario {
			t.Errorf("suite %d name %q, want %q", i, s.Name, r.Scenario)
		}
		failures, errors := 0, 0
		for _, c := range s.Cases {
			if c.Failure != nil {
				failures++
			}
			if c.Error != nil {
				errors++
			}
		}
		if s.Tests != len(s.Cases) || s.Failures != failures || s.Errors != errors {
			t.Errorf("suite %s: attributes tests=%d failures=%d errors=%d, elements %d/%d/%d", s.Name, s.Tests, s.Failures, s.Errors, len(s.Cases), failures, errors)
		}
		if r.Error == "" && len(s.Cases) != len(r.Expectations) {
			t.Errorf("suite %s: %d testcases for %d expectations", s.Name, len(s.Cases), len(r.Expectations))
		}
	}
	if strings.ContainsRune(b.String(), '\x03') {
		t.Error("a control character reached the XML (invalid in XML 1.0)")
	}
}

func TestJSONIsValid(t *testing.T) {
	for name, r := range sampleRuns() {
		var b bytes.Buffer
		if err := WriteJSON(&b, r); err != nil {
			t.Fatal(err)
		}
		var back map[string]any
		if err := json.Unmarshal(b.Bytes(), &back); err != nil {
			t.Fatalf("%s: not JSON: %v", name, err)
		}
		if back["passed"] != r.Passed() || back["scenario"] != r.Scenario {
			t.Errorf("%s: passed %v scenario %v", name, back["passed"], back["scenario"])
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestWriteErrorsAreReturned(t *testing.T) {
	r := sampleRuns()["fail"]
	if err := WriteText(failWriter{}, r, TextOptions{}); err == nil {
		t.Error("WriteText: no error from a failing writer")
	}
	if err := WriteJSON(failWriter{}, r); err == nil {
		t.Error("WriteJSON: no error from a failing writer")
	}
	if err := WriteJUnit(failWriter{}, r); err == nil {
		t.Error("WriteJUnit: no error from a failing writer")
	}
}

// A verdict is PASS only when every board's program ended as expected; a
// cancelled run never passes and says so.
func TestVerdictNeedsExpectedEndings(t *testing.T) {
	ok := []Expectation{{Description: "console shows hi", Passed: true}}
	crashed := Board{Name: "esp1", Exit: Exit{Kind: ExitException, Exception: "OSError", At: time.Second}}
	trapped := Board{Name: "esp1", Exit: Exit{Kind: ExitError, Message: "firmware trapped", At: time.Second}}
	expected := crashed
	expected.ExitExpected = true
	for _, tt := range []struct {
		name    string
		run     Run
		pass    bool
		verdict string
	}{
		{"clean", Run{Scenario: "s", Expectations: ok, Boards: []Board{{Name: "esp1", Exit: Exit{Kind: ExitClean}}}}, true, "PASS"},
		{"still running", Run{Scenario: "s", Expectations: ok, Boards: []Board{{Name: "esp1", Exit: Exit{Kind: ExitRunning}}}}, true, "PASS"},
		{"uncaught exception", Run{Scenario: "s", Expectations: ok, Boards: []Board{crashed}}, false, "FAIL"},
		{"firmware trap", Run{Scenario: "s", Expectations: ok, Boards: []Board{trapped}}, false, "FAIL"},
		{"expected exception", Run{Scenario: "s", Expectations: ok, Boards: []Board{expected}}, true, "PASS"},
		{"cancelled", Run{Scenario: "s", Expectations: ok, Cancelled: true, Boards: []Board{{Name: "esp1", Exit: Exit{Kind: ExitRunning}}}}, false, "CANCELLED"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.run.Passed(); got != tt.pass {
				t.Errorf("Passed() = %v, want %v", got, tt.pass)
			}
			var text, junit bytes.Buffer
			if err := WriteText(&text, &tt.run, TextOptions{Quiet: true}); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(text.String(), tt.verdict+" ") {
				t.Errorf("text verdict: %q, want %s", text.String(), tt.verdict)
			}
			if err := WriteJUnit(&junit, &tt.run); err != nil {
				t.Fatal(err)
			}
			clean := !strings.Contains(junit.String(), "<failure") && !strings.Contains(junit.String(), "<error")
			if clean != tt.pass {
				t.Errorf("JUnit has no failure or error: %v, want %v:\n%s", clean, tt.pass, junit.String())
			}
		})
	}
}
