package trace

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// maxFlows bounds the TCP flow table of a Decoder; past it the table is
// cleared (retransmission marks may then be missed once, never invented).
const maxFlows = 1 << 16

// Decoder turns Ethernet frames into one readable line each, naming nodes
// from a Names registry, and remembers TCP sequence numbers per flow so that
// retransmissions are marked. Safe for concurrent use; bytes may be anything
// (a script builds them): Decode never panics.
type Decoder struct {
	names *Names

	mu struct {
		sync.Mutex
		parser  *gopacket.DecodingLayerParser
		decoded []gopacket.LayerType
		eth     layers.Ethernet
		arp     layers.ARP
		ip4     layers.IPv4
		tcp     layers.TCP
		udp     layers.UDP
		icmp    layers.ICMPv4
		dns     layers.DNS
		dhcp    layers.DHCPv4
		payload gopacket.Payload
		flows   map[flowKey]*flowState
		retrans uint64
	}
}

type flowKey struct {
	iface    string
	src, dst netip.AddrPort
}

type flowState struct {
	// next is one past the highest sequence number sent so far.
	next uint32
	// sent holds the starts of the last segments seen. A stack may hand
	// two segments of one flow to the link from different goroutines, so
	// the decoder can see a segment after one that follows it; only a
	// segment whose start was already seen is a retransmission.
	sent [recentSegments]uint32
	pos  int
}

// recentSegments is how many segment starts a flow remembers.
const recentSegments = 64

func (fl *flowState) remember(seq uint32) {
	fl.sent[fl.pos] = seq
	fl.pos = (fl.pos + 1) % recentSegments
}

func (fl *flowState) sentBefore(seq uint32) bool {
	for _, s := range fl.sent {
		if s == seq {
			return true
		}
	}
	return false
}

// NewDecoder returns a Decoder that names addresses from names (may be nil).
func NewDecoder(names *Names) *Decoder {
	d := &Decoder{names: names}
	m := &d.mu
	m.parser = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet,
		&m.eth, &m.arp, &m.ip4, &m.tcp, &m.udp, &m.icmp, &m.dns, &m.dhcp, &m.payload)
	m.parser.IgnoreUnsupported = true
	m.flows = make(map[flowKey]*flowState)
	return d
}

// DecodeFrame describes one frame without retransmission tracking.
func DecodeFrame(frame []byte, names *Names) string {
	return NewDecoder(names).Decode("", frame)
}

// Retransmissions counts TCP segments Decode has marked as retransmitted.
func (d *Decoder) Retransmissions() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mu.retrans
}

// Decode describes frame, sent on the interface called iface (TCP flows are
// tracked per interface, so a router forwarding a segment is not mistaken
// for a retransmission).
func (d *Decoder) Decode(iface string, frame []byte) (line string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			line = fmt.Sprintf("undecodable frame (%d bytes)", len(frame))
		}
	}()
	return d.decodeLocked(iface, frame)
}

func (d *Decoder) decodeLocked(iface string, frame []byte) string {
	m := &d.mu
	if len(frame) < 14 {
		return fmt.Sprintf("runt frame (%d bytes)", len(frame))
	}
	err := m.parser.DecodeLayers(frame, &m.decoded)
	has := func(t gopacket.LayerType) bool {
		for _, l := range m.decoded {
			if l == t {
				return true
			}
		}
		return false
	}
	srcMAC, dstMAC := frame[6:12], frame[0:6]
	if has(layers.LayerTypeARP) {
		return d.arpLine(srcMAC, dstMAC)
	}
	if has(layers.LayerTypeIPv4) {
		return d.ipLine(iface, srcMAC, dstMAC, has, err)
	}
	et := layers.EthernetType(binary.BigEndian.Uint16(frame[12:14]))
	if err != nil && (len(m.decoded) == 0 || et == layers.EthernetTypeIPv4 || et == layers.EthernetTypeARP) {
		return fmt.Sprintf("%s → %s malformed %s frame (%d bytes): %v", d.macName(srcMAC), d.macName(dstMAC), et, len(frame), err)
	}
	return fmt.Sprintf("%s → %s ethertype 0x%04x len=%d", d.macName(srcMAC), d.macName(dstMAC), uint16(et), len(frame)-14)
}

func (d *Decoder) macName(mac []byte) string {
	if isBroadcast(mac) {
		return "broadcast"
	}
	if n, ok := d.names.MAC(mac); ok {
		return n
	}
	return net.HardwareAddr(mac).String()
}

func isBroadcast(mac []byte) bool {
	for _, b := range mac {
		if b != 0xff {
			return false
		}
	}
	return len(mac) == 6
}

// ipName names an IP address; the unspecified and broadcast addresses fall
// back to the frame's MAC so a DHCP client still has a name.
func (d *Decoder) ipName(ip net.IP, mac []byte) string {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return "?"
	}
	a = a.Unmap()
	if n, ok := d.names.IP(a); ok {
		return n
	}
	if a.IsUnspecified() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return d.macName(mac)
	}
	return a.String()
}

