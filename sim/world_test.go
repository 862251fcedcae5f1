package sim

import (
	"strings"
	"testing"
	"time"
)

// runYAML builds and runs a scenario given inline.
func runYAML(t *testing.T, yaml string) *Result {
	t.Helper()
	return runYAMLWith(t, yaml, Options{})
}

func TestPlainScriptRunsAndExpectationsAreChecked(t *testing.T) {
	res := runYAML(t, `
boards:
  - name: esp1
    code: |
      import time
      print("hello", 6 * 7)
      time.sleep(30)
      print("woke at", time.ticks_ms() // 1000)
expect:
  - console_contains: "hello 42"
  - console_contains: "woke at 30"
  - console_contains: "never printed"
  - exit: clean
`)
	if got := res.Boards[0].Outcome; got != "clean" {
		t.Errorf("outcome = %q, want clean; console:\n%s", got, res.Boards[0].Console)
	}
	want := []bool{true, true, false, true}
	for i, e := range res.Expectations {
		if e.Passed != want[i] {
			t.Errorf("expectation %d (%s) passed=%v, want %v (%s)", i, e.Description, e.Passed, want[i], e.Reason)
		}
	}
	if res.SimTime < 30*time.Second {
		t.Errorf("SimTime = %v, want ≥ 30s", res.SimTime)
	}
}

func TestUncaughtExceptionIsReported(t *testing.T) {
	res := runYAML(t, `
boards:
  - name: esp1
    code: |
      print("before")
      raise OSError(104)
expect:
  - exit: {kind: exception, type: OSError, message: "ECONNRESET"}
`)
	b := res.Boards[0]
	if b.Outcome != "exception" || !strings.Contains(b.Traceback, `File "main.py", line 2`) {
		t.Errorf("outcome %q traceback %q", b.Outcome, b.Traceback)
	}
	if !res.Passed() {
		t.Errorf("expectations failed: %+v", res.Expectations)
	}
}
