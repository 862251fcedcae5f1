package multitest

import (
	"bytes"
	"context"
	"encoding/xml"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/board"
)

// suiteDir holds the project's own multi-instance tests.
const suiteDir = "../../tests/multi_net"

func firmware(t testing.TB) *board.Firmware {
	t.Helper()
	fw, err := board.DefaultFirmware()
	if err != nil {
		t.Fatalf("firmware: %v", err)
	}
	return fw
}

func runOne(t *testing.T, file string, opts Options) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := RunFile(ctx, file, opts)
	if err != nil {
		t.Fatalf("RunFile(%s): %v", file, err)
	}
	return r
}

func suiteFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(suiteDir, "*.py"))
	if err != nil || len(files) < 10 {
		t.Fatalf("suite: %d files in %s (%v)", len(files), suiteDir, err)
	}
	return files
}

// The project's suite passes on a perfect network and on a lossy, slow
// one: the same .exp files hold for both.
func TestSuitePasses(t *testing.T) {
	fw := firmware(t)
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"perfect", Options{Firmware: fw}},
		{"loss5_latency50ms", Options{Firmware: fw, Loss: 5, Latency: 50 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, f := range suiteFiles(t) {
				r := runOne(t, f, tc.opts)
				if r.Status != Pass {
					var b bytes.Buffer
					WriteResult(&b, r, true)
					t.Errorf("%s(the world ended after %v: %s)", b.String(), r.SimTime, r.EndReason)
				}
			}
		})
	}
}

// A deliberately wrong .exp gives FAIL with a unified diff that names
// both sides and shows the differing lines.
func TestWrongExpFails(t *testing.T) {
	r := runOne(t, "testdata/wrong/echo.py", Options{Firmware: firmware(t)})
	if r.Status != Fail {
		t.Fatalf("status %s, want fail; output:\n%s", r.Status, r.Output)
	}
	if r.Error {
		t.Errorf("Error set for a plain mismatch: %s", r.Reason)
	}
	wantOut := "--- instance0 ---\nb'hello'\n--- instance1 ---\nb'world'\n"
	if r.Output != wantOut {
		t.Errorf("output:\n%s\nwant:\n%s", r.Output, wantOut)
	}
	wantDiff := "--- echo.py.exp\n+++ echo.py.out\n@@ -1,4 +1,4 @@\n --- instance0 ---\n b'hello'\n --- instance1 ---\n-b'WORLD'\n+b'world'\n"
	if r.Diff != wantDiff {
		t.Errorf("diff:\n%s\nwant:\n%s", r.Diff, wantDiff)
	}
	var b bytes.Buffer
	if err := WriteText(&b, []*Result{r}, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"FAIL testdata/wrong/echo.py on instance0|instance1: the output differs from echo.py.exp\n",
		"### TEST ###\n" + wantOut,
		"### DIFF ###\n" + wantDiff,
		"0 passed, 1 failed\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, b.String())
		}
	}
}

// The protocol's corner cases, each as run-multitests.py handles it.
func TestProtocol(t *testing.T) {
	fw := firmware(t)
	for _, tc := range []struct {
		name       string
		file       string
		opts       Options
		status     Status
		isError    bool
		output     string // exact, when set
		contains   []string
		metrics    []string
		reasonPart string
	}{
		{
			name: "globals broadcast metric three instances", file: "testdata/metric/globals.py",
			status:  Pass,
			metrics: []string{"speed 42"},
		},
		{
			name: "expect_reboot resumes after machine.reset()", file: "testdata/reboot/reboot.py",
			status: Pass,
		},
		{
			name: "skip before next", file: "testdata/skip/skip.py",
			status: Skip, reasonPart: "instance1 printed SKIP",
		},
		{
			name: "no exp file", file: "testdata/noexp/noexp.py",
			status: Skip, reasonPart: "no noexp.py.exp",
			output: "--- instance0 ---\nhello from instance0\n--- instance1 ---\nhello from instance1\n",
		},
		{
			name: "timeout", file: "testdata/timeout/timeout.py",
			opts:   Options{Timeout: 10 * time.Second},
			status: Fail, isError: true, reasonPart: "instance1 was still running after 10s",
			output: "--- instance0 ---\ninstance0 done\n--- instance1 ---\ninstance1 waiting\nTIMEOUT\n",
		},
		{
			name: "error stops the test", file: "testdata/error/error.py",
			status: Fail, isError: true, reasonPart: "instance0 raised an exception",
			contains: []string{"Traceback (most recent call last):\n", "ValueError: boom\n--- instance1 ---\ninstance1 broadcasting\n"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Firmware = fw
			r := runOne(t, tc.file, opts)
			if r.Status != tc.status || r.Error != tc.isError {
				t.Errorf("status %s error %v, want %s %v (reason %q); output:\n%s%s", r.Status, r.Error, tc.status, tc.isError, r.Reason, r.Output, r.Diff)
			}
			if tc.output != "" && r.Output != tc.output {
				t.Errorf("output:\n%s\nwant:\n%s", r.Output, tc.output)
			}
			for _, c := range tc.contains {
				if !strings.Contains(r.Output, c) {
					t.Errorf("output lacks %q:\n%s", c, r.Output)
				}
			}
			if strings.Join(r.Metrics, "|") != strings.Join(tc.metrics, "|") {
				t.Errorf("metrics %q, want %q", r.Metrics, tc.metrics)
			}
			if !strings.Contains(r.Reason, tc.reasonPart) {
				t.Errorf("reason %q lacks %q", r.Reason, tc.reasonPart)
			}
			if strings.Contains(r.Output, "TIMEOUT") != (tc.name == "timeout") {
				t.Errorf("TIMEOUT in output: %v; output:\n%s", !(tc.name == "timeout"), r.Output)
			}
		})
	}
}

