package trace

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	macESP    = net.HardwareAddr{0x5c, 0xcf, 0x7f, 0x01, 0x02, 0x03}
	macRouter = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	ipESP     = net.IPv4(192, 168, 1, 23).To4()
	ipRouter  = net.IPv4(192, 168, 1, 1).To4()
	ipHost    = net.IPv4(93, 184, 216, 34).To4()
)

func names() *Names {
	n := NewNames()
	n.SetMAC(macESP, "esp1")
	n.SetMAC(macRouter, "router")
	n.SetIP(netip.MustParseAddr("192.168.1.23"), "esp1")
	n.SetIP(netip.MustParseAddr("192.168.1.1"), "router")
	return n
}

func build(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	for _, l := range ls {
		if u, ok := l.(*layers.UDP); ok {
			for _, m := range ls {
				if ip, ok := m.(*layers.IPv4); ok {
					u.SetNetworkLayerForChecksum(ip)
				}
			}
		}
		if tc, ok := l.(*layers.TCP); ok {
			for _, m := range ls {
				if ip, ok := m.(*layers.IPv4); ok {
					tc.SetNetworkLayerForChecksum(ip)
				}
			}
		}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatalf("serialize: %v", err)
	}
	return buf.Bytes()
}

func eth(src, dst net.HardwareAddr, typ layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: typ}
}

func ip4(src, dst net.IP, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: src, DstIP: dst}
}

func dhcp(msg layers.DHCPMsgType, yi net.IP, extra ...layers.DHCPOption) *layers.DHCPv4 {
	opts := layers.DHCPOptions{layers.NewDHCPOption(layers.DHCPOptMessageType, []byte{byte(msg)})}
	opts = append(opts, extra...)
	opts = append(opts, layers.NewDHCPOption(layers.DHCPOptEnd, nil))
	op := layers.DHCPOpRequest
	if msg == layers.DHCPMsgTypeOffer || msg == layers.DHCPMsgTypeAck || msg == layers.DHCPMsgTypeNak {
		op = layers.DHCPOpReply
	}
	if yi == nil {
		yi = net.IPv4zero.To4()
	}
	return &layers.DHCPv4{Operation: op, HardwareType: layers.LinkTypeEthernet, HardwareLen: 6, Xid: 0xabcdef01, ClientHWAddr: macESP, YourClientIP: yi, Options: opts}
}

