package sim

import (
	"io"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

// burnEnv makes the test binary a CPU burner (burnCPUs) instead of running
// tests.
const burnEnv = "ESP8266SIM_TEST_BURN_CPU"

func init() {
	if os.Getenv(burnEnv) == "" {
		return
	}
	// Spin on one thread until the parent closes our stdin (or dies), or
	// a minute at most.
	runtime.GOMAXPROCS(1)
	go func() {
		for {
		}
	}()
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	time.Sleep(time.Minute)
	os.Exit(0)
}

// burnCPUs loads the machine as other processes do: n copies of the test
// binary spin until the test ends. The OS then takes the simulator's
// thread away for milliseconds at a time, and Go's scheduler pre-empts
// whatever goroutine it finds running for 10 ms; without the clock's
// turnstile that changed the order of what boards did at one instant.
func burnCPUs(t *testing.T, n int) {
	t.Helper()
	for range n {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), burnEnv+"=1")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting a CPU burner: %v", err)
		}
		t.Cleanup(func() {
			stdin.Close()
			cmd.Wait()
		})
	}
}

// Same seed, same run on a loaded machine: a small fleet's consoles, trace
// and capture are the same in every run while other processes hold every
// CPU. (The order of what boards, name lookups and the web server's
// connections did at one instant was the order Go's scheduler ran their
// goroutines; pre-emption under load changed it, and with it console line
// order, router IP IDs and leases: RATIONALE.md, "Same seed, same run
// under load".)
func TestSameSeedSameRunUnderLoad(t *testing.T) {
	burnCPUs(t, min(2*runtime.NumCPU(), 8))
	sameRuns(t, 2, func() (*Result, []byte, string) { return runShippedWith(t, "http_get.yaml", "boards[0].replicas=30") })
}
