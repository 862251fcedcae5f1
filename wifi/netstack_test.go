package wifi

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/netstack"
	"github.com/esp8266sim/esp8266sim/netstack/dhcp"
)

// These tests run the wifi layer on the real network: netstack nodes on
// media, netstack's DHCP server on the router (or the soft-AP board) and its
// DHCP client on the joining board.

type netWorld struct {
	*testWorld
	ctx  context.Context
	lans *LANs
}

func newNetWorld(t *testing.T, seed uint64) *netWorld {
	t.Helper()
	w := newTestWorld(t, Config{Seed: seed})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &netWorld{testWorld: w, ctx: ctx, lans: &LANs{}}
}

func (w *netWorld) medium(name string) *netstack.Medium {
	w.t.Helper()
	m, err := netstack.NewMedium(netstack.MediumConfig{Name: name, Clock: w.clock, Seed: w.air.seed, Trace: w.log})
	if err != nil {
		w.t.Fatalf("NewMedium: %v", err)
	}
	w.t.Cleanup(m.Close)
	return m
}

func (w *netWorld) node(name string) *netstack.Node {
	w.t.Helper()
	n, err := netstack.NewNode(netstack.NodeConfig{Name: name, Clock: w.clock, Seed: w.air.seed, Trace: w.log})
	if err != nil {
		w.t.Fatalf("NewNode: %v", err)
	}
	w.t.Cleanup(n.Close)
	return n
}

// dhcpServer runs a DHCP server on nic for subnet, handing out .2–.99 (or
// from .100 on a router LAN).
func (w *netWorld) dhcpServer(name string, nic *netstack.NIC, gw netip.Addr, subnet netip.Prefix, first, last byte) *dhcp.Server {
	w.t.Helper()
	base := subnet.Addr().As4()
	from, to := base, base
	from[3], to[3] = first, last
	srv, err := dhcp.NewServer(dhcp.ServerConfig{
		Stack: nic.Node().Stack(), NIC: nic.ID(), ServerIP: gw, Subnet: subnet, Router: gw,
		DNS: []netip.Addr{gw}, PoolStart: netip.AddrFrom4(from), PoolEnd: netip.AddrFrom4(to),
		Clock: w.clock, Seed: w.air.seed, Name: name,
		Trace: func(s string) { w.log.Add(w.clock.Elapsed(), name, s) },
	})
	if err != nil {
		w.t.Fatalf("NewServer: %v", err)
	}
	if err := srv.Start(w.ctx); err != nil {
		w.t.Fatalf("server Start: %v", err)
	}
	w.t.Cleanup(srv.Close)
	return srv
}

// router adds an access point with a router node on its own LAN.
func (w *netWorld) router(cfg APConfig, subnet netip.Prefix) (*AccessPoint, *dhcp.Server) {
	w.t.Helper()
	ap := w.addAP(cfg)
	lan := w.medium("lan-" + ap.Name())
	r := w.node("router-" + ap.Name())
	gw := subnet.Addr().Next()
	nic, err := r.AddNIC(lan, netstack.NICConfig{Addr: netip.PrefixFrom(gw, subnet.Bits())})
	if err != nil {
		w.t.Fatalf("AddNIC: %v", err)
	}
	w.lans.Set(ap, lan)
	srv := w.dhcpServer("dhcpd-"+ap.Name(), nic, gw, subnet, 100, 199)
	ap.SetDHCP(srv)
	return ap, srv
}

// board adds a board node whose station NIC starts unplugged.
func (w *netWorld) board(name string, mac net.HardwareAddr) (*Station, *netstack.Node, *netstack.NIC) {
	w.t.Helper()
	n := w.node(name)
	nic, err := n.AddNIC(nil, netstack.NICConfig{MAC: mac})
	if err != nil {
		w.t.Fatalf("AddNIC: %v", err)
	}
	addr, err := NewNetAddressing(NetAddressingConfig{Ctx: w.ctx, NIC: nic, Clock: w.clock, Seed: w.air.seed, Name: name, Trace: w.log})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(addr.Close)
	sta, err := w.air.NewStation(StationConfig{Name: name, MAC: mac, Uplink: &NICUplink{NIC: nic, LANs: w.lans}, Addressing: addr, Active: true})
	if err != nil {
		w.t.Fatal(err)
	}
	return sta, n, nic
}

