package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// eachFrame calls f with every frame of the capture at path, and the
// reader, which knows each frame's interface.
func eachFrame(t *testing.T, path string, f func(r *pcapgo.NgReader, frame []byte, ci gopacket.CaptureInfo)) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		t.Fatal(err)
	}
	for {
		frame, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		f(r, frame, ci)
	}
}

// captureTCP counts a capture's TCP frames that carry data and its pure
// ACKs (no payload, no SYN, FIN or RST), on every interface.
func captureTCP(t *testing.T, path string) (data, pureACKs int) {
	t.Helper()
	eachFrame(t, path, func(r *pcapgo.NgReader, frame []byte, ci gopacket.CaptureInfo) {
		first := gopacket.LayerType(layers.LayerTypeEthernet)
		if intf, err := r.Interface(ci.InterfaceIndex); err == nil && intf.LinkType == layers.LinkTypeIEEE80211Radio {
			first = layers.LayerTypeRadioTap
		}
		pkt := gopacket.NewPacket(frame, first, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		tcp, ok := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		switch {
		case !ok:
		case len(tcp.Payload) > 0:
			data++
		case tcp.ACK && !tcp.SYN && !tcp.FIN && !tcp.RST:
			pureACKs++
		}
	})
	return data, pureACKs
}

// captureFrames counts a capture's frames.
func captureFrames(t *testing.T, path string) int {
	t.Helper()
	n := 0
	eachFrame(t, path, func(*pcapgo.NgReader, []byte, gopacket.CaptureInfo) { n++ })
	return n
}
