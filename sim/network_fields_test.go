package sim

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esp8266sim/esp8266sim/netstack"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// Access point fields whose effect wifi and dhcp test on their own, here
// from a scenario: max_stations turns a second board away, dhcp.disabled
// leaves a station without an address, and lease sets when the board
// renews (a DHCP request at half the lease). See fieldCoverage.
func TestAccessPointFieldsFromScenario(t *testing.T) {
	var pcap bytes.Buffer
	res := runYAMLWith(t, `
time_mode: fast
duration: 75s
wifi:
  access_points:
    - {name: lab, ssid: Lab, passphrase: labpass99, max_stations: 1, dhcp: {lease: 2m}}
    - {name: bare, ssid: Bare, passphrase: barepass9, subnet: 192.168.7.0/24, dhcp: {disabled: true}}
boards:
  - name: esp1
    mac: "5c:cf:7f:00:00:01"
    code: |
      import network, time
      sta = network.WLAN(network.STA_IF)
      sta.active(True)
      sta.connect("Lab", "labpass99")
      while not sta.isconnected():
          time.sleep_ms(100)
      print("lab", sta.ifconfig()[0])
      while True:
          time.sleep(1)
  - name: esp2
    code: |
      import network, time
      sta = network.WLAN(network.STA_IF)
      sta.active(True)
      time.sleep(5)
      sta.connect("Lab", "labpass99")
      time.sleep(8)
      print("lab full", sta.isconnected(), sta.status())
      sta.disconnect()
      sta.connect("Bare", "barepass9")
      time.sleep(10)
      print("bare", sta.isconnected(), sta.status(), sta.ifconfig()[0])
`, Options{Pcap: &pcap})
	c1, c2 := res.Boards[0].Console, res.Boards[1].Console
	if !strings.Contains(c1, "lab 192.168.") {
		t.Errorf("esp1 did not join Lab: %q", c1)
	}
	// max_stations 1: esp2 is refused while esp1 holds the one slot.
	if !strings.Contains(c2, "lab full False") {
		t.Errorf("esp2 joined a full Lab: %q", c2)
	}
	// dhcp disabled: associated, no address (still connecting, 0.0.0.0).
	if !strings.Contains(c2, "bare False 1 0.0.0.0") {
		t.Errorf("esp2 on Bare: %q", c2)
	}
	facts, err := analyzeCapture(pcap.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	// lease 2m: the first request after the ACK that bound esp1 comes at
	// T1, 60 s later (the default lease would renew only after an hour).
	var acked, renewed time.Time
	for _, d := range facts.dhcp["5c:cf:7f:00:00:01"] {
		switch {
		case acked.IsZero() && d.typ == 5: // ACK
			acked = d.at
		case !acked.IsZero() && renewed.IsZero() && d.typ == 3: // REQUEST
			renewed = d.at
		}
	}
	if acked.IsZero() || renewed.IsZero() {
		t.Fatalf("esp1: no renewal in the capture: %+v", facts.dhcp["5c:cf:7f:00:00:01"])
	}
	if gap := renewed.Sub(acked); math.Abs(gap.Seconds()-60) > 2 {
		t.Errorf("esp1 renewed %v after binding, want 60 s (half the 2m lease)", gap)
	}
	if t.Failed() {
		t.Logf("esp1:\n%s\nesp2:\n%s", c1, c2)
	}
}

// Every link impairment field of a scenario reaches the link's
// impairments (netstack's tests show each one's effect on frames; loss,
// which excludes gilbert_elliott, runs in the shipped lossy scenarios).
func TestLinkImpairmentsFromScenario(t *testing.T) {
	sc, err := scenario.Parse("t.yaml", []byte(`
links:
  - node: esp1
    latency: 30ms
    jitter: 5ms
    distribution: pareto
    gilbert_elliott: {p: 1, r: 20, h: 30, k: 99}
    duplicate: 3
    reorder: 4
    corrupt: 5
    bandwidth: 2mbit
    queue_limit: 7
    mtu: 576
boards: [{name: esp1}]
`), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := impairmentsOf(sc.Links[0].Impairment)
	if err != nil {
		t.Fatal(err)
	}
	want := netstack.Impairments{
		Latency: 30 * time.Millisecond, Jitter: 5 * time.Millisecond, Distribution: netstack.Pareto,
		Burst:     netstack.GilbertElliott{P: 1, R: 20, BadLoss: 70, GoodLoss: 1},
		Duplicate: 3, Reorder: 4, Corrupt: 5, Bandwidth: 2e6, QueueLimit: 7, MTU: 576,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("impairments from the scenario (-want +got):\n%s", d)
	}
}
