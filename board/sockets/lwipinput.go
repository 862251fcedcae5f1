package sockets

import (
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// What the ESP8266's lwIP ignores on input, applied to the board's gVisor
// stack as an iptables INPUT rule (the board's stack only: simulated hosts
// are Linux-like and keep gVisor's behaviour).
//
//   - ICMP errors. esp-open-lwip's icmp_input answers echo requests and
//     drops every other type: a port or host unreachable never reaches TCP
//     or UDP, so a connect to a dead address retries its SYN until it gives
//     up and a connected UDP socket never sees ECONNRESET. gVisor would
//     abort the connect at once (EHOSTUNREACH). Echo replies still pass
//     (raw sockets, ping).
//   - SYNs beyond the SDK's connection cap. tcp_listen_input counts
//     tcp_active_pcbs and drops the SYN, silently, when the count equals
//     MEMP_NUM_TCP_PCB (5 unless espconn_tcp_set_max_con changed it); the
//     client retransmits. The test is "==", not ">=": with more active
//     connections (outgoing ones are not capped) a SYN is answered again.

// DefaultMaxActiveTCP is MEMP_NUM_TCP_PCB as the SDK leaves it: not a pool
// size (esp-open-lwip sets MEMP_MEM_MALLOC, PCBs come from the heap) but the
// active-connection count at which tcp_listen_input drops SYNs.
const DefaultMaxActiveTCP = 5

// lwipInput is the INPUT matcher: it matches the packets lwIP would drop.
type lwipInput struct{ t *Table }

var _ stack.Matcher = lwipInput{}

// Match implements stack.Matcher.
func (m lwipInput) Match(hook stack.Hook, pkt *stack.PacketBuffer, _, _ string) (bool, bool) {
	if hook != stack.Input || pkt.NetworkProtocolNumber != header.IPv4ProtocolNumber {
		return false, false
	}
	ip := header.IPv4(pkt.NetworkHeader().Slice())
	if len(ip) < header.IPv4MinimumSize {
		return false, false
	}
	th := transportBytes(pkt, 20)
	switch ip.TransportProtocol() {
	case header.ICMPv4ProtocolNumber:
		if len(th) < 1 {
			return false, false
		}
		switch header.ICMPv4Type(th[0]) {
		case header.ICMPv4Echo, header.ICMPv4EchoReply:
			return false, false
		}
		return true, false
	case header.TCPProtocolNumber:
		if len(th) < header.TCPMinimumSize {
			return false, false
		}
		tcph := header.TCP(th)
		if f := tcph.Flags(); !f.Contains(header.TCPFlagSyn) || f.Contains(header.TCPFlagAck) {
			return false, false
		}
		if m.t.listenerMisses(tcph.DestinationPort(), ip.DestinationAddress()) {
			// Only listeners bound to another address (bind accepts any,
			// see Table.Bind): tcp_input finds no PCB and answers RST.
			m.t.sendRST(ip, tcph)
			return true, false
		}
		if m.t.synOverCap(tcph.DestinationPort()) {
			return true, false
		}
		if parsed := pkt.TransportHeader().Slice(); len(parsed) >= int(tcph.DataOffset()) {
			// lwIP 1.4 reads only MSS from a SYN (see lwipwire.go).
			blankSynOptions(header.TCP(parsed))
		}
		return false, false
	}
	return false, false
}

// transportBytes returns up to n bytes of the packet's transport header,
// parsed or not yet.
func transportBytes(pkt *stack.PacketBuffer, n int) []byte {
	if th := pkt.TransportHeader().Slice(); len(th) > 0 {
		return th
	}
	v := pkt.Data().AsRange().ToSlice()
	if len(v) > n {
		v = v[:n]
	}
	return v
}

// synOverCap reports whether tcp_listen_input would drop a SYN to port: a
// listener holds it and the active PCB count equals the cap.
func (t *Table) synOverCap(port uint16) bool {
	if t.cfg.MaxActiveTCP < 0 {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	listening := false
	for _, s := range t.socks {
		if s.kind == kindTCP && s.state == stListening && s.ep != nil && s.local.Port == port {
			listening = true
			break
		}
	}
	if !listening {
		return false
	}
	if t.activeConnsLocked() == t.cfg.MaxActiveTCP {
		t.stats.SynDropped++
		return true
	}
	return false
}

// activeConnsLocked counts what lwIP keeps on tcp_active_pcbs: connections
// connecting, open or closing, not those in TIME_WAIT (tcp_tw_pcbs), bound
// or new ones (tcp_bound_pcbs) or listeners.
func (t *Table) activeConnsLocked() int {
	n := 0
	for _, s := range t.socks {
		if s.kind == kindTCP && s.ep != nil && (s.state == stConnecting || s.state == stConnected || s.state == stPeerClosed) {
			n++
		}
	}
	for _, o := range t.orphans {
		if st := stateName(o.ep); st != "TIME_WAIT" && st != "CLOSED" {
			n++
		}
	}
	return n + t.pendingCountLocked()
}

// installInputFilter puts the lwIP input rule at the head of the board
// stack's filter INPUT chain. What the board sends is shaped on the link
// instead (lwiplink.go), after the stack's bookkeeping.
func installInputFilter(s *stack.Stack, t *Table) {
	accept := stack.Rule{Filter: stack.EmptyFilter4(), Target: &stack.AcceptTarget{NetworkProtocol: header.IPv4ProtocolNumber}}
	table := stack.Table{
		Rules: []stack.Rule{
			{Filter: stack.EmptyFilter4(), Matchers: []stack.Matcher{lwipInput{t}}, Target: &stack.DropTarget{NetworkProtocol: header.IPv4ProtocolNumber}},
			accept, // INPUT
			accept, // FORWARD
			accept, // OUTPUT
			{Filter: stack.EmptyFilter4(), Target: &stack.ErrorTarget{NetworkProtocol: header.IPv4ProtocolNumber}},
		},
		BuiltinChains: [stack.NumHooks]int{
			stack.Prerouting:  stack.HookUnset,
			stack.Input:       0,
			stack.Forward:     2,
			stack.Output:      3,
			stack.Postrouting: stack.HookUnset,
		},
		Underflows: [stack.NumHooks]int{
			stack.Prerouting:  stack.HookUnset,
			stack.Input:       1,
			stack.Forward:     2,
			stack.Output:      3,
			stack.Postrouting: stack.HookUnset,
		},
	}
	s.IPTables().ReplaceTable(stack.FilterID, table, false)
}

// listenerMisses reports whether port has listeners, all bound to an
// address other than dst.
func (t *Table) listenerMisses(port uint16, dst tcpip.Address) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	found := false
	for _, s := range t.socks {
		if s.kind != kindTCP || s.state != stListening || s.ep == nil || s.local.Port != port {
			continue
		}
		a := s.local.Addr
		if a.Len() == 0 || a == tcpip.AddrFrom4([4]byte{}) || a == dst {
			return false
		}
		found = true
	}
	return found
}

// sendRST answers a SYN as lwIP's tcp_rst does when no PCB takes it:
// RST|ACK, sequence number the SYN's acknowledgement number, acknowledging
// the SYN, window TCP_WND, no options.
func (t *Table) sendRST(ip header.IPv4, syn header.TCP) {
	r, tcpipErr := t.cfg.Stack.FindRoute(t.cfg.NIC, ip.DestinationAddress(), ip.SourceAddress(), header.IPv4ProtocolNumber, false)
	if tcpipErr != nil {
		return
	}
	defer r.Release()
	payload := int(ip.PayloadLength()) - int(syn.DataOffset())
	if payload < 0 {
		payload = 0
	}
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{ReserveHeaderBytes: int(r.MaxHeaderLength()) + header.TCPMinimumSize})
	defer pkt.DecRef()
	th := header.TCP(pkt.TransportHeader().Push(header.TCPMinimumSize))
	th.Encode(&header.TCPFields{
		SrcPort:    syn.DestinationPort(),
		DstPort:    syn.SourcePort(),
		SeqNum:     syn.AckNumber(),
		AckNum:     syn.SequenceNumber() + 1 + uint32(payload),
		DataOffset: header.TCPMinimumSize,
		Flags:      header.TCPFlagRst | header.TCPFlagAck,
		WindowSize: TCPWindow,
	})
	th.SetChecksum(^th.CalculateChecksum(r.PseudoHeaderChecksum(header.TCPProtocolNumber, header.TCPMinimumSize)))
	pkt.TransportProtocolNumber = header.TCPProtocolNumber
	r.WritePacket(stack.NetworkHeaderParams{Protocol: header.TCPProtocolNumber, TTL: r.DefaultTTL()}, pkt)
}
