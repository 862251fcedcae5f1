package netstack

import (
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// endpoint is a NIC's Ethernet link endpoint: outbound packets become frames
// on the NIC's attachment; frames the medium delivers go up the stack.
type endpoint struct {
	nic *NIC
	mtu atomic.Uint32
	// offload is set while the node forwards: gVisor then leaves transport
	// checksums alone and WritePackets fills those of the node's own
	// packets (see checksum.go).
	offload atomic.Bool
	// filteredARP and filteredUDP count the frames the receive filter
	// dropped (rxfilter.go).
	filteredARP, filteredUDP atomic.Uint64

	mu struct {
		sync.RWMutex
		dispatcher stack.NetworkDispatcher
		mac        tcpip.LinkAddress
		onClose    func()
	}
}

var _ stack.LinkEndpoint = (*endpoint)(nil)

func newEndpoint(nic *NIC, mtu uint32) *endpoint {
	e := &endpoint{nic: nic}
	e.mtu.Store(mtu)
	e.mu.mac = tcpip.LinkAddress(nic.mac[:])
	return e
}

// MTU implements stack.LinkEndpoint: the largest IP packet.
func (e *endpoint) MTU() uint32 { return e.mtu.Load() }

// SetMTU implements stack.LinkEndpoint.
func (e *endpoint) SetMTU(mtu uint32) { e.mtu.Store(mtu) }

// MaxHeaderLength implements stack.LinkEndpoint.
func (*endpoint) MaxHeaderLength() uint16 { return header.EthernetMinimumSize }

// LinkAddress implements stack.LinkEndpoint.
func (e *endpoint) LinkAddress() tcpip.LinkAddress {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.mu.mac
}

// SetLinkAddress implements stack.LinkEndpoint.
func (e *endpoint) SetLinkAddress(addr tcpip.LinkAddress) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.mu.mac = addr
}

// Capabilities implements stack.LinkEndpoint. No receive checksum offload:
// corrupted frames must fail the stack's checks. Transmit offload only on a
// forwarding node, so it forwards transport checksums untouched; frames on
// the medium always carry real checksums (tshark checks them).
func (e *endpoint) Capabilities() stack.LinkEndpointCapabilities {
	if e.offload.Load() {
		return stack.CapabilityResolutionRequired | stack.CapabilityTXChecksumOffload
	}
	return stack.CapabilityResolutionRequired
}

// Attach implements stack.LinkEndpoint.
func (e *endpoint) Attach(d stack.NetworkDispatcher) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.mu.dispatcher = d
}

// IsAttached implements stack.LinkEndpoint.
func (e *endpoint) IsAttached() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.mu.dispatcher != nil
}

// Wait implements stack.LinkEndpoint; the endpoint has no goroutines.
func (*endpoint) Wait() {}

// ARPHardwareType implements stack.LinkEndpoint.
func (*endpoint) ARPHardwareType() header.ARPHardwareType { return header.ARPHardwareEther }

// AddHeader implements stack.LinkEndpoint.
func (e *endpoint) AddHeader(pkt *stack.PacketBuffer) {
	eth := header.Ethernet(pkt.LinkHeader().Push(header.EthernetMinimumSize))
	src := pkt.EgressRoute.LocalLinkAddress
	if src == "" {
		src = e.LinkAddress()
	}
	eth.Encode(&header.EthernetFields{
		SrcAddr: src,
		DstAddr: pkt.EgressRoute.RemoteLinkAddress,
		Type:    pkt.NetworkProtocolNumber,
	})
}

// ParseHeader implements stack.LinkEndpoint.
func (*endpoint) ParseHeader(pkt *stack.PacketBuffer) bool {
	_, ok := pkt.LinkHeader().Consume(header.EthernetMinimumSize)
	return ok
}

// Close implements stack.LinkEndpoint.
func (e *endpoint) Close() {
	e.mu.Lock()
	f := e.mu.onClose
	e.mu.onClose = nil
	e.mu.Unlock()
	if f != nil {
		f()
	}
}

// SetOnCloseAction implements stack.LinkEndpoint.
func (e *endpoint) SetOnCloseAction(f func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.mu.onClose = f
}

// WritePackets implements stack.LinkEndpoint. It copies each packet into a
// pooled frame; while the NIC is detached, packets vanish as they would from
// a radio with no access point.
func (e *endpoint) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	n := 0
	for _, pkt := range pkts.AsSlice() {
		n++
		att := e.nic.att.Load()
		if att == nil {
			e.nic.node.clock.Poke()
			continue
		}
		f := getFrame(pkt.Size())
		copyPacket(f.b, pkt)
		f.forwarded = pkt.NetworkPacketInfo.IsForwardedPacket
		if !f.forwarded && e.offload.Load() {
			fillTransportChecksum(f.b)
		}
		if h := e.nic.hooks.Load(); h != nil && h.out != nil && !f.forwarded {
			b := h.out(f.b)
			if b == nil {
				putFrame(f)
				e.nic.node.clock.Poke()
				continue
			}
			// A prefix of f.b, as SetFrameHooks asks; copy otherwise.
			if len(b) > len(f.b) {
				b = b[:len(f.b)]
			}
			f.b = f.b[:copy(f.b, b)]
		}
		att.transmit(f)
	}
	return n, nil
}

// copyPacket copies pkt's bytes (headers and payload) into dst without
// allocating.
func copyPacket(dst []byte, pkt *stack.PacketBuffer) {
	vl, off := pkt.AsViewList()
	for v := vl.Front(); v != nil && len(dst) > 0; v = v.Next() {
		s := v.AsSlice()
		if off >= len(s) {
			off -= len(s)
			continue
		}
		s = s[off:]
		off = 0
		dst = dst[copy(dst, s):]
	}
}

// receive delivers a frame from the medium up the stack; it takes ownership
// of f. It runs on the clock goroutine, never inside WritePackets.
func (e *endpoint) receive(f *frame) {
	defer putFrame(f)
	defer e.nic.node.clock.Poke()
	if len(f.b) < header.EthernetMinimumSize {
		return
	}
	e.mu.RLock()
	d, mac := e.mu.dispatcher, e.mu.mac
	e.mu.RUnlock()
	if d == nil {
		return
	}
	eth := header.Ethernet(f.b)
	dst := eth.DestinationAddress()
	var typ tcpip.PacketType
	switch {
	case dst == header.EthernetBroadcastAddress:
		typ = tcpip.PacketBroadcast
	case header.IsMulticastEthernetAddress(dst):
		typ = tcpip.PacketMulticast
	case dst == mac:
		typ = tcpip.PacketHost
	default:
		// The NIC's hardware filter: flooded unicast for someone else.
		return
	}
	if typ != tcpip.PacketHost && e.unheard(f.b) {
		return
	}
	if h := e.nic.hooks.Load(); h != nil && h.in != nil && typ == tcpip.PacketHost {
		h.in(f.b)
	}
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(f.b)})
	defer pkt.DecRef()
	if !e.ParseHeader(pkt) {
		return
	}
	pkt.PktType = typ
	d.DeliverNetworkPacket(eth.Type(), pkt)
}