// Run sorts files and JUnit carries every verdict.
func TestRunAndJUnit(t *testing.T) {
	opts := Options{Firmware: firmware(t)}
	files := []string{"testdata/wrong/echo.py", "testdata/noexp/noexp.py", "testdata/metric/globals.py"}
	rs, err := Run(context.Background(), files, opts)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.File+"="+string(r.Status))
	}
	want := "testdata/metric/globals.py=pass testdata/noexp/noexp.py=skip testdata/wrong/echo.py=fail"
	if strings.Join(got, " ") != want {
		t.Errorf("results %v, want %s", got, want)
	}
	if s := Summary(rs); s != "1 passed, 1 failed, 1 skipped" {
		t.Errorf("summary %q", s)
	}
	var b bytes.Buffer
	if err := WriteJUnit(&b, rs); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit does not parse: %v\n%s", err, b.String())
	}
	if doc.Tests != 3 || doc.Failures != 1 || doc.Skipped != 1 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 3 {
		t.Fatalf("JUnit counts: %+v", doc)
	}
	c := doc.Suites[0].Cases[2]
	if c.Failure == nil || !strings.Contains(c.Failure.Text, "-b'WORLD'\n+b'world'") {
		t.Errorf("failure case %+v lacks the diff", c)
	}
	if doc.Suites[0].Cases[1].Skipped == nil {
		t.Errorf("skipped case not marked: %+v", doc.Suites[0].Cases[1])
	}
}

func TestRunFileProblems(t *testing.T) {
	fw := firmware(t)
	for _, tc := range []struct {
		name, file, reason string
	}{
		{"missing", "testdata/nope.py", "cannot read the test"},
		{"no instances", "testdata/wrong/echo.py.exp", "defines no instance functions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runOne(t, tc.file, Options{Firmware: fw})
			if r.Status != Fail || !strings.Contains(r.Reason, tc.reason) {
				t.Errorf("status %s reason %q, want fail %q", r.Status, r.Reason, tc.reason)
			}
		})
	}
	if _, err := RunFile(context.Background(), "x.py", Options{}); err == nil {
		t.Error("RunFile without firmware: no error")
	}
	for _, o := range []Options{{Firmware: fw, Loss: 101}, {Firmware: fw, Latency: -time.Second}} {
		if _, err := RunFile(context.Background(), "testdata/noexp/noexp.py", o); err == nil {
			t.Errorf("RunFile(%+v): no error", o)
		}
	}
}

func TestCountInstances(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want int
	}{
		{"", 0},
		{"def instance0():\n    pass\n", 1},
		{"def instance0():\n    pass\ndef instance1():\n    pass\n", 2},
		{"def instance3():\n", 4},
		{"  def instance5():\n", 0},
		{"def instance1(x):\n", 0},
		{"def instance99999999999999999999():\n", 0},
		{"def instance0():\ndef instance0_resume():\n", 1},
	} {
		if got := CountInstances([]byte(tc.src)); got != tc.want {
			t.Errorf("CountInstances(%q) = %d, want %d", tc.src, got, tc.want)
		}
	}
}

