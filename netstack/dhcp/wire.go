package dhcp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Well-known ports.
const (
	ServerPort = 67
	ClientPort = 68
)

// flagBroadcast is the BOOTP broadcast bit of the flags field.
const flagBroadcast = 0x8000

var broadcastMAC = tcpip.LinkAddress("\xff\xff\xff\xff\xff\xff")

// message is a decoded DHCP message with its options indexed. Byte slices
// are copies: nothing aliases the packet it came from.
type message struct {
	op      layers.DHCPOp
	xid     uint32
	secs    uint16
	flags   uint16
	ciaddr  netip.Addr
	yiaddr  netip.Addr
	siaddr  netip.Addr
	giaddr  netip.Addr
	chaddr  net.HardwareAddr
	msgType layers.DHCPMsgType
	opts    map[layers.DHCPOpt][]byte
}

var errNotDHCP = errors.New("not a DHCP message")

// parseMessage decodes a BOOTP/DHCP payload. It never panics on any input.
func parseMessage(b []byte) (m *message, err error) {
	defer func() {
		// gopacket's decoder is defensive, but a parser that sees bytes
		// from scripts must never take the simulator down.
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("dhcp: malformed message: %v", r)
		}
	}()
	var d layers.DHCPv4
	if err := d.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		return nil, fmt.Errorf("dhcp: %w: %w", errNotDHCP, err)
	}
	if d.HardwareType != layers.LinkTypeEthernet || d.HardwareLen != 6 {
		return nil, fmt.Errorf("dhcp: %w: hardware type %d length %d, want Ethernet/6", errNotDHCP, d.HardwareType, d.HardwareLen)
	}
	m = &message{
		op:     d.Operation,
		xid:    d.Xid,
		secs:   d.Secs,
		flags:  d.Flags,
		ciaddr: ip4(d.ClientIP),
		yiaddr: ip4(d.YourClientIP),
		siaddr: ip4(d.NextServerIP),
		giaddr: ip4(d.RelayAgentIP),
		chaddr: append(net.HardwareAddr(nil), d.ClientHWAddr...),
		opts:   make(map[layers.DHCPOpt][]byte, len(d.Options)),
	}
	for _, o := range d.Options {
		if _, dup := m.opts[o.Type]; dup {
			continue // first one wins
		}
		m.opts[o.Type] = append([]byte{}, o.Data...)
	}
	t, ok := m.opts[layers.DHCPOptMessageType]
	if !ok || len(t) != 1 {
		return nil, fmt.Errorf("dhcp: %w: no message type option (a plain BOOTP message)", errNotDHCP)
	}
	m.msgType = layers.DHCPMsgType(t[0])
	return m, nil
}

func ip4(b net.IP) netip.Addr {
	if len(b) != 4 {
		return netip.IPv4Unspecified()
	}
	return netip.AddrFrom4([4]byte(b))
}

// optAddr returns an IPv4 address option.
func (m *message) optAddr(o layers.DHCPOpt) (netip.Addr, bool) {
	b, ok := m.opts[o]
	if !ok || len(b) < 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(b[:4])), true
}

// optAddrs returns a list-of-addresses option (router, DNS).
func (m *message) optAddrs(o layers.DHCPOpt) []netip.Addr {
	b := m.opts[o]
	var out []netip.Addr
	for len(b) >= 4 {
		out = append(out, netip.AddrFrom4([4]byte(b[:4])))
		b = b[4:]
	}
	return out
}

func (m *message) optUint32(o layers.DHCPOpt) (uint32, bool) {
	b, ok := m.opts[o]
	if !ok || len(b) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(b), true
}

func (m *message) mac() string { return m.chaddr.String() }

// builder collects the fields of an outgoing message.
type builder struct {
	op     layers.DHCPOp
	xid    uint32
	secs   uint16
	flags  uint16
	ciaddr netip.Addr
	yiaddr netip.Addr
	siaddr netip.Addr
	chaddr net.HardwareAddr
	opts   []layers.DHCPOption
}

func (b *builder) add(t layers.DHCPOpt, data []byte) {
	if len(data) > 255 {
		data = data[:255]
	}
	b.opts = append(b.opts, layers.NewDHCPOption(t, data))
}

func (b *builder) addAddr(t layers.DHCPOpt, a ...netip.Addr) {
	var data []byte
	for _, x := range a {
		data = append(data, ipOrZero(x)...)
	}
	b.add(t, data)
}

func (b *builder) addUint32(t layers.DHCPOpt, v uint32) {
	b.add(t, binary.BigEndian.AppendUint32(nil, v))
}

func ipOrZero(a netip.Addr) net.IP {
	if !a.Is4() {
		return net.IPv4zero.To4()
	}
	v := a.As4()
	return net.IP(v[:])
}

// bytes serializes the message (BOOTP header, magic cookie, options, end).
func (b *builder) bytes() ([]byte, error) {
	d := &layers.DHCPv4{
		Operation:    b.op,
		HardwareType: layers.LinkTypeEthernet,
		HardwareLen:  6,
		Xid:          b.xid,
		Secs:         b.secs,
		Flags:        b.flags,
		ClientIP:     ipOrZero(b.ciaddr),
		YourClientIP: ipOrZero(b.yiaddr),
		NextServerIP: ipOrZero(b.siaddr),
		RelayAgentIP: net.IPv4zero.To4(),
		ClientHWAddr: b.chaddr,
		Options:      b.opts,
	}
	buf := gopacket.NewSerializeBuffer()
	if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		return nil, fmt.Errorf("dhcp: serialize: %w", err)
	}
	out := buf.Bytes()
	// Pad to the 300-byte BOOTP minimum like real clients and servers do,
	// so captures look familiar and old relays accept it.
	if len(out) < 300 {
		out = append(out, make([]byte, 300-len(out))...)
	}
	return out, nil
}