func dns(qr bool, rcode layers.DNSResponseCode, answers ...layers.DNSResourceRecord) *layers.DNS {
	return &layers.DNS{ID: 7, QR: qr, RD: true, ResponseCode: rcode,
		Questions: []layers.DNSQuestion{{Name: []byte("micropython.org"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}},
		Answers:   answers}
}

func testFrames(t testing.TB) []struct {
	name  string
	frame []byte
	want  string
} {
	bcast := layers.EthernetBroadcast
	zero, all := net.IPv4zero.To4(), net.IPv4bcast.To4()
	a := func(ip net.IP) layers.DNSResourceRecord {
		return layers.DNSResourceRecord{Name: []byte("micropython.org"), Type: layers.DNSTypeA, Class: layers.DNSClassIN, TTL: 60, IP: ip}
	}
	return []struct {
		name  string
		frame []byte
		want  string
	}{
		{"arp request", build(t, eth(macESP, bcast, layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest, SourceHwAddress: macESP, SourceProtAddress: ipESP, DstHwAddress: make([]byte, 6), DstProtAddress: ipRouter}),
			"esp1 → broadcast ARP who-has 192.168.1.1 tell 192.168.1.23"},
		{"arp reply", build(t, eth(macRouter, macESP, layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPReply, SourceHwAddress: macRouter, SourceProtAddress: ipRouter, DstHwAddress: macESP, DstProtAddress: ipESP}),
			"router → esp1 ARP 192.168.1.1 is-at 02:00:00:00:00:01"},
		{"dhcp discover", build(t, eth(macESP, bcast, layers.EthernetTypeIPv4), ip4(zero, all, layers.IPProtocolUDP), &layers.UDP{SrcPort: 68, DstPort: 67}, dhcp(layers.DHCPMsgTypeDiscover, nil)),
			"esp1 → broadcast DHCP DISCOVER xid=0xabcdef01"},
		{"dhcp offer", build(t, eth(macRouter, bcast, layers.EthernetTypeIPv4), ip4(ipRouter, all, layers.IPProtocolUDP), &layers.UDP{SrcPort: 67, DstPort: 68}, dhcp(layers.DHCPMsgTypeOffer, ipESP, layers.NewDHCPOption(layers.DHCPOptLeaseTime, []byte{0, 0, 0x1c, 0x20}))),
			"router → broadcast DHCP OFFER 192.168.1.23 xid=0xabcdef01 lease=7200s"},
		{"dhcp request", build(t, eth(macESP, bcast, layers.EthernetTypeIPv4), ip4(zero, all, layers.IPProtocolUDP), &layers.UDP{SrcPort: 68, DstPort: 67}, dhcp(layers.DHCPMsgTypeRequest, nil, layers.NewDHCPOption(layers.DHCPOptRequestIP, ipESP))),
			"esp1 → broadcast DHCP REQUEST 192.168.1.23 xid=0xabcdef01"},
		{"dns query", build(t, eth(macESP, macRouter, layers.EthernetTypeIPv4), ip4(ipESP, ipRouter, layers.IPProtocolUDP), &layers.UDP{SrcPort: 49152, DstPort: 53}, dns(false, 0)),
			"esp1:49152 → router:53 DNS query A micropython.org"},
		{"dns answer", build(t, eth(macRouter, macESP, layers.EthernetTypeIPv4), ip4(ipRouter, ipESP, layers.IPProtocolUDP), &layers.UDP{SrcPort: 53, DstPort: 49152}, dns(true, 0, a(net.IPv4(176, 58, 119, 26).To4()))),
			"router:53 → esp1:49152 DNS answer micropython.org A 176.58.119.26"},
		{"dns nxdomain", build(t, eth(macRouter, macESP, layers.EthernetTypeIPv4), ip4(ipRouter, ipESP, layers.IPProtocolUDP), &layers.UDP{SrcPort: 53, DstPort: 49152}, dns(true, layers.DNSResponseCodeNXDomain)),
			"router:53 → esp1:49152 DNS answer micropython.org NXDOMAIN"},
		{"dns cname", build(t, eth(macRouter, macESP, layers.EthernetTypeIPv4), ip4(ipRouter, ipESP, layers.IPProtocolUDP), &layers.UDP{SrcPort: 53, DstPort: 49152}, dns(true, 0,
			layers.DNSResourceRecord{Name: []byte("micropython.org"), Type: layers.DNSTypeCNAME, Class: layers.DNSClassIN, TTL: 60, CNAME: []byte("web.micropython.org")}, a(net.IPv4(1, 2, 3, 4).To4()))),
			"router:53 → esp1:49152 DNS answer micropython.org CNAME web.micropython.org, A 1.2.3.4"},
		{"tcp syn to unknown host", build(t, eth(macESP, macRouter, layers.EthernetTypeIPv4), ip4(ipESP, ipHost, layers.IPProtocolTCP), &layers.TCP{SrcPort: 49152, DstPort: 80, Seq: 1000, SYN: true, Window: 5840}),
			"esp1:49152 → 93.184.216.34:80 TCP SYN"},
		{"tcp data", build(t, eth(macESP, macRouter, layers.EthernetTypeIPv4), ip4(ipESP, ipHost, layers.IPProtocolTCP), &layers.TCP{SrcPort: 49152, DstPort: 80, Seq: 1001, Ack: 5, PSH: true, ACK: true, Window: 5840}, gopacket.Payload(make([]byte, 78))),
			"esp1:49152 → 93.184.216.34:80 TCP PSH,ACK len=78"},
		{"tcp rst", build(t, eth(macRouter, macESP, layers.EthernetTypeIPv4), ip4(ipHost, ipESP, layers.IPProtocolTCP), &layers.TCP{SrcPort: 80, DstPort: 49152, RST: true, ACK: true}),
			"93.184.216.34:80 → esp1:49152 TCP RST,ACK"},
		{"icmp echo", build(t, eth(macESP, macRouter, layers.EthernetTypeIPv4), ip4(ipESP, ipRouter, layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 1, Seq: 2}),
			"esp1 → router ICMP echo request id=1 seq=2"},
		{"icmp port unreachable", build(t, eth(macRouter, macESP, layers.EthernetTypeIPv4), ip4(ipRouter, ipESP, layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, layers.ICMPv4CodePort)}),
			"router → esp1 ICMP destination unreachable (port unreachable)"},
		{"plain udp", build(t, eth(macESP, macRouter, layers.EthernetTypeIPv4), ip4(ipESP, ipRouter, layers.IPProtocolUDP), &layers.UDP{SrcPort: 5000, DstPort: 6000}, gopacket.Payload("hello")),
			"esp1:5000 → router:6000 UDP len=5"},
		{"ipv6 ethertype", append(append(append([]byte{}, macRouter...), append(macESP, 0x86, 0xdd)...), make([]byte, 40)...),
			"esp1 → router ethertype 0x86dd len=40"},
		{"runt", []byte{1, 2, 3}, "runt frame (3 bytes)"},
		{"truncated ipv4", build(t, eth(macESP, macRouter, layers.EthernetTypeIPv4))[:20], "esp1 → router malformed IPv4 frame (20 bytes)"},
	}
}

