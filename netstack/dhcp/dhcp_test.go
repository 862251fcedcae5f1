package dhcp

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"github.com/esp8266sim/esp8266sim/netstack/internal/lantest"
)

var (
	routerIP = netip.MustParseAddr("192.168.1.1")
	subnet   = netip.MustParsePrefix("192.168.1.0/24")
)

// traceLog collects trace lines.
type traceLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *traceLog) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

func (l *traceLog) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func (l *traceLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

type world struct {
	lan    *lantest.LAN
	router *lantest.Node
	server *Server
	trace  *traceLog
	actor  *vclock.Actor
}

func newWorld(t *testing.T, mod func(*ServerConfig)) *world {
	t.Helper()
	return newWorldMode(t, vclock.Fast, mod)
}

func newWorldMode(t *testing.T, mode vclock.Mode, mod func(*ServerConfig)) *world {
	t.Helper()
	lan := lantest.New(t, mode)
	w := &world{lan: lan, trace: &traceLog{}}
	w.router = lan.AddNode(t, "router", netip.PrefixFrom(routerIP, 24), netip.Addr{})
	cfg := ServerConfig{
		Stack:     w.router.Stack,
		NIC:       w.router.NIC,
		ServerIP:  routerIP,
		Subnet:    subnet,
		Router:    routerIP,
		DNS:       []netip.Addr{routerIP},
		PoolStart: netip.MustParseAddr("192.168.1.100"),
		PoolEnd:   netip.MustParseAddr("192.168.1.150"),
		LeaseTime: time.Hour,
		Clock:     lan.Clock,
		Seed:      1,
		Trace:     w.trace.add,
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatalf("Server.Start: %v", err)
	}
	t.Cleanup(srv.Close)
	w.server = srv
	w.actor = lan.Clock.NewActor("test")
	t.Cleanup(w.actor.Close)
	return w
}

// waitFor parks the test's actor until cond holds or simulated time runs
// out.
func (w *world) waitFor(t *testing.T, what string, simTimeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := w.lan.Clock.Elapsed() + simTimeout
	for !cond() {
		left := deadline - w.lan.Clock.Elapsed()
		if left <= 0 {
			t.Fatalf("timed out after %v of simulated time waiting for %s\ntrace:\n%s", simTimeout, what, w.trace)
		}
		w.actor.Park(context.Background(), min(left, 100*time.Millisecond))
	}
}

// sleep parks the test's actor for d of simulated time.
func (w *world) sleep(d time.Duration) { w.actor.Sleep(context.Background(), d) }

type boardClient struct {
	node   *lantest.Node
	client *Client
	mu     sync.Mutex
	bound  []Lease
	lost   int
}

func (b *boardClient) leases() []Lease {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Lease(nil), b.bound...)
}

func (b *boardClient) lostCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lost
}

