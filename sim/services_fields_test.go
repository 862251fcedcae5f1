package sim

import (
	"reflect"
	"strings"
	"testing"

	"github.com/esp8266sim/esp8266sim/netstack/services"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// The simulated internet's service fields, seen from a board (issue #16):
// site and page headers, plain HTTP on 443 (axTLS's RECORD_OVERFLOW), an
// HTTPS site limited to suites the ESP8266 does not offer (alert 40) and
// one limited to one it does, and a blackhole host (connect times out
// instead of being refused).
func TestServiceFieldsFromABoard(t *testing.T) {
	res := runYAML(t, `
duration: 3m
internet_hosts:
  - name: headers.sim
    services:
      http:
        headers: [{name: X-Site, value: "yes"}, {name: Server}]
        pages:
          - path: /
            body: "hi"
            headers: [{name: X-Page, value: p}]
  - name: plain443.sim
    services:
      http:
        port: 443
        pages: [{path: /, body: "plain"}]
  - name: ecdhe.sim
    services:
      https:
        pages: [{path: /, body: "x"}]
        tls: {cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]}
  - name: aes256.sim
    services:
      https:
        pages: [{path: /, body: "aes256 page"}]
        tls: {cipher_suites: [TLS_RSA_WITH_AES_256_CBC_SHA], key: rsa, intermediates: 1}
  - name: big.sim
    services:
      https:
        pages: [{path: /, body: "`+strings.Repeat("x", 6000)+`"}]
  - name: bignginx.sim
    services:
      https:
        pages: [{path: /, body: "`+strings.Repeat("x", 6000)+`"}]
        tls: {full_records: true}
  - name: hole.sim
    blackhole: true
boards:
  - name: esp1
    code: |
      import network, socket, ssl, time
      w = network.WLAN(network.STA_IF)
      w.active(True)
      w.connect("SimNet", "esp8266sim")
      while not w.isconnected():
          time.sleep(0.5)
      def conn(host, port, timeout=None):
          s = socket.socket()
          s.settimeout(timeout)
          s.connect(socket.getaddrinfo(host, port)[0][-1])
          return s
      def get(s, host):
          s.write(b"GET / HTTP/1.0\r\nHost: " + host.encode() + b"\r\n\r\n")
          out = b""
          while True:
              d = s.read(512)
              if not d:
                  break
              out += d
          s.close()
          return out
      r = get(conn("headers.sim", 80), "headers.sim")
      print("headers", b"X-Site: yes" in r, b"X-Page: p" in r, b"Server:" in r)
      for host in ("plain443.sim", "ecdhe.sim", "aes256.sim", "big.sim", "bignginx.sim"):
          try:
              r = get(ssl.wrap_socket(conn(host, 443), server_hostname=host), host)
              r = r.split(b"\r\n\r\n")[-1]
              print(host, r if len(r) < 100 else len(r))
          except OSError as e:
              print(host, "OSError", e.args)
      t0 = time.ticks_ms()
      try:
          conn("hole.sim", 80, 5)
      except OSError as e:
          print("hole", e.args, time.ticks_diff(time.ticks_ms(), t0) >= 5000)
expect:
  - exit: clean
`)
	out := res.Boards[0].Console
	for _, want := range []string{
		"headers True True False",
		"TLS buffer overflow, record size: 20527 (+5)",
		"plain443.sim OSError (-257, 'RECORD_OVERFLOW')",
		"ecdhe.sim OSError (-40,)",
		"aes256.sim b'aes256 page'",
		"big.sim 6000",
		"bignginx.sim OSError (-257, 'RECORD_OVERFLOW')",
		"hole (110,) True",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("console lacks %q:\n%s", want, out)
		}
	}
}

// An https site's tls fields become the service's options.
func TestHTTPSOptionsFromScenario(t *testing.T) {
	site := &scenario.Site{
		HTTP11:  true,
		Headers: []scenario.Header{{Name: "X", Value: "1"}},
		TLS: &scenario.SiteTLS{
			CipherSuites: []string{"TLS_RSA_WITH_AES_128_CBC_SHA", "0xc02f"},
			MaxVersion:   "1.2", Key: "ecdsa", SelfSigned: true, FullRecords: true,
		},
	}
	got, err := httpsOptions(site)
	if err != nil {
		t.Fatal(err)
	}
	want := services.HTTPSOptions{
		CipherSuites: []uint16{0x002f, 0xc02f},
		MaxTLS12:     true,
		FullRecords:  true,
		HTTP:         services.HTTPOptions{Headers: []services.Header{{Name: "X", Value: "1"}}, AlwaysHTTP11: true},
		Cert:         services.CertOptions{Key: services.KeyECDSA, SelfSigned: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("httpsOptions = %+v, want %+v", got, want)
	}
	if _, err := scenario.Parse("t.yaml", []byte("internet_hosts:\n  - name: a.sim\n    services:\n      https:\n        tls: {cipher_suites: [TLS_NOPE]}\n"), "yaml"); err == nil || !strings.Contains(err.Error(), "cipher_suites[0]") {
		t.Errorf("unknown suite: %v, want an error naming cipher_suites[0]", err)
	}
	if _, err := scenario.Parse("t.yaml", []byte("internet_hosts:\n  - name: a.sim\n    services:\n      http:\n        tls: {key: rsa}\n"), "yaml"); err == nil || !strings.Contains(err.Error(), "https sites only") {
		t.Errorf("tls on http: %v, want an error", err)
	}
}

// tests/net_inet/world.yaml (the hosts MicroPython's net_inet tests use)
// stays a valid scenario.
func TestNetInetWorldLoads(t *testing.T) {
	sc, err := scenario.Load("../tests/net_inet/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if h := sc.InternetHosts[0]; h.Name != "micropython.org" || h.Services.HTTP == nil || !h.Services.HTTP.HTTP11 {
		t.Errorf("micropython.org is not served as net_inet expects: %+v", h)
	}
}
