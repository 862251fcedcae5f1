package netstack

import (
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// A forwarding node's NICs claim transmit checksum offload. Without it
// gVisor recomputes the TCP or UDP checksum of every packet it forwards,
// which turned a segment corrupted before the router into a valid one: the
// receiver accepted the flipped bit as data (issue #14). A router leaves
// transport checksums alone (it checks only the IPv4 header's, and drops a
// packet whose header checksum fails), so with the capability set gVisor
// forwards the segment untouched, and the endpoint computes the checksums
// of the packets the router itself sends (DHCP, DNS, TCP to its services):
// what a NIC with checksum offload does.

// fillTransportChecksum computes the TCP or UDP checksum of the IPv4 packet
// in an Ethernet frame the node itself sent. The first fragment of a
// fragmented UDP datagram gets 0 (no checksum, allowed over IPv4): the
// checksum covers fragments the endpoint does not hold. A router's own UDP
// (DHCP, DNS answers of at most 512 bytes) is never fragmented in practice.
func fillTransportChecksum(b []byte) {
	if len(b) < ethHeaderLen+header.IPv4MinimumSize || header.Ethernet(b).Type() != header.IPv4ProtocolNumber {
		return
	}
	ip := header.IPv4(b[ethHeaderLen:])
	hlen, total := int(ip.HeaderLength()), int(ip.TotalLength())
	if hlen < header.IPv4MinimumSize || total < hlen || total > len(ip) {
		return
	}
	seg := b[ethHeaderLen+hlen : ethHeaderLen+total]
	fragment := ip.Flags()&header.IPv4FlagMoreFragments != 0 || ip.FragmentOffset() != 0
	switch ip.TransportProtocol() {
	case header.TCPProtocolNumber:
		if fragment || len(seg) < header.TCPMinimumSize {
			return
		}
		tcp := header.TCP(seg)
		tcp.SetChecksum(0)
		xsum := header.PseudoHeaderChecksum(header.TCPProtocolNumber, ip.SourceAddress(), ip.DestinationAddress(), uint16(len(seg)))
		tcp.SetChecksum(^checksum.Checksum(seg, xsum))
	case header.UDPProtocolNumber:
		if len(seg) < header.UDPMinimumSize {
			return
		}
		udp := header.UDP(seg)
		udp.SetChecksum(0)
		if fragment {
			return
		}
		xsum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, ip.SourceAddress(), ip.DestinationAddress(), uint16(len(seg)))
		sum := ^checksum.Checksum(seg, xsum)
		if sum == 0 {
			sum = 0xffff // 0 means "no checksum" in UDP over IPv4
		}
		udp.SetChecksum(sum)
	}
}