func (w *world) addClient(t *testing.T, name, hostname string) *boardClient {
	t.Helper()
	b := &boardClient{node: w.lan.AddNode(t, name, netip.Prefix{}, netip.Addr{})}
	c, err := NewClient(ClientConfig{
		Stack:    b.node.Stack,
		NIC:      b.node.NIC,
		Hostname: hostname,
		Clock:    w.lan.Clock,
		Seed:     7,
		Name:     name,
		Trace:    w.trace.add,
		OnBound: func(l Lease) {
			b.mu.Lock()
			b.bound = append(b.bound, l)
			b.mu.Unlock()
			w.actor.Wake()
		},
		OnLost: func() {
			b.mu.Lock()
			b.lost++
			b.mu.Unlock()
			w.actor.Wake()
		},
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	b.client = c
	return b
}

func (b *boardClient) start(t *testing.T) {
	t.Helper()
	if err := b.client.Start(context.Background()); err != nil {
		t.Fatalf("Client.Start: %v", err)
	}
	t.Cleanup(b.client.Stop)
}

// wireMsg is a DHCP message seen on the LAN.
type wireMsg struct {
	at     time.Duration
	from   string
	ethDst net.HardwareAddr
	ipSrc  netip.Addr
	ipDst  netip.Addr
	m      *message
}

func dhcpOnWire(l *lantest.LAN) []wireMsg {
	var out []wireMsg
	for _, f := range l.Frames() {
		p := gopacket.NewPacket(f.Data, layers.LayerTypeEthernet, gopacket.Default)
		eth, _ := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		u, _ := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if eth == nil || ip == nil || u == nil || (u.DstPort != 67 && u.DstPort != 68) {
			continue
		}
		m, err := parseMessage(u.Payload)
		if err != nil {
			continue
		}
		out = append(out, wireMsg{at: f.At, from: f.From, ethDst: eth.DstMAC, ipSrc: ip4(ip.SrcIP), ipDst: ip4(ip.DstIP), m: m})
	}
	return out
}

func types(ms []wireMsg) []string {
	var out []string
	for _, w := range ms {
		out = append(out, fmt.Sprintf("%s %s", w.from, w.m.msgType))
	}
	return out
}

func TestDORAOnTheWire(t *testing.T) {
	w := newWorld(t, nil)
	b := w.addClient(t, "esp1", "esp-1")
	b.start(t)
	w.waitFor(t, "a lease", 10*time.Second, func() bool { return len(b.leases()) > 0 })

	got := b.leases()[0]
	want := Lease{
		IP:        netip.MustParseAddr("192.168.1.100"),
		Subnet:    netip.MustParsePrefix("192.168.1.100/24"),
		Router:    routerIP,
		DNS:       []netip.Addr{routerIP},
		Server:    routerIP,
		LeaseTime: time.Hour,
		T1:        30 * time.Minute,
		T2:        52*time.Minute + 30*time.Second,
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }), cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Acquired" }, cmp.Ignore())); diff != "" {
		t.Errorf("lease (-want +got):\n%s", diff)
	}
	// The address is on the NIC and routes work.
	if a, tcpipErr := b.node.Stack.GetMainNICAddress(b.node.NIC, ipv4.ProtocolNumber); tcpipErr != nil || a.Address != tcpip.AddrFrom4(want.IP.As4()) {
		t.Errorf("NIC address = %v, %v; want %v", a, tcpipErr, want.IP)
	}
	if _, tcpipErr := b.node.Stack.FindRoute(b.node.NIC, tcpip.Address{}, tcpip.AddrFrom4([4]byte{8, 8, 8, 8}), ipv4.ProtocolNumber, false); tcpipErr != nil {
		t.Errorf("no default route after binding: %v", tcpipErr)
	}

	msgs := dhcpOnWire(w.lan)
	if diff := cmp.Diff([]string{"esp1 Discover", "router Offer", "esp1 Request", "router Ack"}, types(msgs)); diff != "" {
		t.Fatalf("DHCP exchange on the wire (-want +got):\n%s", diff)
	}
	disc, offer := msgs[0], msgs[1]
	if disc.ipSrc != netip.IPv4Unspecified() || disc.ipDst != limitedBroadcast || disc.ethDst.String() != "ff:ff:ff:ff:ff:ff" {
		t.Errorf("DISCOVER went %v → %v at %v, want 0.0.0.0 → 255.255.255.255 at broadcast", disc.ipSrc, disc.ipDst, disc.ethDst)
	}
	if disc.m.flags&flagBroadcast != 0 {
		t.Errorf("DISCOVER has the broadcast flag set; lwIP leaves it clear")
	}
	// Broadcast flag clear: the OFFER is unicast to yiaddr at chaddr.
	if offer.ipDst != want.IP || offer.ethDst.String() != string(b.node.MAC.String()) {
		t.Errorf("OFFER went to %v at %v, want %v at %v", offer.ipDst, offer.ethDst, want.IP, b.node.MAC)
	}
	if offer.m.xid != disc.m.xid {
		t.Errorf("OFFER xid %#x, want the DISCOVER's %#x", offer.m.xid, disc.m.xid)
	}
	for _, o := range []layers.DHCPOpt{layers.DHCPOptServerID, layers.DHCPOptLeaseTime, layers.DHCPOptT1, layers.DHCPOptT2, layers.DHCPOptSubnetMask, layers.DHCPOptRouter, layers.DHCPOptDNS, layers.DHCPOptHostname} {
		if _, ok := offer.m.opts[o]; !ok {
			t.Errorf("OFFER lacks option %v", o)
		}
	}
	// The board announces its address with a gratuitous ARP, as lwIP does.
	var announced bool
	for _, f := range w.lan.Frames() {
		p := gopacket.NewPacket(f.Data, layers.LayerTypeEthernet, gopacket.Default)
		if a, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP); ok && f.From == "esp1" && a.Operation == layers.ARPRequest &&
			ip4(a.SourceProtAddress) == want.IP && ip4(a.DstProtAddress) == want.IP {
			announced = true
		}
	}
	if !announced {
		t.Error("no gratuitous ARP for the leased address")
	}
	if leases := w.server.Leases(); len(leases) != 1 || !leases[0].Bound || leases[0].Hostname != "esp-1" {
		t.Errorf("server leases = %+v, want one bound lease for esp-1", leases)
	}
}

