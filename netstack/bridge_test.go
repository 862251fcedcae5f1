package netstack

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

func TestParseForward(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	tests := []struct {
		in   string
		want ForwardSpec
		err  string
	}{
		{in: "8080:esp1:80", want: ForwardSpec{"tcp", lo, 8080, "esp1", 80}},
		{in: "tcp:8080:esp1:80", want: ForwardSpec{"tcp", lo, 8080, "esp1", 80}},
		{in: "udp:5000:esp2:5001", want: ForwardSpec{"udp", lo, 5000, "esp2", 5001}},
		{in: "udp:0.0.0.0:5000:esp2:5001", want: ForwardSpec{"udp", netip.MustParseAddr("0.0.0.0"), 5000, "esp2", 5001}},
		{in: "192.168.0.5:8080:esp1:80", want: ForwardSpec{"tcp", netip.MustParseAddr("192.168.0.5"), 8080, "esp1", 80}},
		{in: "8080:esp1", err: "want [tcp:|udp:][HOSTADDR:]HOSTPORT:BOARD:PORT"},
		{in: "http:8080:esp1:80", err: `host address "http" is not an IPv4 address`},
		{in: "70000:esp1:80", err: `host port "70000" is not a port number`},
		{in: "8080:esp1:0", err: `board port "0" is not a port number`},
		{in: "8080::80", err: "the board name is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseForward(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseForward(%q) = %v, want an error containing %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseForward(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			if back, err := ParseForward(got.String()); err != nil || back != got {
				t.Errorf("ParseForward(%q.String()) = %+v, %v; want a round trip", got, back, err)
			}
		})
	}
}

// bridgeWorld is a realtime LAN with a router (10.0.0.1), a board esp1
// (10.0.0.2) and a node standing for the host (10.0.0.3).
type bridgeWorld struct {
	*world
	router, board, host *Node
}

func newBridgeWorld(t *testing.T, boardImp Impairments) *bridgeWorld {
	t.Helper()
	w := newWorld(t, vclock.Realtime, 1)
	bw := &bridgeWorld{world: w}
	bw.router, _ = w.node("router", 1, 1, Impairments{})
	bw.board, _ = w.node("esp1", 2, 1, boardImp)
	bw.host, _ = w.node("host.sim.internal", 3, 1, Impairments{})
	return bw
}

func (bw *bridgeWorld) forward(t *testing.T, spec string) *Forward {
	t.Helper()
	s, err := ParseForward(spec)
	if err != nil {
		t.Fatal(err)
	}
	f, err := StartForward(ForwardConfig{Spec: s, From: bw.router, Trace: bw.trace,
		Target: func() (netip.Addr, error) { return netip.MustParseAddr("10.0.0.2"), nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// serveHTTP runs a tiny web server on the board until the world ends.
func serveHTTP(t *testing.T, s *Sockets) {
	l, err := s.ListenTCP(addr(2, 80), 4)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer s.Actor.Close()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadString('\n')
				if err != nil || line == "\r\n" {
					break
				}
			}
			body := fmt.Sprintf("<html><body><h1>Welcome to ESP8266 Server</h1><p>you are %s</p></body></html>", c.RemoteAddr())
			fmt.Fprintf(c, "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
			c.Close()
		}
	}()
}

func TestForwardServesCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("SKIPPING: curl is not installed; the port forward was NOT tested with a real client")
	}
	bw := newBridgeWorld(t, Impairments{Latency: 5 * time.Millisecond})
	serveHTTP(t, bw.sockets(bw.board, "web"))
	f := bw.forward(t, "tcp:127.0.0.1:0:esp1:80")
	if !strings.HasPrefix(f.String(), "tcp 127.0.0.1:") || !strings.HasSuffix(f.String(), " → esp1:80") {
		t.Errorf("String() = %q, want \"tcp 127.0.0.1:PORT → esp1:80\"", f)
	}
	for i := 0; i < 2; i++ {
		out, err := exec.Command(curl, "-sS", "--max-time", "10", f.URL()+"/").CombinedOutput()
		if err != nil {
			t.Fatalf("curl %s: %v\n%s", f.URL(), err, out)
		}
		if !bytes.Contains(out, []byte("<h1>Welcome to ESP8266 Server</h1>")) {
			t.Errorf("curl got %q, want the welcome page", out)
		}
		// The board sees a LAN peer: the router.
		if !bytes.Contains(out, []byte("you are 10.0.0.1:")) {
			t.Errorf("curl got %q, want the board to see the router 10.0.0.1 as its peer", out)
		}
	}
	if !strings.Contains(bw.trace.String(), "router:") {
		t.Error("the forwarded connection is not in the trace")
	}
}

