package wifi

import (
	"encoding/binary"
	"net"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/esp8266sim/esp8266sim/netstack"
)

// The join's 802.11 frames for the capture (Config.Capture): each step the
// station model simulates (probe, authentication, association, EAPOL 1-4,
// deauthentication) is also written as the frame a monitor-mode capture
// would show, on the air of the access point concerned. The frames are
// built after the fact from the model's state; nothing in the model reads
// them, so the capture cannot change a run.

var broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// airFrame queues one 802.11 frame for ap's air, written after the lock
// is released, in order with the trace lines.
func (fx *effects) airFrame(ap *AccessPoint, signal int, hdr layers.Dot11, body []byte) {
	c := fx.air.capture
	if c == nil {
		return
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, &hdr, gopacket.Payload(body)); err != nil {
		return
	}
	frame := buf.Bytes()
	bssid := ap.cfg.BSSID
	fx.add(func() { c.WriteAir(bssid, signal, frame) })
}

// mgmt queues a management frame from src to dst on ap's air.
func (fx *effects) mgmt(ap *AccessPoint, signal int, t layers.Dot11Type, src, dst net.HardwareAddr, body []byte) {
	fx.airFrame(ap, signal, layers.Dot11{Type: t, Address1: dst, Address2: src, Address3: ap.cfg.BSSID}, body)
}

// capProbeRequest records a probe request by s, heard by every access
// point in range (ssid empty: a wildcard probe).
func (fx *effects) capProbeRequest(s *Station, ssid string) {
	if fx.air.capture == nil {
		return
	}
	for _, ap := range s.air.aps {
		if ap == s.ownAP || !ap.reachableLocked(s) {
			continue
		}
		fx.airFrame(ap, ap.rssiAtLocked(s), layers.Dot11{Type: layers.Dot11TypeMgmtProbeReq,
			Address1: broadcastMAC, Address2: s.mac, Address3: broadcastMAC}, capElements([]byte(ssid), 0, false))
	}
}

// capProbeResponse records ap's probe response to s.
func (fx *effects) capProbeResponse(ap *AccessPoint, s *Station, rssi int, ssid []byte) {
	body := make([]byte, 12)
	binary.LittleEndian.PutUint64(body, uint64(s.air.clock.Elapsed().Microseconds()))
	binary.LittleEndian.PutUint16(body[8:], 100)
	binary.LittleEndian.PutUint16(body[10:], capInfo(ap))
	body = append(body, capElements(ssid, ap.cfg.Channel, ap.cfg.Security.usesPSK())...)
	fx.mgmt(ap, rssi, layers.Dot11TypeMgmtProbeResp, ap.cfg.BSSID, s.mac, body)
}

// capAuth records open-system authentication frame seq (1 request, 2
// response).
func (fx *effects) capAuth(s *Station, ap *AccessPoint, seq uint16) {
	body := []byte{0, 0, byte(seq), byte(seq >> 8), 0, 0}
	src, dst := s.mac, ap.cfg.BSSID
	if seq == 2 {
		src, dst = dst, src
	}
	fx.mgmt(ap, ap.rssiAtLocked(s), layers.Dot11TypeMgmtAuthentication, src, dst, body)
}

// capAssocRequest records s's association request to ap.
func (fx *effects) capAssocRequest(s *Station, ap *AccessPoint) {
	body := make([]byte, 4)
	binary.LittleEndian.PutUint16(body, capInfo(ap))
	binary.LittleEndian.PutUint16(body[2:], 3) // listen interval, beacons
	body = append(body, capElements([]byte(ap.cfg.SSID), 0, ap.cfg.Security.usesPSK())...)
	fx.mgmt(ap, ap.rssiAtLocked(s), layers.Dot11TypeMgmtAssociationReq, s.mac, ap.cfg.BSSID, body)
}

// capAssocResponse records ap's association response (status 0 with aid,
// or a refusal).
func (fx *effects) capAssocResponse(ap *AccessPoint, s *Station, status uint16, aid int) {
	body := make([]byte, 6)
	binary.LittleEndian.PutUint16(body, capInfo(ap))
	binary.LittleEndian.PutUint16(body[2:], status)
	if status == 0 {
		binary.LittleEndian.PutUint16(body[4:], uint16(aid)|0xc000)
	}
	body = append(body, capElements(nil, 0, false)[2:]...) // rates only
	rssi := ap.rssiAtLocked(s)
	fx.mgmt(ap, rssi, layers.Dot11TypeMgmtAssociationResp, ap.cfg.BSSID, s.mac, body)
	if status == 0 && fx.air.capture != nil {
		c, bssid, mac := fx.air.capture, ap.cfg.BSSID, s.mac
		fx.add(func() { c.SetStationSignal(bssid, mac, rssi) })
	}
}

// capDeauth records a deauthentication; fromAP says who sent it.
func (fx *effects) capDeauth(ap *AccessPoint, s *Station, fromAP bool, reason uint16) {
	src, dst := s.mac, ap.cfg.BSSID
	if fromAP {
		src, dst = dst, src
	}
	fx.mgmt(ap, ap.rssiAtLocked(s), layers.Dot11TypeMgmtDeauthentication, src, dst, []byte{byte(reason), byte(reason >> 8)})
}

// capEAPOL records an EAPOL-Key frame as an 802.11 data frame with an
// LLC/SNAP header; fromAP says its direction.
func (fx *effects) capEAPOL(ap *AccessPoint, s *Station, fromAP bool, eapol []byte) {
	hdr := layers.Dot11{Type: layers.Dot11TypeData, Flags: layers.Dot11FlagsToDS,
		Address1: ap.cfg.BSSID, Address2: s.mac, Address3: ap.cfg.BSSID}
	if fromAP {
		hdr = layers.Dot11{Type: layers.Dot11TypeData, Flags: layers.Dot11FlagsFromDS,
			Address1: s.mac, Address2: ap.cfg.BSSID, Address3: ap.cfg.BSSID}
	}
	body := append([]byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x88, 0x8e}, eapol...)
	fx.airFrame(ap, ap.rssiAtLocked(s), hdr, body)
}

func capInfo(ap *AccessPoint) uint16 {
	c := uint16(0x0001) // ESS
	if ap.cfg.Security != Open {
		c |= 0x0010 // privacy
	}
	return c
}

// capElements are the SSID, rates, channel and RSN elements; shared with
// the capture's beacons so both describe the network alike.
func capElements(ssid []byte, channel int, rsn bool) []byte {
	return netstack.AirElements(ssid, channel, rsn)
}
