package dns

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"github.com/esp8266sim/esp8266sim/netstack/internal/lantest"
)

var (
	serverIP = netip.MustParseAddr("192.168.1.1")
	espIP    = netip.MustParseAddr("192.168.1.100")
	mpIP     = netip.MustParseAddr("176.58.119.26")
)

var zone = []Record{
	A("micropython.org", mpIP),
	CNAME("www.micropython.org", "micropython.org"),
	CNAME("alias.example", "www.micropython.org"),
	A("two.example", netip.MustParseAddr("10.0.0.1")),
	A("two.example", netip.MustParseAddr("10.0.0.2")),
	CNAME("loop1.example", "loop2.example"),
	CNAME("loop2.example", "loop1.example"),
	CNAME("dangling.example", "nowhere.example"),
}

type lines struct {
	mu sync.Mutex
	l  []string
}

func (t *lines) add(s string) { t.mu.Lock(); t.l = append(t.l, s); t.mu.Unlock() }
func (t *lines) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.l, "\n")
}

type world struct {
	lan    *lantest.LAN
	esp    *lantest.Node
	server *Server
	actor  *vclock.Actor
	trace  *lines
}

func newWorld(t *testing.T, upstream func(string) ([]netip.Addr, bool)) *world {
	t.Helper()
	lan := lantest.New(t, vclock.Fast)
	router := lan.AddNode(t, "router", netip.PrefixFrom(serverIP, 24), netip.Addr{})
	esp := lan.AddNode(t, "esp", netip.PrefixFrom(espIP, 24), serverIP)
	tr := &lines{}
	srv, err := NewServer(ServerConfig{Stack: router.Stack, NIC: router.NIC, Addr: serverIP, Records: zone, Upstream: upstream, Clock: lan.Clock, Trace: tr.add})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	a := lan.Clock.NewActor("test")
	t.Cleanup(a.Close)
	return &world{lan: lan, esp: esp, server: srv, actor: a, trace: tr}
}

func (w *world) resolve(name string) (netip.Addr, error) {
	r := &Resolver{Stack: w.esp.Stack, Servers: []netip.Addr{serverIP}, Trace: w.trace.add}
	return r.Lookup(context.Background(), name, w.actor)
}

