package sim

import (
	"strings"
	"testing"
)

// A fleet's boards keep one another's DHCP broadcasts and ARP requests for
// the gateway out of their gVisor stacks (netstack rxfilter.go; issue #20):
// each of three boards filters the other two's DISCOVER and REQUEST (the
// UDP half, which the world switches on for board NICs) and their ARP
// requests for the gateway, and all three still get an address.
func TestFleetBoardsFilterOthersBroadcasts(t *testing.T) {
	w := newTestWorld(t, parseYAML(t, "test.yaml", `
duration: 1m
boards:
  - name: esp1
    replicas: 3
    code: |
`+joinSimNet+`      print("ip", sta.ifconfig()[0])
      import socket
      socket.getaddrinfo("example.com", 80)
`), Options{})
	res := runTestWorld(t, w)
	if len(w.boards) != 3 {
		t.Fatalf("%d boards, want 3", len(w.boards))
	}
	for i, bn := range w.boards {
		arp, udp := bn.nic.FilteredBroadcasts()
		// Two DHCP broadcasts (DISCOVER, REQUEST) and one ARP request
		// for the gateway from each of the two other boards.
		if udp < 4 || arp < 2 {
			t.Errorf("%s filtered %d ARP requests and %d UDP broadcasts, want ≥ 2 and ≥ 4", bn.inst.Name, arp, udp)
		}
		if c := res.Boards[i].Console; !strings.Contains(c, "ip 192.168.1.") {
			t.Errorf("%s did not get an address:\n%s", bn.inst.Name, c)
		}
	}
}
