package dhcp

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"github.com/esp8266sim/esp8266sim/netstack/internal/lantest"
)

// BenchmarkServerProcess measures one DISCOVER through the server's logic
// (parse, allocate, build the OFFER), without the network.
func BenchmarkServerProcess(b *testing.B) {
	lan := lantest.New(b, vclock.Fast)
	n := lan.AddNode(b, "router", netip.PrefixFrom(routerIP, 24), netip.Addr{})
	srv, err := NewServer(ServerConfig{Stack: n.Stack, NIC: n.NIC, ServerIP: routerIP, Subnet: subnet, Router: routerIP,
		DNS: []netip.Addr{routerIP}, PoolStart: netip.MustParseAddr("192.168.1.100"), PoolEnd: netip.MustParseAddr("192.168.1.200"), Clock: lan.Clock})
	if err != nil {
		b.Fatal(err)
	}
	m := &builder{op: layers.DHCPOpRequest, xid: 1, chaddr: net.HardwareAddr{2, 0, 0, 0, 0, 1}}
	m.add(layers.DHCPOptMessageType, []byte{byte(layers.DHCPMsgTypeDiscover)})
	m.add(layers.DHCPOptHostname, []byte("esp"))
	p, err := m.bytes()
	if err != nil {
		b.Fatal(err)
	}
	var now time.Duration
	for b.Loop() {
		now += time.Second
		if r := srv.process(p, now); r == nil {
			b.Fatal("no OFFER")
		} else if _, err := r.msg.bytes(); err != nil {
			b.Fatal(err)
		}
	}
}
