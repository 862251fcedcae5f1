package sockets

import (
	"testing"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// synFrame builds an Ethernet/IPv4/TCP frame with the given options and
// payload, checksums filled.
func synFrame(flags header.TCPFlags, opts, payload []byte) []byte {
	tcpLen := header.TCPMinimumSize + len(opts)
	b := make([]byte, header.EthernetMinimumSize+header.IPv4MinimumSize+tcpLen+len(payload))
	header.Ethernet(b).Encode(&header.EthernetFields{Type: header.IPv4ProtocolNumber})
	ip := header.IPv4(b[header.EthernetMinimumSize:])
	src, dst := tcpip.AddrFrom4([4]byte{10, 0, 0, 2}), tcpip.AddrFrom4([4]byte{10, 0, 0, 1})
	ip.Encode(&header.IPv4Fields{TotalLength: uint16(len(ip)), TTL: 64, Protocol: uint8(header.TCPProtocolNumber), SrcAddr: src, DstAddr: dst})
	ip.SetChecksum(^ip.CalculateChecksum())
	th := header.TCP(ip[header.IPv4MinimumSize:])
	th.Encode(&header.TCPFields{SrcPort: 40000, DstPort: 80, SeqNum: 1000, AckNum: 7, DataOffset: uint8(tcpLen), Flags: flags, WindowSize: 5840})
	copy(th[header.TCPMinimumSize:], opts)
	copy(th[tcpLen:], payload)
	sum := header.PseudoHeaderChecksum(header.TCPProtocolNumber, src, dst, uint16(len(th)))
	th.SetChecksum(^checksum.Checksum(th, sum))
	return b
}

// gVisor's active-open options: MSS 1460, SACK-permitted, timestamps,
// window scale, NOP-padded.
var gvisorSynOpts = []byte{2, 4, 0x05, 0xb4, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7}

func TestShrinkSynLeavesMSSInA24ByteHeader(t *testing.T) {
	for _, tt := range []struct {
		name    string
		flags   header.TCPFlags
		opts    []byte
		payload []byte
		wantOff int
		wantMSS uint16
	}{
		{"SYN with gVisor's options", header.TCPFlagSyn, gvisorSynOpts, nil, 24, 1460},
		{"SYN-ACK", header.TCPFlagSyn | header.TCPFlagAck, gvisorSynOpts, nil, 24, 1460},
		{"SYN carrying data", header.TCPFlagSyn, gvisorSynOpts, []byte("hello"), 24, 1460},
		{"no MSS", header.TCPFlagSyn, []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0}, nil, 20, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := synFrame(tt.flags, tt.opts, tt.payload)
			f, ok := parseTCPFrame(b)
			if !ok {
				t.Fatal("parseTCPFrame refused the frame")
			}
			n := shrinkSyn(f)
			if n == 0 {
				t.Fatal("shrinkSyn changed nothing")
			}
			out := b[:header.EthernetMinimumSize+n]
			g, ok := parseTCPFrame(out)
			if !ok {
				t.Fatal("the shrunk frame does not parse")
			}
			if off := int(g.tcp.DataOffset()); off != tt.wantOff {
				t.Errorf("TCP header %d bytes, want %d", off, tt.wantOff)
			}
			if got := string(g.tcp.Payload()); got != string(tt.payload) {
				t.Errorf("payload %q, want %q", got, tt.payload)
			}
			if !g.ip.IsChecksumValid() {
				t.Error("IP checksum is wrong")
			}
			if !g.tcp.IsChecksumValid(g.ip.SourceAddress(), g.ip.DestinationAddress(), checksum.Checksum(g.tcp.Payload(), 0), uint16(len(g.tcp.Payload()))) {
				t.Error("TCP checksum is wrong")
			}
			opts := header.ParseSynOptions(g.tcp.Options(), tt.flags.Contains(header.TCPFlagAck))
			if tt.wantMSS != 0 && opts.MSS != tt.wantMSS {
				t.Errorf("MSS %d, want %d", opts.MSS, tt.wantMSS)
			}
			if opts.TS || opts.WS >= 0 || opts.SACKPermitted {
				t.Errorf("options left: %+v", opts)
			}
		})
	}
}

// Whatever arrives or leaves, the link's hooks never panic.
func FuzzWireFrames(f *testing.F) {
	f.Add(synFrame(header.TCPFlagSyn, gvisorSynOpts, nil))
	f.Add(synFrame(header.TCPFlagAck, nil, []byte("data")))
	f.Fuzz(func(t *testing.T, b []byte) {
		w := newWire(vclock.New(vclock.Config{Mode: vclock.Fast}), func([]byte) {})
		defer w.close()
		w.inbound(append([]byte(nil), b...))
		w.outbound(append([]byte(nil), b...))
	})
}