// The same exchange with a realtime clock (a REPL session or a host bridge).
func TestDORARealtime(t *testing.T) {
	w := newWorldMode(t, vclock.Realtime, nil)
	b := w.addClient(t, "esp1", "")
	b.start(t)
	w.waitFor(t, "a lease", 5*time.Second, func() bool { return len(b.leases()) > 0 })
	if got := b.leases()[0].IP; got != netip.MustParseAddr("192.168.1.100") {
		t.Errorf("leased %v, want 192.168.1.100", got)
	}
}

func TestHostnameEcho(t *testing.T) {
	for _, tc := range []struct {
		name     string
		hostname string
	}{
		{"with hostname", "ESP-A1B2C3"},
		{"without hostname", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, nil)
			b := w.addClient(t, "esp1", tc.hostname)
			b.start(t)
			w.waitFor(t, "a lease", 10*time.Second, func() bool { return len(b.leases()) > 0 })
			for _, m := range dhcpOnWire(w.lan) {
				h, ok := m.m.opts[layers.DHCPOptHostname]
				if tc.hostname == "" {
					if ok {
						t.Errorf("%s carries option 12 %q, want none", m.m.msgType, h)
					}
					continue
				}
				if !ok || string(h) != tc.hostname {
					t.Errorf("%s option 12 = %q (present %v), want %q", m.m.msgType, h, ok, tc.hostname)
				}
			}
		})
	}
}

func TestRenewAtT1(t *testing.T) {
	w := newWorld(t, func(c *ServerConfig) { c.LeaseTime = 60 * time.Second })
	b := w.addClient(t, "esp1", "")
	b.start(t)
	w.waitFor(t, "a lease", 10*time.Second, func() bool { return len(b.leases()) > 0 })
	first := b.leases()[0]
	if first.T1 != 30*time.Second {
		t.Fatalf("T1 = %v, want 30s", first.T1)
	}
	// Run past T1 and past the original expiry: the lease must hold.
	w.sleep(90 * time.Second)
	l, ok := b.client.Lease()
	if !ok || l.IP != first.IP {
		t.Fatalf("after 90 s lease = %+v, %v; want still %v", l, ok, first.IP)
	}
	if b.lostCount() != 0 {
		t.Errorf("address was lost %d times during renewals", b.lostCount())
	}
	var renews []wireMsg
	for _, m := range dhcpOnWire(w.lan) {
		if m.m.msgType == layers.DHCPMsgTypeRequest && m.m.ciaddr == first.IP {
			renews = append(renews, m)
		}
	}
	if len(renews) < 2 {
		t.Fatalf("saw %d renewing REQUESTs in 90 s of a 60 s lease, want ≥ 2:\n%s", len(renews), w.trace)
	}
	r := renews[0]
	if d := r.at - first.Acquired; d != 30*time.Second {
		t.Errorf("first renew sent %v after the ACK, want exactly T1 = 30s (the server's MAC is known since binding)", d)
	}
	if r.ipDst != routerIP || r.ipSrc != first.IP {
		t.Errorf("renew went %v → %v, want unicast %v → %v", r.ipSrc, r.ipDst, first.IP, routerIP)
	}
	if l.Acquired <= first.Acquired {
		t.Errorf("lease not refreshed: acquired %v, first %v", l.Acquired, first.Acquired)
	}
}

func TestRebindWhenServerSilent(t *testing.T) {
	w := newWorld(t, func(c *ServerConfig) { c.LeaseTime = 80 * time.Second })
	b := w.addClient(t, "esp1", "")
	b.start(t)
	w.waitFor(t, "a lease", 10*time.Second, func() bool { return len(b.leases()) > 0 })
	w.server.SetSilent(true)
	// T1 = 40 s (renew, unanswered), T2 = 70 s (rebind), expiry 80 s.
	w.waitFor(t, "the lease to be lost", 200*time.Second, func() bool { return b.lostCount() > 0 })
	if got := b.client.State(); got != StateSelecting {
		t.Errorf("state after expiry = %s, want %s", got, StateSelecting)
	}
	var sawRebind bool
	for _, m := range dhcpOnWire(w.lan) {
		if m.m.msgType == layers.DHCPMsgTypeRequest && m.ipDst == limitedBroadcast && m.ipSrc != netip.IPv4Unspecified() {
			sawRebind = true
		}
	}
	if !sawRebind {
		t.Errorf("no broadcast (rebinding) REQUEST seen:\n%s", w.trace)
	}
	// Server back: the client gets an address again.
	w.server.SetSilent(false)
	w.waitFor(t, "a new lease", 200*time.Second, func() bool { return len(b.leases()) > 1 })
}