func TestResolve(t *testing.T) {
	w := newWorld(t, func(n string) ([]netip.Addr, bool) {
		if n == "upstream.example" {
			return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, true
		}
		return nil, false
	})
	for _, tc := range []struct {
		name    string
		want    netip.Addr
		wantErr error
	}{
		{"micropython.org", mpIP, nil},
		{"MicroPython.ORG", mpIP, nil},
		{"micropython.org.", mpIP, nil},
		{"www.micropython.org", mpIP, nil},
		{"alias.example", mpIP, nil},
		{"two.example", netip.MustParseAddr("10.0.0.1"), nil},
		{"upstream.example", netip.MustParseAddr("93.184.216.34"), nil},
		{"192.168.7.7", netip.MustParseAddr("192.168.7.7"), nil},
		{"nosuch.example", netip.Addr{}, ErrNotFound},
		{"dangling.example", netip.Addr{}, ErrNotFound},
		{"loop1.example", netip.Addr{}, ErrNoAddress},
		{"bad..name", netip.Addr{}, ErrBadName},
		{strings.Repeat("a", 64) + ".example", netip.Addr{}, ErrBadName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := w.resolve(tc.name)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Lookup(%q) error = %v, want %v\n%s", tc.name, err, tc.wantErr, w.trace)
			}
			if got != tc.want {
				t.Errorf("Lookup(%q) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

// query asks the server directly (no network) and decodes its answer.
func query(t *testing.T, s *Server, name string, typ layers.DNSType) *layers.DNS {
	t.Helper()
	q := &layers.DNS{ID: 7, RD: true, Questions: []layers.DNSQuestion{{Name: []byte(name), Type: typ, Class: layers.DNSClassIN}}}
	buf := gopacket.NewSerializeBuffer()
	if err := q.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		t.Fatal(err)
	}
	out := s.Answer(buf.Bytes())
	if out == nil {
		return nil
	}
	var d layers.DNS
	if err := d.DecodeFromBytes(out, gopacket.NilDecodeFeedback); err != nil {
		t.Fatalf("server reply does not decode: %v", err)
	}
	return &d
}

func rrs(d *layers.DNS) []string {
	var out []string
	for _, a := range d.Answers {
		switch a.Type {
		case layers.DNSTypeA:
			out = append(out, string(a.Name)+" A "+a.IP.String())
		case layers.DNSTypeCNAME:
			out = append(out, string(a.Name)+" CNAME "+string(a.CNAME))
		}
	}
	return out
}

func TestAnswerRecords(t *testing.T) {
	lan := lantest.New(t, vclock.Fast)
	n := lan.AddNode(t, "r", netip.PrefixFrom(serverIP, 24), netip.Addr{})
	s, err := NewServer(ServerConfig{Stack: n.Stack, Records: zone, Clock: lan.Clock})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		typ   layers.DNSType
		rcode layers.DNSResponseCode
		want  []string
	}{
		{"alias.example", layers.DNSTypeA, layers.DNSResponseCodeNoErr, []string{
			"alias.example CNAME www.micropython.org", "www.micropython.org CNAME micropython.org", "micropython.org A 176.58.119.26"}},
		{"two.example", layers.DNSTypeA, layers.DNSResponseCodeNoErr, []string{"two.example A 10.0.0.1", "two.example A 10.0.0.2"}},
		{"micropython.org", layers.DNSTypeAAAA, layers.DNSResponseCodeNoErr, nil},
		{"nosuch.example", layers.DNSTypeAAAA, layers.DNSResponseCodeNXDomain, nil},
		{"nosuch.example", layers.DNSTypeA, layers.DNSResponseCodeNXDomain, nil},
		{"micropython.org", layers.DNSTypeTXT, layers.DNSResponseCodeNoErr, nil},
	} {
		t.Run(tc.name+"/"+tc.typ.String(), func(t *testing.T) {
			d := query(t, s, tc.name, tc.typ)
			if d.ResponseCode != tc.rcode || !d.QR || d.ID != 7 || !d.AA || !d.RD {
				t.Errorf("header: rcode %v QR %v id %d AA %v RD %v; want %v, true, 7, true, true", d.ResponseCode, d.QR, d.ID, d.AA, d.RD, tc.rcode)
			}
			if diff := cmp.Diff(tc.want, rrs(d)); diff != "" {
				t.Errorf("answers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMalformedQueries(t *testing.T) {
	lan := lantest.New(t, vclock.Fast)
	n := lan.AddNode(t, "r", netip.PrefixFrom(serverIP, 24), netip.Addr{})
	s, err := NewServer(ServerConfig{Stack: n.Stack, Records: zone, Clock: lan.Clock})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		in    []byte
		rcode layers.DNSResponseCode
		drop  bool
	}{
		{"empty", nil, 0, true},
		{"short header", []byte{1, 2, 3}, 0, true},
		{"truncated question", []byte{0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 'a'}, layers.DNSResponseCodeFormErr, false},
		{"a response", []byte{0, 9, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0}, 0, true},
		{"no question", []byte{0, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, layers.DNSResponseCodeFormErr, false},
		{"status opcode", []byte{0, 9, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0}, layers.DNSResponseCodeNotImp, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := s.Answer(tc.in)
			if tc.drop {
				if out != nil {
					t.Errorf("Answer = %x, want nothing", out)
				}
				return
			}
			var d layers.DNS
			if err := d.DecodeFromBytes(out, gopacket.NilDecodeFeedback); err != nil {
				t.Fatalf("reply does not decode: %v", err)
			}
			if d.ResponseCode != tc.rcode || d.ID != 9 {
				t.Errorf("reply rcode %v id %d, want %v id 9", d.ResponseCode, d.ID, tc.rcode)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		fault   Fault
		want    netip.Addr
		wantErr error
		// simulated time the lookup takes
		took time.Duration
	}{
		{FaultNone, mpIP, nil, 4 * time.Millisecond},                                                            // ARP (2 ms) then query and answer
		{FaultServFail, netip.Addr{}, &RcodeError{Rcode: layers.DNSResponseCodeServFail}, 4 * time.Millisecond}, // ARP (2 ms) then query and answer
		{FaultNXDomain, netip.Addr{}, ErrNotFound, 4 * time.Millisecond},                                        // ARP (2 ms) then query and answer
		{FaultWrongAnswer, DefaultWrongAddr, nil, 4 * time.Millisecond},                                         // ARP (2 ms) then query and answer
		{FaultTimeout, netip.Addr{}, ErrTimeout, 7 * time.Second},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			w := newWorld(t, nil)
			w.server.SetFault(tc.fault)
			start := w.lan.Clock.Elapsed()
			got, err := w.resolve("micropython.org")
			took := w.lan.Clock.Elapsed() - start
			var re *RcodeError
			switch {
			case errors.As(tc.wantErr, &re):
				var gotRe *RcodeError
				if !errors.As(err, &gotRe) || gotRe.Rcode != re.Rcode {
					t.Fatalf("error = %v, want %v", err, tc.wantErr)
				}
			case !errors.Is(err, tc.wantErr):
				t.Fatalf("error = %v, want %v\n%s", err, tc.wantErr, w.trace)
			}
			if got != tc.want {
				t.Errorf("address = %v, want %v", got, tc.want)
			}
			if took != tc.took {
				t.Errorf("lookup took %v of simulated time, want %v", took, tc.took)
			}
		})
	}
}

// lwIP's retry schedule: queries at 0, 1, 2, 4 s; a second server at 8, 9,
// 11 s; failure at 14 s.
func TestRetrySchedule(t *testing.T) {
	w := newWorld(t, nil)
	w.server.SetFault(FaultTimeout)
	second := netip.MustParseAddr("192.168.1.2")
	n2 := w.lan.AddNode(t, "dns2", netip.PrefixFrom(second, 24), netip.Addr{})
	s2, err := NewServer(ServerConfig{Stack: n2.Stack, Clock: w.lan.Clock, Name: "dns2"})
	if err != nil {
		t.Fatal(err)
	}
	s2.SetFault(FaultTimeout)
	if err := s2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	r := &Resolver{Stack: w.esp.Stack, Servers: []netip.Addr{serverIP, second}}
	start := w.lan.Clock.Elapsed()
	_, err = r.Lookup(context.Background(), "micropython.org", w.actor)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("error = %v, want ErrTimeout", err)
	}
	if got := s2.Queries(); got != 3 {
		t.Errorf("second server got %d queries, want 3", got)
	}
	if took := w.lan.Clock.Elapsed() - start; took != 14*time.Second {
		t.Errorf("gave up after %v, want 14s", took)
	}
	var sends []time.Duration
	for _, f := range w.lan.Frames() {
		p := gopacket.NewPacket(f.Data, layers.LayerTypeEthernet, gopacket.Default)
		if d, ok := p.Layer(layers.LayerTypeDNS).(*layers.DNS); ok && !d.QR && f.From == "esp" {
			ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
			at := f.At - start
			if ip.DstIP.String() == "192.168.1.2" {
				at = -at // mark the second server
			}
			sends = append(sends, at)
		}
	}
	s := time.Second
	// The first query to each server waits 2 ms for ARP (two 1 ms hops);
	// negative times are queries to the second server.
	ms2 := 2 * time.Millisecond
	want := []time.Duration{ms2, 1 * s, 2 * s, 4 * s, -8*s - ms2, -9 * s, -11 * s}
	if diff := cmp.Diff(want, sends); diff != "" {
		t.Errorf("query times to the first server (-want +got):\n%s", diff)
	}
}

func TestResolveHelperTimeout(t *testing.T) {
	w := newWorld(t, nil)
	w.server.SetFault(FaultTimeout)
	start := w.lan.Clock.Elapsed()
	_, err := Resolve(context.Background(), w.esp.Stack, serverIP, "micropython.org", 1500*time.Millisecond, w.actor)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Resolve error = %v, want ErrTimeout", err)
	}
	if took := w.lan.Clock.Elapsed() - start; took != 1500*time.Millisecond {
		t.Errorf("Resolve took %v, want the 1.5s timeout", took)
	}
	w.server.SetFault(FaultNone)
	if a, err := Resolve(context.Background(), w.esp.Stack, serverIP, "micropython.org", 0, w.actor); err != nil || a != mpIP {
		t.Errorf("Resolve = %v, %v; want %v", a, err, mpIP)
	}
}

func TestServerConfigErrors(t *testing.T) {
	lan := lantest.New(t, vclock.Fast)
	n := lan.AddNode(t, "r", netip.PrefixFrom(serverIP, 24), netip.Addr{})
	for _, tc := range []struct {
		name    string
		records []Record
		want    string
	}{
		{"A with IPv6", []Record{A("x", netip.MustParseAddr("::1"))}, "Records[0]"},
		{"CNAME and A", []Record{A("x", mpIP), CNAME("x", "y")}, "Records[1]"},
		{"empty name", []Record{A("", mpIP)}, "Records[0]"},
		{"MX", []Record{{Name: "x", Type: layers.DNSTypeMX}}, "not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewServer(ServerConfig{Stack: n.Stack, Clock: lan.Clock, Records: tc.records})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewServer error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestParseFault(t *testing.T) {
	for _, f := range []Fault{FaultNone, FaultTimeout, FaultServFail, FaultWrongAnswer, FaultNXDomain} {
		if got, err := ParseFault(f.String()); err != nil || got != f {
			t.Errorf("ParseFault(%q) = %v, %v", f.String(), got, err)
		}
	}
	if got, err := ParseFault("wrong"); err != nil || got != FaultWrongAnswer {
		t.Errorf("ParseFault(wrong) = %v, %v", got, err)
	}
	if _, err := ParseFault("boom"); err == nil {
		t.Error("ParseFault(boom) succeeded")
	}
}

func FuzzDNSServerInput(f *testing.F) {
	lan := lantest.New(f, vclock.Fast)
	n := lan.AddNode(f, "r", netip.PrefixFrom(serverIP, 24), netip.Addr{})
	s, err := NewServer(ServerConfig{Stack: n.Stack, Records: zone, Clock: lan.Clock,
		Upstream: func(string) ([]netip.Addr, bool) { return []netip.Addr{mpIP}, true }})
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range []string{"micropython.org", "alias.example", "loop1.example", "nosuch.example"} {
		for _, typ := range []layers.DNSType{layers.DNSTypeA, layers.DNSTypeAAAA} {
			q := &layers.DNS{ID: 1, RD: true, Questions: []layers.DNSQuestion{{Name: []byte(name), Type: typ, Class: layers.DNSClassIN}}}
			buf := gopacket.NewSerializeBuffer()
			q.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true})
			f.Add(buf.Bytes())
		}
	}
	f.Add([]byte{0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1}) // self-pointing name
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, fault := range []Fault{FaultNone, FaultWrongAnswer} {
			s.SetFault(fault)
			out := s.Answer(data)
			if out == nil {
				continue
			}
			var d layers.DNS
			if err := d.DecodeFromBytes(out, gopacket.NilDecodeFeedback); err != nil {
				t.Fatalf("reply to %x does not decode: %v", data, err)
			}
		}
		parseAnswer(data, 1)
	})
}

func TestResolverCache(t *testing.T) {
	w := newWorld(t, func(string) ([]netip.Addr, bool) { return []netip.Addr{netip.MustParseAddr("198.51.100.1")}, true })
	r := &Resolver{Stack: w.esp.Stack, Servers: []netip.Addr{serverIP}, Cache: true}
	lookup := func() (netip.Addr, error) { return r.Lookup(context.Background(), "micropython.org", w.actor) }
	if a, err := lookup(); err != nil || a != mpIP {
		t.Fatalf("first lookup = %v, %v", a, err)
	}
	// Within the TTL (300 s) the server is not asked, even when it fails.
	w.server.SetFault(FaultServFail)
	before := w.server.Queries()
	w.actor.Sleep(context.Background(), 200*time.Second)
	if a, err := lookup(); err != nil || a != mpIP || w.server.Queries() != before {
		t.Errorf("cached lookup = %v, %v with %d new queries; want %v from the cache", a, err, w.server.Queries()-before, mpIP)
	}
	// After it, the server is asked again.
	w.actor.Sleep(context.Background(), 101*time.Second)
	if _, err := lookup(); err == nil || w.server.Queries() == before {
		t.Errorf("lookup after the TTL = %v with %d new queries; want the server's SERVFAIL", err, w.server.Queries()-before)
	}
	// Five names: the oldest leaves the four-entry table.
	w.server.SetFault(FaultNone)
	for _, n := range []string{"a.example", "b.example", "c.example", "d.example", "e.example"} {
		if _, err := r.Lookup(context.Background(), n, w.actor); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		cached bool
	}{{"e.example", true}, {"b.example", true}, {"a.example", false}} {
		before := w.server.Queries()
		if _, err := r.Lookup(context.Background(), tc.name, w.actor); err != nil {
			t.Fatal(err)
		}
		if asked := w.server.Queries() != before; asked == tc.cached {
			t.Errorf("%s: server asked = %v, want cached = %v", tc.name, asked, tc.cached)
		}
	}
}
