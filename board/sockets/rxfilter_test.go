package sockets_test

import (
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/raw"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"

	"github.com/esp8266sim/esp8266sim/board/sockets"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

// filterLink is a Link that records DropUnheardBroadcasts.
type filterLink struct{ drop []bool }

func (*filterLink) SetFrameHooks(func([]byte) []byte, func([]byte)) func() { return func() {} }
func (*filterLink) SendFrame([]byte)                                       {}
func (l *filterLink) DropUnheardBroadcasts(on bool)                        { l.drop = append(l.drop, on) }

// A raw socket sees UDP datagrams no UDP socket is bound for, so opening
// one must switch off the NIC's filter of unheard broadcasts (netstack
// rxfilter.go); UDP and TCP sockets leave it alone.
func TestRawSocketStopsBroadcastFilter(t *testing.T) {
	clock := vclock.New(vclock.Config{})
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4},
		RawFactory:         raw.EndpointFactory{},
		Clock:              clock,
	})
	defer s.Close()
	actor := clock.NewActor("esp1")
	defer actor.Close()
	link := &filterLink{}
	tb, err := sockets.New(sockets.Config{Stack: s, NIC: 1, Clock: clock, Actor: actor, Link: link})
	if err != nil {
		t.Fatal(err)
	}
	defer tb.CloseAll()
	if _, err := tb.Socket(sockets.AFInet, sockets.SockDgram, 0); err != nil {
		t.Fatal(err)
	}
	if len(link.drop) != 0 {
		t.Fatalf("a UDP socket switched the filter: %v", link.drop)
	}
	if _, err := tb.Socket(sockets.AFInet, sockets.SockRaw, 17); err != nil {
		t.Fatalf("socket(AF_INET, SOCK_RAW, 17): %v", err)
	}
	if len(link.drop) != 1 || link.drop[0] {
		t.Errorf("after a raw socket DropUnheardBroadcasts calls = %v, want [false]", link.drop)
	}
}