// sendRaw writes an IPv4/UDP datagram built by hand straight to dstMAC on
// nic, bypassing routing and ARP. This is how a DHCP client talks before it
// has an address (source 0.0.0.0) and how a server reaches a client that
// has none yet (unicast to yiaddr at chaddr): gVisor's UDP endpoints need a
// route, and a route needs a local address and a resolvable neighbour.
func sendRaw(s *stack.Stack, nic tcpip.NICID, dstMAC tcpip.LinkAddress, src, dst netip.Addr, srcPort, dstPort uint16, ipID uint16, payload []byte) error {
	ip := &layers.IPv4{
		Version:  4,
		IHL:      5,
		TTL:      64,
		Id:       ipID,
		Protocol: layers.IPProtocolUDP,
		SrcIP:    ipOrZero(src),
		DstIP:    ipOrZero(dst),
	}
	u := &layers.UDP{SrcPort: layers.UDPPort(srcPort), DstPort: layers.UDPPort(dstPort)}
	if err := u.SetNetworkLayerForChecksum(ip); err != nil {
		return fmt.Errorf("dhcp: udp checksum: %w", err)
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ip, u, gopacket.Payload(payload)); err != nil {
		return fmt.Errorf("dhcp: serialize ip/udp: %w", err)
	}
	if tcpipErr := s.WritePacketToRemote(nic, dstMAC, ipv4.ProtocolNumber, buffer.MakeWithData(buf.Bytes())); tcpipErr != nil {
		return fmt.Errorf("dhcp: write to %v on NIC %d: %s", dstMAC, nic, tcpipErr)
	}
	return nil
}

// udpSocket is a UDP endpoint bound to 0.0.0.0:port on one NIC whose
// readability is reported through a callback (a vclock actor's Wake).
type udpSocket struct {
	ep    tcpip.Endpoint
	wq    *waiter.Queue
	entry waiter.Entry
}

// listenUDP binds 0.0.0.0:port on nic. Binding the unspecified address is
// what lets the endpoint receive limited broadcasts (255.255.255.255, which
// gVisor's IPv4 endpoint accepts on every NIC, address or not) as well as
// unicasts; SO_BINDTODEVICE keeps other NICs' traffic out. SO_BROADCAST is
// set so a write to 255.255.255.255 is allowed (gVisor refuses it with
// ErrBroadcastDisabled otherwise).
func listenUDP(s *stack.Stack, nic tcpip.NICID, port uint16, onReadable func()) (*udpSocket, error) {
	wq := new(waiter.Queue)
	ep, tcpipErr := s.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, wq)
	if tcpipErr != nil {
		return nil, fmt.Errorf("dhcp: new UDP endpoint: %s", tcpipErr)
	}
	ep.SocketOptions().SetBroadcast(true)
	if tcpipErr := ep.SocketOptions().SetBindToDevice(int32(nic)); tcpipErr != nil {
		ep.Close()
		return nil, fmt.Errorf("dhcp: bind to NIC %d: %s", nic, tcpipErr)
	}
	if tcpipErr := ep.Bind(tcpip.FullAddress{Port: port}); tcpipErr != nil {
		ep.Close()
		return nil, fmt.Errorf("dhcp: bind 0.0.0.0:%d: %s", port, tcpipErr)
	}
	u := &udpSocket{ep: ep, wq: wq}
	u.entry = waiter.NewFunctionEntry(waiter.ReadableEvents, func(waiter.EventMask) { onReadable() })
	wq.EventRegister(&u.entry)
	return u, nil
}

// read returns the next queued datagram, or ok=false when none is queued.
func (u *udpSocket) read() (payload []byte, from tcpip.FullAddress, ok bool) {
	var w tcpipBuf
	res, tcpipErr := u.ep.Read(&w, tcpip.ReadOptions{NeedRemoteAddr: true})
	if tcpipErr != nil {
		return nil, tcpip.FullAddress{}, false
	}
	return w.b, res.RemoteAddr, true
}

// writeTo sends payload to addr:port through the normal routed path.
func (u *udpSocket) writeTo(nic tcpip.NICID, addr netip.Addr, port uint16, payload []byte) error {
	if !addr.Is4() {
		return fmt.Errorf("dhcp: send to %v: not an IPv4 address", addr)
	}
	r := bytes.NewReader(payload)
	to := tcpip.FullAddress{NIC: nic, Addr: tcpip.AddrFrom4(addr.As4()), Port: port}
	if _, tcpipErr := u.ep.Write(r, tcpip.WriteOptions{To: &to}); tcpipErr != nil {
		return fmt.Errorf("dhcp: send to %v:%d: %s", addr, port, tcpipErr)
	}
	return nil
}

func (u *udpSocket) close() {
	u.wq.EventUnregister(&u.entry)
	u.ep.Close()
}

// tcpipBuf is an io.Writer collecting one datagram.
type tcpipBuf struct{ b []byte }

func (w *tcpipBuf) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
