package services

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"github.com/esp8266sim/esp8266sim/netstack/internal/lantest"
)

var (
	hostIP   = netip.MustParseAddr("203.0.113.10")
	clientIP = netip.MustParseAddr("203.0.113.20")
)

const testPage = "<html><body>Test page</body></html>\n"

type lines struct {
	mu sync.Mutex
	l  []string
}

func (t *lines) add(s string) { t.mu.Lock(); t.l = append(t.l, s); t.mu.Unlock() }
func (t *lines) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.l, "\n")
}

type world struct {
	lan    *lantest.LAN
	host   *Host
	hostN  *lantest.Node
	client *lantest.Node
	actor  *vclock.Actor
	ca     *CA
	trace  *lines
}

func newWorld(t *testing.T) *world { return newWorldMode(t, vclock.Fast) }

func newWorldMode(t *testing.T, mode vclock.Mode) *world {
	t.Helper()
	lan := lantest.New(t, mode)
	w := &world{lan: lan, trace: &lines{}}
	w.hostN = lan.AddNode(t, "host", netip.PrefixFrom(hostIP, 24), netip.Addr{})
	w.client = lan.AddNode(t, "client", netip.PrefixFrom(clientIP, 24), netip.Addr{})
	h, err := NewHost(HostConfig{Name: "micropython.org", Stack: w.hostN.Stack, Addr: hostIP, Clock: lan.Clock, Seed: 3, Trace: w.trace.add})
	if err != nil {
		t.Fatal(err)
	}
	w.host = h
	t.Cleanup(h.Close)
	ca, err := NewCA(3, lan.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	w.ca = ca
	site := Site{"/ks/test.html": {Body: []byte(testPage)}, "/big.txt": {Body: bytes.Repeat([]byte("0123456789"), 500)}}
	for _, err := range []error{
		h.AddHTTP(80, site),
		h.AddHTTPS(443, site, ca, []string{"micropython.org", "www.micropython.org"}),
		h.AddTCPEcho(7),
		h.AddTCPDiscard(9),
		h.AddUDPEcho(7),
		h.AddNTP(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	w.actor = lan.Clock.NewActor("test")
	t.Cleanup(w.actor.Close)
	return w
}

func (w *world) dial(t *testing.T, port uint16) *Conn {
	t.Helper()
	c, err := DialTCP(context.Background(), w.client.Stack, netip.AddrPortFrom(hostIP, port), w.actor)
	if err != nil {
		t.Fatalf("DialTCP(:%d): %v\n%s", port, err, w.trace)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (w *world) now() time.Duration { return w.lan.Clock.Elapsed() }

// readAll reads until EOF or error, with a simulated-time deadline.
func readAll(c net.Conn, clock *vclock.Clock, d time.Duration) ([]byte, error) {
	c.SetReadDeadline(clock.Now().Add(d))
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
	}
}

func TestTCPEcho(t *testing.T) {
	for _, mode := range []vclock.Mode{vclock.Fast, vclock.Realtime} {
		t.Run(mode.String(), func(t *testing.T) { testTCPEcho(t, newWorldMode(t, mode)) })
	}
}

func testTCPEcho(t *testing.T, w *world) {
	c := w.dial(t, 7)
	msg := bytes.Repeat([]byte("echo me "), 1000)
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	c.CloseWrite()
	got, err := readAll(c, w.lan.Clock, 10*time.Second)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo returned %d bytes (err %v), want the %d sent", len(got), err, len(msg))
	}
	if rec := w.host.Received(7); !bytes.Equal(rec, msg) {
		t.Errorf("host recorded %d bytes, want %d", len(rec), len(msg))
	}
}

// A fleet connects at one simulated instant, before the accepting
// goroutine runs: every connection must be accepted and served, as a real
// server with a SOMAXCONN backlog would.
func TestManyClientsConnectAtOnce(t *testing.T) {
	w := newWorld(t)
	const n = 300
	errs := make(chan error, n)
	hold := w.lan.Clock.NewActor("starter") // keeps time still until all dial
	for i := range n {
		actor := w.lan.Clock.NewActor(fmt.Sprintf("client%d", i))
		go func() {
			defer actor.Close()
			c, err := DialTCP(context.Background(), w.client.Stack, netip.AddrPortFrom(hostIP, 7), actor)
			if err != nil {
				errs <- fmt.Errorf("client %d: dial: %w", i, err)
				return
			}
			defer c.Close()
			msg := []byte(fmt.Sprintf("hello from %d", i))
			if _, err := c.Write(msg); err != nil {
				errs <- fmt.Errorf("client %d: write: %w", i, err)
				return
			}
			c.CloseWrite()
			got, err := readAll(c, w.lan.Clock, 30*time.Second)
			if err != nil || !bytes.Equal(got, msg) {
				errs <- fmt.Errorf("client %d: echo %q (%v), want %q", i, got, err, msg)
				return
			}
			errs <- nil
		}()
	}
	hold.Close()
	w.actor.Close() // the test itself only waits
	failed := 0
	for range n {
		if err := <-errs; err != nil {
			if failed++; failed <= 3 {
				t.Error(err)
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d clients failed", failed, n)
	}
}

func TestTCPDiscard(t *testing.T) {
	w := newWorldMode(t, vclock.Fast)
	c := w.dial(t, 9)
	msg := bytes.Repeat([]byte("drop me "), 20000)
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	c.CloseWrite()
	got, err := readAll(c, w.lan.Clock, 10*time.Second)
	if err != nil || len(got) != 0 {
		t.Fatalf("discard answered %d bytes (err %v), want nothing and EOF", len(got), err)
	}
	if rec := w.host.Received(9); !bytes.Equal(rec, msg) {
		t.Errorf("host recorded %d bytes, want the %d sent", len(rec), len(msg))
	}
}

func TestHTTPGet(t *testing.T) {
	for _, tc := range []struct {
		name, req  string
		wantStatus int
		wantBody   string
		wantType   string
	}{
		{"HTTP/1.0 GET as the tutorials send it", "GET /ks/test.html HTTP/1.0\r\nHost: micropython.org\r\n\r\n", 200, testPage, "text/html; charset=utf-8"},
		{"HTTP/1.1 with close", "GET /ks/test.html HTTP/1.1\r\nHost: micropython.org\r\nConnection: close\r\n\r\n", 200, testPage, "text/html; charset=utf-8"},
		{"missing page", "GET /nope HTTP/1.0\r\nHost: micropython.org\r\n\r\n", 404, "", "text/html"},
		{"HEAD", "HEAD /ks/test.html HTTP/1.0\r\n\r\n", 200, "", "text/html; charset=utf-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			c := w.dial(t, 80)
			if _, err := c.Write([]byte(tc.req)); err != nil {
				t.Fatal(err)
			}
			raw, err := readAll(c, w.lan.Clock, 10*time.Second)
			if err != nil {
				t.Fatalf("reading response: %v (got %q)", err, raw)
			}
			resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), &http.Request{Method: strings.Fields(tc.req)[0]})
			if err != nil {
				t.Fatalf("response does not parse: %v\n%q", err, raw)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if tc.wantBody != "" && string(body) != tc.wantBody {
				t.Errorf("body = %q, want %q", body, tc.wantBody)
			}
			if got := resp.Header.Get("Content-Type"); got != tc.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tc.wantType)
			}
			if got := resp.Header.Get("Date"); got != w.lan.Clock.Now().UTC().Format(http.TimeFormat) && !strings.HasPrefix(got, "Thu, 01 Jan 2026") {
				t.Errorf("Date = %q, want the simulator's date", got)
			}
		})
	}
}

func TestHTTPKeepAlive(t *testing.T) {
	w := newWorld(t)
	c := w.dial(t, 80)
	br := bufio.NewReader(c)
	for i := range 3 {
		if _, err := c.Write([]byte("GET /ks/test.html HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if string(body) != testPage {
			t.Fatalf("request %d body %q", i, body)
		}
	}
}

func TestHTTPS(t *testing.T) {
	for _, tc := range []struct {
		name       string
		serverName string
		roots      func(*CA) *x509.CertPool
		wantErr    func(error) bool
	}{
		{"verified against the CA", "micropython.org", (*CA).Pool, nil},
		{"alias name", "www.micropython.org", (*CA).Pool, nil},
		{"wrong host name", "evil.example", (*CA).Pool, func(err error) bool {
			var he x509.HostnameError
			return errors.As(err, &he)
		}},
		{"unknown CA", "micropython.org", func(*CA) *x509.CertPool { return x509.NewCertPool() }, func(err error) bool {
			var ua x509.UnknownAuthorityError
			return errors.As(err, &ua)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			c := w.dial(t, 443)
			tc1 := tls.Client(c, &tls.Config{ServerName: tc.serverName, RootCAs: tc.roots(w.ca), Time: w.lan.Clock.Now, MaxVersion: tls.VersionTLS12})
			err := tc1.Handshake()
			if tc.wantErr != nil {
				if err == nil || !tc.wantErr(err) {
					t.Fatalf("Handshake() error = %v, want the expected verification failure", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Handshake(): %v\n%s", err, w.trace)
			}
			if _, err := tc1.Write([]byte("GET /ks/test.html HTTP/1.0\r\nHost: micropython.org\r\n\r\n")); err != nil {
				t.Fatal(err)
			}
			raw, err := readAll(tc1, w.lan.Clock, 10*time.Second)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if !strings.HasPrefix(string(raw), "HTTP/1.0 200 OK\r\n") || !strings.HasSuffix(string(raw), testPage) {
				t.Errorf("response = %q", raw)
			}
		})
	}
}

func TestCADeterministic(t *testing.T) {
	start := vclock.DefaultStart
	a, err := NewCA(42, start)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewCA(42, start)
	c, _ := NewCA(43, start)
	if !bytes.Equal(a.PEM(), b.PEM()) {
		t.Error("two CAs from the same seed differ")
	}
	if bytes.Equal(a.PEM(), c.PEM()) {
		t.Error("CAs from different seeds are equal")
	}
	ca, _ := a.Issue("x.example")
	cb, _ := b.Issue("x.example")
	if !bytes.Equal(ca.Certificate[0], cb.Certificate[0]) {
		t.Error("leaf certificates from the same seed differ")
	}
	if _, err := ca.Leaf.Verify(x509.VerifyOptions{DNSName: "x.example", Roots: a.Pool(), CurrentTime: start}); err != nil {
		t.Errorf("leaf does not verify: %v", err)
	}
}

// udpExchange sends payload from the client to hostIP:port and waits up
// to d of simulated time for one datagram back.
func (w *world) udpExchange(t *testing.T, port uint16, payload []byte, d time.Duration) ([]byte, error) {
	t.Helper()
	var wq waiter.Queue
	ep, tcpipErr := w.client.Stack.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if tcpipErr != nil {
		t.Fatal(tcpipErr)
	}
	defer ep.Close()
	entry := waiter.NewFunctionEntry(waiter.ReadableEvents, func(waiter.EventMask) { w.actor.Wake() })
	wq.EventRegister(&entry)
	defer wq.EventUnregister(&entry)
	to := tcpip.FullAddress{Addr: tcpip.AddrFrom4(hostIP.As4()), Port: port}
	if _, tcpipErr := ep.Write(bytes.NewReader(payload), tcpip.WriteOptions{To: &to}); tcpipErr != nil {
		t.Fatal(tcpipErr)
	}
	deadline := w.now() + d
	for {
		var out sliceCollector
		if _, tcpipErr := ep.Read(&out, tcpip.ReadOptions{}); tcpipErr == nil {
			return out.b, nil
		}
		left := deadline - w.now()
		if left <= 0 {
			return nil, os.ErrDeadlineExceeded
		}
		w.actor.Park(context.Background(), left)
	}
}

func TestUDPEcho(t *testing.T) {
	w := newWorld(t)
	got, err := w.udpExchange(t, 7, []byte("ping 1"), time.Second)
	if err != nil || string(got) != "ping 1" {
		t.Fatalf("UDP echo = %q, %v; want ping 1", got, err)
	}
}

func TestNTP(t *testing.T) {
	w := newWorld(t)
	w.actor.Sleep(context.Background(), 90*time.Minute) // the clock is not at its start
	q := make([]byte, 48)
	q[0] = 0x1b // what MicroPython's ntptime sends
	before := w.lan.Clock.Now()
	got, err := w.udpExchange(t, NTPPort, q, 5*time.Second)
	after := w.lan.Clock.Now()
	if err != nil {
		t.Fatal(err)
	}
	ts, err := NTPTime(got)
	if err != nil {
		t.Fatal(err)
	}
	if ts.Before(before.Add(-time.Microsecond)) || ts.After(after) {
		t.Errorf("NTP time %v, want between %v and %v (the simulator clock)", ts, before, after)
	}
	if got[0]&7 != 4 || got[1] != 1 {
		t.Errorf("mode %d stratum %d, want server (4) stratum 1", got[0]&7, got[1])
	}
	// Exactly what ntptime computes: seconds since 1900 at [40:44].
	secs := int64(got[40])<<24 | int64(got[41])<<16 | int64(got[42])<<8 | int64(got[43])
	if want := before.Unix() + ntpEpochOffset; secs != want && secs != want+1 {
		t.Errorf("NTP seconds %d, want %d", secs, want)
	}
}

// The tutorial's PC program (Freenove 13.1): the board connects to port
// 8888, says Hello and "This is my IP.", then echoes what the PC sends.
func TestChatPeerListen(t *testing.T) {
	w := newWorld(t)
	peer, err := w.host.AddChat(ChatConfig{Port: 8888, Steps: []ChatStep{
		{Expect: "Hello"},
		{Expect: "This is my IP."},
		{Send: "Hi board\n"},
		{Expect: "Hi board\n"},
		{Wait: 2 * time.Second},
		{Send: "bye\n"},
		{Expect: "bye\n"},
		{Close: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// The board's side.
	c := w.dial(t, 8888)
	c.Write([]byte("Hello"))
	c.Write([]byte("This is my IP."))
	buf := make([]byte, 1024)
	var echoed []string
	for {
		c.SetReadDeadline(w.lan.Clock.Now().Add(30 * time.Second))
		n, err := c.Read(buf)
		if n > 0 {
			echoed = append(echoed, string(buf[:n]))
			c.Write(buf[:n])
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("board read: %v", err)
			}
			break
		}
	}
	if got := strings.Join(echoed, ""); got != "Hi board\nbye\n" {
		t.Errorf("board received %q", got)
	}
	if peer.Completed() != 1 || peer.Err() != nil {
		t.Errorf("peer completed %d, err %v\nlog: %v", peer.Completed(), peer.Err(), peer.Log())
	}
	if got, want := peer.Received(), "HelloThis is my IP.Hi board\nbye\n"; got != want {
		t.Errorf("peer received %q, want %q", got, want)
	}
	if got := string(w.host.Received(8888)); got != peer.Received() {
		t.Errorf("host recorded %q", got)
	}
}

// Connect mode (Freenove 29.2): the board listens, the PC connects.
func TestChatPeerConnect(t *testing.T) {
	w := newWorld(t)
	// The board's listener comes up at 3 s; the peer tries from 1 s.
	peer, err := w.host.AddChat(ChatConfig{Port: 8000, Connect: clientIP, Start: time.Second, Steps: []ChatStep{
		{Expect: "I am Server"},
		{Send: "hello server"},
		{Expect: "hello server"},
		{Close: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	w.actor.Sleep(context.Background(), 3*time.Second)
	ln, err := ListenTCP(w.client.Stack, 0, clientIP, 8000, w.lan.Clock, w.actor, "board")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if at := w.now(); at < 3*time.Second || at > 4100*time.Millisecond {
		t.Errorf("peer connected at %v, want at its first retry after 3 s", at)
	}
	c.Write([]byte("I am Server"))
	got := make([]byte, len("hello server"))
	c.SetReadDeadline(w.lan.Clock.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "hello server" {
		t.Fatalf("board got %q, %v", got, err)
	}
	c.Write(got)
	// The peer closes after its last step.
	if rest, err := readAll(c, w.lan.Clock, 10*time.Second); err != nil || len(rest) != 0 {
		t.Errorf("after the script: %q, %v; want EOF", rest, err)
	}
	if peer.Completed() != 1 {
		t.Errorf("peer completed %d, log %v", peer.Completed(), peer.Log())
	}
}

// tcpSegmentsFrom counts payload-carrying TCP segments sent by the host
// from port, and the largest payload.
func tcpSegmentsFrom(l *lantest.LAN, port layers.TCPPort) (n, largest int) {
	for _, f := range l.Frames() {
		p := gopacket.NewPacket(f.Data, layers.LayerTypeEthernet, gopacket.Default)
		if tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP); ok && f.From == "host" && tcp.SrcPort == port && len(tcp.Payload) > 0 {
			n++
			largest = max(largest, len(tcp.Payload))
		}
	}
	return n, largest
}

func TestHostFaults(t *testing.T) {
	get := []byte("GET /ks/test.html HTTP/1.0\r\n\r\n")
	for _, tc := range []struct {
		name  string
		fault Fault
		check func(t *testing.T, w *world)
	}{
		{"refuse", Fault{Kind: FaultRefuse, Port: 80}, func(t *testing.T, w *world) {
			_, err := DialTCP(context.Background(), w.client.Stack, netip.AddrPortFrom(hostIP, 80), w.actor)
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("dial error = %v, want ECONNREFUSED", err)
			}
			// Other ports are unaffected; removing the fault reopens.
			w.dial(t, 7)
			w.host.SetFaults(nil)
			w.dial(t, 80)
		}},
		{"blackhole", Fault{Kind: FaultBlackhole}, func(t *testing.T, w *world) {
			c := w.dial(t, 80)
			c.Write(get)
			start := w.now()
			_, err := readAll(c, w.lan.Clock, 5*time.Second)
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("read error = %v, want a timeout", err)
			}
			if took := w.now() - start; took != 5*time.Second {
				t.Errorf("timed out after %v, want 5s", took)
			}
			if string(w.host.Received(80)) != string(get) {
				t.Errorf("blackhole did not take the request: %q", w.host.Received(80))
			}
		}},
		{"reset after time", Fault{Kind: FaultResetAfter, After: 2 * time.Second}, func(t *testing.T, w *world) {
			c := w.dial(t, 7)
			start := w.now()
			_, err := readAll(c, w.lan.Clock, 10*time.Second)
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("read error = %v, want ECONNRESET", err)
			}
			if took := w.now() - start; took < 2*time.Second || took > 2100*time.Millisecond {
				t.Errorf("reset after %v, want 2s", took)
			}
		}},
		{"reset after bytes", Fault{Kind: FaultResetAfter, Bytes: 10, Direction: Downstream}, func(t *testing.T, w *world) {
			c := w.dial(t, 7)
			c.Write(bytes.Repeat([]byte("x"), 100))
			got, err := readAll(c, w.lan.Clock, 10*time.Second)
			if !errors.Is(err, syscall.ECONNRESET) || len(got) > 10 {
				t.Fatalf("got %d bytes then %v; want at most 10 then ECONNRESET", len(got), err)
			}
		}},
		{"slow close", Fault{Kind: FaultSlowClose, Delay: 3 * time.Second}, func(t *testing.T, w *world) {
			c := w.dial(t, 80)
			c.Write(get)
			br := bufio.NewReader(c)
			if _, err := http.ReadResponse(br, nil); err != nil {
				t.Fatal(err)
			}
			answered := w.now()
			c.SetReadDeadline(w.lan.Clock.Now().Add(10 * time.Second))
			rest, err := io.ReadAll(br)
			if err != nil {
				t.Fatalf("waiting for FIN: %v (%q)", err, rest)
			}
			if took := w.now() - answered; took < 3*time.Second {
				t.Errorf("FIN came %v after the response, want ≥ 3s", took)
			}
		}},
		{"bandwidth", Fault{Kind: FaultBandwidth, Rate: 1000, Direction: Downstream}, func(t *testing.T, w *world) {
			c := w.dial(t, 80)
			start := w.now()
			c.Write([]byte("GET /big.txt HTTP/1.0\r\n\r\n"))
			got, err := readAll(c, w.lan.Clock, 60*time.Second)
			if err != nil || len(got) < 5000 {
				t.Fatalf("got %d bytes, %v", len(got), err)
			}
			// ~5.2 kB at 1000 B/s.
			if took := w.now() - start; took < 4500*time.Millisecond || took > 7*time.Second {
				t.Errorf("5 kB took %v at 1000 B/s, want about 5 s", took)
			}
		}},
		{"slice", Fault{Kind: FaultSlice, Bytes: 10, Direction: Downstream}, func(t *testing.T, w *world) {
			c := w.dial(t, 7)
			msg := bytes.Repeat([]byte("abcdefghij"), 10)
			c.Write(msg)
			c.CloseWrite()
			got, err := readAll(c, w.lan.Clock, 10*time.Second)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("got %q, %v", got, err)
			}
			n, largest := tcpSegmentsFrom(w.lan, 7)
			if n < 10 || largest > 10 {
				t.Errorf("host sent %d segments, largest %d bytes; want ≥ 10 of ≤ 10 bytes", n, largest)
			}
		}},
		{"latency", Fault{Kind: FaultLatency, Delay: 500 * time.Millisecond, Direction: Downstream}, func(t *testing.T, w *world) {
			c := w.dial(t, 7)
			start := w.now()
			c.Write([]byte("hi"))
			buf := make([]byte, 2)
			c.SetReadDeadline(w.lan.Clock.Now().Add(5 * time.Second))
			if _, err := io.ReadFull(c, buf); err != nil {
				t.Fatal(err)
			}
			if rtt := w.now() - start; rtt < 500*time.Millisecond || rtt > 600*time.Millisecond {
				t.Errorf("echo round trip %v, want 500 ms + the link", rtt)
			}
			// UDP replies are late too.
			start = w.now()
			if _, err := w.udpExchange(t, 7, []byte("u"), 2*time.Second); err != nil {
				t.Fatal(err)
			}
			if rtt := w.now() - start; rtt < 500*time.Millisecond {
				t.Errorf("UDP round trip %v, want ≥ 500 ms", rtt)
			}
		}},
		{"udp blackhole", Fault{Kind: FaultBlackhole, Port: 7}, func(t *testing.T, w *world) {
			if got, err := w.udpExchange(t, 7, []byte("u"), 2*time.Second); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("UDP echo under blackhole = %q, %v; want no answer", got, err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			if err := w.host.SetFaults([]Fault{tc.fault}); err != nil {
				t.Fatal(err)
			}
			tc.check(t, w)
		})
	}
}

func TestFaultProbability(t *testing.T) {
	w := newWorld(t)
	w.host.SetFaults([]Fault{{Kind: FaultRefuse, Port: 7, Probability: 0.5}})
	ok, reset := 0, 0
	for range 20 {
		c, err := DialTCP(context.Background(), w.client.Stack, netip.AddrPortFrom(hostIP, 7), w.actor)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("x"))
		buf := make([]byte, 1)
		c.SetReadDeadline(w.lan.Clock.Now().Add(2 * time.Second))
		if _, err := io.ReadFull(c, buf); err == nil {
			ok++
		} else if errors.Is(err, syscall.ECONNRESET) {
			reset++
		} else {
			t.Fatalf("unexpected error %v", err)
		}
		c.Close()
	}
	if ok == 0 || reset == 0 || ok+reset != 20 {
		t.Errorf("%d echoed, %d reset of 20 at probability 0.5", ok, reset)
	}
}

func TestFaultValidation(t *testing.T) {
	for _, f := range []Fault{
		{Kind: 99},
		{Kind: FaultLatency},
		{Kind: FaultBandwidth},
		{Kind: FaultSlice},
		{Kind: FaultResetAfter},
		{Kind: FaultRefuse, Probability: 1.5},
		{Kind: FaultLatency, Delay: -time.Second},
	} {
		if err := f.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", f)
		}
	}
	for _, s := range []string{"refuse", "down", "blackhole", "reset_after", "slow-close", "bandwidth", "slice", "latency"} {
		if _, err := ParseFaultKind(s); err != nil {
			t.Errorf("ParseFaultKind(%q): %v", s, err)
		}
	}
}

func TestNTPAnswerRejects(t *testing.T) {
	if NTPAnswer(make([]byte, 10), time.Now()) != nil {
		t.Error("answered a short packet")
	}
	q := make([]byte, 48)
	q[0] = 0x1c // server mode
	if NTPAnswer(q, time.Now()) != nil {
		t.Error("answered a server-mode packet")
	}
}

// Close ends everything, including a chat connection the host dialed that
// waits for text that never comes.
func TestHostCloseEndsConnections(t *testing.T) {
	w := newWorld(t)
	peer, err := w.host.AddChat(ChatConfig{Port: 9000, Connect: clientIP, Steps: []ChatStep{{Expect: "never"}}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := ListenTCP(w.client.Stack, 0, clientIP, 9000, w.lan.Clock, w.actor, "board")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// And one accepted connection stuck in a blackhole.
	w.host.SetFaults([]Fault{{Kind: FaultBlackhole, Port: 80}})
	w.dial(t, 80)
	w.actor.Sleep(context.Background(), time.Second)
	done := make(chan struct{})
	go func() {
		w.host.Close()
		close(done)
	}()
	w.actor.Park(context.Background(), time.Second)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Host.Close did not return")
	}
	if peer.Err() == nil {
		t.Error("the waiting chat step did not fail when the host closed")
	}
}

// retransmissions counts TCP segments with payload whose (sender, port,
// seq) was already seen: a retransmission.
func retransmissions(l *lantest.LAN) (total, retrans int) {
	type key struct {
		from string
		port layers.TCPPort
		seq  uint32
	}
	seen := map[key]bool{}
	for _, f := range l.Frames() {
		p := gopacket.NewPacket(f.Data, layers.LayerTypeEthernet, gopacket.Default)
		tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if !ok || len(tcp.Payload) == 0 {
			continue
		}
		total++
		k := key{f.From, tcp.SrcPort, tcp.Seq}
		if seen[k] {
			retrans++
		}
		seen[k] = true
	}
	return total, retrans
}

// Fast mode is sound for the services: over a 200 ms round trip, an HTTPS
// fetch (handshake computed by the service while time stands still) shows
// no retransmission, and takes the simulated time the round trips need.
func TestHTTPSNoSpuriousRetransmissions(t *testing.T) {
	for _, lose := range []bool{false, true} {
		name := "lossless"
		if lose {
			name = "one segment lost (the counter works)"
		}
		t.Run(name, func(t *testing.T) { testHTTPSRetransmissions(t, lose) })
	}
}

func testHTTPSRetransmissions(t *testing.T, lose bool) {
	w := newWorld(t)
	w.lan.Latency = 100 * time.Millisecond
	if lose {
		var mu sync.Mutex
		n := 0
		w.lan.SetDrop(func(from string, frame []byte) bool {
			mu.Lock()
			defer mu.Unlock()
			if from == "host" && len(frame) > 1000 {
				n++
				return n == 3
			}
			return false
		})
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	if err := w.host.AddHTTPS(8443, Site{"/big": {Body: big}}, w.ca, []string{"micropython.org"}); err != nil {
		t.Fatal(err)
	}
	start := w.now()
	c := w.dial(t, 8443)
	tc := tls.Client(c, &tls.Config{ServerName: "micropython.org", RootCAs: w.ca.Pool(), Time: w.lan.Clock.Now})
	if _, err := tc.Write([]byte("GET /big HTTP/1.0\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	raw, err := readAll(tc, w.lan.Clock, time.Minute)
	if err != nil || !bytes.HasSuffix(raw, big) {
		t.Fatalf("got %d bytes, %v", len(raw), err)
	}
	took := w.now() - start
	total, retrans := retransmissions(w.lan)
	if lose {
		if retrans == 0 {
			t.Errorf("a segment was dropped but no retransmission was counted among %d", total)
		}
		return
	}
	if retrans != 0 {
		t.Errorf("%d of %d data segments were retransmitted on a lossless 200 ms link", retrans, total)
	}
	// ARP, TCP handshake, TLS 1.3 handshake, request: at least 4 round trips.
	if took < 800*time.Millisecond || took > 10*time.Second {
		t.Errorf("fetch took %v of simulated time, want a handful of 200 ms round trips", took)
	}
}

func TestHTTPRejectsHugeHeader(t *testing.T) {
	w := newWorld(t)
	c := w.dial(t, 80)
	line := append([]byte("GET /"), bytes.Repeat([]byte("a"), 100<<10)...)
	c.Write(line)
	raw, _ := readAll(c, w.lan.Clock, 10*time.Second)
	if !bytes.HasPrefix(raw, []byte("HTTP/1.1 400")) {
		t.Errorf("response to a 100 KiB request line = %.40q, want 400", raw)
	}
}
