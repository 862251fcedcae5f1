package sim

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// The real-network tests (issue 18) talk only to servers they run on the
// host's loopback (127.0.0.2); the host resolver they use is a DNS server
// on 127.0.0.1, never the machine's.

// loopbackDNS runs a DNS server on 127.0.0.1 answering name with addr and
// everything else NXDOMAIN, and returns a resolver that asks only it.
func loopbackDNS(t *testing.T, name string, addr netip.Addr) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { pc.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var q layers.DNS
			if q.DecodeFromBytes(buf[:n], gopacket.NilDecodeFeedback) != nil || len(q.Questions) != 1 {
				continue
			}
			r := &layers.DNS{ID: q.ID, QR: true, RD: q.RD, RA: true, Questions: q.Questions}
			qq := q.Questions[0]
			switch {
			case !strings.EqualFold(strings.TrimSuffix(string(qq.Name), "."), name):
				r.ResponseCode = layers.DNSResponseCodeNXDomain
			case qq.Type == layers.DNSTypeA:
				a := addr.As4()
				r.Answers = []layers.DNSResourceRecord{{Name: qq.Name, Type: layers.DNSTypeA, Class: layers.DNSClassIN, TTL: 60, IP: net.IP(a[:])}}
			}
			sb := gopacket.NewSerializeBuffer()
			if r.SerializeTo(sb, gopacket.SerializeOptions{FixLengths: true}) == nil {
				pc.WriteTo(sb.Bytes(), from)
			}
		}
	}()
	server := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", server)
	}}
}

