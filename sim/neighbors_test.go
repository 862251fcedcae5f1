package sim

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/esp8266sim/esp8266sim/board"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// In a big fleet the router takes each station's link address from the
// lease it ACKs (a static neighbour); in a small world it learns it by ARP.
func TestRouterLearnsFleetFromLeases(t *testing.T) {
	const yaml = `
boards:
  - name: esp
    replicas: 3
    code: |
      import network, time
      sta = network.WLAN(network.STA_IF)
      sta.active(True)
      sta.connect("SimNet", "esp8266sim")
      while not sta.isconnected():
          time.sleep_ms(100)
      print("ip", sta.ifconfig()[0])
`
	for _, tc := range []struct {
		above  int
		static bool
	}{{256, false}, {2, true}} {
		old := learnFromLeasesAbove
		learnFromLeasesAbove = tc.above
		sc, err := scenario.Parse("fleet.yaml", []byte(yaml), "yaml")
		if err != nil {
			t.Fatal(err)
		}
		fw, err := board.DefaultFirmware()
		if err != nil {
			t.Fatal(err)
		}
		w, err := New(sc, Options{Firmware: fw})
		learnFromLeasesAbove = old
		if err != nil {
			t.Fatal(err)
		}
		res, err := w.Run(context.Background(), RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range res.Boards {
			var ip string
			for _, f := range splitFields(b.Console) {
				if len(f) == 2 && f[0] == "ip" {
					ip = f[1]
				}
			}
			addr, err := netip.ParseAddr(ip)
			if err != nil {
				t.Fatalf("%s printed no address: %q", b.Name, b.Console)
			}
			mac, static, ok := w.aps[0].lanNIC.Neighbor(addr)
			if !ok || static != tc.static {
				t.Errorf("fleet threshold %d: router's entry for %s (%v): %v static=%v ok=%v, want static=%v", tc.above, b.Name, addr, mac, static, ok, tc.static)
			}
		}
		w.Close()
	}
}

// splitFields splits text into lines of whitespace-separated fields.
func splitFields(text string) [][]string {
	var out [][]string
	for _, line := range strings.Split(text, "\n") {
		out = append(out, strings.Fields(line))
	}
	return out
}