// hasAddr asks the NIC's gVisor stack (the DHCP client configures the
// stack directly, so NIC.Addresses does not list its lease).
func hasAddr(nic *netstack.NIC, a netip.Addr) bool {
	for _, p := range nic.Node().Stack().AllAddresses()[nic.ID()] {
		if netip.AddrFrom4(p.AddressWithPrefix.Address.As4()) == a {
			return true
		}
	}
	return false
}

func TestJoinWithRealDHCP(t *testing.T) {
	t.Parallel()
	w := newNetWorld(t, 21)
	subnet := netip.MustParsePrefix("192.168.1.0/24")
	ap, srv := w.router(homeAP(), subnet)
	sta, _, nic := w.board("esp1", net.HardwareAddr{0x5c, 0xcf, 0x7f, 0, 0, 1})

	sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
	at := w.waitFor("connected with a DHCP lease", 30*time.Second, sta.IsConnected)
	if at < 1500*time.Millisecond || at > 5*time.Second {
		t.Errorf("connected after %v, want 1.5–5 s", at)
	}
	ip := sta.IPConfig()
	if !subnet.Contains(ip.IP) || ip.Gateway != netip.MustParseAddr("192.168.1.1") || ip.Mask != netip.MustParseAddr("255.255.255.0") || ip.DNS != ip.Gateway {
		t.Errorf("IPConfig() = %v, want an address in %v via 192.168.1.1", ip, subnet)
	}
	if !hasAddr(nic, ip.IP) {
		t.Errorf("NIC lacks the lease %v", ip.IP)
	}
	if l := srv.Leases(); len(l) != 1 || l[0].Hostname != DefaultHostname || !l[0].Bound {
		t.Errorf("server leases = %+v, want one bound lease for %q", l, DefaultHostname)
	}
	if !w.traceHas("EAPOL 4/4", "connected with SimNet", "DISCOVER", "OFFER", "REQUEST", "ACK", "ip:"+ip.IP.String()) {
		t.Errorf("trace lacks the join and DORA in order:\n%s", w.log.String())
	}

	// AP off: link gone at once, association after the beacon timeout, the
	// lease leaves the NIC; AP back: a new lease.
	ap.SetDown(true)
	if nic.Attachment() != nil {
		t.Error("NIC still attached after the AP went down")
	}
	w.waitFor("not connected", 20*time.Second, func() bool { return !sta.IsConnected() })
	if got := sta.IPConfig(); !got.IsZero() {
		t.Errorf("IPConfig() after the loss = %v, want 0.0.0.0", got)
	}
	w.sleep(100 * time.Millisecond)
	if hasAddr(nic, ip.IP) {
		t.Errorf("NIC still has %v after the loss", ip.IP)
	}
	ap.SetDown(false)
	w.waitFor("connected again", 30*time.Second, sta.IsConnected)
	if got := sta.IPConfig().IP; got != ip.IP {
		t.Errorf("address after reconnecting = %v, want the same lease %v", got, ip.IP)
	}
}

func TestDHCPFaultsOnTheWire(t *testing.T) {
	t.Parallel()
	w := newNetWorld(t, 22)
	ap, _ := w.router(homeAP(), netip.MustParsePrefix("192.168.1.0/24"))
	sta, _, _ := w.board("esp1", net.HardwareAddr{0x5c, 0xcf, 0x7f, 0, 0, 1})
	if err := ap.SetDHCPSilent(true); err != nil {
		t.Fatal(err)
	}
	sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
	w.sleep(20 * time.Second)
	if sta.Status() != StatConnecting || sta.IsConnected() {
		t.Fatalf("silent DHCP server: status %v, want STAT_CONNECTING", sta.Status())
	}
	ap.SetDHCPSilent(false)
	// lwIP retransmits DISCOVER with a growing backoff; it gets there.
	w.waitFor("lease once the server answers", 90*time.Second, sta.IsConnected)
}

