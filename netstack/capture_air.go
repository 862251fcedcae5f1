package netstack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// The WLAN side of a capture: each access point's air is one pcapng
// interface of link type 802.11 with a radiotap header (channel, signal in
// dBm), as a monitor-mode capture next to the access point shows it. The
// join's management frames come from the wifi package (WriteAir); the data
// frames are the Ethernet frames stations and the access point put on the
// medium behind it, rewritten as 802.11 data frames with an LLC/SNAP header
// (what the radio actually carries). Frames are shown decrypted: the
// capture stands where the keys are known. Beacons are sampled (one per
// BeaconEvery) so a long run is not mostly beacons.

// DefaultBeaconEvery is how often a sampled beacon is recorded: one in ten
// of a real access point's 102.4 ms beacons.
const DefaultBeaconEvery = 1024 * time.Millisecond

// defaultSignal is the radiotap signal of a data frame whose station's
// signal is not known (it joined before the capture heard it).
const defaultSignal = -50

// AirConfig describes one access point's air for the capture.
type AirConfig struct {
	// Name names the interface ("air-SimNet" is made from "SimNet").
	Name string
	// SSID, Hidden and RSN describe the network in its beacons.
	SSID   string
	Hidden bool
	// RSN adds a WPA2-PSK RSN element to beacons.
	RSN bool
	// BSSID is the access point's address; required.
	BSSID net.HardwareAddr
	// Channel is the 2.4 GHz channel (1..14).
	Channel int
	// Signal is the beacons' signal in dBm as the capture hears them.
	Signal int
}

type airIface struct {
	cfg      AirConfig
	bssid    [6]byte
	idx      int
	seq      uint16
	stations map[[6]byte]int // station MAC → signal dBm
	// nextBeacon is the simulated time of the next sampled beacon.
	nextBeacon time.Duration
	// radiotaps caches the radiotap header per signal strength.
	radiotaps map[int][]byte
}

// AddAir registers an access point's air as its own 802.11 + radiotap
// interface. Frames for an unregistered BSSID are not recorded.
func (c *Capture) AddAir(cfg AirConfig) error {
	if len(cfg.BSSID) != 6 {
		return errors.New("netstack: capture air needs a 6-byte BSSID")
	}
	if cfg.Channel < 1 || cfg.Channel > 14 {
		return fmt.Errorf("netstack: capture air %s: channel %d is not 1..14", cfg.Name, cfg.Channel)
	}
	intf := pcapgo.NgInterface{
		Name:                "air-" + cfg.Name,
		Description:         fmt.Sprintf("802.11 air of %s (BSSID %s, channel %d)", cfg.Name, cfg.BSSID, cfg.Channel),
		LinkType:            layers.LinkTypeIEEE80211Radio,
		TimestampResolution: 9,
	}
	idx := c.addNgInterface(intf)
	if idx < 0 {
		return c.Flush()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	a := &airIface{cfg: cfg, bssid: [6]byte(cfg.BSSID), idx: idx, stations: map[[6]byte]int{}, radiotaps: map[int][]byte{}}
	if c.mu.airs == nil {
		c.mu.airs = map[[6]byte]*airIface{}
	}
	c.mu.airs[a.bssid] = a
	c.mu.airOrder = append(c.mu.airOrder, a)
	return nil
}

// SetBeaconEvery sets how often a sampled beacon is recorded per access
// point; zero means DefaultBeaconEvery, negative records none.
func (c *Capture) SetBeaconEvery(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.beaconEvery = d
}

// SetStationSignal records the signal (dBm) between a station and its
// access point: the radiotap signal of the station's data frames. It also
// makes the station's frames on the medium behind bssid 802.11 frames.
func (c *Capture) SetStationSignal(bssid, station net.HardwareAddr, dBm int) {
	if len(bssid) != 6 || len(station) != 6 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.mu.airs[[6]byte(bssid)]; a != nil {
		a.stations[[6]byte(station)] = dBm
	}
}

// WriteAir records an 802.11 frame (header and body, no FCS) on the air of
// bssid, with a radiotap header carrying signal. Its sequence number is
// assigned here.
func (c *Capture) WriteAir(bssid net.HardwareAddr, signal int, dot11 []byte) {
	if len(bssid) != 6 || len(dot11) < 24 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.mu.airs[[6]byte(bssid)]
	if a == nil {
		return
	}
	c.beaconsLocked()
	c.writeAirLocked(a, signal, dot11, c.clock.Now())
}

// recordAir writes an Ethernet frame sent on the medium behind bssid by
// the node with MAC from as an 802.11 data frame, and reports whether it
// did: frames of stations, and frames of the access point to a station or
// a group address. Others (wired LAN peers) stay Ethernet.
func (c *Capture) recordAir(bssid [6]byte, from [6]byte, eth []byte) bool {
	if len(eth) < ethHeaderLen {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.mu.airs[bssid]
	if a == nil || c.mu.err != nil || c.mu.closed {
		return false
	}
	dst, src := [6]byte(eth[0:6]), [6]byte(eth[6:12])
	// The 802.11 data header (24 bytes: frame control, duration, three
	// addresses, sequence control, numbered in writeAirLocked), then
	// LLC/SNAP with the EtherType, then the payload.
	var flags byte
	var a1, a2, a3 [6]byte
	var signal int
	if from == bssid {
		sig, toStation := a.stations[dst]
		if !toStation && dst[0]&1 == 0 {
			return false
		}
		if !toStation {
			sig = a.cfg.Signal
		}
		signal = sig
		flags, a1, a2, a3 = byte(layers.Dot11FlagsFromDS), dst, bssid, src
	} else {
		sig, ok := a.stations[from]
		if !ok {
			return false
		}
		signal = sig
		flags, a1, a2, a3 = byte(layers.Dot11FlagsToDS), bssid, src, dst
	}
	payload := eth[ethHeaderLen:]
	f := make([]byte, 24+8+len(payload))
	f[0] = byte(layers.Dot11TypeData) << 2
	f[1] = flags
	copy(f[4:], a1[:])
	copy(f[10:], a2[:])
	copy(f[16:], a3[:])
	copy(f[24:], []byte{0xaa, 0xaa, 0x03, 0, 0, 0, eth[12], eth[13]})
	copy(f[32:], payload)
	c.beaconsLocked()
	c.writeAirLocked(a, signal, f, c.clock.Now())
	return true
}

// writeAirLocked prepends the radiotap header, numbers the frame and
// writes it at time at.
func (c *Capture) writeAirLocked(a *airIface, signal int, dot11 []byte, at time.Time) {
	if c.mu.err != nil || c.mu.closed || c.mu.w == nil {
		return
	}
	rt, ok := a.radiotaps[signal]
	if !ok {
		rt = radiotap(a.cfg.Channel, signal)
		a.radiotaps[signal] = rt
	}
	b := make([]byte, 0, len(rt)+len(dot11))
	b = append(append(b, rt...), dot11...)
	seqOff := len(rt) + 22
	binary.LittleEndian.PutUint16(b[seqOff:], a.seq<<4)
	a.seq = (a.seq + 1) & 0x0fff
	ci := gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(b), Length: len(b), InterfaceIndex: a.idx}
	if err := c.mu.w.WritePacket(ci, b); err != nil {
		c.mu.err = fmt.Errorf("netstack: writing capture: %w", err)
		return
	}
	c.mu.frames++
}

// radiotap is a radiotap header with flags, rate, channel and antenna
// signal (the fields Wireshark's radio information shows).
func radiotap(channel, signal int) []byte {
	freq := 2407 + 5*channel
	if channel == 14 {
		freq = 2484
	}
	rt := layers.RadioTap{
		Present: []layers.RadioTapPresent{layers.RadioTapPresentFlags | layers.RadioTapPresentRate | layers.RadioTapPresentChannel | layers.RadioTapPresentDBMAntennaSignal},
		RadioTapValues: []layers.RadioTapNamespace{{
			Rate:             2, // 1 Mb/s in 500 kb/s units: the ESP8266's management rate
			ChannelFrequency: layers.RadioTapChannelFrequency(freq),
			ChannelFlags:     layers.RadioTapChannelFlagsGhz2 | layers.RadioTapChannelFlagsCCK,
			DBMAntennaSignal: int8(max(-128, min(127, signal))),
		}},
	}
	buf := gopacket.NewSerializeBuffer()
	if err := rt.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		return nil
	}
	return append([]byte(nil), buf.Bytes()...)
}

