package sim

import (
	"net/netip"
	"strings"
	"testing"
)

// In a big fleet the router takes each station's link address from the
// lease it ACKs (a static neighbour); in a small world it learns it by ARP.
func TestRouterLearnsFleetFromLeases(t *testing.T) {
	const yaml = `
boards:
  - name: esp
    replicas: 3
    code: |
` + joinSimNet + `      print("ip", sta.ifconfig()[0])
`
	for _, tc := range []struct {
		above  int
		static bool
	}{{256, false}, {2, true}} {
		old := learnFromLeasesAbove
		t.Cleanup(func() { learnFromLeasesAbove = old }) // should building fail
		learnFromLeasesAbove = tc.above
		w := newTestWorld(t, parseYAML(t, "fleet.yaml", yaml), Options{})
		learnFromLeasesAbove = old
		res := runTestWorld(t, w)
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
