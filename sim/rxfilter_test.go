package sim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/board"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// A fleet's boards keep one another's DHCP broadcasts and ARP requests for
// the gateway out of their gVisor stacks (netstack rxfilter.go; issue #20):
// each of three boards filters the other two's DISCOVER and REQUEST (the
// UDP half, which the world switches on for board NICs) and their ARP
// requests for the gateway, and all three still get an address.
func TestFleetBoardsFilterOthersBroadcasts(t *testing.T) {
	sc, err := scenario.Parse("test.yaml", []byte(`
duration: 1m
boards:
  - name: esp1
    replicas: 3
    code: |
      import network, time
      sta = network.WLAN(network.STA_IF)
      sta.active(True)
      sta.connect("SimNet", "esp8266sim")
      while not sta.isconnected():
          time.sleep_ms(100)
      print("ip", sta.ifconfig()[0])
      import socket
      socket.getaddrinfo("example.com", 80)
`), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	fw, err := board.DefaultFirmware()
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(sc, Options{Firmware: fw})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := w.Run(ctx, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
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
