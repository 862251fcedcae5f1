package netstack

import (
	"net/netip"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// arpRequest is a broadcast who-has target from (mac, ip).
func arpRequest(mac [6]byte, ip, target netip.Addr) []byte {
	b := make([]byte, header.EthernetMinimumSize+header.ARPSize)
	header.Ethernet(b).Encode(&header.EthernetFields{
		SrcAddr: tcpip.LinkAddress(mac[:]), DstAddr: header.EthernetBroadcastAddress, Type: header.ARPProtocolNumber,
	})
	a := header.ARP(b[header.EthernetMinimumSize:])
	a.SetIPv4OverEthernet()
	a.SetOp(header.ARPRequest)
	copy(a.HardwareAddressSender(), mac[:])
	copy(a.ProtocolAddressSender(), ip.AsSlice())
	copy(a.ProtocolAddressTarget(), target.AsSlice())
	return b
}

// udpBroadcast is a datagram from (mac, src:68) to 255.255.255.255:port,
// as a DHCP client sends it.
func udpBroadcast(mac [6]byte, src netip.Addr, port uint16, data []byte) []byte {
	n := header.EthernetMinimumSize + header.IPv4MinimumSize + header.UDPMinimumSize + len(data)
	b := make([]byte, n)
	header.Ethernet(b).Encode(&header.EthernetFields{
		SrcAddr: tcpip.LinkAddress(mac[:]), DstAddr: header.EthernetBroadcastAddress, Type: header.IPv4ProtocolNumber,
	})
	ip := header.IPv4(b[header.EthernetMinimumSize:])
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(len(ip)), TTL: 64, Protocol: uint8(header.UDPProtocolNumber),
		SrcAddr: tcpip.AddrFrom4(src.As4()), DstAddr: header.IPv4Broadcast,
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	u := header.UDP(ip[header.IPv4MinimumSize:])
	u.Encode(&header.UDPFields{SrcPort: 68, DstPort: port, Length: uint16(header.UDPMinimumSize + len(data))})
	copy(u.Payload(), data)
	return b
}

// TestReceiveFilterDropsOnlyWhatTheStackDrops sends each broadcast a fleet
// floods to a station twice, with the receive filter on and off, and
// checks that the filter drops exactly the frames it should and that the
// station does the same either way: the same frames out (an ARP reply or
// none), the same datagram read or not, the same neighbour entries.
func TestReceiveFilterDropsOnlyWhatTheStackDrops(t *testing.T) {
	ip := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	cases := []struct {
		name     string
		listen   netip.AddrPort // the station binds a UDP socket here, if valid
		unheard  bool           // DropUnheardBroadcasts on the station
		frame    func(mac [6]byte) []byte
		filtered bool
		replies  uint64 // frames the station sends in answer
		reads    bool   // the station's socket gets the datagram
	}{
		{name: "ARP for another address", frame: func(mac [6]byte) []byte {
			return arpRequest(mac, ip("10.0.0.1"), ip("10.0.0.9"))
		}, filtered: true},
		{name: "ARP for the station's address", frame: func(mac [6]byte) []byte {
			return arpRequest(mac, ip("10.0.0.1"), ip("10.0.0.3"))
		}, replies: 1},
		{name: "DHCP DISCOVER, nobody on port 67", unheard: true, frame: func(mac [6]byte) []byte {
			return udpBroadcast(mac, ip("0.0.0.0"), 67, []byte("discover"))
		}, filtered: true},
		{name: "DHCP DISCOVER, filter switched off", frame: func(mac [6]byte) []byte {
			return udpBroadcast(mac, ip("0.0.0.0"), 67, []byte("discover"))
		}},
		{name: "broadcast to a port the station listens on", unheard: true, listen: netip.AddrPortFrom(netip.IPv4Unspecified(), 67),
			frame: func(mac [6]byte) []byte {
				return udpBroadcast(mac, ip("10.0.0.1"), 67, []byte("hello"))
			}, reads: true},
		{name: "broadcast to a port bound to the unicast address", unheard: true, listen: netip.MustParseAddrPort("10.0.0.3:67"),
			frame: func(mac [6]byte) []byte {
				return udpBroadcast(mac, ip("10.0.0.1"), 67, []byte("hello"))
			}, filtered: true},
		{name: "broadcast to another port than the station's", unheard: true, listen: netip.AddrPortFrom(netip.IPv4Unspecified(), 68),
			frame: func(mac [6]byte) []byte {
				return udpBroadcast(mac, ip("10.0.0.1"), 67, []byte("hello"))
			}, filtered: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, run := range []struct{ off, twoNICs bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
				off := run.off
				rxFilterOff.Store(off)
				w := newWorld(t, vclock.Fast, 1)
				_, anic := w.node("a", 1, 1, Impairments{})
				c, cnic := w.node("c", 3, 1, Impairments{})
				if run.twoNICs {
					// A second NIC makes the filter ask the demuxer key by key.
					other, err := NewMedium(MediumConfig{Name: "other", Clock: w.clock})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(other.Close)
					if _, err := c.AddNIC(other, NICConfig{Addr: netip.MustParsePrefix("10.1.0.3/24")}); err != nil {
						t.Fatal(err)
					}
				}
				cnic.DropUnheardBroadcasts(tc.unheard)
				var pc *PacketConn
				if tc.listen.IsValid() {
					var err error
					if pc, err = w.sockets(c, "rx").ListenUDP(tc.listen); err != nil {
						t.Fatal(err)
					}
				}
				anic.SendFrame(tc.frame(anic.mac))
				got := false
				if pc != nil {
					_, _, err := pc.ReadFrom(make([]byte, 64), time.Second)
					got = err == nil
				} else if err := w.sockets(anic.node, "wait").Actor.Sleep(w.ctx, time.Second); err != nil {
					t.Fatal(err)
				}
				egress, _ := cnic.att.Load().Stats()
				arp, udp := cnic.FilteredBroadcasts()
				filtered := arp + udp
				_, _, learned := cnic.Neighbor(ip("10.0.0.1"))
				wantFiltered := tc.filtered && !off
				if (filtered == 1) != wantFiltered || filtered > 1 {
					t.Errorf("filter off=%v, two NICs=%v: %d frames filtered, want filtered=%v", off, run.twoNICs, filtered, wantFiltered)
				}
				if egress.Frames != tc.replies {
					t.Errorf("filter off=%v, two NICs=%v: station sent %d frames, want %d\n%s", off, run.twoNICs, egress.Frames, tc.replies, w.trace)
				}
				if got != tc.reads {
					t.Errorf("filter off=%v, two NICs=%v: datagram read = %v, want %v", off, run.twoNICs, got, tc.reads)
				}
				// gVisor learns the sender only from a request for its own
				// address (it answers it); never from one it ignores.
				if learned != (tc.replies > 0) {
					t.Errorf("filter off=%v, two NICs=%v: neighbour 10.0.0.1 learned = %v", off, run.twoNICs, learned)
				}
			}
			rxFilterOff.Store(false)
		})
	}
}
