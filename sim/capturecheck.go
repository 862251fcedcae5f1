package sim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// captureFacts are the exchanges found in a capture that expectations ask
// about. They are read back from the pcapng file itself, so an expectation
// about the capture checks what Wireshark would show.
type captureFacts struct {
	frames int
	// handshakes are completed TCP three-way handshakes.
	handshakes []handshake
	// dhcp maps a client MAC to the DHCP messages seen for it, in order.
	dhcp map[string][]dhcpSeen
	// dnsQueries are the names asked for, lower case, without the final
	// dot, with the time of the first query.
	dnsQueries map[string]time.Time
}

type handshake struct {
	clientMAC string
	server    netip.AddrPort
	// at is when the handshake completed (the capture's timestamp).
	at time.Time
}

type dhcpSeen struct {
	typ layers.DHCPMsgType
	at  time.Time
}

type flowKey struct {
	client, server netip.AddrPort
}

// analyzeCapture decodes a pcapng capture.
func analyzeCapture(pcapng []byte) (*captureFacts, error) {
	// Mixed link types: the access points' air is 802.11, the rest Ethernet.
	r, err := pcapgo.NewNgReader(bytes.NewReader(pcapng), pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		return nil, fmt.Errorf("reading the capture: %w", err)
	}
	facts := &captureFacts{dhcp: map[string][]dhcpSeen{}, dnsQueries: map[string]time.Time{}}
	// Handshake progress per flow: 1 = SYN seen, 2 = SYN-ACK seen.
	progress := map[flowKey]int{}
	clientMACs := map[flowKey]string{}
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the capture: %w", err)
		}
		facts.frames++
		pkt, srcMAC := decodeCaptured(r, ci.InterfaceIndex, data)
		ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if srcMAC == nil || ip == nil {
			continue
		}
		src, _ := netip.AddrFromSlice(ip.SrcIP.To4())
		dst, _ := netip.AddrFromSlice(ip.DstIP.To4())
		if tcp, ok := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
			from := netip.AddrPortFrom(src, uint16(tcp.SrcPort))
			to := netip.AddrPortFrom(dst, uint16(tcp.DstPort))
			switch {
			case tcp.SYN && !tcp.ACK:
				// A routed SYN is captured again on the next segment with
				// the router's MAC: the first copy names the client.
				k := flowKey{client: from, server: to}
				if progress[k] == 0 {
					progress[k] = 1
					clientMACs[k] = srcMAC.String()
				}
			case tcp.SYN && tcp.ACK:
				k := flowKey{client: to, server: from}
				if progress[k] >= 1 {
					progress[k] = 2
				}
			case tcp.ACK && !tcp.RST:
				k := flowKey{client: from, server: to}
				if progress[k] == 2 {
					progress[k] = 3
					facts.handshakes = append(facts.handshakes, handshake{clientMAC: clientMACs[k], server: to, at: ci.Timestamp})
				}
			}
		}
		if d, ok := pkt.Layer(layers.LayerTypeDHCPv4).(*layers.DHCPv4); ok {
			mac := net.HardwareAddr(d.ClientHWAddr).String()
			for _, o := range d.Options {
				if o.Type == layers.DHCPOptMessageType && len(o.Data) == 1 {
					facts.dhcp[mac] = append(facts.dhcp[mac], dhcpSeen{layers.DHCPMsgType(o.Data[0]), ci.Timestamp})
				}
			}
		}
		if d, ok := pkt.Layer(layers.LayerTypeDNS).(*layers.DNS); ok && !d.QR {
			for _, q := range d.Questions {
				name := strings.ToLower(strings.TrimSuffix(string(q.Name), "."))
				if _, seen := facts.dnsQueries[name]; !seen {
					facts.dnsQueries[name] = ci.Timestamp
				}
			}
		}
	}
	return facts, nil
}

// sawHandshake reports a completed handshake from a client MAC to server,
// and when the first one completed.
func (f *captureFacts) sawHandshake(clientMACs []string, server netip.Addr, port uint16) (bool, time.Time) {
	for _, h := range f.handshakes {
		if h.server.Addr() != server || (port != 0 && h.server.Port() != port) {
			continue
		}
		for _, m := range clientMACs {
			if strings.EqualFold(h.clientMAC, m) {
				return true, h.at
			}
		}
	}
	return false, time.Time{}
}

// sawDORA reports DISCOVER, OFFER, REQUEST, ACK in that order for mac,
// and when the ACK was seen.
func (f *captureFacts) sawDORA(mac string) (bool, time.Time) {
	want := []layers.DHCPMsgType{layers.DHCPMsgTypeDiscover, layers.DHCPMsgTypeOffer, layers.DHCPMsgTypeRequest, layers.DHCPMsgTypeAck}
	i := 0
	for _, m := range f.dhcp[strings.ToLower(mac)] {
		if m.typ == want[i] {
			i++
			if i == len(want) {
				return true, m.at
			}
		}
	}
	return false, time.Time{}
}

// decodeCaptured decodes a frame by its interface's link type (the access
// points' air is 802.11 with radiotap, the wired side Ethernet) and
// returns its sender's MAC address.
func decodeCaptured(r *pcapgo.NgReader, iface int, data []byte) (gopacket.Packet, net.HardwareAddr) {
	first := gopacket.LayerType(layers.LayerTypeEthernet)
	if intf, err := r.Interface(iface); err == nil && intf.LinkType == layers.LinkTypeIEEE80211Radio {
		first = layers.LayerTypeRadioTap
	}
	pkt := gopacket.NewPacket(data, first, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	if eth, ok := pkt.Layer(layers.LayerTypeEthernet).(*layers.Ethernet); ok {
		return pkt, eth.SrcMAC
	}
	if d, ok := pkt.Layer(layers.LayerTypeDot11).(*layers.Dot11); ok {
		if d.Flags.FromDS() {
			return pkt, d.Address3
		}
		return pkt, d.Address2
	}
	return pkt, nil
}