// The retransmission schedule of DISCOVER against a silent server is lwIP's:
// sends at 0, 2, 6, 14, 30, 62 s.
func TestDiscoverBackoff(t *testing.T) {
	w := newWorld(t, nil)
	w.server.SetSilent(true)
	b := w.addClient(t, "esp1", "")
	b.start(t)
	w.sleep(100 * time.Second)
	var at []time.Duration
	for _, m := range dhcpOnWire(w.lan) {
		if m.m.msgType == layers.DHCPMsgTypeDiscover {
			at = append(at, m.at)
		}
	}
	if len(at) == 0 {
		t.Fatal("no DISCOVER sent")
	}
	var rel []time.Duration
	for _, a := range at {
		rel = append(rel, (a - at[0]).Round(time.Millisecond))
	}
	want := []time.Duration{0, 2 * time.Second, 6 * time.Second, 14 * time.Second, 30 * time.Second, 62 * time.Second}
	if diff := cmp.Diff(want, rel); diff != "" {
		t.Errorf("DISCOVER send times (-want +got):\n%s", diff)
	}
	if s := w.server.Stats(); s.Offers != 0 || s.Dropped != len(at) {
		t.Errorf("silent server stats = %+v, want no offers and %d dropped", s, len(at))
	}
}

// rawClient sends hand-made client messages from a node without an address.
type rawClient struct {
	node *lantest.Node
	mac  net.HardwareAddr
}

func (w *world) addRaw(t *testing.T, name string) *rawClient {
	n := w.lan.AddNode(t, name, netip.Prefix{}, netip.Addr{})
	return &rawClient{node: n, mac: net.HardwareAddr(n.MAC)}
}

func (r *rawClient) send(t *testing.T, b *builder) {
	t.Helper()
	b.op = layers.DHCPOpRequest
	b.chaddr = r.mac
	p, err := b.bytes()
	if err != nil {
		t.Fatal(err)
	}
	src := netip.IPv4Unspecified()
	if b.ciaddr.IsValid() {
		src = b.ciaddr
	}
	if err := sendRaw(r.node.Stack, r.node.NIC, broadcastMAC, src, limitedBroadcast, ClientPort, ServerPort, 1, p); err != nil {
		t.Fatal(err)
	}
}

func msgOf(t layers.DHCPMsgType, xid uint32) *builder {
	b := &builder{xid: xid}
	b.add(layers.DHCPOptMessageType, []byte{byte(t)})
	return b
}

func repliesTo(w *world, xid uint32) []string {
	var out []string
	for _, m := range dhcpOnWire(w.lan) {
		if m.m.xid == xid && m.m.op == layers.DHCPOpReply {
			out = append(out, m.m.msgType.String())
		}
	}
	return out
}

func TestNAKOnWrongRequest(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(*builder)
		want  []string
	}{
		{"address outside the subnet", func(b *builder) {
			b.addAddr(layers.DHCPOptRequestIP, netip.MustParseAddr("10.0.0.5"))
		}, []string{"NAK"}},
		{"selecting an address never offered", func(b *builder) {
			b.addAddr(layers.DHCPOptRequestIP, netip.MustParseAddr("192.168.1.120"))
			b.addAddr(layers.DHCPOptServerID, routerIP)
		}, []string{"NAK"}},
		{"renewing a lease it does not hold", func(b *builder) {
			b.ciaddr = netip.MustParseAddr("192.168.1.1")
		}, []string{"NAK"}},
		{"request for another server is ignored", func(b *builder) {
			b.addAddr(layers.DHCPOptRequestIP, netip.MustParseAddr("192.168.1.100"))
			b.addAddr(layers.DHCPOptServerID, netip.MustParseAddr("192.168.1.2"))
		}, nil},
		{"init-reboot of a free pool address is granted", func(b *builder) {
			b.addAddr(layers.DHCPOptRequestIP, netip.MustParseAddr("192.168.1.110"))
		}, []string{"Ack"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, nil)
			r := w.addRaw(t, "raw")
			b := msgOf(layers.DHCPMsgTypeRequest, 0x1234)
			tc.build(b)
			r.send(t, b)
			w.sleep(time.Second)
			got := repliesTo(w, 0x1234)
			for i := range got {
				if got[i] == "Nak" {
					got[i] = "NAK"
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("replies (-want +got):\n%s\ntrace:\n%s", diff, w.trace)
			}
			for _, m := range dhcpOnWire(w.lan) {
				if m.m.msgType == layers.DHCPMsgTypeNak && (m.ipDst != limitedBroadcast || m.ethDst.String() != "ff:ff:ff:ff:ff:ff") {
					t.Errorf("NAK sent to %v at %v, want broadcast", m.ipDst, m.ethDst)
				}
			}
		})
	}
}

