package sim

import (
	"bytes"
	"runtime"
	"testing"
)

// captureShipped runs a shipped scenario and returns its console and its
// pcapng capture bytes.
func captureShipped(t *testing.T, name string) (string, []byte) {
	t.Helper()
	var pcap bytes.Buffer
	res, _ := runScenario(t, parseShipped(t, name), Options{Pcap: &pcap})
	return res.Boards[0].Console, pcap.Bytes()
}

// Same seed, same run with TLS (issue #14): the board's axTLS handshake with
// the simulated HTTPS server is byte-identical between two runs, because
// both sides draw randomness and keys from the world's seed and RSA key
// exchange avoids crypto/ecdh (which ignores custom random sources).
//
// It runs with GOMAXPROCS 1, as the CLI runs one board in fast mode: with
// more CPUs, frames stamped with the same simulated instant by different
// goroutines can be captured in either order (a scheduling matter of the
// simulator, not of TLS).
func TestSameSeedSameTLSCapture(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	c1, p1 := captureShipped(t, "client_sockets.yaml")
	c2, p2 := captureShipped(t, "client_sockets.yaml")
	if c1 != c2 {
		t.Errorf("console differs between two runs with one seed:\n--- first\n%s\n--- second\n%s", c1, c2)
	}
	if !bytes.Contains([]byte(c1), []byte("Example Domain (TLS)")) {
		t.Fatalf("the HTTPS fetch did not happen; console:\n%s", c1)
	}
	if len(p1) == 0 || !bytes.Equal(p1, p2) {
		i := 0
		for i < len(p1) && i < len(p2) && p1[i] == p2[i] {
			i++
		}
		t.Errorf("captures differ (%d and %d bytes, first difference at byte %d)", len(p1), len(p2), i)

	}
}