// beaconsLocked writes the sampled beacons due up to now, each stamped at
// its own time: beacons need no timer of their own (one would keep a fast
// clock busy), they are caught up whenever something else is recorded.
func (c *Capture) beaconsLocked() {
	every := c.mu.beaconEvery
	if every == 0 {
		every = DefaultBeaconEvery
	}
	if every < 0 || len(c.mu.airOrder) == 0 {
		return
	}
	now := c.clock.Elapsed()
	start := c.clock.Now().Add(-now)
	for _, a := range c.mu.airOrder {
		for a.nextBeacon <= now {
			c.writeAirLocked(a, a.cfg.Signal, beacon(a.cfg, a.nextBeacon), start.Add(a.nextBeacon))
			a.nextBeacon += every
		}
	}
}

// beacon builds a beacon frame: timestamp, interval 100 TU, capabilities,
// SSID, rates, DS parameter set and, for WPA2, the RSN element.
func beacon(cfg AirConfig, at time.Duration) []byte {
	bc := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	hdr := layers.Dot11{Type: layers.Dot11TypeMgmtBeacon, Address1: bc, Address2: cfg.BSSID, Address3: cfg.BSSID}
	capab := uint16(0x0001) // ESS
	if cfg.RSN {
		capab |= 0x0010 // privacy
	}
	body := make([]byte, 12)
	binary.LittleEndian.PutUint64(body[0:], uint64(at/time.Microsecond))
	binary.LittleEndian.PutUint16(body[8:], 100)
	binary.LittleEndian.PutUint16(body[10:], capab)
	ssid := []byte(cfg.SSID)
	if cfg.Hidden {
		ssid = nil
	}
	body = append(body, AirElements(ssid, cfg.Channel, cfg.RSN)...)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, &hdr, gopacket.Payload(body)); err != nil {
		return nil
	}
	return buf.Bytes()
}

// rsnPSK is the RSN element body of WPA2-PSK with CCMP.
var rsnPSK = []byte{1, 0, 0x00, 0x0f, 0xac, 4, 1, 0, 0x00, 0x0f, 0xac, 4, 1, 0, 0x00, 0x0f, 0xac, 2, 0, 0}

// AirElements are the information elements of beacons, probe responses
// and association requests: SSID, supported rates (802.11b/g), DS
// parameter set (channel, when > 0) and the RSN element when rsn.
func AirElements(ssid []byte, channel int, rsn bool) []byte {
	var b []byte
	ie := func(id byte, v []byte) { b = append(append(b, id, byte(len(v))), v...) }
	ie(0, ssid)
	ie(1, []byte{0x82, 0x84, 0x8b, 0x96, 0x0c, 0x12, 0x18, 0x24})
	if channel > 0 {
		ie(3, []byte{byte(channel)})
	}
	if rsn {
		ie(48, rsnPSK)
	}
	return b
}
