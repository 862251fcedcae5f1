package main

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/esp8266sim/esp8266sim/internal/syncbuf"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// loadWithFlags loads a scenario the way `run` does, with command-line
// flags.
func loadWithFlags(t *testing.T, path string, args ...string) (*scenario.Scenario, error) {
	t.Helper()
	f := &worldFlags{}
	cmd := &cobra.Command{Use: "run"}
	f.register(cmd)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	return loadScenario(cmd, f, path)
}

// --latency, --loss … apply to every board's link, combined with a link
// the scenario already gives the board (they used to be a second entry
// and a usage error).
func TestImpairmentFlagsCombineWithScenarioLinks(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, links string
		want        []scenario.Link
	}{
		{"no link", "", []scenario.Link{{Node: "esp1", Direction: scenario.Both, Impairment: scenario.Impairment{Latency: scenario.Duration(100 * time.Millisecond), Loss: 5}}}},
		{"link both ways", "links:\n  - {node: esp1, loss: 1%, jitter: 5ms}\n",
			[]scenario.Link{{Node: "esp1", Direction: scenario.Both, Impairment: scenario.Impairment{Latency: scenario.Duration(100 * time.Millisecond), Jitter: scenario.Duration(5 * time.Millisecond), Loss: 5}}}},
		{"link one way", "links:\n  - {node: esp1, direction: out, jitter: 5ms}\n",
			[]scenario.Link{
				{Node: "esp1", Direction: scenario.Out, Impairment: scenario.Impairment{Latency: scenario.Duration(100 * time.Millisecond), Jitter: scenario.Duration(5 * time.Millisecond), Loss: 5}},
				{Node: "esp1", Direction: scenario.In, Impairment: scenario.Impairment{Latency: scenario.Duration(100 * time.Millisecond), Loss: 5}},
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, dir, "s.yaml", "boards:\n  - {name: esp1, code: 'print(1)'}\n"+tt.links)
			sc, err := loadWithFlags(t, path, "--latency", "100ms", "--loss", "5%")
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if len(sc.Links) != len(tt.want) {
				t.Fatalf("links %+v, want %+v", sc.Links, tt.want)
			}
			for i, l := range sc.Links {
				w := tt.want[i]
				if l.Node != w.Node || l.Direction != w.Direction || l.Latency != w.Latency || l.Jitter != w.Jitter || l.Loss != w.Loss {
					t.Errorf("links[%d] = %+v, want %+v", i, l, w)
				}
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a polling reader.
type syncBuffer = syncbuf.Buffer

// Ctrl-C (SIGINT) cancels a run: exit status 130, the summary says
// CANCELLED (not PASS), and the socket table still shows the open socket.
func TestInterruptedRunExits130(t *testing.T) {
	dir := t.TempDir()
	script := writeFile(t, dir, "loop.py", `import socket, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", 5005))
print("ready")
while True:
    time.sleep(1)
`)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- runWith([]string{"run", script, "--realtime", "--timeout", "1h"}, &stdout, &stderr) }()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(stdout.String(), "ready") {
		if time.Now().After(deadline) {
			t.Fatalf("the script never printed ready; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// runWorld listens for SIGINT while the board runs.
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code := <-done
	out := stderr.String()
	if code != exitCancelled || !strings.HasPrefix(out, "CANCELLED ") || !strings.Contains(out, "udp") {
		t.Errorf("exit %d, want %d; summary:\n%s", code, exitCancelled, out)
	}
}
