package netstack

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the package when goroutines of stacks, links or clocks
// outlive the tests: every Node.Close must stop what the node started.
//
// It also makes the receive filter check its copy of each NIC's addresses
// against gVisor's before every ARP decision (localaddr.go), except in
// benchmarks, which measure the filter as it runs.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		checkLocal.Store(true)
	}
	code := m.Run()
	if code == 0 {
		if leaks := leakedGoroutines(5 * time.Second); leaks != "" {
			fmt.Fprintf(os.Stderr, "goroutines leaked by the tests:\n%s\n", leaks)
			code = 1
		}
	}
	os.Exit(code)
}

func leakedGoroutines(wait time.Duration) string {
	deadline := time.Now().Add(wait)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaks []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "gvisor.dev/gvisor/pkg/tcpip") || strings.Contains(g, "vclock.(*Clock).Run") ||
				(strings.Contains(g, "esp8266sim/netstack.") && !strings.Contains(g, "TestMain") && !strings.Contains(g, "leakedGoroutines")) {
				leaks = append(leaks, g)
			}
		}
		if len(leaks) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return strings.Join(leaks, "\n\n")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
