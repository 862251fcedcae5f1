package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/trace"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// A trace excerpt as the simulator writes it: the join, DHCP, DNS, a
// handshake whose SYN-ACK a link loses, the retransmissions, and the
// router's forwarded copies (which must not be drawn twice).
var sampleTrace = []trace.Line{
	{At: 0, Source: "esp1", Text: `esp1 → * probe request ssid="SimNet" (scanning channels 1-13)`},
	{At: ms(1950), Source: "SimNet", Text: `SimNet → esp1 probe response ssid="SimNet" ch 6 -55 dBm wpa2-psk`},
	{At: ms(1962), Source: "SimNet", Text: "SimNet → esp1 EAPOL 1/4"},
	{At: ms(2086), Source: "esp1", Text: "esp1 dhcp client start"},
	{At: ms(2086), Source: "esp1", Text: "esp1 → broadcast DHCP DISCOVER xid=0x1"},
	{At: ms(2087), Source: "SimNet", Text: "SimNet → 192.168.1.100 DHCP OFFER 192.168.1.100 xid=0x1"},
	{At: ms(2092), Source: "esp1", Text: "192.168.1.100:21802 → SimNet:53 DNS query A micropython.org"},
	{At: ms(2093), Source: "SimNet", Text: "SimNet:53 → 192.168.1.100:21802 DNS answer micropython.org A 176.58.119.26"},
	{At: ms(2094), Source: "esp1", Text: "192.168.1.100:22336 → micropython.org:80 TCP SYN"},
	{At: ms(2095), Source: "SimNet", Text: "192.168.1.100:22336 → micropython.org:80 TCP SYN"},
	{At: ms(2095), Source: "SimNet", Text: "SimNet → broadcast ARP who-has 176.58.119.26 tell 100.64.0.1"},
	{At: ms(2096), Source: "micropython.org", Text: "micropython.org:80 → 192.168.1.100:22336 TCP SYN-ACK"},
	{At: ms(2096), Source: "SimNet", Text: "micropython.org:80 → 192.168.1.100:22336 TCP SYN-ACK"},
	{At: ms(2096), Source: "lan-SimNet", Text: "DROP (loss) lan-SimNet→esp1: micropython.org:80 → 192.168.1.100:22336 TCP SYN-ACK"},
	{At: ms(3094), Source: "esp1", Text: "192.168.1.100:22336 → micropython.org:80 TCP SYN (retransmission)"},
}

func TestSequence(t *testing.T) {
	b := HTMLBoard{Name: "esp1", IP: "192.168.1.100"}
	cols, arrows := Sequence(b, sampleTrace, map[string]string{"192.168.1.100": "esp1", "176.58.119.26": "micropython.org"})
	if got, want := strings.Join(cols, ","), "esp1,SimNet,DNS,micropython.org"; got != want {
		t.Errorf("columns %s, want %s", got, want)
	}
	var got []string
	for _, a := range arrows {
		s := a.From + ">" + a.To + " " + a.Kind + " " + a.Label
		if a.Retrans {
			s += " [retrans]"
		}
		if a.Dropped {
			s += " [lost " + a.DropWhy + "]"
		}
		got = append(got, s)
	}
	want := []string{
		`esp1>SimNet wifi probe request ssid="SimNet" (scanning channels 1-13) (broadcast)`,
		`SimNet>esp1 wifi probe response ssid="SimNet" ch 6 -55 dBm wpa2-psk`,
		`SimNet>esp1 wifi EAPOL 1/4`,
		`esp1>SimNet dhcp DHCP DISCOVER xid=0x1 (broadcast)`,
		`SimNet>esp1 dhcp DHCP OFFER 192.168.1.100 xid=0x1`,
		`esp1>DNS dns DNS query A micropython.org`,
		`DNS>esp1 dns DNS answer micropython.org A 176.58.119.26`,
		`esp1>micropython.org tcp TCP SYN`,
		`micropython.org>esp1 tcp TCP SYN-ACK [lost loss]`,
		`esp1>micropython.org tcp TCP SYN (retransmission) [retrans]`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("arrows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWriteHTMLIsSelfContainedAndReproducible(t *testing.T) {
	doc := &HTML{
		Run:    &Run{Scenario: "http-get <demo>", Seed: 1, SimTime: ms(3094), Expectations: []Expectation{{Description: "esp1 exits cleanly", Passed: true}}},
		Boards: []HTMLBoard{{Name: "esp1", IP: "192.168.1.100", AP: "SimNet", Console: "<b>not bold</b>\n"}},
		Trace:  sampleTrace,
		Faults: []Fault{{At: ms(2090), For: ms(5), Desc: "ap_down SimNet"}},
		Topology: Topology{
			APs:      []TopoAP{{Name: "SimNet", SSID: "SimNet", Channel: 6, Security: "wpa2", Subnet: "192.168.1.0/24"}},
			Boards:   []TopoNode{{Name: "esp1", IP: "192.168.1.100", AP: "SimNet", Link: "200ms, 10% loss"}},
			Internet: []TopoNode{{Name: "micropython.org", IP: "176.58.119.26"}},
		},
	}
	var a, b bytes.Buffer
	if err := WriteHTML(&a, doc); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&b, doc); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the same report rendered twice differs")
	}
	page := a.String()
	for _, bad := range []string{"<script src", "<link", "@import", "url(http", "<img", "<b>not bold"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q: it must need no fetch and escape the console", bad)
		}
	}
	for _, want := range []string{`data-label="TCP SYN-ACK" data-from="micropython.org" data-to="esp1"`, `data-retrans="1"`, `data-dropped="loss"`,
		`class="fault"`, "fault: ap_down SimNet", "200ms, 10% loss", `data-node="micropython.org"`, "&lt;b&gt;not bold"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
