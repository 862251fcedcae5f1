package sockets

import (
	"bytes"
	"fmt"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// The option walk both SYN rules share: NOPs are stepped over, EOL ends
// the list, and a length below 2 or past the end is a malformed list.
func TestEachTCPOption(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts []byte
		want string // "kind@offset+length" per option seen
		ok   bool
	}{
		{"gVisor's SYN", gvisorSynOpts, "2@0+4 8@6+10 3@17+3 ", true},
		{"padded", []byte{2, 4, 5, 180, 1, 1, 4, 2}, "2@0+4 4@6+2 ", true},
		{"EOL ends the list", []byte{2, 4, 5, 180, 0, 4, 2, 0}, "2@0+4 ", true},
		{"length below 2", []byte{2, 4, 5, 180, 8, 1, 0, 0}, "2@0+4 ", false},
		{"length past the end", []byte{1, 8, 10, 0}, "", false},
		{"kind without a length", []byte{1, 1, 1, 3}, "", false},
		{"empty", nil, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var seen bytes.Buffer
			ok := eachTCPOption(tt.opts, func(i, n int) { fmt.Fprintf(&seen, "%d@%d+%d ", tt.opts[i], i, n) })
			if seen.String() != tt.want || ok != tt.ok {
				t.Errorf("saw %q ok=%v, want %q ok=%v", seen.String(), ok, tt.want, tt.ok)
			}
		})
	}
}

// An incoming SYN keeps only its MSS (lwIP 1.4's tcp_parseopt): every
// other option becomes NOPs and the checksum still holds.
func TestBlankSynOptionsKeepsMSS(t *testing.T) {
	opts := []byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7}
	b := synFrame(header.TCPFlagSyn, opts, nil)
	ip := header.IPv4(b[header.EthernetMinimumSize:])
	th := header.TCP(ip[header.IPv4MinimumSize:])
	if !blankSynOptions(th) {
		t.Fatal("blankSynOptions changed nothing")
	}
	want := []byte{2, 4, 0x05, 0xb4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	if got := th.Options(); !bytes.Equal(got, want) {
		t.Errorf("options % x, want % x", got, want)
	}
	if !th.IsChecksumValid(ip.SourceAddress(), ip.DestinationAddress(), checksum.Checksum(th.Payload(), 0), uint16(len(th.Payload()))) {
		t.Error("TCP checksum is wrong after blanking")
	}
	if blankSynOptions(th) {
		t.Error("blanking twice changed something the second time")
	}
}
