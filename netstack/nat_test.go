package netstack

import (
	"context"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

// Every host server of these tests listens on loopback (127.0.0.2): the
// tests never send to an outside address.

var (
	natAlias  = netip.MustParseAddr("198.19.0.1")
	natHostLo = netip.MustParseAddr("127.0.0.2")
)

// natWorld is a realtime LAN with a board (10.0.0.2) whose default gateway
// is the NAT gateway (10.0.0.3), and 198.19.0.1 standing for the host's
// 127.0.0.2.
type natWorld struct {
	*world
	board *Node
	nat   *NAT
}

func newNATWorld(t *testing.T, cfg NATConfig) *natWorld {
	t.Helper()
	w := newWorld(t, vclock.Realtime, 1)
	board, bnic := w.node("esp1", 2, 1, Impairments{Latency: time.Millisecond})
	_, gnic := w.node("internet", 3, 1, Impairments{})
	if err := board.SetDefaultGateway(netip.MustParseAddr("10.0.0.3"), bnic); err != nil {
		t.Fatal(err)
	}
	cfg.NIC = gnic
	cfg.Trace = w.trace
	if cfg.Aliases == nil {
		cfg.Aliases = map[netip.Addr]netip.Addr{natAlias: natHostLo}
	}
	n, err := StartNAT(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return &natWorld{world: w, board: board, nat: n}
}

func (nw *natWorld) dialTCP(t *testing.T, to netip.AddrPort) (*gonet.TCPConn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return gonet.DialContextTCP(ctx, nw.board.stack, fullAddr(to), ipv4.ProtocolNumber)
}

func (nw *natWorld) dialUDP(t *testing.T, to netip.AddrPort) *gonet.UDPConn {
	t.Helper()
	fa := fullAddr(to)
	c, err := gonet.DialUDP(nw.board.stack, nil, &fa, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// hostTCPEcho listens on 127.0.0.2 and echoes; it reports each peer.
func hostTCPEcho(t *testing.T) (uint16, <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("SKIPPING: cannot listen on 127.0.0.2 (%v); the NAT was NOT tested", err)
	}
	peers := make(chan string, 16)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			peers <- c.RemoteAddr().String()
			wg.Add(1)
			go func() {
				defer wg.Done()
				io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	return uint16(ln.Addr().(*net.TCPAddr).Port), peers
}

// hostUDPEcho answers each datagram on 127.0.0.2 with "echo:" and the
// datagram, and reports each sender.
func hostUDPEcho(t *testing.T) (uint16, <-chan string) {
	t.Helper()
	pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(natHostLo, 0)))
	if err != nil {
		t.Skipf("SKIPPING: cannot listen on 127.0.0.2 (%v); the NAT was NOT tested", err)
	}
	from := make(chan string, 64)
	done := make(chan struct{})
	t.Cleanup(func() { pc.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, a, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			select {
			case from <- a.String():
			default:
			}
			pc.WriteToUDPAddrPort(append([]byte("echo:"), buf[:n]...), a)
		}
	}()
	return uint16(pc.LocalAddr().(*net.UDPAddr).Port), from
}

func udpAsk(c *gonet.UDPConn, msg string, wait time.Duration) (string, error) {
	if _, err := c.Write([]byte(msg)); err != nil {
		return "", err
	}
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	return string(buf[:n]), err
}

func TestNATRelaysTCPAndUDPToHost(t *testing.T) {
	tport, tpeers := hostTCPEcho(t)
	uport, _ := hostUDPEcho(t)
	nw := newNATWorld(t, NATConfig{})
	nw.nat.Learn("api.test", []netip.Addr{natAlias})

	c, err := nw.dialTCP(t, netip.AddrPortFrom(natAlias, tport))
	if err != nil {
		t.Fatalf("board connect to api.test: %v", err)
	}
	msg := strings.Repeat("through the NAT ", 1000)
	go c.Write([]byte(msg))
	got := make([]byte, len(msg))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
		t.Fatalf("echo through the NAT: %v (%d bytes)", err, len(got))
	}
	peer := <-tpeers
	if !strings.HasPrefix(peer, "127.0.0.") {
		t.Errorf("the host server saw %s; want a host loopback socket", peer)
	}
	c.Close()

	u := nw.dialUDP(t, netip.AddrPortFrom(natAlias, uport))
	if r, err := udpAsk(u, "ping", 5*time.Second); err != nil || r != "echo:ping" {
		t.Fatalf("UDP through the NAT: %q, %v", r, err)
	}

	// Only the alias leads to the host's loopback: another address of
	// the simulation's own ranges is nowhere, and refused.
	if c, err := nw.dialTCP(t, netip.AddrPortFrom(netip.MustParseAddr("198.18.7.7"), tport)); err == nil || !strings.Contains(err.Error(), "refused") {
		if c != nil {
			c.Close()
		}
		t.Errorf("a connection to 198.18.7.7: %v; want refused", err)
	}

	waitFor(t, "the TCP flow to end", func() bool { return nw.nat.Active() == 1 })
	flows, _ := nw.nat.Flows()
	var lines []string
	for _, f := range flows {
		lines = append(lines, f.String())
	}
	all := strings.Join(lines, "\n")
	for _, want := range []string{
		"tcp 10.0.0.2:", " → api.test (198.19.0.1:", "via host 127.0.0.2:", "16000 B out, 16000 B in, closed",
		"udp 10.0.0.2:", "4 B out, 9 B in, open",
		"tcp 10.0.0.2:", "→ 198.18.7.7:", "refused: no such host outside the simulation",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("flows lack %q:\n%s", want, all)
		}
	}
	if tr := nw.trace.String(); !strings.Contains(tr, "connected via host 127.0.0.2:") {
		t.Errorf("the trace does not name the host endpoint:\n%s", tr)
	}
}