func TestUnifiedDiff(t *testing.T) {
	for _, tc := range []struct {
		name, a, b, want string
	}{
		{"equal", "x\n", "x\n", ""},
		{"one line changed", "a\nb\nc\n", "a\nB\nc\n", "--- A\n+++ B\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"added at end", "a\n", "a\nb\n", "--- A\n+++ B\n@@ -1 +1,2 @@\n a\n+b\n"},
		{"from empty", "", "a\n", "--- A\n+++ B\n@@ -0,0 +1 @@\n+a\n"},
		{
			"two hunks",
			"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
			"1\nX\n3\n4\n5\n6\n7\n8\n9\n10\nY\n12\n",
			"--- A\n+++ B\n@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n 4\n 5\n@@ -8,5 +8,5 @@\n 8\n 9\n 10\n-11\n+Y\n 12\n",
		},
		{"no newline", "a", "b", "--- A\n+++ B\n@@ -1 +1 @@\n-a\n+b\n\\ (the last line of one side has no newline)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := UnifiedDiff(tc.a, tc.b, "A", "B"); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

// The console reader splits the world's live view into instance lines and
// applies the protocol by phase, as run-multitests.py's two loops do.
func TestConsoleProtocol(t *testing.T) {
	rs := newRunState(2)
	sink := consoleSink{rs}
	feed := strings.Join([]string{
		"1.000s instance0 | SET IP = '1.2.3.4'",
		"1.000s instance0 | BROADCAST early",
		"1.000s instance0 | x ets_task(4020f4ac, 28, 3fff9f48, 4)",
		"1.000s instance0 | NEXT",
		"1.000s instance0 | SET later = 1",
		"1.001s instance0 | BROADCAST hi | there",
		"1.002s instance1 | NEXT",
		"1.002s instance1 | OUTPUT_METRIC rate 5",
		"1.002s instance1 | spaces at end   \t\x1f",
		"1.002s instance1 | caf\xc3\xa9",
		"1.003s instance7 | out of range",
		"garbage without separator",
		"1.003s esp1 | not an instance",
		"",
	}, "\n")
	if _, err := sink.Write([]byte(feed)); err != nil {
		t.Fatal(err)
	}
	if got := rs.globals.String(); got != "IP = '1.2.3.4'\n" {
		t.Errorf("globals %q", got)
	}
	want := "--- instance0 ---\nBROADCAST early\nSET later = 1\n--- instance1 ---\nspaces at end\ncaf\\xc3\\xa9\n"
	if got := rs.combined(); got != want {
		t.Errorf("combined:\n%s\nwant:\n%s", got, want)
	}
	if got := strings.Join(rs.inbox[1], "|"); got != "BROADCAST hi | there" {
		t.Errorf("instance1 inbox %q", got)
	}
	if len(rs.inbox[0]) != 0 || !rs.released[0] || !rs.next[1] || rs.stopped {
		t.Errorf("state: inbox0 %q released0 %v next1 %v stopped %v", rs.inbox[0], rs.released[0], rs.next[1], rs.stopped)
	}
	if strings.Join(rs.metrics, "|") != "rate 5" {
		t.Errorf("metrics %q", rs.metrics)
	}
	sink.Write([]byte("2.000s instance1 | WAIT_FOR_REBOOT instance0_resume 0\n"))
	if !rs.errored || !rs.stopped {
		t.Errorf("a resume function of another instance was accepted")
	}
	sink.Write([]byte("2.001s instance0 | after the stop\n"))
	if strings.Contains(rs.combined(), "after the stop") {
		t.Errorf("output read after the test stopped:\n%s", rs.combined())
	}
}

func TestModuleName(t *testing.T) {
	for in, want := range map[string]string{
		"tests/multi_net/tcp_data.py": "tcp_data",
		"x/socket.py":                 "mt_test",
		"x/main.py":                   "mt_test",
		"x/1st.py":                    "mt_test",
		"x/has-dash.py":               "mt_test",
	} {
		if got := moduleName(in); got != want {
			t.Errorf("moduleName(%q) = %q, want %q", in, got, want)
		}
	}
}

// Console lines are what a script prints: any bytes must be handled
// without a panic.
func FuzzConsoleLines(f *testing.F) {
	f.Add([]byte("1.000s instance0 | NEXT\n1.000s instance1 | BROADCAST x\n"))
	f.Add([]byte("1.000s instance1 | WAIT_FOR_REBOOT instance1_b 10\n"))
	f.Add([]byte("1.000s instance0 | SET \xff\n | \n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs := newRunState(3)
		consoleSink{rs}.Write(data)
		_ = rs.combined()
		_ = CountInstances(data)
	})
}