func TestStaticAddressOnTheNIC(t *testing.T) {
	t.Parallel()
	w := newNetWorld(t, 23)
	w.router(homeAP(), netip.MustParsePrefix("192.168.1.0/24"))
	sta, _, nic := w.board("esp1", net.HardwareAddr{0x5c, 0xcf, 0x7f, 0, 0, 1})
	static := IPConfig{IP: netip.MustParseAddr("192.168.1.50"), Mask: netip.MustParseAddr("255.255.255.0"), Gateway: netip.MustParseAddr("192.168.1.1"), DNS: netip.MustParseAddr("192.168.1.1")}
	sta.SetStatic(static)
	w.sleep(time.Millisecond)
	if !hasAddr(nic, static.IP) {
		t.Errorf("NIC lacks the static %v", static.IP)
	}
	sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
	w.waitFor("connected", 10*time.Second, sta.IsConnected)
	if got := sta.IPConfig(); got != static {
		t.Errorf("IPConfig() = %v, want %v", got, static)
	}
}

func TestBoardJoinsSoftAP(t *testing.T) {
	t.Parallel()
	w := newNetWorld(t, 24)
	macA := net.HardwareAddr{0x5c, 0xcf, 0x7f, 0x0a, 0x0b, 0x0c}
	_, nodeA, _ := w.board("esp1", macA)
	// esp1's soft-AP: a second NIC on its own medium at 192.168.4.1/24 with
	// a DHCP server, as the ESP8266 SDK runs it.
	apCfg := DefaultSoftAP("esp1", macA)
	softAP := w.addAP(apCfg)
	apLAN := w.medium("esp1-ap")
	apNIC, err := nodeA.AddNIC(apLAN, netstack.NICConfig{MAC: apCfg.BSSID, Addr: netip.MustParsePrefix("192.168.4.1/24")})
	if err != nil {
		t.Fatal(err)
	}
	w.lans.Set(softAP, apLAN)
	w.dhcpServer("esp1 dhcps", apNIC, netip.MustParseAddr("192.168.4.1"), netip.MustParsePrefix("192.168.4.0/24"), 2, 5)
	softAP.SetDown(false)

	staB, _, _ := w.board("esp2", net.HardwareAddr{0x5c, 0xcf, 0x7f, 0, 0, 2})
	staB.Connect(&JoinConfig{SSID: "MicroPython-0a0b0c", Key: "micropythoN"})
	w.waitFor("esp2 joined esp1's soft-AP", 30*time.Second, staB.IsConnected)
	ip := staB.IPConfig()
	if !netip.MustParsePrefix("192.168.4.0/24").Contains(ip.IP) || ip.Gateway != netip.MustParseAddr("192.168.4.1") {
		t.Errorf("esp2 IPConfig() = %v, want 192.168.4.x via 192.168.4.1", ip)
	}
	if st := softAP.Stations(); len(st) != 1 || st[0].Name != "esp2" {
		t.Errorf("soft-AP stations = %+v, want esp2", st)
	}
}

