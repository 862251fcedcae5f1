package sim

import (
	"regexp"
	"strings"
	"testing"
)

// Fault kinds no other scenario-level test shows, each seen by the board:
// dns_fail then dns_ok (a name fails, then resolves), host_fault (refuse)
// then host_ok (a port refuses, then answers), link (a window of latency
// on the board's link), deauth (the station drops off), dhcp_silent (it
// cannot get an address back), and the host faults latency, reset_after
// and slow_close on hosts of their own. See kindCoverage.
func TestTimelineFaultKindsTakeEffect(t *testing.T) {
	res := runYAML(t, `
time_mode: fast
duration: 45s
internet_hosts:
  - name: files.sim
    services: {tcp_echo: 7}
  - name: lat.sim
    services: {tcp_echo: 7}
    faults: [{kind: latency, delay: 500ms}]
  - name: rst.sim
    services: {tcp_echo: 7}
    faults: [{kind: reset_after, bytes: 4, direction: downstream}]
  - name: slow.sim
    services:
      http: {pages: [{path: /, body: hi}]}
    faults: [{kind: slow_close, delay: 2s}]
faults:
  - {at: 10s, kind: dns_fail, mode: nxdomain}
  - {at: 12s, kind: dns_ok}
  - {at: 10s, kind: host_fault, target: files.sim, host_fault: {kind: refuse, port: 7}}
  - {at: 12s, kind: host_ok, target: files.sim}
  - {at: 14s, for: 2s, kind: link, target: esp1, link: {latency: 400ms}}
  - {at: 20s, kind: dhcp_silent}
  - {at: 21s, kind: deauth, target: esp1}
boards:
  - name: esp1
    code: |
`+joinSimNet+`      import socket
      def until(ms):
          while time.ticks_ms() < ms:
              time.sleep_ms(50)
      def resolve(name="files.sim"):
          try:
              return socket.getaddrinfo(name, 7)[0][-1]
          except OSError as e:
              return "err %s" % e
      def dial(addr):
          s = socket.socket()
          try:
              s.connect(addr)
              return "open"
          except OSError as e:
              return "err %s" % e
          finally:
              s.close()
      def echo_ms(addr):
          s = socket.socket()
          s.connect(addr)
          t0 = time.ticks_ms()
          s.send(b"ping")
          got = b""
          while len(got) < 4:
              got += s.recv(4)
          s.close()
          return time.ticks_diff(time.ticks_ms(), t0)
      addr = resolve()
      print("before dns", addr[0], dial(addr))
      print("latency host rtt=%d" % echo_ms(resolve("lat.sim")))
      s = socket.socket()
      s.connect(resolve("rst.sim"))
      s.send(b"0123456789")
      got = b""
      try:
          while True:
              d = s.recv(16)
              if not d:
                  break
              got += d
          print("reset_after none", got)
      except OSError as e:
          print("reset_after", got, e)
      s.close()
      s = socket.socket()
      s.connect(socket.getaddrinfo("slow.sim", 80)[0][-1])
      s.send(b"GET / HTTP/1.0\r\n\r\n")
      first = s.recv(512)
      t0 = time.ticks_ms()
      while s.recv(512):
          pass
      print("slow_close fin=%d" % time.ticks_diff(time.ticks_ms(), t0), first.split(b"\r\n")[0])
      s.close()
      until(11000)
      print("during dns", resolve(), dial(addr))
      until(13000)
      print("after dns", resolve()[0], dial(addr))
      print("plain link=%d" % echo_ms(addr))
      until(14500)
      print("impaired link=%d" % echo_ms(addr))
      until(19000)
      print("before deauth", sta.isconnected())
      until(21500)
      print("deauthed", sta.isconnected())
      until(34000)
      print("dhcp silent", sta.isconnected(), sta.status())
`)
	c := res.Boards[0].Console
	for _, want := range []string{
		"before dns 203.0.113.10 open",
		"during dns err -2 err [Errno 104] ECONNRESET", // dns_fail nxdomain; host_fault refuse
		"after dns 203.0.113.10 open",                  // dns_ok; host_ok
		"before deauth True",
		"deauthed False",      // deauth
		"dhcp silent False 1", // dhcp_silent: still connecting, no address
	} {
		if !strings.Contains(c, want) {
			t.Errorf("console lacks %q", want)
		}
	}
	// reset_after: at most 4 bytes come back, then the RST.
	if !regexp.MustCompile(`reset_after b'(0|01|012|0123)?' \[Errno 104\] ECONNRESET`).MatchString(c) {
		t.Error("reset_after: want at most 4 echoed bytes, then ECONNRESET")
	}
	// latency delays each write by its 500 ms (the ping and its echo); slow_close holds the FIN 2 s
	// after the answer (the script reads its clock a few ms of code after
	// the answer arrived, so the FIN can read just under 2 s); the link fault's 400 ms each way slows the echo
	// that took a few ms before it.
	for _, n := range []struct {
		key      string
		min, max int
	}{{"rtt", 1000, 1500}, {"fin", 1950, 3000}, {"plain link", 0, 100}, {"impaired link", 800, 2000}} {
		got := numbers(t, c, n.key)
		if len(got) != 1 || got[0] < n.min || got[0] > n.max {
			t.Errorf("%s = %v ms, want one value in [%d, %d]", n.key, got, n.min, n.max)
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", c)
	}
}
