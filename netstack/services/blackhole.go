package services

import (
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// Blackhole makes the host drop, silently, every TCP segment and UDP
// datagram for a port it has no service on: a connection attempt gets
// neither a SYN-ACK nor a reset (the client retries its SYN until it gives
// up), a datagram no ICMP port-unreachable. That is a host behind a
// dropping firewall, what net_inet's tests and scripts that guard against
// hung connects need. Services the host runs still answer. Call it before
// traffic flows (gVisor reads the handlers without a lock).
func (h *Host) Blackhole() {
	s := h.cfg.Stack
	s.SetTransportProtocolHandler(tcp.ProtocolNumber, func(id stack.TransportEndpointID, pkt *stack.PacketBuffer) bool {
		if th := header.TCP(pkt.TransportHeader().Slice()); len(th) >= header.TCPMinimumSize && th.Flags()&header.TCPFlagSyn != 0 && th.Flags()&header.TCPFlagAck == 0 {
			h.trace("blackhole: SYN from %s:%d to port %d dropped", id.RemoteAddress, id.RemotePort, id.LocalPort)
		}
		return true
	})
	s.SetTransportProtocolHandler(udp.ProtocolNumber, func(stack.TransportEndpointID, *stack.PacketBuffer) bool {
		return true
	})
}
