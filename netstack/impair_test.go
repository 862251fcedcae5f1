package netstack

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
)

func TestImpairmentsValidate(t *testing.T) {
	tests := []struct {
		name string
		imp  Impairments
		want []string // substrings of the error; none means valid
	}{
		{"zero is a perfect link", Impairments{}, nil},
		{"everything sensible", Impairments{Latency: time.Second, Jitter: time.Millisecond, Distribution: Pareto, Loss: 100, Burst: GilbertElliott{P: 1, R: 10, BadLoss: 50}, Duplicate: 1, Reorder: 1, Corrupt: 1, Bandwidth: 1e6, QueueLimit: 5, MTU: 576}, nil},
		{"loss 150%", Impairments{Loss: 150}, []string{"loss = 150%: must be between 0 and 100"}},
		{"negative latency", Impairments{Latency: -time.Millisecond}, []string{"latency = -1ms: must not be negative"}},
		{"negative jitter", Impairments{Jitter: -1}, []string{"jitter = -1ns"}},
		{"bad distribution", Impairments{Distribution: 7}, []string{"distribution = 7"}},
		{"burst without way out", Impairments{Burst: GilbertElliott{P: 5}}, []string{"burst.r = 0%"}},
		{"burst out of range", Impairments{Burst: GilbertElliott{P: -1, R: 101}}, []string{"burst.p = -1%", "burst.r = 101%"}},
		{"several at once", Impairments{Duplicate: -1, Reorder: 200, Corrupt: 101}, []string{"duplicate = -1%", "reorder = 200%", "corrupt = 101%"}},
		{"negative bandwidth", Impairments{Bandwidth: -5}, []string{"bandwidth = -5 bit/s"}},
		{"negative queue", Impairments{QueueLimit: -1}, []string{"queue_limit = -1"}},
		{"tiny mtu", Impairments{MTU: 20}, []string{"mtu = 20: must be 0 (no limit) or at least 68"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.imp.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error mentioning %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestParseDistribution(t *testing.T) {
	for in, want := range map[string]Distribution{"": Uniform, "uniform": Uniform, "normal": Normal, "pareto": Pareto} {
		if got, err := ParseDistribution(in); err != nil || got != want {
			t.Errorf("ParseDistribution(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseDistribution("gauss"); err == nil || !strings.Contains(err.Error(), `"gauss"`) {
		t.Errorf("ParseDistribution(gauss) = %v, want an error naming it", err)
	}
}

func TestBadImpairmentsRejectedWhereGiven(t *testing.T) {
	w := newWorld(t, vclock.Fast, 1)
	n, err := NewNode(NodeConfig{Name: "esp1", Clock: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := n.AddNIC(w.medium, NICConfig{Impairments: Impairments{Loss: 150}}); err == nil || !strings.Contains(err.Error(), "loss = 150%") {
		t.Errorf("AddNIC with loss 150%% = %v, want an error naming loss", err)
	}
	nic, err := n.AddNIC(w.medium, NICConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := nic.Attachment().SetImpairments(Impairments{Latency: -time.Second}); err == nil || !strings.Contains(err.Error(), "latency = -1s") {
		t.Errorf("SetImpairments(negative latency) = %v, want an error naming latency", err)
	}
	// A second NIC with the same MAC on the same medium.
	other, err := NewNode(NodeConfig{Name: "esp2", Clock: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.AddNIC(w.medium, NICConfig{MAC: nic.MAC()}); err == nil || !strings.Contains(err.Error(), "already used by esp1") {
		t.Errorf("attaching a duplicate MAC = %v, want an error naming esp1", err)
	}
	if _, err := other.AddNIC(nil, NICConfig{MAC: net.HardwareAddr{1, 2, 3, 4, 5, 6}}); err == nil || !strings.Contains(err.Error(), "multicast") {
		t.Errorf("AddNIC with a multicast MAC = %v, want an error", err)
	}
}

func TestCheckIdentities(t *testing.T) {
	mac := func(s string) net.HardwareAddr { m, _ := net.ParseMAC(s); return m }
	ip := netip.MustParseAddr
	tests := []struct {
		name string
		ids  []Identity
		want []string
	}{
		{"all distinct", []Identity{
			{Node: "esp1", Medium: "lan", MAC: mac("5c:cf:7f:00:00:01"), Addr: ip("192.168.1.10")},
			{Node: "esp2", Medium: "lan", MAC: mac("5c:cf:7f:00:00:02"), Addr: ip("192.168.1.11")},
			// The same address on another network is fine.
			{Node: "esp3", Medium: "lan2", MAC: mac("5c:cf:7f:00:00:03"), Addr: ip("192.168.1.10")},
		}, nil},
		{"duplicate MAC", []Identity{
			{Node: "esp1", MAC: mac("5c:cf:7f:00:00:01")},
			{Node: "esp2", MAC: mac("5c:cf:7f:00:00:01")},
		}, []string{"esp2: MAC 5c:cf:7f:00:00:01 is already used by esp1"}},
		{"duplicate IP", []Identity{
			{Node: "esp1", Medium: "lan", Addr: ip("192.168.1.10")},
			{Node: "peer", Medium: "lan", Addr: ip("192.168.1.10")},
		}, []string{"peer: IP address 192.168.1.10 is already used by esp1 on lan"}},
		{"multicast MAC", []Identity{{Node: "esp1", MAC: mac("01:00:5e:00:00:01")}}, []string{"esp1: MAC 01:00:5e:00:00:01 is a multicast address"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckIdentities(tt.ids)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("CheckIdentities() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckIdentities() = nil, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("CheckIdentities() = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestCheckSubnets(t *testing.T) {
	p := netip.MustParsePrefix
	if err := CheckSubnets([]Subnet{{"lan", p("192.168.1.0/24")}, {"guest", p("192.168.2.0/24")}}); err != nil {
		t.Errorf("disjoint subnets: %v", err)
	}
	err := CheckSubnets([]Subnet{{"lan", p("192.168.1.0/24")}, {"office", p("192.168.0.0/16")}})
	if err == nil || !strings.Contains(err.Error(), "office: subnet 192.168.0.0/16 overlaps 192.168.1.0/24 of lan") {
		t.Errorf("overlapping subnets: %v, want an error naming both", err)
	}
}

// pair is two nodes on a medium with UDP sockets, ARP already resolved.
type pair struct {
	w      *world
	a, b   *NIC
	tx, rx *PacketConn
	txs    *Sockets
	rxs    *Sockets
}

func newPair(t *testing.T) *pair {
	t.Helper()
	w := newWorld(t, vclock.Fast, 1)
	an, anic := w.node("a", 1, 1, Impairments{})
	bn, bnic := w.node("b", 2, 1, Impairments{})
	p := &pair{w: w, a: anic, b: bnic, txs: w.sockets(an, "tx"), rxs: w.sockets(bn, "rx")}
	var err error
	if p.tx, err = p.txs.ListenUDP(addr(1, 9)); err != nil {
		t.Fatal(err)
	}
	if p.rx, err = p.rxs.ListenUDP(addr(2, 9)); err != nil {
		t.Fatal(err)
	}
	p.send(t, 1, 10)
	if p.recv(t, time.Second) != 1 {
		t.Fatal("warm-up datagram lost on a perfect link")
	}
	return p
}

func (p *pair) send(t *testing.T, n, size int) {
	t.Helper()
	buf := make([]byte, size)
	for i := 0; i < n; i++ {
		if _, err := p.tx.WriteTo(buf, addr(2, 9)); err != nil {
			t.Fatalf("WriteTo: %v", err)
		}
	}
}

// recv counts datagrams until quiet for timeout; it uses the tx actor's
// sibling rx actor, so the sender must be parked or done.
func (p *pair) recv(t *testing.T, timeout time.Duration) int {
	t.Helper()
	n := 0
	buf := make([]byte, 2048)
	done := make(chan struct{})
	go func() {
		// Wake after closing done: the other order let the sender, woken
		// before done was closed, park again for good (a hang seen under
		// -race in TestDetachAndReattach).
		defer p.txs.Actor.Wake()
		defer close(done)
		for {
			if _, _, err := p.rx.ReadFrom(buf, timeout); err != nil {
				if !IsTimeout(err) {
					t.Errorf("ReadFrom: %v", err)
				}
				return
			}
			n++
		}
	}()
	// Park the sender while the receiver works, so time can pass.
	for {
		select {
		case <-done:
			return n
		default:
		}
		p.txs.Actor.Park(p.w.ctx, -1)
	}
}

func TestMTUDropsLargeFrames(t *testing.T) {
	p := newPair(t)
	if err := p.b.Attachment().SetImpairments(Impairments{MTU: 576}); err != nil {
		t.Fatal(err)
	}
	p.send(t, 3, 500)
	p.send(t, 2, 1000)
	if got := p.recv(t, time.Second); got != 3 {
		t.Errorf("received %d datagrams, want the 3 that fit a 576-byte MTU", got)
	}
	_, in := p.b.Attachment().Stats()
	if in.MTUDrops != 2 {
		t.Errorf("MTU drops = %d, want 2", in.MTUDrops)
	}
	if !strings.Contains(p.w.trace.String(), "DROP (mtu) lan→b: a:9 → b:9 UDP len=1000") {
		t.Errorf("trace lacks the MTU drop:\n%s", p.w.trace)
	}
}

func TestLinkDownAndUp(t *testing.T) {
	p := newPair(t)
	p.b.Attachment().SetUp(false)
	p.send(t, 4, 100)
	if got := p.recv(t, time.Second); got != 0 {
		t.Errorf("received %d datagrams over a down link, want 0", got)
	}
	p.b.Attachment().SetUp(true)
	p.send(t, 4, 100)
	if got := p.recv(t, time.Second); got != 4 {
		t.Errorf("received %d datagrams after the link came back, want 4", got)
	}
	_, in := p.b.Attachment().Stats()
	if in.DownDrops != 4 {
		t.Errorf("down drops = %d, want 4", in.DownDrops)
	}
	if !strings.Contains(p.w.trace.String(), "DROP (link down)") {
		t.Error("trace lacks DROP (link down)")
	}
}

func TestCorruptionFailsChecksums(t *testing.T) {
	p := newPair(t)
	if err := p.b.Attachment().SetDirectionImpairments(Ingress, Impairments{Corrupt: 100}); err != nil {
		t.Fatal(err)
	}
	p.send(t, 20, 200)
	if got := p.recv(t, time.Second); got != 0 {
		t.Errorf("received %d corrupted datagrams, want 0 (checksums must fail)", got)
	}
	_, in := p.b.Attachment().Stats()
	if in.Corrupted != 20 {
		t.Errorf("corrupted = %d, want 20", in.Corrupted)
	}
}

func TestBandwidthSerializesAndQueueDrops(t *testing.T) {
	p := newPair(t)
	// 1 Mbit/s: a 1042-byte frame takes 8.336 ms; 10 may wait.
	if err := p.a.Attachment().SetDirectionImpairments(Egress, Impairments{Bandwidth: 1_000_000, QueueLimit: 10}); err != nil {
		t.Fatal(err)
	}
	start := p.w.clock.Elapsed()
	p.send(t, 30, 1000)
	got := p.recv(t, 500*time.Millisecond)
	if got != 10 {
		t.Errorf("received %d of 30 datagrams sent at once into a 10-frame queue, want 10", got)
	}
	eg, _ := p.a.Attachment().Stats()
	if eg.QueueDrops != 20 {
		t.Errorf("queue drops = %d, want 20", eg.QueueDrops)
	}
	// The last of the 10 left 10 × 8.336 ms after the start; recv then
	// waited 500 ms of quiet.
	if el := p.w.clock.Elapsed() - start - 500*time.Millisecond; el < 83*time.Millisecond || el > 90*time.Millisecond {
		t.Errorf("10 frames took %v through 1 Mbit/s, want about 83 ms", el)
	}
}

func TestDetachAndReattach(t *testing.T) {
	p := newPair(t)
	att := p.b.Attachment()
	p.b.Detach()
	if p.b.Attachment() != nil {
		t.Fatal("Attachment() after Detach is not nil")
	}
	att.Detach() // idempotent
	p.send(t, 3, 100)
	if got := p.recv(t, time.Second); got != 0 {
		t.Errorf("received %d datagrams while detached, want 0", got)
	}
	if _, err := p.b.Attach(p.w.medium, Impairments{}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.b.Attach(p.w.medium, Impairments{}); err == nil || !strings.Contains(err.Error(), "already attached") {
		t.Errorf("second Attach = %v, want an 'already attached' error", err)
	}
	p.send(t, 3, 100)
	if got := p.recv(t, time.Second); got != 3 {
		t.Errorf("received %d datagrams after re-attaching, want 3", got)
	}
}
