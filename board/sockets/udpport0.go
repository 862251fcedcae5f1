package sockets

import (
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// sendToPort0 sends a datagram to port 0, which lwIP's udp_sendto does
// without a check (gVisor's UDP endpoint refuses it). The datagram leaves
// from the socket's port, bound first to an ephemeral one if needed, as
// udp_sendto binds an unbound PCB.
func (t *Table) sendToPort0(s *sock, p []byte, to tcpip.FullAddress) (int, error) {
	la, tcpipErr := s.ep.GetLocalAddress()
	if tcpipErr != nil || la.Port == 0 {
		if tcpipErr := s.ep.Bind(tcpip.FullAddress{}); tcpipErr != nil {
			return 0, oserr(lwipFromTCPIP(tcpipErr, true).errno())
		}
		if la, tcpipErr = s.ep.GetLocalAddress(); tcpipErr != nil {
			return 0, oserr(lwipFromTCPIP(tcpipErr, true).errno())
		}
	}
	r, tcpipErr := t.cfg.Stack.FindRoute(t.cfg.NIC, la.Addr, to.Addr, ipv4.ProtocolNumber, false)
	if tcpipErr != nil {
		return 0, oserr(lwipFromTCPIP(tcpipErr, true).errno())
	}
	defer r.Release()
	length := uint16(header.UDPMinimumSize + len(p))
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{
		ReserveHeaderBytes: int(r.MaxHeaderLength()) + header.UDPMinimumSize,
		Payload:            buffer.MakeWithData(p),
	})
	defer pkt.DecRef()
	u := header.UDP(pkt.TransportHeader().Push(header.UDPMinimumSize))
	u.Encode(&header.UDPFields{SrcPort: la.Port, DstPort: 0, Length: length})
	xsum := r.PseudoHeaderChecksum(header.UDPProtocolNumber, length)
	xsum = checksum.Checksum(p, xsum)
	u.SetChecksum(^u.CalculateChecksum(xsum))
	pkt.TransportProtocolNumber = header.UDPProtocolNumber
	if tcpipErr := r.WritePacket(stack.NetworkHeaderParams{Protocol: header.UDPProtocolNumber, TTL: r.DefaultTTL()}, pkt); tcpipErr != nil {
		return 0, oserr(lwipFromTCPIP(tcpipErr, true).errno())
	}
	t.mu.Lock()
	s.bytesOut += uint64(len(p))
	t.mu.Unlock()
	return len(p), nil
}