func TestDecodeFrame(t *testing.T) {
	n := names()
	for _, tt := range testFrames(t) {
		t.Run(tt.name, func(t *testing.T) {
			got := DecodeFrame(tt.frame, n)
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("DecodeFrame() = %q, want it to start with %q", got, tt.want)
			}
		})
	}
}

func TestDecoderMarksRetransmissions(t *testing.T) {
	d := NewDecoder(names())
	seg := func(seq uint32, syn bool, n int) []byte {
		return build(t, eth(macESP, macRouter, layers.EthernetTypeIPv4), ip4(ipESP, ipHost, layers.IPProtocolTCP),
			&layers.TCP{SrcPort: 49152, DstPort: 80, Seq: seq, SYN: syn, ACK: !syn, Window: 100}, gopacket.Payload(make([]byte, n)))
	}
	steps := []struct {
		frame []byte
		re    bool
	}{
		{seg(1000, true, 0), false},
		{seg(1000, true, 0), true}, // SYN again
		{seg(1001, false, 100), false},
		{seg(1101, false, 100), false},
		{seg(1001, false, 100), true}, // old data
		{seg(1201, false, 0), false},  // pure ACK
		{seg(1201, false, 50), false},
	}
	for i, s := range steps {
		got := d.Decode("esp1@lan", s.frame)
		if re := strings.HasSuffix(got, "(retransmission)"); re != s.re {
			t.Errorf("step %d: %q, retransmission = %v, want %v", i, got, re, s.re)
		}
	}
	if got := d.Retransmissions(); got != 2 {
		t.Errorf("Retransmissions() = %d, want 2", got)
	}
	// The same segment forwarded on another interface is not a
	// retransmission.
	if got := d.Decode("router@wan", seg(1001, false, 100)); strings.Contains(got, "retransmission") {
		t.Errorf("forwarded copy marked as retransmission: %q", got)
	}
}

func FuzzDecodeFrame(f *testing.F) {
	for _, tt := range testFrames(f) {
		f.Add(tt.frame)
	}
	n := names()
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(n)
		// Call the decoder without Decode's recover, so a panic fails.
		d.mu.Lock()
		line := d.decodeLocked("x", b)
		d.mu.Unlock()
		if line == "" {
			t.Fatalf("empty description of %x", b)
		}
	})
}
