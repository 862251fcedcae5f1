package netstack

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

func TestRouterForwardsToInternetHost(t *testing.T) {
	soundTwice(t, routerScenario)
}

func routerScenario(t *testing.T) string {
	w := newWorld(t, vclock.Fast, 9)
	wan, err := NewMedium(MediumConfig{Name: "wan", Clock: w.clock, Seed: 9, Trace: w.trace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wan.Close)
	r, err := NewRouter(RouterConfig{
		Clock: w.clock, Seed: 9, Trace: w.trace,
		LAN: w.medium, LANAddr: netip.MustParsePrefix("192.168.1.1/24"),
		WAN: wan, WANAddr: netip.MustParsePrefix("100.64.0.1/32"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	host, err := r.AddInternetHost(InternetHostConfig{Name: "example.com", Addr: netip.MustParseAddr("93.184.216.34"), Impairments: Impairments{Latency: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(host.Close)

	board, err := NewNode(NodeConfig{Name: "esp1", Clock: w.clock, Seed: 9, Trace: w.trace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(board.Close)
	nic, err := board.AddNIC(w.medium, NICConfig{Addr: netip.MustParsePrefix("192.168.1.23/24")})
	if err != nil {
		t.Fatal(err)
	}
	if err := board.SetDefaultGateway(netip.MustParseAddr("192.168.1.1"), nic); err != nil {
		t.Fatal(err)
	}

	srv := w.sockets(host, "web")
	l, err := srv.ListenTCP(netip.MustParseAddrPort("0.0.0.0:80"), 1)
	if err != nil {
		t.Fatal(err)
	}
	errc := echoServer(srv, l)
	data := payload(3, 64<<10)
	got := echo(t, w.sockets(board, "script"), netip.MustParseAddrPort("93.184.216.34:80"), data)
	if !bytes.Equal(got, data) {
		t.Fatalf("echo through the router: %d bytes back, want %d intact", len(got), len(data))
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	text := w.trace.String()
	for _, want := range []string{
		"esp1 → broadcast ARP who-has 192.168.1.1 tell 192.168.1.23",
		"router → broadcast ARP who-has 93.184.216.34 tell 100.64.0.1",
		" → example.com:80 TCP SYN\n",
		"example.com:80 → esp1:",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("trace lacks %q:\n%s", want, text[:min(len(text), 3000)])
		}
	}
	// The SYN crosses both media: once sent by esp1, once by the router.
	var syns []trace.Line
	for _, line := range w.trace.Lines() {
		if strings.HasSuffix(line.Text, "TCP SYN") {
			syns = append(syns, line)
		}
	}
	if len(syns) != 2 || syns[0].Source != "esp1" || syns[1].Source != "router" {
		t.Errorf("SYN lines %v, want one from esp1 on the LAN then one from the router on the WAN", syns)
	}
	return timeouts(t, w, board, host)
}
