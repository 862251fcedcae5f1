package netstack

import (
	"encoding/binary"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// The receive filter drops, before gVisor parses them, broadcast frames a
// station's stack is certain to drop without a trace: in a fleet every
// board's DHCP DISCOVER and REQUEST and every ARP request is flooded to a
// thousand stations, and walking each copy through gVisor's IPv4 input
// (iptables, connection tracking, the demuxer) was a third of a
// 1000-board run's CPU for no observable effect (issue #20).
//
// Only what gVisor provably drops is dropped here, and nothing the links
// see changes (loss draws, counters, capture and trace all happen before
// the frame reaches the NIC):
//
//   - An ARP request whose target is none of the NIC's addresses. gVisor's
//     arp.endpoint.HandlePacket returns at once for it (the
//     requestsReceivedUnknownTargetAddress counter), before it learns the
//     sender: nothing but its own statistics, which nobody reads, changes.
//     Spoofing NICs (a NAT's) claim every address. The NIC's addresses are
//     read from its own copy (localaddr.go), not asked of gVisor.
//   - An IPv4 UDP datagram to the limited broadcast address for whose port
//     no UDP endpoint is bound, on a NIC whose owner promised (with
//     DropUnheardBroadcasts) that the stack has no raw sockets and no
//     default transport handler: the demuxer then finds no endpoint, counts
//     UnknownPortErrors and, the destination being a broadcast, sends no
//     ICMP (RFC 1122 3.2.2). Fragments and packets with options go through.
//     A port no endpoint of the node was ever bound to is known without
//     asking gVisor (udpports.go); the demuxer is asked about the others.

// rxFilterOff turns the whole filter off: the tests compare what a stack
// does with and without it.
var rxFilterOff atomic.Bool

// DropUnheardBroadcasts switches the UDP half of the receive filter on or
// off. The caller promises that while it is on the NIC's node has no raw
// sockets (they would see every datagram) and no default transport handler
// (Stack.SetTransportProtocolHandler): the board's socket table, which
// creates every socket of a board's stack, switches it.
func (c *NIC) DropUnheardBroadcasts(on bool) { c.dropUnheard.Store(on) }

// unheard reports whether the stack would drop the non-unicast frame b
// without effect (see above).
func (e *endpoint) unheard(b []byte) bool {
	if rxFilterOff.Load() {
		return false
	}
	drop, udp := e.dropsUnheard(b)
	if drop && udp {
		e.filteredUDP.Add(1)
	} else if drop {
		e.filteredARP.Add(1)
	}
	return drop
}

// FilteredBroadcasts counts the frames the NIC's receive filter kept from
// its stack: ARP requests for other addresses and unheard UDP broadcasts.
func (c *NIC) FilteredBroadcasts() (arp, udp uint64) {
	return c.ep.filteredARP.Load(), c.ep.filteredUDP.Load()
}

// dropsUnheard decides for unheard; udp tells which half dropped.
func (e *endpoint) dropsUnheard(b []byte) (drop, udp bool) {
	s := e.nic.node.stack
	switch header.Ethernet(b).Type() {
	case header.ARPProtocolNumber:
		a := header.ARP(b[header.EthernetMinimumSize:])
		if !a.IsValid() || a.Op() != header.ARPRequest {
			return false, false
		}
		if checkLocal.Load() {
			if err := e.nic.CheckReceiveFilter(); err != nil {
				panic(err)
			}
		}
		target := tcpip.AddrFrom4([4]byte(a.ProtocolAddressTarget()))
		return !e.nic.local.Load().answers(target), false
	case header.IPv4ProtocolNumber:
		if !e.nic.dropUnheard.Load() {
			return false, false
		}
		ip := header.IPv4(b[header.EthernetMinimumSize:])
		if len(ip) < header.IPv4MinimumSize+header.UDPMinimumSize || ip.HeaderLength() != header.IPv4MinimumSize ||
			ip.TransportProtocol() != header.UDPProtocolNumber || ip.DestinationAddress() != header.IPv4Broadcast ||
			ip.More() || ip.FragmentOffset() != 0 {
			return false, false
		}
		udp := ip[header.IPv4MinimumSize:]
		if !e.nic.node.udpPorts.mayBeBound(s, binary.BigEndian.Uint16(udp[2:]), e.nic.id) {
			// No endpoint of the node was ever bound to the port on this
			// NIC or on any (udpports.go).
			if checkLocal.Load() && e.heard(ip) {
				panic("netstack: the receive filter's UDP ports of " + e.nic.node.name + " miss one gVisor has an endpoint on")
			}
			return true, true
		}
		return !e.heard(ip), true
	}
	return false, false
}

// heard reports whether gVisor's demuxer has an endpoint for the UDP
// broadcast datagram ip, which it would deliver it to.
func (e *endpoint) heard(ip header.IPv4) bool {
	s := e.nic.node.stack
	udp := ip[header.IPv4MinimumSize:]
	id := stack.TransportEndpointID{
		LocalPort:     binary.BigEndian.Uint16(udp[2:]),
		LocalAddress:  header.IPv4Broadcast,
		RemotePort:    binary.BigEndian.Uint16(udp[0:]),
		RemoteAddress: ip.SourceAddress(),
	}
	// The demuxer delivers a broadcast to the endpoints under every key
	// it tries (transport_demuxer.go iterEndpointsLocked: exact, no
	// local address, no remote part, local port only);
	// FindTransportEndpoint tries the same keys and returns the first
	// one's endpoint for this NIC or for any NIC. On a one-NIC node every
	// endpoint is for this NIC or any, so nil means no key holds one.
	// With more NICs the first key's endpoints may be bound to another
	// NIC, so each key is asked for itself (it is then tried first).
	if s.FindTransportEndpoint(header.IPv4ProtocolNumber, header.UDPProtocolNumber, id, e.nic.id) != nil {
		return true
	}
	if e.nic.node.nicCount.Load() > 1 {
		for _, v := range [...]stack.TransportEndpointID{
			{LocalPort: id.LocalPort, RemotePort: id.RemotePort, RemoteAddress: id.RemoteAddress},
			{LocalPort: id.LocalPort, LocalAddress: id.LocalAddress},
			{LocalPort: id.LocalPort},
		} {
			if s.FindTransportEndpoint(header.IPv4ProtocolNumber, header.UDPProtocolNumber, v, e.nic.id) != nil {
				return true
			}
		}
	}
	return false
}
