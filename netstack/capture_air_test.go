package netstack

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// An access point's air is an 802.11 + radiotap interface: a station's
// frames and the access point's frames to it become data frames with
// LLC/SNAP, numbered in order, with the channel and signal in radiotap; a
// wired peer's frames stay Ethernet; a sampled beacon opens the air.
func TestCaptureAir(t *testing.T) {
	clock := vclock.New(vclock.Config{Mode: vclock.Fast})
	defer clock.Close()
	var out bytes.Buffer
	c, err := NewCapture(&out, clock)
	if err != nil {
		t.Fatal(err)
	}
	bssid := net.HardwareAddr{2, 0x5e, 0x51, 0, 0, 1}
	sta := net.HardwareAddr{0x5c, 0xcf, 0x7f, 0xa0, 0, 1}
	peer := [6]byte{2, 0, 0, 0, 0, 9}
	wired := c.addInterface("pc", "wired peer")
	if err := c.AddAir(AirConfig{Name: "SimNet", SSID: "SimNet", RSN: true, BSSID: bssid, Channel: 6, Signal: -40}); err != nil {
		t.Fatal(err)
	}
	if err := c.AddAir(AirConfig{Name: "bad", BSSID: bssid, Channel: 15}); err == nil {
		t.Error("channel 15 accepted")
	}
	c.SetStationSignal(bssid, sta, -61)

	discover := dhcpDiscover(t, sta)
	b := [6]byte(bssid)
	toSta := append(append(append([]byte{}, sta...), bssid...), discover[12:]...)
	toPeer := append(append(append([]byte{}, peer[:]...), bssid...), discover[12:]...)
	fromPeer := append(append(append([]byte{}, bssid...), peer[:]...), discover[12:]...)
	for _, tc := range []struct {
		name string
		from [6]byte
		eth  []byte
		air  bool
	}{
		{"station broadcast", [6]byte(sta), discover, true},
		{"AP to station", b, toSta, true},
		{"AP to wired peer", b, toPeer, false},
		{"wired peer to AP", peer, fromPeer, false},
	} {
		if got := c.recordAir(b, tc.from, tc.eth); got != tc.air {
			t.Errorf("%s: recorded on the air = %v, want %v", tc.name, got, tc.air)
		}
	}
	c.write(wired, fromPeer)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	r, err := pcapgo.NewNgReader(bytes.NewReader(out.Bytes()), pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		kind    layers.Dot11Type
		flags   layers.Dot11Flags
		a1, a2  string
		seq     uint16
		signal  int8
		freq    layers.RadioTapChannelFrequency
		hasDHCP bool
	}
	var air []seen
	ethernet := 0
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		intf, _ := r.Interface(ci.InterfaceIndex)
		if intf.LinkType == layers.LinkTypeEthernet {
			ethernet++
			continue
		}
		pkt := gopacket.NewPacket(data, layers.LayerTypeRadioTap, gopacket.Default)
		rt, _ := pkt.Layer(layers.LayerTypeRadioTap).(*layers.RadioTap)
		d, _ := pkt.Layer(layers.LayerTypeDot11).(*layers.Dot11)
		if rt == nil || d == nil {
			t.Fatalf("air frame does not decode as radiotap + 802.11: %v", pkt)
		}
		air = append(air, seen{d.Type, d.Flags, d.Address1.String(), d.Address2.String(), d.SequenceNumber, rt.RadioTapValues[0].DBMAntennaSignal, rt.RadioTapValues[0].ChannelFrequency, pkt.Layer(layers.LayerTypeDHCPv4) != nil})
	}
	if ethernet != 1 {
		t.Errorf("%d Ethernet frames, want the wired one", ethernet)
	}
	want := []seen{
		{layers.Dot11TypeMgmtBeacon, 0, "ff:ff:ff:ff:ff:ff", bssid.String(), 0, -40, 2437, false},
		{layers.Dot11TypeData, layers.Dot11FlagsToDS, bssid.String(), sta.String(), 1, -61, 2437, true},
		{layers.Dot11TypeData, layers.Dot11FlagsFromDS, sta.String(), bssid.String(), 2, -61, 2437, true},
	}
	if len(air) != len(want) {
		t.Fatalf("air frames %+v, want %+v", air, want)
	}
	for i := range want {
		if air[i] != want[i] {
			t.Errorf("air frame %d = %+v, want %+v", i, air[i], want[i])
		}
	}
}

// BenchmarkCaptureAirFrame is the cost of recording one full-size station
// frame as 802.11 (rewriting the header, radiotap, pcapng block).
func BenchmarkCaptureAirFrame(b *testing.B) {
	clock := vclock.New(vclock.Config{Mode: vclock.Fast})
	defer clock.Close()
	c, err := NewCapture(io.Discard, clock)
	if err != nil {
		b.Fatal(err)
	}
	bssid := net.HardwareAddr{2, 0x5e, 0x51, 0, 0, 1}
	sta := [6]byte{0x5c, 0xcf, 0x7f, 0xa0, 0, 1}
	if err := c.AddAir(AirConfig{Name: "SimNet", SSID: "SimNet", BSSID: bssid, Channel: 6}); err != nil {
		b.Fatal(err)
	}
	c.SetBeaconEvery(-1)
	c.SetStationSignal(bssid, sta[:], -60)
	frame := make([]byte, 1514)
	copy(frame, bssid)
	copy(frame[6:], sta[:])
	frame[12], frame[13] = 0x08, 0x00
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if !c.recordAir([6]byte(bssid), sta, frame) {
			b.Fatal("not recorded")
		}
	}
}
