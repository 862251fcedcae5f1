package wifi

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/netstack"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// TestBoardAnswersARPForEachAddress moves a board's address between DHCP
// and static configuration while it stays on the LAN and checks, after each
// move, that it answers ARP for its current address only: the NIC's receive
// filter answers from its own copy of the NIC's addresses, and the DHCP
// client must change them through the NIC (netstack.NIC.AssignAddress), as
// the static path does, or the board falls silent to ARP.
func TestBoardAnswersARPForEachAddress(t *testing.T) {
	t.Parallel()
	w := newNetWorld(t, 28)
	ap, _ := w.router(homeAP(), netip.MustParsePrefix("192.168.1.0/24"))
	sta, _, nic := w.board("esp1", net.HardwareAddr{0x5c, 0xcf, 0x7f, 0, 0, 1})
	lan, err := w.lans.Get(ap)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := w.node("pc").AddNIC(lan, netstack.NICConfig{Addr: netip.MustParsePrefix("192.168.1.10/24")})
	if err != nil {
		t.Fatal(err)
	}
	// answers sends who-has target from the PC and counts the board's
	// frames in the next 100 ms.
	answers := func(target netip.Addr) uint64 {
		t.Helper()
		before, _ := nic.Attachment().Stats()
		pc.SendFrame(whoHas(pc.MAC(), netip.MustParseAddr("192.168.1.10"), target))
		w.sleep(100 * time.Millisecond)
		after, _ := nic.Attachment().Stats()
		return after.Frames - before.Frames
	}
	expect := func(step string, answered, silent netip.Addr) {
		t.Helper()
		w.sleep(time.Second) // the join's own frames (gratuitous ARP, ARP for the server) are out
		if err := nic.CheckReceiveFilter(); err != nil {
			t.Errorf("%s: %v", step, err)
		}
		if n := answers(answered); n != 1 {
			t.Errorf("%s: the board sent %d frames for who-has %v (its address), want 1 reply", step, n, answered)
		}
		if silent.IsValid() {
			if n := answers(silent); n != 0 {
				t.Errorf("%s: the board sent %d frames for who-has %v (its old address), want none", step, n, silent)
			}
		}
	}

	sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
	w.waitFor("connected with a DHCP lease", 30*time.Second, sta.IsConnected)
	leased := sta.IPConfig().IP
	expect("DHCP lease", leased, netip.Addr{})

	static := IPConfig{IP: netip.MustParseAddr("192.168.1.50"), Mask: netip.MustParseAddr("255.255.255.0"), Gateway: netip.MustParseAddr("192.168.1.1"), DNS: netip.MustParseAddr("192.168.1.1")}
	sta.SetStatic(static)
	w.waitFor("static address in place of the lease", 10*time.Second, func() bool { return hasAddr(nic, static.IP) && !hasAddr(nic, leased) })
	expect("static after DHCP", static.IP, leased)

	sta.UseDHCP()
	w.waitFor("a lease in place of the static address", 30*time.Second, func() bool {
		ip := sta.IPConfig().IP
		return sta.IsConnected() && ip.IsValid() && ip != static.IP && hasAddr(nic, ip) && !hasAddr(nic, static.IP)
	})
	expect("DHCP after static", sta.IPConfig().IP, static.IP)
}

// whoHas is a broadcast ARP request for target from (mac, ip).
func whoHas(mac net.HardwareAddr, ip, target netip.Addr) []byte {
	b := make([]byte, header.EthernetMinimumSize+header.ARPSize)
	header.Ethernet(b).Encode(&header.EthernetFields{
		SrcAddr: tcpip.LinkAddress(mac), DstAddr: header.EthernetBroadcastAddress, Type: header.ARPProtocolNumber,
	})
	a := header.ARP(b[header.EthernetMinimumSize:])
	a.SetIPv4OverEthernet()
	a.SetOp(header.ARPRequest)
	copy(a.HardwareAddressSender(), mac)
	copy(a.ProtocolAddressSender(), ip.AsSlice())
	copy(a.ProtocolAddressTarget(), target.AsSlice())
	return b
}
