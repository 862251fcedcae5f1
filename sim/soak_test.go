package sim

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/scripts"
)

// soak is the tutorial's web server (scripts/web_server.py) on esp1 in the
// default world, forwarded to a port of the host's loopback in realtime, as
// `esp8266sim run scripts/web_server.py --forward PORT:esp1:80 --realtime`.
type soak struct {
	addr string
	port int

	mu        sync.Mutex
	latencies []time.Duration
	failures  []error
	// refused counts connections the board reset (an empty answer or a
	// reset at the host end), and slowestRefusal is the longest any took.
	refused        int
	slowestRefusal time.Duration
}

// errRefused is a connection the board's listener refused: lwIP completes
// the handshake, finds the listen backlog full (modlwip's accept callback
// returns ERR_BUF) and aborts the connection with a RST.
var errRefused = errors.New("refused with a reset (listen backlog full)")

func newSoak(tb testing.TB) *soak {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	code, err := scripts.FS.ReadFile("web_server.py")
	if err != nil {
		tb.Fatal(err)
	}
	startTestWorld(tb, defaultWorldWith(tb, string(code), "time_mode=realtime", "duration=1h", fmt.Sprintf("forwards[+]='%d:esp1:80'", port)), Options{})
	s := &soak{addr: fmt.Sprintf("127.0.0.1:%d", port), port: port}
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := s.get(2 * time.Second); err == nil {
			break
		} else if time.Now().After(deadline) {
			tb.Fatalf("the forwarded web server never answered: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

// get sends one `GET / HTTP/1.0` and reads the whole answer.
func (s *soak) get(timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	c, err := net.DialTimeout("tcp", s.addr, timeout)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(start.Add(timeout))
	if _, err := io.WriteString(c, "GET / HTTP/1.0\r\n\r\n"); err != nil {
		if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
			return time.Since(start), errRefused
		}
		return 0, err
	}
	body, err := io.ReadAll(c)
	if len(body) == 0 && (err == nil || errors.Is(err, syscall.ECONNRESET)) {
		return time.Since(start), errRefused
	}
	if err != nil {
		return 0, err
	}
	if !bytes.Contains(body, []byte("Welcome to ESP8266 Server")) {
		return 0, fmt.Errorf("answer %q", body)
	}
	return time.Since(start), nil
}

func (s *soak) record(d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if errors.Is(err, errRefused) {
		s.refused++
		s.slowestRefusal = max(s.slowestRefusal, d)
		return
	}
	if err != nil {
		s.failures = append(s.failures, err)
		return
	}
	s.latencies = append(s.latencies, d)
}

// clientTimeout is generous: no request may be left hanging, and the board
// serves one connection at a time (a burst of 32 takes a few seconds).
const clientTimeout = 30 * time.Second

func (s *soak) burst(clients int) {
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.record(s.get(clientTimeout))
		}()
	}
	wg.Wait()
}

func (s *soak) sequential(n int) {
	for i := 0; i < n; i++ {
		s.record(s.get(clientTimeout))
	}
}

func (s *soak) counts() (answered, failed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.latencies), len(s.failures)
}

func (s *soak) p99() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := append([]time.Duration(nil), s.latencies...)
	if len(l) == 0 {
		return 0
	}
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	return l[(len(l)*99)/100]
}

// closeWait counts the host's TCP sockets on the forward's port left in
// CLOSE-WAIT (the client closed; the bridge did not).
func (s *soak) closeWait(tb testing.TB) int {
	tb.Helper()
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		tb.Skipf("no /proc/net/tcp: %v", err)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || f[3] != "08" { // TCP_CLOSE_WAIT
			continue
		}
		_, portHex, _ := strings.Cut(f[1], ":")
		if p, err := strconv.ParseUint(portHex, 16, 16); err == nil && int(p) == s.port {
			n++
		}
	}
	return n
}

