package sim

import (
	"bytes"
	"strings"
	"testing"
)

// Scenario fields whose effect no other test shows: each line the board
// prints is one field taking effect (see fieldCoverage).
func TestMoreScenarioFieldsTakeEffect(t *testing.T) {
	var trace bytes.Buffer
	res := runYAMLWith(t, `
wifi:
  access_points:
    - name: cafe
      ssid: Cafe
      security: open
      channel: 3
      bssid: "02:aa:00:00:00:03"
      hidden: true
      down: true
      dhcp: {range_start: 192.168.1.150, range_end: 192.168.1.160}
    - name: lab
      ssid: Lab
      passphrase: labpass99
      dhcp: {disabled: true}
      max_stations: 1
internet_hosts:
  - name: files.sim
    aliases: [cdn.sim]
    services:
      http:
        port: 8080
        pages:
          - {path: /data, body: "{}", content_type: application/json, status: 201}
      tcp_discard: 9
      udp_echo: 7
      ntp: true
      tcp_echo: 7
    faults:
      - {kind: slice, port: 7, bytes: 2, delay: 100ms, probability: 100}
dns:
  records:
    - {name: alias.sim, cname: files.sim}
    - {name: fixed.sim, a: 203.0.113.99}
  ttl: 42s
  wrong_address: 198.51.100.7
boards:
  - name: esp1
    files:
      - {path: /data/greeting.txt, content: "hi from flash"}
    code: |
      import network, socket, time
      print("file", open("/data/greeting.txt").read())
      sta = network.WLAN(network.STA_IF)
      sta.active(True)
      seen = {n[0].decode(): (n[1], n[2]) for n in sta.scan()}
      print("scan before ap_up", "Cafe" in seen)
      time.sleep(3)
      seen = {n[0].decode(): (n[1], n[2]) for n in sta.scan()}
      print("scan hidden", "Cafe" in seen, [v for k, v in seen.items() if k == ""])
      sta.connect("Cafe")
      while not sta.isconnected():
          time.sleep_ms(100)
      print("cafe", sta.ifconfig()[0], sta.config("channel"))
      a = lambda n, p=80: socket.getaddrinfo(n, p)[0][-1]
      print("alias", a("cdn.sim")[0], "cname", a("alias.sim")[0], "a", a("fixed.sim")[0])
      s = socket.socket()
      s.connect(a("files.sim", 8080))
      s.send(b"GET /data HTTP/1.0\r\n\r\n")
      r = b""
      while True:
          d = s.recv(512)
          if not d:
              break
          r += d
      s.close()
      print("http", r.split(b"\r\n")[0].decode(), b"application/json" in r)
      s = socket.socket()
      s.connect(a("files.sim", 9))
      print("discard", s.send(b"x" * 100))
      s.close()
      u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
      u.settimeout(2)
      u.sendto(b"ping", a("files.sim", 7))
      print("udp", u.recv(16))
      u.close()
      q = bytearray(48)
      q[0] = 0x1B
      u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
      u.settimeout(2)
      u.sendto(q, a("files.sim", 123))
      print("ntp", len(u.recv(48)))
      u.close()
      s = socket.socket()
      s.connect(a("files.sim", 7))
      s.send(b"abcdef")
      t0 = time.ticks_ms()
      got = b""
      while len(got) < 6:
          got += s.recv(6)
      print("slice ms=%d" % time.ticks_diff(time.ticks_ms(), t0))
      s.close()
      while time.ticks_ms() < 25000:
          time.sleep_ms(100)
      try:
          print("wrong", a("anything.sim")[0])
      except OSError as e:
          print("wrong failed", e)
faults:
  - {at: 2s, kind: ap_up, target: cafe}
  - {at: 20s, kind: dns_fail, target: cafe, mode: wrong}
`, Options{Trace: &trace})
	c := res.Boards[0].Console
	for _, want := range []string{
		"file hi from flash",      // FlashFile.content
		"scan before ap_up False", // AccessPoint.down
		"scan hidden False [(b'\\x02\\xaa\\x00\\x00\\x00\\x03', 3)]", // hidden, bssid, channel
		"cafe 192.168.1.150 3",                                 // security open, DHCP range_start
		"alias 203.0.113.10 cname 203.0.113.10 a 203.0.113.99", // aliases, records
		"http HTTP/1.0 201 Created True",                       // Site.port, Page.status, content_type
		"discard 100",                                          // tcp_discard
		"udp b'ping'",                                          // udp_echo
		"ntp 48",                                               // ntp
		"wrong 198.51.100.7",                                   // dns wrong_address
	} {
		if !strings.Contains(c, want) {
			t.Errorf("console lacks %q", want)
		}
	}
	// The slice fault (bytes, delay, probability) cuts the echo of six
	// bytes into three pieces 100 ms apart.
	if ms := numbers(t, c, "ms"); len(ms) != 1 || ms[0] < 200 {
		t.Errorf("sliced echo took %v ms, want ≥ 200", ms)
	}
	if t.Failed() {
		t.Logf("console:\n%s", c)
	}
}