func (d *Decoder) arpLine(srcMAC, dstMAC []byte) string {
	a := &d.mu.arp
	from, to := d.macName(srcMAC), d.macName(dstMAC)
	spa, tpa := ip4String(a.SourceProtAddress), ip4String(a.DstProtAddress)
	switch a.Operation {
	case layers.ARPRequest:
		return fmt.Sprintf("%s → %s ARP who-has %s tell %s", from, to, tpa, spa)
	case layers.ARPReply:
		return fmt.Sprintf("%s → %s ARP %s is-at %s", from, to, spa, net.HardwareAddr(a.SourceHwAddress))
	}
	return fmt.Sprintf("%s → %s ARP op=%d", from, to, a.Operation)
}

func ip4String(b []byte) string {
	if a, ok := netip.AddrFromSlice(b); ok {
		return a.String()
	}
	return fmt.Sprintf("%x", b)
}

func (d *Decoder) ipLine(iface string, srcMAC, dstMAC []byte, has func(gopacket.LayerType) bool, err error) string {
	m := &d.mu
	ip := &m.ip4
	src, dst := d.ipName(ip.SrcIP, srcMAC), d.ipName(ip.DstIP, dstMAC)
	frag := ""
	if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
		frag = fmt.Sprintf(" fragment off=%d", int(ip.FragOffset)*8)
	}
	switch {
	case has(layers.LayerTypeTCP):
		t := &m.tcp
		from, to := fmt.Sprintf("%s:%d", src, t.SrcPort), fmt.Sprintf("%s:%d", dst, t.DstPort)
		return fmt.Sprintf("%s → %s TCP %s%s", from, to, d.tcpDesc(iface, ip, t), frag)
	case has(layers.LayerTypeUDP):
		u := &m.udp
		from, to := fmt.Sprintf("%s:%d", src, u.SrcPort), fmt.Sprintf("%s:%d", dst, u.DstPort)
		var desc string
		switch {
		case has(layers.LayerTypeDHCPv4):
			desc = dhcpDesc(&m.dhcp)
			// A DHCP exchange reads best by node name, without ports.
			from, to = src, dst
		case has(layers.LayerTypeDNS):
			desc = dnsDesc(&m.dns)
		case err != nil && (u.SrcPort == 53 || u.DstPort == 53):
			desc = fmt.Sprintf("DNS malformed len=%d", len(u.Payload))
		case err != nil && (u.SrcPort == 67 || u.DstPort == 67 || u.SrcPort == 68 || u.DstPort == 68):
			desc = fmt.Sprintf("DHCP malformed len=%d", len(u.Payload))
		default:
			desc = fmt.Sprintf("UDP len=%d", len(u.Payload))
		}
		return fmt.Sprintf("%s → %s %s%s", from, to, desc, frag)
	case has(layers.LayerTypeICMPv4):
		return fmt.Sprintf("%s → %s %s%s", src, dst, icmpDesc(&m.icmp), frag)
	}
	if err != nil && frag == "" {
		return fmt.Sprintf("%s → %s IPv4 proto %d malformed: %v", src, dst, ip.Protocol, err)
	}
	return fmt.Sprintf("%s → %s IPv4 proto %d len=%d%s", src, dst, ip.Protocol, len(ip.Payload), frag)
}

func (d *Decoder) tcpDesc(iface string, ip *layers.IPv4, t *layers.TCP) string {
	var flags []string
	switch {
	case t.SYN && t.ACK:
		flags = append(flags, "SYN-ACK")
	case t.SYN:
		flags = append(flags, "SYN")
	}
	if t.FIN {
		flags = append(flags, "FIN")
	}
	if t.RST {
		flags = append(flags, "RST")
	}
	if t.PSH {
		flags = append(flags, "PSH")
	}
	if t.ACK && !t.SYN {
		flags = append(flags, "ACK")
	}
	if t.URG {
		flags = append(flags, "URG")
	}
	desc := strings.Join(flags, ",")
	if desc == "" {
		desc = "(no flags)"
	}
	n := len(t.Payload)
	if n > 0 {
		desc += fmt.Sprintf(" len=%d", n)
	}
	if d.retransmitted(iface, ip, t) {
		d.mu.retrans++
		desc += " (retransmission)"
	}
	return desc
}

// seqLT reports a < b in 32-bit sequence space.
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }

func (d *Decoder) retransmitted(iface string, ip *layers.IPv4, t *layers.TCP) bool {
	src, _ := netip.AddrFromSlice(ip.SrcIP)
	dst, _ := netip.AddrFromSlice(ip.DstIP)
	key := flowKey{iface: iface, src: netip.AddrPortFrom(src, uint16(t.SrcPort)), dst: netip.AddrPortFrom(dst, uint16(t.DstPort))}
	span := uint32(len(t.Payload))
	if t.SYN {
		span++
	}
	if t.FIN {
		span++
	}
	fl, seen := d.mu.flows[key]
	if t.RST {
		delete(d.mu.flows, key)
		return false
	}
	if span == 0 {
		return false
	}
	end := t.Seq + span
	if !seen || (t.SYN && t.Seq+1 != fl.next) {
		// A new connection (or the first we see of this one).
		if len(d.mu.flows) >= maxFlows {
			clear(d.mu.flows)
		}
		fl = &flowState{next: end}
		fl.remember(t.Seq)
		d.mu.flows[key] = fl
		return false
	}
	// Below the highest sequence sent: a retransmission if this segment's
	// start went out before; otherwise it was merely decoded late. A start
	// forgotten from the window (more than recentSegments ago) counts as a
	// retransmission, as does any segment once the window has wrapped.
	re := seqLT(t.Seq, fl.next) && (fl.sentBefore(t.Seq) || seqLT(t.Seq, fl.oldest()))
	if !re {
		fl.remember(t.Seq)
	}
	if seqLT(fl.next, end) {
		fl.next = end
	}
	return re
}