// rssBytes is this process's resident set.
func rssBytes(tb testing.TB) uint64 {
	tb.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skipf("no /proc/self/status: %v", err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// settled polls cond for up to d.
func settled(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// TestForwardedServerSoak: a forwarded board web server (the tutorial's,
// listen(1)) takes 20 bursts of 32 concurrent clients and then 1,000
// sequential requests. As on the board, a burst's connections beyond the
// listen backlog are completed and then reset by lwIP (see errRefused):
// every request is either answered or promptly refused, never left
// hanging; every sequential request is answered; no host socket is left in
// CLOSE-WAIT and the process's RSS and goroutines stay flat. Bursts used to leave the board's gVisor listener
// dropping the handshake's last ACK and the request behind SYN cookies: the
// bridge held the host sockets in CLOSE-WAIT and the server looked stalled.
func TestForwardedServerSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak: about a minute of realtime traffic")
	}
	s := newSoak(t)
	s.burst(32) // warm up: the first burst grows pools and buffers
	runtime.GC()
	baseG, baseRSS := runtime.NumGoroutine(), rssBytes(t)
	const bursts, clients, sequential = 20, 32, 1000
	for i := 0; i < bursts; i++ {
		s.burst(clients)
		if cw := s.closeWait(t); cw > 0 && !settled(5*time.Second, func() bool { return s.closeWait(t) == 0 }) {
			t.Errorf("after burst %d: %d host sockets still in CLOSE-WAIT", i+1, s.closeWait(t))
		}
	}
	s.mu.Lock()
	burstAnswered, burstRefused := len(s.latencies), s.refused
	s.mu.Unlock()
	if burstAnswered < 32+bursts {
		t.Errorf("bursts: %d answered, %d refused; want at least one answer per burst", burstAnswered, burstRefused)
	}
	s.sequential(sequential)
	answered, failed := s.counts()
	s.mu.Lock()
	if failed > 0 {
		t.Errorf("%d requests neither answered nor refused; first failures: %v", failed, s.failures[:min(5, len(s.failures))])
	}
	if s.refused != burstRefused {
		t.Errorf("%d sequential requests refused; want every one answered", s.refused-burstRefused)
	}
	if s.slowestRefusal > 5*time.Second {
		t.Errorf("a refusal took %v: a refused connection must be reset promptly, not left hanging", s.slowestRefusal)
	}
	if want := 32 + bursts*clients + sequential; answered+s.refused != want {
		t.Errorf("%d answered + %d refused of %d requests", answered, s.refused, want)
	}
	s.mu.Unlock()
	if cw := s.closeWait(t); cw > 0 {
		t.Errorf("%d host sockets in CLOSE-WAIT at the end", cw)
	}
	if !settled(5*time.Second, func() bool { return runtime.NumGoroutine() <= baseG+10 }) {
		t.Errorf("goroutines grew from %d to %d", baseG, runtime.NumGoroutine())
	}
	runtime.GC()
	if rss := rssBytes(t); rss > baseRSS+64<<20 {
		t.Errorf("RSS grew from %d MiB to %d MiB", baseRSS>>20, rss>>20)
	}
	t.Logf("%d requests answered, %d refused in bursts, p99 %v", answered, burstRefused, s.p99())
}

// BenchmarkForwardSoak reports the burst soak's success rate and p99
// latency (20 bursts of 32 concurrent clients through a forward).
func BenchmarkForwardSoak(b *testing.B) {
	for i := 0; i < b.N; i++ {
		s := newSoak(b)
		for j := 0; j < 20; j++ {
			s.burst(32)
		}
		answered, failed := s.counts()
		s.mu.Lock()
		refused := s.refused
		s.mu.Unlock()
		// Answered or promptly refused (the listen backlog's resets, as
		// lwIP does) counts as served; a hang or a broken answer does not.
		b.ReportMetric(100*float64(answered+refused)/float64(answered+refused+failed), "served-%")
		b.ReportMetric(100*float64(answered)/float64(answered+refused+failed), "answered-%")
		b.ReportMetric(float64(s.p99())/float64(time.Millisecond), "p99-ms")
	}
}