func TestNAKFaultRestartsClient(t *testing.T) {
	w := newWorld(t, func(c *ServerConfig) { c.LeaseTime = 60 * time.Second })
	b := w.addClient(t, "esp1", "")
	b.start(t)
	w.waitFor(t, "a lease", 10*time.Second, func() bool { return len(b.leases()) > 0 })
	w.server.SetNAK(true)
	w.waitFor(t, "the NAK at renewal to drop the address", 60*time.Second, func() bool { return b.lostCount() > 0 })
	if _, ok := b.client.Lease(); ok {
		t.Error("client still holds a lease after a NAK")
	}
	if _, tcpipErr := b.node.Stack.GetMainNICAddress(b.node.NIC, ipv4.ProtocolNumber); tcpipErr == nil {
		if a, _ := b.node.Stack.GetMainNICAddress(b.node.NIC, ipv4.ProtocolNumber); a.Address.Len() != 0 {
			t.Errorf("NIC still has %v after a NAK", a)
		}
	}
	w.server.SetNAK(false)
	w.waitFor(t, "a lease after the NAK fault ends", 120*time.Second, func() bool { return len(b.leases()) > 1 })
}

func TestPoolExhaustion(t *testing.T) {
	w := newWorld(t, func(c *ServerConfig) {
		c.PoolStart = netip.MustParseAddr("192.168.1.100")
		c.PoolEnd = netip.MustParseAddr("192.168.1.101")
	})
	var cs []*boardClient
	for i := range 3 {
		b := w.addClient(t, fmt.Sprintf("esp%d", i+1), "")
		b.start(t)
		cs = append(cs, b)
	}
	w.waitFor(t, "two leases", 30*time.Second, func() bool {
		return len(cs[0].leases())+len(cs[1].leases())+len(cs[2].leases()) >= 2
	})
	w.sleep(30 * time.Second)
	got := map[netip.Addr]string{}
	unbound := 0
	for _, b := range cs {
		ls := b.leases()
		if len(ls) == 0 {
			unbound++
			if s := b.client.State(); s != StateSelecting {
				t.Errorf("%s without a lease is %s, want %s", b.node.Name, s, StateSelecting)
			}
			continue
		}
		if prev, dup := got[ls[0].IP]; dup {
			t.Errorf("%v leased to both %s and %s", ls[0].IP, prev, b.node.Name)
		}
		got[ls[0].IP] = b.node.Name
	}
	if unbound != 1 || len(got) != 2 {
		t.Errorf("%d clients bound (%v), %d unbound; want 2 and 1", len(got), got, unbound)
	}
	if s := w.server.Stats(); s.Exhausted == 0 {
		t.Errorf("server never reported exhaustion: %+v", s)
	}
	if !w.trace.has("exhausted, no OFFER") {
		t.Errorf("no trace line about the exhausted pool:\n%s", w.trace)
	}
}

