package main

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// countBeacons counts the beacon frames on a capture's 802.11 interfaces.
func countBeacons(t *testing.T, path string) int {
	t.Helper()
	n := 0
	eachFrame(t, path, func(r *pcapgo.NgReader, b []byte, ci gopacket.CaptureInfo) {
		intf, _ := r.Interface(ci.InterfaceIndex)
		if intf.LinkType != layers.LinkTypeIEEE80211Radio || len(b) < 4 {
			return
		}
		// The frame control byte follows the radiotap header.
		if rt := int(binary.LittleEndian.Uint16(b[2:4])); len(b) > rt && b[rt] == 0x80 {
			n++
		}
	})
	return n
}

// --beacons samples the access point's beacons: one per interval of
// simulated time (http_get runs 2.13 s), none with 0.
func TestBeaconsFlag(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, 3},                        // 0, 1.024, 2.048 s
		{[]string{"--beacons", "0"}, 0}, // none
		{[]string{"--beacons", "100ms"}, 22},
	} {
		pcap := filepath.Join(dir, "b.pcapng")
		var stdout, stderr bytes.Buffer
		// Native CPU keeps the run at 2.126 s of simulated time (its
		// isconnected() spin jumps, board/cpuspin.go), which the counts
		// follow; the code's CPU time would lengthen it.
		args := append([]string{"run", "http_get", "--quiet", "--pcap", pcap, "--cpu", "native"}, tc.args...)
		if code := runWith(args, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: code %d: %s", args, code, stderr.String())
		}
		if got := countBeacons(t, pcap); got != tc.want {
			t.Errorf("%v: %d beacons, want %d", tc.args, got, tc.want)
		}
	}
}
