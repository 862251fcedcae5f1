package sockets

import (
	"testing"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// icmpPacket is an inbound IPv4 packet carrying an ICMP message of type typ.
func icmpPacket(typ header.ICMPv4Type) *stack.PacketBuffer {
	ip := make([]byte, header.IPv4MinimumSize)
	header.IPv4(ip).Encode(&header.IPv4Fields{
		TotalLength: header.IPv4MinimumSize + header.ICMPv4MinimumSize,
		TTL:         64,
		Protocol:    uint8(header.ICMPv4ProtocolNumber),
		SrcAddr:     tcpip.AddrFrom4([4]byte{192, 168, 1, 1}),
		DstAddr:     tcpip.AddrFrom4([4]byte{192, 168, 1, 100}),
	})
	icmp := make([]byte, header.ICMPv4MinimumSize)
	header.ICMPv4(icmp).SetType(typ)
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(append(ip, icmp...))})
	pkt.NetworkProtocolNumber = header.IPv4ProtocolNumber
	pkt.NetworkHeader().Consume(header.IPv4MinimumSize)
	return pkt
}

// esp-open-lwip's icmp_input answers echo requests and drops every other
// type: the board's stack must never see an ICMP error.
func TestInputFilterDropsICMPErrors(t *testing.T) {
	tests := []struct {
		name string
		typ  header.ICMPv4Type
		drop bool
	}{
		{"destination unreachable", header.ICMPv4DstUnreachable, true},
		{"time exceeded", header.ICMPv4TimeExceeded, true},
		{"echo request", header.ICMPv4Echo, false},
		{"echo reply", header.ICMPv4EchoReply, false},
	}
	m := lwipInput{t: &Table{socks: map[int]*sock{}}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkt := icmpPacket(tt.typ)
			defer pkt.DecRef()
			if got, _ := m.Match(stack.Input, pkt, "", ""); got != tt.drop {
				t.Errorf("Match(ICMP type %d) = %v, want %v", tt.typ, got, tt.drop)
			}
		})
	}
}
