package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// countBeacons counts the beacon frames on a capture's 802.11 interfaces.
func countBeacons(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		b, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		intf, _ := r.Interface(ci.InterfaceIndex)
		if intf.LinkType != layers.LinkTypeIEEE80211Radio || len(b) < 4 {
			continue
		}
		// The frame control byte follows the radiotap header.
		if rt := int(binary.LittleEndian.Uint16(b[2:4])); len(b) > rt && b[rt] == 0x80 {
			n++
		}
	}
}

// --beacons samples the access point's beacons: one per interval of
// simulated time (http_get runs 2.1 s), none with 0.
func TestBeaconsFlag(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, 3},                        // 0, 1.024, 2.048 s
		{[]string{"--beacons", "0"}, 0}, // none
		{[]string{"--beacons", "100ms"}, 21},
	} {
		pcap := filepath.Join(dir, "b.pcapng")
		var stdout, stderr bytes.Buffer
		// Native CPU keeps the run at 2.098 s of simulated time, which the
		// counts follow; the code's CPU time would lengthen it.
		args := append([]string{"run", "http_get", "--quiet", "--pcap", pcap, "--cpu", "native"}, tc.args...)
		if code := runWith(args, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: code %d: %s", args, code, stderr.String())
		}
		if got := countBeacons(t, pcap); got != tc.want {
			t.Errorf("%v: %d beacons, want %d", tc.args, got, tc.want)
		}
	}
}
