package dns

import (
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"github.com/esp8266sim/esp8266sim/netstack/internal/lantest"
)

// BenchmarkAnswer measures the server's work per query (decode, CNAME
// chain, encode, self-check), without the network.
func BenchmarkAnswer(b *testing.B) {
	lan := lantest.New(b, vclock.Fast)
	n := lan.AddNode(b, "r", netip.PrefixFrom(serverIP, 24), netip.Addr{})
	s, err := NewServer(ServerConfig{Stack: n.Stack, Records: zone, Clock: lan.Clock})
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"micropython.org", "alias.example", "nosuch.example"} {
		q := &layers.DNS{ID: 1, RD: true, Questions: []layers.DNSQuestion{{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}
		buf := gopacket.NewSerializeBuffer()
		q.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true})
		query := buf.Bytes()
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if s.Answer(query) == nil {
					b.Fatal("no answer")
				}
			}
		})
	}
}
