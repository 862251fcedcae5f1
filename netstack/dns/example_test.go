package dns_test

import (
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"github.com/esp8266sim/esp8266sim/netstack/dns"
)

// The server's logic can be asked directly: here a CNAME chain.
func ExampleServer_Answer() {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{udp.NewProtocol},
	})
	defer s.Close()
	srv, err := dns.NewServer(dns.ServerConfig{
		Stack: s,
		Clock: vclock.New(vclock.Config{}),
		Records: []dns.Record{
			dns.A("micropython.org", netip.MustParseAddr("176.58.119.26")),
			dns.CNAME("www.micropython.org", "micropython.org"),
		},
	})
	if err != nil {
		panic(err)
	}
	q := &layers.DNS{ID: 1, RD: true, Questions: []layers.DNSQuestion{{Name: []byte("WWW.MicroPython.org"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}
	buf := gopacket.NewSerializeBuffer()
	q.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true})

	var r layers.DNS
	r.DecodeFromBytes(srv.Answer(buf.Bytes()), gopacket.NilDecodeFeedback)
	fmt.Println(r.ResponseCode)
	for _, a := range r.Answers {
		switch a.Type {
		case layers.DNSTypeCNAME:
			fmt.Printf("%s CNAME %s\n", a.Name, a.CNAME)
		case layers.DNSTypeA:
			fmt.Printf("%s A %s\n", a.Name, a.IP)
		}
	}
	// Output:
	// No Error
	// WWW.MicroPython.org CNAME micropython.org
	// micropython.org A 176.58.119.26
}