func TestDecline(t *testing.T) {
	w := newWorld(t, nil)
	r := w.addRaw(t, "raw")
	// raw takes .100 through a DISCOVER/OFFER, then declines it.
	r.send(t, msgOf(layers.DHCPMsgTypeDiscover, 0x55))
	w.sleep(time.Second)
	if got := repliesTo(w, 0x55); len(got) != 1 || got[0] != "Offer" {
		t.Fatalf("replies to DISCOVER = %v, want [Offer]", got)
	}
	d := msgOf(layers.DHCPMsgTypeDecline, 0x56)
	d.addAddr(layers.DHCPOptRequestIP, netip.MustParseAddr("192.168.1.100"))
	d.addAddr(layers.DHCPOptServerID, routerIP)
	r.send(t, d)
	w.sleep(time.Second)
	if got := repliesTo(w, 0x56); len(got) != 0 {
		t.Errorf("DECLINE answered with %v, want silence", got)
	}
	b := w.addClient(t, "esp1", "")
	b.start(t)
	w.waitFor(t, "a lease", 10*time.Second, func() bool { return len(b.leases()) > 0 })
	if got := b.leases()[0].IP; got != netip.MustParseAddr("192.168.1.101") {
		t.Errorf("after DECLINE of .100 the next client got %v, want 192.168.1.101", got)
	}
	if s := w.server.Stats(); s.Declines != 1 {
		t.Errorf("Declines = %d, want 1", s.Declines)
	}
}

func TestStickyAddressAndRelease(t *testing.T) {
	w := newWorld(t, nil)
	b := w.addClient(t, "esp1", "")
	b.start(t)
	w.waitFor(t, "a lease", 10*time.Second, func() bool { return len(b.leases()) > 0 })
	ip := b.leases()[0].IP
	w.sleep(time.Second) // a board does something with its address first
	b.client.Release()
	w.sleep(time.Second)
	if s := w.server.Stats(); s.Releases != 1 {
		t.Fatalf("server saw %d RELEASEs, want 1\n%s", s.Releases, w.trace)
	}
	if b.lostCount() != 1 {
		t.Errorf("OnLost ran %d times on Release, want 1", b.lostCount())
	}
	// Same MAC again: the same address.
	c2, err := NewClient(ClientConfig{Stack: b.node.Stack, NIC: b.node.NIC, Clock: w.lan.Clock, Seed: 9, Name: "esp1-again", OnBound: func(Lease) { w.actor.Wake() }})
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c2.Stop()
	w.waitFor(t, "a second lease", 10*time.Second, func() bool { _, ok := c2.Lease(); return ok })
	if l, _ := c2.Lease(); l.IP != ip {
		t.Errorf("same MAC got %v after release, want its old %v", l.IP, ip)
	}
}

func TestServerConfigErrors(t *testing.T) {
	good := func() ServerConfig {
		lan := lantest.New(t, vclock.Fast)
		n := lan.AddNode(t, "r", netip.PrefixFrom(routerIP, 24), netip.Addr{})
		return ServerConfig{Stack: n.Stack, NIC: n.NIC, ServerIP: routerIP, Subnet: subnet,
			PoolStart: netip.MustParseAddr("192.168.1.10"), PoolEnd: netip.MustParseAddr("192.168.1.20"), Clock: lan.Clock}
	}
	for _, tc := range []struct {
		name string
		mod  func(*ServerConfig)
		want string
	}{
		{"pool outside subnet", func(c *ServerConfig) { c.PoolEnd = netip.MustParseAddr("10.0.0.1") }, "PoolEnd"},
		{"reversed pool", func(c *ServerConfig) { c.PoolStart, c.PoolEnd = c.PoolEnd, c.PoolStart }, "PoolEnd"},
		{"no stack", func(c *ServerConfig) { c.Stack = nil }, "Stack"},
		{"negative lease", func(c *ServerConfig) { c.LeaseTime = -time.Second }, "LeaseTime"},
		{"server outside subnet", func(c *ServerConfig) { c.ServerIP = netip.MustParseAddr("10.1.1.1") }, "ServerIP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good()
			tc.mod(&cfg)
			_, err := NewServer(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewServer() error = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

// OnBind reports each ACKed lease once, not the OFFER before it.
func TestOnBindReportsAckedLeases(t *testing.T) {
	type bound struct {
		mac string
		ip  netip.Addr
	}
	var got []bound
	w := newWorld(t, func(c *ServerConfig) {
		c.OnBind = func(mac string, ip netip.Addr) { got = append(got, bound{mac, ip}) }
	})
	b := w.addClient(t, "esp1", "esp-1")
	b.start(t)
	w.waitFor(t, "a lease", 10*time.Second, func() bool { return len(b.leases()) > 0 })
	want := []bound{{b.node.MAC.String(), b.leases()[0].IP}}
	if len(got) != 1 || got[0] != want[0] {
		t.Errorf("OnBind calls %v, want %v", got, want)
	}
}