func TestNATAllowList(t *testing.T) {
	okPort, _ := hostTCPEcho(t)
	noPort, noPeers := hostTCPEcho(t)
	uport, ufrom := hostUDPEcho(t)
	nw := newNATWorld(t, NATConfig{Allow: []AllowRule{
		{Prefix: netip.PrefixFrom(natHostLo, 32), Port: okPort},
		{Name: "api.test", Port: uport},
	}})
	nw.nat.Learn("api.test", []netip.Addr{natAlias})
	c, err := nw.dialTCP(t, netip.AddrPortFrom(natAlias, okPort))
	if err != nil {
		t.Fatalf("allowed destination: %v", err)
	}
	c.Close()
	_, err = nw.dialTCP(t, netip.AddrPortFrom(natAlias, noPort))
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("a destination the list does not allow: %v; want connection refused", err)
	}
	select {
	case p := <-noPeers:
		t.Errorf("the refused host server got a connection from %s", p)
	default:
	}
	u := nw.dialUDP(t, netip.AddrPortFrom(natAlias, uport))
	if r, err := udpAsk(u, "by name", 5*time.Second); err != nil || r != "echo:by name" {
		t.Fatalf("UDP allowed by name: %q, %v", r, err)
	}
	<-ufrom
	// UDP to a port the list does not allow: ICMP port unreachable, as a
	// closed port answers.
	u2 := nw.dialUDP(t, netip.AddrPortFrom(natAlias, noPort))
	if r, err := udpAsk(u2, "nope", 300*time.Millisecond); err == nil {
		t.Errorf("UDP to a destination the list does not allow got %q", r)
	}
	if tr := nw.trace.String(); !strings.Contains(tr, "internet 198.19.0.1 → esp1 ICMP destination unreachable (port unreachable)") {
		t.Errorf("no ICMP port unreachable for a UDP flow the list does not allow:\n%s", tr)
	}
	flows, _ := nw.nat.Flows()
	refused := 0
	for _, f := range flows {
		if f.End == "refused: not allowed" {
			refused++
		}
	}
	if refused != 2 {
		t.Errorf("%d flows refused as not allowed; want 2: %v", refused, flows)
	}
}