func TestForwardHostPortInUse(t *testing.T) {
	bw := newBridgeWorld(t, Impairments{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	spec, _ := ParseForward(fmt.Sprintf("%d:esp1:80", port))
	_, err = StartForward(ForwardConfig{Spec: spec, From: bw.router, Target: func() (netip.Addr, error) { return netip.Addr{}, nil }})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("host port %d is already in use", port)) {
		t.Fatalf("StartForward on a busy port = %v, want an error naming port %d", err, port)
	}
}

func TestBridgeNeedsRealtime(t *testing.T) {
	w := newWorld(t, vclock.Fast, 1)
	n, _ := w.node("router", 1, 1, Impairments{})
	spec, _ := ParseForward("0:esp1:80")
	if _, err := StartForward(ForwardConfig{Spec: spec, From: n, Target: func() (netip.Addr, error) { return netip.Addr{}, nil }}); !errors.Is(err, ErrNeedsRealtime) {
		t.Errorf("StartForward on a fast clock = %v, want ErrNeedsRealtime", err)
	}
	if _, err := StartHostAccess(HostAccessConfig{Node: n, TCPPorts: []uint16{80}}); !errors.Is(err, ErrNeedsRealtime) {
		t.Errorf("StartHostAccess on a fast clock = %v, want ErrNeedsRealtime", err)
	}
}

func TestForwardRefusedWhenBoardHasNoAddress(t *testing.T) {
	bw := newBridgeWorld(t, Impairments{})
	spec, _ := ParseForward("0:esp1:80")
	f, err := StartForward(ForwardConfig{Spec: spec, From: bw.router, Target: func() (netip.Addr, error) {
		return netip.Addr{}, errors.New("esp1 is not connected")
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := net.Dial("tcp", f.HostAddr().String())
	if err == nil {
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Read(make([]byte, 10))
	}
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) {
		t.Errorf("reading from a forward to an unconnected board = %v, want a reset", err)
	}
}

func TestForwardEchoesThousandLinesUnderLoss(t *testing.T) {
	bw := newBridgeWorld(t, Impairments{Loss: 5})
	s := bw.sockets(bw.board, "echo")
	l, err := s.ListenTCP(addr(2, 7), 1)
	if err != nil {
		t.Fatal(err)
	}
	errc := echoServer(s, l)
	f := bw.forward(t, "0:esp1:7")
	c, err := net.Dial("tcp", f.HostAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(40 * time.Second))
	var want bytes.Buffer
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&want, "line %04d from the host\n", i)
	}
	go func() {
		c.Write(want.Bytes())
		c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the echo: %v (after %d bytes)", err, len(got))
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("echoed %d bytes, want the %d sent, in order", len(got), want.Len())
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func TestForwardUDPKeepsFlowsPerClient(t *testing.T) {
	bw := newBridgeWorld(t, Impairments{})
	s := bw.sockets(bw.board, "udp-echo")
	pc, err := s.ListenUDP(addr(2, 5001))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer s.Actor.Close()
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf, -1)
			if err != nil {
				return
			}
			pc.WriteTo([]byte(fmt.Sprintf("%s from %s", buf[:n], from)), from)
		}
	}()
	f := bw.forward(t, "udp:0:esp1:5001")
	var peers []string
	for i := 0; i < 2; i++ {
		c, err := net.Dial("udp", f.HostAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for j := 0; j < 2; j++ {
			msg := fmt.Sprintf("client%d-%d", i, j)
			if _, err := c.Write([]byte(msg)); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 1500)
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("client %d: no reply: %v", i, err)
			}
			reply := string(buf[:n])
			if !strings.HasPrefix(reply, msg+" from 10.0.0.1:") {
				t.Fatalf("client %d got %q, want its own message back, sent by the router", i, reply)
			}
			peer := strings.TrimPrefix(reply, msg+" from ")
			if j == 0 {
				peers = append(peers, peer)
			} else if peer != peers[i] {
				t.Errorf("client %d: second datagram came from %s, first from %s: want one flow per client", i, peer, peers[i])
			}
		}
	}
	if peers[0] == peers[1] {
		t.Errorf("both host clients appear to the board as %s; want a flow per client", peers[0])
	}
}

func freePort(t *testing.T) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