func listenLoopback(t *testing.T, network string) (net.Listener, net.PacketConn) {
	t.Helper()
	if network == "udp" {
		pc, err := net.ListenPacket("udp", "127.0.0.2:0")
		if err != nil {
			t.Skipf("SKIPPING: cannot listen on 127.0.0.2 (%v); the real network was NOT tested", err)
		}
		t.Cleanup(func() { pc.Close() })
		return nil, pc
	}
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("SKIPPING: cannot listen on 127.0.0.2 (%v); the real network was NOT tested", err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, nil
}

// A board's UDP exchange and TCP connections reach host servers through
// the NAT; the allow-list lets one destination through and refuses
// another as a closed port; a name the scenario does not define resolves
// through the host's resolver.
func TestInternetUDPAllowAndHostResolver(t *testing.T) {
	_, upc := listenLoopback(t, "udp")
	okLn, _ := listenLoopback(t, "tcp")
	noLn, _ := listenLoopback(t, "tcp")
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := upc.ReadFrom(buf)
			if err != nil {
				return
			}
			upc.WriteTo(append([]byte("host got "), buf[:n]...), from)
		}
	}()
	accepted := make(chan string, 4)
	for _, ln := range []net.Listener{okLn, noLn} {
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				accepted <- ln.Addr().String()
				c.Write([]byte("hello board"))
				c.Close()
			}
		}()
	}
	uport := upc.LocalAddr().(*net.UDPAddr).Port
	okPort := okLn.Addr().(*net.TCPAddr).Port
	noPort := noLn.Addr().(*net.TCPAddr).Port
	// The host resolver answers real.test with an outside address; the
	// board only resolves it (nothing is sent there: it is not allowed).
	resolver := loopbackDNS(t, "real.test", netip.MustParseAddr("192.0.2.44"))
	var trace strings.Builder
	res := runYAMLWith(t, fmt.Sprintf(`
internet_hosts:
  - {name: sim.test, ip: 203.0.113.10, services: {tcp_echo: 7}}
internet:
  mode: passthrough
  resolve: [api.test:127.0.0.2]
  allow: [api.test:%d, 127.0.0.2:%d]
  udp_timeout: 1s
boards:
  - name: esp1
    code: |
`+joinSimNet+`      import socket
      a = socket.getaddrinfo("api.test", %d)[0][-1]
      print("api.test is", a[0])
      u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
      u.settimeout(5)
      u.sendto(b"ping", a)
      print("udp", u.recv(64))
      u.close()
      for port in (%d, %d):
          s = socket.socket()
          s.settimeout(5)
          try:
              s.connect(socket.getaddrinfo("api.test", port)[0][-1])
              print("tcp", port == %d, s.recv(64))
          except OSError as e:
              print("tcp", port == %d, "error", e.errno)
          s.close()
      s = socket.socket()
      s.connect(socket.getaddrinfo("sim.test", 7)[0][-1])
      s.send(b"declared")
      print("sim.test echoes", s.recv(16))
      s.close()
      print("real.test is", socket.getaddrinfo("real.test", 80)[0][-1][0])
      try:
          socket.getaddrinfo("nowhere.test", 80)
      except OSError as e:
          print("nowhere.test", e)
      time.sleep(1.5)
`, uport, okPort, uport, okPort, noPort, okPort, okPort), Options{HostResolver: resolver, Trace: &trace})
	c := res.Boards[0].Console
	for _, want := range []string{
		"api.test is 198.19.0.1",
		"udp b'host got ping'",
		"tcp True b'hello board'",
		"tcp False error 104", // refused: RST, as a closed port (lwIP reports ECONNRESET)
		"real.test is 192.0.2.44",
		"sim.test echoes b'declared'", // a declared host wins for its address
		"nowhere.test -2",
	} {
		if !strings.Contains(c, want) {
			t.Errorf("console lacks %q:\n%s", want, c)
		}
	}
	close(accepted)
	var got []string
	for a := range accepted {
		got = append(got, a)
	}
	if len(got) != 1 || got[0] != okLn.Addr().String() {
		t.Errorf("host servers accepted %v; want only the allowed %s", got, okLn.Addr())
	}
	if res.Internet == nil {
		t.Fatal("the result does not say the run used the real network")
	}
	flows := strings.Join(res.Internet.Flows, "\n")
	for _, want := range []string{
		fmt.Sprintf("udp 192.168.1.100:"),
		fmt.Sprintf("→ api.test (198.19.0.1:%d) via host 127.0.0.2:%d: 4 B out, 13 B in, idle timeout", uport, uport), // udp_timeout
		fmt.Sprintf("via host 127.0.0.2:%d: 0 B out, 11 B in, closed", okPort),
		fmt.Sprintf("via host 127.0.0.2:%d: 0 B out, 0 B in, refused: not allowed", noPort),
	} {
		if !strings.Contains(flows, want) {
			t.Errorf("flows lack %q:\n%s", want, flows)
		}
	}
	if strings.Contains(flows, "203.0.113.10") || len(res.Internet.Flows) != 3 {
		t.Errorf("want three flows, none to the declared host:\n%s", flows)
	}
	if !strings.Contains(trace.String(), fmt.Sprintf("via host 127.0.0.2:%d", okPort)) {
		t.Errorf("the trace does not name the host endpoint")
	}
}

// Without internet passthrough nothing leaves the simulation: an
// undefined name fails in the board's DNS, as before, the routers have no
// way out (no default route, no gateway) and no host server hears from the
// board.
func TestInternetOffKeepsTheSandbox(t *testing.T) {
	ln, _ := listenLoopback(t, "tcp")
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	sc := parseYAML(t, "test.yaml", `
boards:
  - name: esp1
    code: |
`+joinSimNet+`      import socket
      for name in ("api.test", "localhost"):
          try:
              socket.getaddrinfo(name, 80)
          except OSError as e:
              print(name, "fails", e)
`)
	w := newTestWorld(t, sc, Options{})
	for _, a := range w.aps {
		for _, r := range a.router.Routes() {
			if r.Dst.Bits() == 0 {
				t.Errorf("router %s has a way out of the simulation: %s", a.cfg.Name, r)
			}
		}
	}
	if _, ok := w.nics[GatewayName]; ok {
		t.Errorf("the world has a gateway to the real network")
	}
	res := runTestWorld(t, w)
	c := res.Boards[0].Console
	for _, want := range []string{"api.test fails -2", "localhost fails -2"} {
		if !strings.Contains(c, want) {
			t.Errorf("console lacks %q:\n%s", want, c)
		}
	}
	if res.Internet != nil {
		t.Errorf("the report says the run used the real network: %v", res.Internet)
	}
	select {
	case <-accepted:
		t.Error("a host server heard from a board without internet passthrough")
	case <-time.After(10 * time.Millisecond):
	}
}