func TestSoftAPFollowsStationChannel(t *testing.T) {
	t.Parallel()
	w := newNetWorld(t, 25)
	w.router(homeAP(), netip.MustParsePrefix("192.168.1.0/24")) // channel 6
	sta, node, _ := w.board("esp1", net.HardwareAddr{0x5c, 0xcf, 0x7f, 0, 0, 1})
	radio, err := NewRadio(RadioConfig{Ctx: w.ctx, Air: w.air, Station: sta, Node: node, LANs: w.lans, Trace: w.log, SoftAPActive: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(radio.Close)
	if got := radio.Channel(); got != 1 {
		t.Errorf("Channel() with only the soft-AP on = %d, want 1", got)
	}
	got := make(chan []BSS, 1)
	sta.StartScan(func(r []BSS) { got <- r })
	w.waitFor("scan", 5*time.Second, func() bool { return len(got) == 1 })
	for _, b := range <-got {
		if string(b.SSID) == SoftAPSSID(SoftAPMAC(sta.MAC())) {
			t.Errorf("the station hears its own soft-AP: %+v", b)
		}
	}
	sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
	w.waitFor("connected", 10*time.Second, sta.IsConnected)
	if got := radio.SoftAP().Config().Channel; got != 6 {
		t.Errorf("soft-AP channel after joining channel 6 = %d, want 6", got)
	}
	if got := radio.Channel(); got != 6 {
		t.Errorf("Channel() = %d, want 6", got)
	}
	radio.Reset()
	if got := sta.Hostname(); got != "ESP_000001" {
		t.Errorf("hostname after a reset = %q, want the SDK's ESP_000001", got)
	}
}

func TestRadioDNSLastSetWins(t *testing.T) {
	t.Parallel()
	w := newNetWorld(t, 26)
	w.router(homeAP(), netip.MustParsePrefix("192.168.1.0/24"))
	sta, node, _ := w.board("esp1", net.HardwareAddr{0x5c, 0xcf, 0x7f, 0, 0, 1})
	radio, err := NewRadio(RadioConfig{Ctx: w.ctx, Air: w.air, Station: sta, Node: node, LANs: w.lans})
	if err != nil {
		t.Fatal(err)
	}
	if got := radio.DNS(); got != netip.IPv4Unspecified() {
		t.Errorf("DNS() before anything = %v, want 0.0.0.0", got)
	}
	radio.SetDNS(netip.MustParseAddr("8.8.8.8"))
	if got := radio.DNS(); got != netip.MustParseAddr("8.8.8.8") {
		t.Errorf("DNS() after ipconfig(dns=) = %v, want 8.8.8.8", got)
	}
	radio.Connect(true, "SimNet", "correct horse", nil)
	w.waitFor("connected", 10*time.Second, sta.IsConnected)
	if got := radio.DNS(); got != netip.MustParseAddr("192.168.1.1") {
		t.Errorf("DNS() after a lease = %v, want the lease's 192.168.1.1", got)
	}
	if got := radio.IfConfig(IfSTA); got[3] != netip.MustParseAddr("192.168.1.1") {
		t.Errorf("IfConfig()[3] = %v, want 192.168.1.1", got[3])
	}
}

func TestDHCPNAKKeepsConnecting(t *testing.T) {
	t.Parallel()
	w := newNetWorld(t, 27)
	ap, srv := w.router(homeAP(), netip.MustParsePrefix("192.168.1.0/24"))
	sta, _, _ := w.board("esp1", net.HardwareAddr{0x5c, 0xcf, 0x7f, 0, 0, 1})
	// lwIP answers a NAK with an immediate DISCOVER, so a NAKing server and
	// a perfect link would loop without simulated time passing: give the
	// radio hop a real airtime.
	w.air.mu.Lock()
	sta.up.(*NICUplink).Impairments = netstack.Impairments{Latency: 2 * time.Millisecond}
	w.air.mu.Unlock()
	if err := ap.SetDHCPNAK(true); err != nil {
		t.Fatal(err)
	}
	sta.Connect(&JoinConfig{SSID: "SimNet", Key: "correct horse"})
	w.sleep(2500 * time.Millisecond)
	if sta.IsConnected() || sta.Status() != StatConnecting {
		t.Fatalf("NAKing DHCP server: connected=%v status=%v, want false, STAT_CONNECTING", sta.IsConnected(), sta.Status())
	}
	if srv.Stats().Naks == 0 {
		t.Error("the server sent no NAK")
	}
	ap.SetDHCPNAK(false)
	w.waitFor("lease once the server ACKs", 30*time.Second, sta.IsConnected)
}
