package sockets_test

import (
	"context"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/link/loopback"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/raw"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"

	"github.com/esp8266sim/esp8266sim/board/sockets"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// SOCK_RAW with IPPROTO_ICMP, as ping scripts use it: the echo reply comes
// back with its IP header. A stack without raw sockets refuses with ENOMEM.
func TestRawICMPPing(t *testing.T) {
	clock := vclock.New(vclock.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go clock.Run(ctx)
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4},
		RawFactory:         raw.EndpointFactory{},
		Clock:              clock,
	})
	defer s.Close()
	if err := s.CreateNIC(1, loopback.New()); err != nil {
		t.Fatal(err)
	}
	lo := tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4([4]byte{127, 0, 0, 1}), PrefixLen: 8}
	if err := s.AddProtocolAddress(1, tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: lo}, stack.AddressProperties{}); err != nil {
		t.Fatal(err)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: lo.Subnet(), NIC: 1}})
	actor := clock.NewActor("esp1")
	defer actor.Close()
	tb, err := sockets.New(sockets.Config{Stack: s, NIC: 1, Clock: clock, Actor: actor})
	if err != nil {
		t.Fatal(err)
	}
	defer tb.CloseAll()

	fd, err := tb.Socket(sockets.AFInet, sockets.SockRaw, 1)
	if err != nil {
		t.Fatalf("socket(AF_INET, SOCK_RAW, 1): %v", err)
	}
	tb.SetTimeout(fd, time.Second)
	echo := []byte{8, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'}
	c := ^checksum.Checksum(echo, 0)
	echo[2], echo[3] = byte(c>>8), byte(c)
	if _, err := tb.SendTo(ctx, fd, echo, "127.0.0.1", 0); err != nil {
		t.Fatalf("sendto: %v", err)
	}
	gotReply := false
	buf := make([]byte, 64)
	for i := 0; i < 2 && !gotReply; i++ {
		n, host, _, err := tb.RecvFrom(ctx, fd, buf, 0)
		if err != nil {
			t.Fatalf("recvfrom: %v", err)
		}
		if n < 28 || buf[0]>>4 != 4 || host != "127.0.0.1" {
			t.Fatalf("recvfrom = %x from %s, want an IPv4 packet from 127.0.0.1", buf[:n], host)
		}
		hl := int(buf[0]&0xf) * 4
		gotReply = buf[hl] == 0 && string(buf[hl+8:n]) == "ping"
	}
	if !gotReply {
		t.Errorf("no ICMP echo reply came back")
	}
	if rows := tb.Snapshot(); len(rows) != 1 || rows[0].Proto != "RAW" {
		t.Errorf("Snapshot() = %+v, want one RAW row", rows)
	}

	// A stack built without raw sockets (no RawFactory).
	s2 := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4},
		Clock:              clock,
	})
	defer s2.Close()
	tb2, err := sockets.New(sockets.Config{Stack: s2, Clock: clock, Actor: actor})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tb2.Socket(sockets.AFInet, sockets.SockRaw, 1)
	if sockets.Errno(err) != sockets.ENOMEM {
		t.Errorf("SOCK_RAW without raw sockets: %v, want ENOMEM", err)
	}
}
