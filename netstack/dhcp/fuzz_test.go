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

// seedMessages are valid and nearly valid messages for the fuzz corpora.
func seedMessages(f *testing.F, xid uint32, chaddr net.HardwareAddr) {
	add := func(op layers.DHCPOp, t layers.DHCPMsgType, mod func(*builder)) {
		b := &builder{op: op, xid: xid, chaddr: chaddr}
		b.add(layers.DHCPOptMessageType, []byte{byte(t)})
		if mod != nil {
			mod(b)
		}
		p, err := b.bytes()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p)
	}
	srv := func(b *builder) {
		b.yiaddr = netip.MustParseAddr("192.168.1.100")
		b.addAddr(layers.DHCPOptServerID, routerIP)
		b.addUint32(layers.DHCPOptLeaseTime, 60)
		b.add(layers.DHCPOptSubnetMask, []byte{255, 255, 255, 0})
		b.addAddr(layers.DHCPOptRouter, routerIP)
		b.addAddr(layers.DHCPOptDNS, routerIP, routerIP)
	}
	add(layers.DHCPOpRequest, layers.DHCPMsgTypeDiscover, nil)
	add(layers.DHCPOpRequest, layers.DHCPMsgTypeRequest, func(b *builder) {
		b.addAddr(layers.DHCPOptRequestIP, netip.MustParseAddr("192.168.1.100"))
		b.addAddr(layers.DHCPOptServerID, routerIP)
		b.add(layers.DHCPOptHostname, []byte("esp"))
	})
	add(layers.DHCPOpRequest, layers.DHCPMsgTypeDecline, func(b *builder) {
		b.addAddr(layers.DHCPOptRequestIP, netip.MustParseAddr("192.168.1.100"))
	})
	add(layers.DHCPOpRequest, layers.DHCPMsgTypeRelease, func(b *builder) { b.ciaddr = netip.MustParseAddr("192.168.1.100") })
	add(layers.DHCPOpReply, layers.DHCPMsgTypeOffer, srv)
	add(layers.DHCPOpReply, layers.DHCPMsgTypeAck, srv)
	add(layers.DHCPOpReply, layers.DHCPMsgTypeNak, nil)
	add(layers.DHCPOpReply, layers.DHCPMsgTypeAck, func(b *builder) {
		srv(b)
		b.addUint32(layers.DHCPOptT1, 100) // T1 beyond the lease
		b.add(layers.DHCPOptSubnetMask, []byte{255, 0, 255, 0})
	})
	f.Add([]byte{})
	f.Add(make([]byte, 240))
	f.Add(append(make([]byte, 236), 0x63, 0x82, 0x53, 0x63, 53, 1))
}

func FuzzDHCPServerInput(f *testing.F) {
	seedMessages(f, 0x1234, net.HardwareAddr{2, 0, 0, 0, 0, 9})
	lan := lantest.New(f, vclock.Fast)
	n := lan.AddNode(f, "router", netip.PrefixFrom(routerIP, 24), netip.Addr{})
	srv, err := NewServer(ServerConfig{Stack: n.Stack, NIC: n.NIC, ServerIP: routerIP, Subnet: subnet,
		Router: routerIP, PoolStart: netip.MustParseAddr("192.168.1.100"), PoolEnd: netip.MustParseAddr("192.168.1.101"),
		Clock: lan.Clock, Trace: func(string) {}})
	if err != nil {
		f.Fatal(err)
	}
	var now time.Duration
	f.Fuzz(func(t *testing.T, data []byte) {
		now += time.Second
		r := srv.process(data, now)
		if r != nil {
			if _, err := r.msg.bytes(); err != nil {
				t.Fatalf("reply does not serialize: %v", err)
			}
		}
	})
}

func FuzzDHCPClientInput(f *testing.F) {
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	seedMessages(f, 0x1234, mac)
	lan := lantest.New(f, vclock.Fast)
	n := lan.AddNode(f, "esp", netip.Prefix{}, netip.Addr{})
	c, err := NewClient(ClientConfig{Stack: n.Stack, NIC: n.NIC, Clock: lan.Clock, Hostname: "esp"})
	if err != nil {
		f.Fatal(err)
	}
	sock, err := listenUDP(n.Stack, n.NIC, ClientPort, func() {})
	if err != nil {
		f.Fatal(err)
	}
	defer sock.close()
	c.sock = sock
	states := []string{StateSelecting, StateRequesting, StateRenewing, StateRebinding, StateBound}
	i := 0
	f.Fuzz(func(t *testing.T, data []byte) {
		i++
		c.setState(states[i%len(states)])
		c.xid = 0x1234
		c.input(data)
		c.xid = 0x1234
		c.timeout()
	})
}

func TestParseMessageRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"short", make([]byte, 100)},
		{"bad cookie", make([]byte, 300)},
		{"bootp without type", append(append(make([]byte, 236), 0x63, 0x82, 0x53, 0x63), 255)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if len(in) > 2 {
				in[1], in[2] = 1, 6
			}
			if m, err := parseMessage(in); err == nil {
				t.Errorf("parseMessage(%s) = %+v, want an error", tc.name, m)
			}
		})
	}
}