// The tutorial's PC program, played by nc -l on the host; the board reaches
// it through the node standing for the host.
func TestHostAccessWithNetcat(t *testing.T) {
	nc, err := exec.LookPath("nc")
	if err != nil && os.Geteuid() == 0 {
		if _, aerr := exec.LookPath("apt-get"); aerr == nil {
			cmd := exec.Command("sh", "-c", "apt-get install -y netcat-openbsd || (apt-get update && apt-get install -y netcat-openbsd)")
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			cmd.Run()
			nc, err = exec.LookPath("nc")
		}
	}
	if err != nil {
		t.Skip("SKIPPING: nc is not installed and could not be installed; host access was NOT tested with netcat")
	}
	bw := newBridgeWorld(t, Impairments{Latency: 2 * time.Millisecond})
	port := freePort(t)
	closed := freePort(t) // allowed, but nothing listens there
	h, err := StartHostAccess(HostAccessConfig{Node: bw.host, TCPPorts: []uint16{port, closed}, Trace: bw.trace})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()

	cmd := exec.Command(nc, "-l", "127.0.0.1", fmt.Sprint(port))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// Wait until nc listens (without connecting: nc -l serves one
	// connection).
	for i := 0; !listening(port); i++ {
		if i == 250 {
			t.Fatal("nc never listened")
		}
		time.Sleep(20 * time.Millisecond)
	}

	board := bw.sockets(bw.board, "script")
	c, err := board.DialTCP(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.3"), port))
	if err != nil {
		t.Fatalf("board connecting to the host through host access: %v", err)
	}
	if _, err := c.Write([]byte("Hello\nThis is my IP.\n")); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, "a line from the PC\n")
	c.SetReadDeadline(bw.clock.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil || line != "a line from the PC\n" {
		t.Fatalf("board read %q, %v; want the PC's line", line, err)
	}
	c.Write([]byte(line)) // echo it back, as the tutorial's board does
	c.Close()
	stdin.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("nc did not finish after the board closed")
	}
	if got, want := out.String(), "Hello\nThis is my IP.\na line from the PC\n"; got != want {
		t.Errorf("nc printed %q, want %q", got, want)
	}

	// A port that is not allowed is refused as a closed port.
	if _, err := board.DialTCP(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.3"), 22)); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("connecting to a port that is not allowed = %v, want ECONNREFUSED", err)
	}
	// An allowed port with nothing listening on the host: reset.
	c2, err := board.DialTCP(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.3"), closed))
	if err == nil {
		c2.SetReadDeadline(bw.clock.Now().Add(5 * time.Second))
		_, err = c2.Read(make([]byte, 10))
		c2.Close()
	}
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("connecting to an allowed port nobody listens on = %v, want a reset or refusal", err)
	}
}

// listening reports whether a TCP socket listens on port (Linux /proc).
func listening(port uint16) bool {
	want := fmt.Sprintf(":%04X 00000000:0000 0A", port)
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err == nil && bytes.Contains(b, []byte(want)) {
			return true
		}
	}
	return false
}

func TestHostAccessUDP(t *testing.T) {
	bw := newBridgeWorld(t, Impairments{})
	host, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	port := uint16(host.LocalAddr().(*net.UDPAddr).Port)
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := host.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			host.WriteToUDPAddrPort([]byte("host got "+string(buf[:n])), from)
		}
	}()
	h, err := StartHostAccess(HostAccessConfig{Node: bw.host, UDPPorts: []uint16{port}, Trace: bw.trace})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	board := bw.sockets(bw.board, "script")
	for i, local := range []uint16{4000, 4001} {
		pc, err := board.ListenUDP(addr(2, local))
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		msg := fmt.Sprintf("ping %d", i)
		if _, err := pc.WriteTo([]byte(msg), netip.AddrPortFrom(netip.MustParseAddr("10.0.0.3"), port)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1500)
		n, from, err := pc.ReadFrom(buf, 5*time.Second)
		if err != nil {
			t.Fatalf("board socket %d: no reply through host access: %v", local, err)
		}
		if got := string(buf[:n]); got != "host got "+msg || from.Port() != port {
			t.Errorf("board socket %d got %q from %s, want %q from port %d", local, got, from, "host got "+msg, port)
		}
	}
}

// TestForwardKeepsConnectionOrder: connections the host opens one after the
// other reach the board's accept queue in that order, as their SYNs would
// on a LAN (bridge_order.go). Each used to dial on its own goroutine, so a
// later one could overtake: a browser's idle preconnection then got
// accepted before the one carrying its GET.
func TestForwardKeepsConnectionOrder(t *testing.T) {
	bw := newBridgeWorld(t, Impairments{Latency: time.Millisecond})
	s := bw.sockets(bw.board, "order")
	l, err := s.ListenTCP(addr(2, 80), 64)
	if err != nil {
		t.Fatal(err)
	}
	f := bw.forward(t, "tcp:127.0.0.1:0:esp1:80")
	const n = 24
	var hosts []net.Conn
	defer func() {
		for _, c := range hosts {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", f.HostAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, c)
		fmt.Fprintf(c, "%d\n", i)
	}
	var got []string
	for i := 0; i < n; i++ {
		c, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		got = append(got, strings.TrimSpace(line))
		c.Close()
	}
	for i, g := range got {
		if g != fmt.Sprint(i) {
			t.Fatalf("the board accepted the host's connections in the order %v", got)
		}
	}
}