// oldest is the lowest segment start the flow still remembers.
func (fl *flowState) oldest() uint32 {
	low := fl.next
	for _, s := range fl.sent {
		if s != 0 && seqLT(s, low) {
			low = s
		}
	}
	return low
}

func dhcpDesc(p *layers.DHCPv4) string {
	msg := "?"
	var lease uint32
	var requested net.IP
	for _, o := range p.Options {
		switch o.Type {
		case layers.DHCPOptMessageType:
			if len(o.Data) == 1 {
				msg = strings.ToUpper(layers.DHCPMsgType(o.Data[0]).String())
			}
		case layers.DHCPOptLeaseTime:
			if len(o.Data) == 4 {
				lease = binary.BigEndian.Uint32(o.Data)
			}
		case layers.DHCPOptRequestIP:
			if len(o.Data) == 4 {
				requested = net.IP(o.Data)
			}
		}
	}
	if msg == "?" && p.Operation == layers.DHCPOpRequest {
		msg = "BOOTP request"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "DHCP %s", msg)
	if !p.YourClientIP.IsUnspecified() && len(p.YourClientIP) > 0 {
		fmt.Fprintf(&b, " %s", p.YourClientIP)
	} else if requested != nil {
		fmt.Fprintf(&b, " %s", requested)
	}
	fmt.Fprintf(&b, " xid=0x%08x", p.Xid)
	if lease > 0 {
		fmt.Fprintf(&b, " lease=%ds", lease)
	}
	return b.String()
}

func dnsDesc(p *layers.DNS) string {
	var b strings.Builder
	name := ""
	qtype := ""
	if len(p.Questions) > 0 {
		name = string(p.Questions[0].Name)
		qtype = p.Questions[0].Type.String()
	}
	if !p.QR {
		fmt.Fprintf(&b, "DNS query %s %s", qtype, name)
		return b.String()
	}
	fmt.Fprintf(&b, "DNS answer %s", name)
	if p.ResponseCode != layers.DNSResponseCodeNoErr {
		fmt.Fprintf(&b, " %s", strings.ToUpper(rcodeName(p.ResponseCode)))
		return b.String()
	}
	if len(p.Answers) == 0 {
		b.WriteString(" (no records)")
	}
	for i, a := range p.Answers {
		if i > 0 {
			b.WriteString(",")
		}
		switch a.Type {
		case layers.DNSTypeA, layers.DNSTypeAAAA:
			fmt.Fprintf(&b, " %s %s", a.Type, a.IP)
		case layers.DNSTypeCNAME:
			fmt.Fprintf(&b, " CNAME %s", a.CNAME)
		default:
			fmt.Fprintf(&b, " %s", a.Type)
		}
	}
	return b.String()
}

func rcodeName(c layers.DNSResponseCode) string {
	switch c {
	case layers.DNSResponseCodeNXDomain:
		return "NXDOMAIN"
	case layers.DNSResponseCodeServFail:
		return "SERVFAIL"
	case layers.DNSResponseCodeRefused:
		return "REFUSED"
	case layers.DNSResponseCodeFormErr:
		return "FORMERR"
	}
	return fmt.Sprintf("rcode=%d", c)
}

func icmpDesc(p *layers.ICMPv4) string {
	switch p.TypeCode.Type() {
	case layers.ICMPv4TypeEchoRequest:
		return fmt.Sprintf("ICMP echo request id=%d seq=%d", p.Id, p.Seq)
	case layers.ICMPv4TypeEchoReply:
		return fmt.Sprintf("ICMP echo reply id=%d seq=%d", p.Id, p.Seq)
	case layers.ICMPv4TypeDestinationUnreachable:
		switch p.TypeCode.Code() {
		case layers.ICMPv4CodePort:
			return "ICMP destination unreachable (port unreachable)"
		case layers.ICMPv4CodeHost:
			return "ICMP destination unreachable (host unreachable)"
		case layers.ICMPv4CodeNet:
			return "ICMP destination unreachable (network unreachable)"
		case layers.ICMPv4CodeFragmentationNeeded:
			return "ICMP destination unreachable (fragmentation needed)"
		}
		return fmt.Sprintf("ICMP destination unreachable code=%d", p.TypeCode.Code())
	case layers.ICMPv4TypeTimeExceeded:
		return "ICMP time exceeded"
	}
	return fmt.Sprintf("ICMP %s", p.TypeCode)
}
