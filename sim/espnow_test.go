package sim

import (
	"bytes"
	"strings"
	"testing"
)

// ESP-NOW between boards: esp1 and esp2 play ping-pong on one channel;
// a board tuned to another channel never acknowledges (send returns
// False, as the ESP8266's send callback reports), nor does a peer
// registered on a channel that is not the sender's; sending before
// active(True) raises the port's OSError. The frames show in the trace.
func TestESPNowPingPong(t *testing.T) {
	sc := parseYAML(t, "espnow.yaml", `
duration: 30s
boards:
  - name: esp1
    mac: "5c:cf:7f:00:00:01"
    code: |
      import network, espnow
      sta = network.WLAN(network.STA_IF)
      sta.active(True)
      e = espnow.ESPNow()
      try:
          e.send(b"\x5c\xcf\x7f\x00\x00\x02", b"early")
      except OSError as err:
          print("inactive", err)
      e.active(True)
      peer = b"\x5c\xcf\x7f\x00\x00\x02"
      e.add_peer(peer)
      import time
      time.sleep(1)  # esp2 boots and listens
      for i in range(3):
          ok = e.send(peer, b"ping %d" % i)
          mac, msg = e.recv(2000)
          print("esp1", ok, msg, mac == peer)
      far = b"\x5c\xcf\x7f\x00\x00\x03"
      e.add_peer(far)
      print("far", e.send(far, b"hello"))
      e.del_peer(peer)
      e.add_peer(peer, None, 11)
      print("peer on channel 11", e.send(peer, b"x"))
      print("broadcast", e.send(b"\xff" * 6, b"all", True))
      print("timeout", e.recv(500))
  - name: esp2
    mac: "5c:cf:7f:00:00:02"
    code: |
      import network, espnow
      sta = network.WLAN(network.STA_IF)
      sta.active(True)
      e = espnow.ESPNow()
      e.active(True)
      e.add_peer(b"\x5c\xcf\x7f\x00\x00\x01")
      for i in range(3):
          mac, msg = e.recv(5000)
          e.send(mac, b"pong" + msg[4:])
      mac, msg = e.irecv(5000)
      print("esp2 broadcast", bytes(msg))
  - name: esp3
    mac: "5c:cf:7f:00:00:03"
    code: |
      import network, espnow
      sta = network.WLAN(network.STA_IF)
      sta.active(True)
      sta.config(channel=11)
      e = espnow.ESPNow()
      e.active(True)
      print("esp3", e.recv(3000))
expect:
  - {console_contains: "inactive 869", board: esp1}
  - {console_contains: "esp1 True b'pong 0' True", board: esp1}
  - {console_contains: "esp1 True b'pong 2' True", board: esp1}
  - {console_contains: "far False", board: esp1}
  - {console_contains: "peer on channel 11 False", board: esp1}
  - {console_contains: "broadcast True", board: esp1}
  - {console_contains: "timeout (None, None)", board: esp1}
  - {console_contains: "esp2 broadcast b'all'", board: esp2}
  - {console_contains: "esp3 (None, None)", board: esp3}
`)
	var trace bytes.Buffer
	res := runTestWorld(t, newTestWorld(t, sc, Options{Trace: &trace}))
	expectAll(t, res)
	tr := trace.String()
	for _, want := range []string{
		"esp1 → 5c:cf:7f:00:00:02 ESP-NOW action frame ch",
		"esp2 → esp1 ACK",
		"esp1 ESP-NOW frame to 5c:cf:7f:00:00:03 not acknowledged after 8 tries",
	} {
		if !strings.Contains(tr, want) {
			t.Errorf("trace lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("trace (ESP-NOW lines):\n%s", grepLines(tr, "ESP-NOW", "ACK"))
	}
}

func grepLines(s string, words ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, w := range words {
			if strings.Contains(l, w) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
