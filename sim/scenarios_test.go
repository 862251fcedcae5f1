package sim

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/board"
	"github.com/esp8266sim/esp8266sim/scenarios"
	"github.com/esp8266sim/esp8266sim/scripts"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// shipped is the file system the CLI reads embedded scenarios from.
var shipped = scenario.MountFS(map[string]fs.FS{"scenarios": scenarios.FS, "scripts": scripts.FS})

func runShipped(t *testing.T, name string) *Result {
	t.Helper()
	sc, err := scenario.ParseFS(shipped, "scenarios/"+name)
	if err != nil {
		t.Fatalf("loading %s: %v", name, err)
	}
	fw, err := board.DefaultFirmware()
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(sc, Options{Firmware: fw})
	if err != nil {
		t.Fatalf("building %s: %v", name, err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := w.Run(ctx, RunOptions{})
	if err != nil {
		t.Fatalf("running %s: %v", name, err)
	}
	return res
}

// Every scenario shipped in scenarios/ runs in fast mode and its
// expectations hold.
func TestShippedScenarios(t *testing.T) {
	names, err := fs.Glob(scenarios.FS, "*.yaml")
	if err != nil || len(names) == 0 {
		t.Fatalf("no embedded scenarios: %v", err)
	}
	for _, name := range names {
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			res := runShipped(t, name)
			for _, e := range res.Expectations {
				if !e.Passed {
					t.Errorf("expectation failed: %s: %s", e.Description, e.Reason)
				}
			}
			if t.Failed() {
				for _, b := range res.Boards {
					t.Logf("%s ended %s (%s); console:\n%s", b.Name, b.Outcome, res.EndReason, b.Console)
				}
			}
		})
	}
}

// The same scenario and seed give the same console output and the same
// number of frames twice.
func TestSameSeedSameRun(t *testing.T) {
	a := runShipped(t, "http_get_lossy.yaml")
	b := runShipped(t, "http_get_lossy.yaml")
	if a.Boards[0].Console != b.Boards[0].Console {
		t.Errorf("console differs between two runs with one seed:\n--- first\n%s\n--- second\n%s", a.Boards[0].Console, b.Boards[0].Console)
	}
	if a.Frames != b.Frames || a.Frames == 0 {
		t.Errorf("frames: first run %d, second %d; want equal and non-zero", a.Frames, b.Frames)
	}
	if a.SimTime != b.SimTime {
		t.Errorf("simulated end time: %v vs %v", a.SimTime, b.SimTime)
	}
}
