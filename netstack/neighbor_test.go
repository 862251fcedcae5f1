package netstack

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// A static neighbour is used without ARP: the first datagram to it goes
// straight out, and no who-has for it appears on the medium.
func TestSetNeighborSkipsARP(t *testing.T) {
	for _, static := range []bool{false, true} {
		w := newWorld(t, vclock.Fast, 1)
		a, anic := w.node("a", 1, 1, Impairments{})
		b, bnic := w.node("b", 2, 1, Impairments{})
		if static {
			if err := anic.SetNeighbor(netip.MustParseAddr("10.0.0.2"), bnic.MAC()); err != nil {
				t.Fatal(err)
			}
		}
		rx, tx := w.sockets(b, "rx"), w.sockets(a, "tx")
		rc, err := rx.ListenUDP(addr(2, 9))
		if err != nil {
			t.Fatal(err)
		}
		sc, err := tx.ListenUDP(addr(1, 9))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sc.WriteTo([]byte("hi"), addr(2, 9)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := rc.ReadFrom(make([]byte, 16), time.Second); err != nil {
			t.Fatalf("static=%v: datagram: %v", static, err)
		}
		mac, isStatic, ok := anic.Neighbor(netip.MustParseAddr("10.0.0.2"))
		if !ok || mac.String() != bnic.MAC().String() || isStatic != static {
			t.Errorf("static=%v: neighbour entry %v static=%v ok=%v", static, mac, isStatic, ok)
		}
		asked := strings.Contains(w.trace.String(), "who-has 10.0.0.2")
		if asked == static {
			t.Errorf("static=%v: ARP who-has 10.0.0.2 on the medium = %v\n%s", static, asked, w.trace)
		}
		rc.Close()
		sc.Close()
	}
}

func TestSetNeighborRejectsBadInput(t *testing.T) {
	w := newWorld(t, vclock.Fast, 1)
	_, nic := w.node("a", 1, 1, Impairments{})
	for _, tc := range []struct {
		ip  netip.Addr
		mac net.HardwareAddr
	}{
		{netip.MustParseAddr("::1"), net.HardwareAddr{2, 0, 0, 0, 0, 1}},
		{netip.MustParseAddr("10.0.0.9"), net.HardwareAddr{2, 0, 0}},
	} {
		if err := nic.SetNeighbor(tc.ip, tc.mac); err == nil {
			t.Errorf("SetNeighbor(%v, %v) succeeded", tc.ip, tc.mac)
		}
	}
}