func TestNATTableLimitAndIdleTimeouts(t *testing.T) {
	uport, ufrom := hostUDPEcho(t)
	tport, _ := hostTCPEcho(t)
	idle := time.Second
	nw := newNATWorld(t, NATConfig{MaxFlows: 2, UDPIdle: idle, TCPIdle: idle})
	dst := netip.AddrPortFrom(natAlias, uport)
	a, b, c := nw.dialUDP(t, dst), nw.dialUDP(t, dst), nw.dialUDP(t, dst)
	for _, u := range []*gonet.UDPConn{a, b} {
		if r, err := udpAsk(u, "x", 3*time.Second); err != nil || r != "echo:x" {
			t.Fatalf("flow within the table: %q, %v", r, err)
		}
	}
	first := <-ufrom
	<-ufrom
	// The table is full: a third flow is dropped, as a full conntrack
	// table drops.
	if r, err := udpAsk(c, "y", idle/4); err == nil {
		t.Fatalf("a flow beyond the table's size got %q", r)
	}
	// Idle mappings expire; then the third flow gets through.
	waitFor(t, "idle UDP mappings to expire", func() bool { return nw.nat.Active() == 0 })
	if r, err := udpAsk(c, "z", 3*time.Second); err != nil || r != "echo:z" {
		t.Fatalf("after the mappings expired: %q, %v", r, err)
	}
	<-ufrom
	// The first socket's mapping expired too: its next datagram gets a new
	// host port, as behind a real NAT.
	if r, err := udpAsk(a, "again", 3*time.Second); err != nil || r != "echo:again" {
		t.Fatalf("after expiry: %q, %v", r, err)
	}
	if again := <-ufrom; again == first {
		t.Errorf("an expired mapping kept its host port %s", first)
	}
	// An idle TCP mapping is forgotten too; the board learns it by a reset.
	waitFor(t, "idle UDP mappings to expire", func() bool { return nw.nat.Active() == 0 })
	tc, err := nw.dialTCP(t, netip.AddrPortFrom(natAlias, tport))
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	tc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := tc.Read(make([]byte, 1)); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Errorf("read on an idle mapping: %v; want a reset", err)
	}
	flows, _ := nw.nat.Flows()
	ends := map[string]int{}
	for _, f := range flows {
		ends[f.Proto+" "+f.End]++
	}
	if ends["udp table full"] != 1 || ends["udp idle timeout"] < 2 || ends["tcp idle timeout"] != 1 {
		t.Errorf("flow ends %v; want one udp table full, ≥ 2 udp idle timeouts, one tcp idle timeout", ends)
	}
}

func TestParseAllowAndPin(t *testing.T) {
	for _, tt := range []struct {
		in, want, err string
	}{
		{in: "203.0.113.0/24", want: "203.0.113.0/24"},
		{in: "203.0.113.7", want: "203.0.113.7"},
		{in: "127.0.0.2:8080", want: "127.0.0.2:8080"},
		{in: "API.example.com.:443", want: "api.example.com:443"},
		{in: "api.example.com", err: "a name needs a port"},
		{in: "api.example.com:0", err: "not a port number"},
		{in: "::1", err: "only IPv4"},
		{in: "", err: "empty"},
		{in: "bad name:80", err: "not a host name"},
	} {
		r, err := ParseAllow(tt.in)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ParseAllow(%q) = %v, %v; want an error containing %q", tt.in, r, err, tt.err)
		case tt.err == "" && (err != nil || r.String() != tt.want):
			t.Errorf("ParseAllow(%q) = %v, %v; want %s", tt.in, r, err, tt.want)
		}
	}
	for _, tt := range []struct {
		in, want, err string
	}{
		{in: "api.test:127.0.0.2", want: "api.test:127.0.0.2"},
		{in: "api.test:443:203.0.113.5", want: "api.test:203.0.113.5"},
		{in: "api.test", err: "want NAME:ADDR"},
		{in: "api.test:localhost", err: "not an IPv4 address"},
		{in: "1.2.3.4:1.2.3.4", err: "not a host name"},
	} {
		p, err := ParsePin(tt.in)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ParsePin(%q) = %v, %v; want an error containing %q", tt.in, p, err, tt.err)
		case tt.err == "" && (err != nil || p.String() != tt.want):
			t.Errorf("ParsePin(%q) = %v, %v; want %s", tt.in, p, err, tt.want)
		}
	}
}

func FuzzParseAllowAndPin(f *testing.F) {
	for _, s := range []string{"203.0.113.0/24", "api.test:443", "127.0.0.2:8080", "api.test:127.0.0.2", "a:1:2.3.4.5", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if r, err := ParseAllow(s); err == nil {
			back, err := ParseAllow(r.String())
			if err != nil || back != r {
				t.Fatalf("ParseAllow(%q) = %v; its String does not parse back: %v, %v", s, r, back, err)
			}
		}
		if p, err := ParsePin(s); err == nil {
			back, err := ParsePin(p.String())
			if err != nil || back != p {
				t.Fatalf("ParsePin(%q) = %v; its String does not parse back: %v, %v", s, p, back, err)
			}
		}
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
