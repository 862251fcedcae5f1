package sim

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/board"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// runYAMLWith runs an inline scenario with a trace and a capture and returns
// them with the result.
func runYAMLWith(t *testing.T, yaml string) (res *Result, traceText string, pcap []byte) {
	t.Helper()
	sc, err := scenario.Parse("test.yaml", []byte(yaml), "yaml")
	if err != nil {
		t.Fatalf("scenario: %v", err)
	}
	fw, err := board.DefaultFirmware()
	if err != nil {
		t.Fatal(err)
	}
	var tr, capture lockedBuffer
	w, err := New(sc, Options{Firmware: fw, Trace: &tr, Pcap: &capture})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if res, err = w.Run(ctx, RunOptions{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	w.Close()
	return res, string(tr.Bytes()), capture.Bytes()
}

// downloadYAML is a board fetching a page of size bytes from an internet
// host over a raw socket, with the board's link given as YAML.
func downloadYAML(size int, link string) string {
	body := strings.Repeat("0123456789abcdef", size/16)
	return `
duration: 1m
internet_hosts:
  - name: web.sim
    ip: 203.0.113.10
    services:
      http:
        pages:
          - {path: /big, body: "` + body + `"}
boards:
  - name: esp1
    code: |
      import network, socket
      sta = network.WLAN(network.STA_IF)
      sta.active(True)
      sta.connect("SimNet", "esp8266sim")
      while not sta.isconnected():
          pass
      s = socket.socket()
      s.connect(socket.getaddrinfo("web.sim", 80)[0][-1])
      s.send(b"GET /big HTTP/1.0\r\nHost: web.sim\r\n\r\n")
      n = 0
      while True:
          d = s.recv(1024)
          if not d:
              break
          n += len(d)
      s.close()
      print("got", n)
links:
  - node: esp1
` + link
}

// A rate-limited link at 1 ms latency drops nothing, so TCP retransmits
// nothing (issue #14: half the segments were retransmitted by a tail-loss
// probe that fired before the queue let the first ACK through).
func TestBandwidthAtLowLatencyRetransmitsNothing(t *testing.T) {
	res, text, _ := runYAMLWith(t, downloadYAML(60000, "    latency: 1ms\n    bandwidth: 1mbit\n"))
	if c := res.Boards[0].Console; !strings.Contains(c, "got ") {
		t.Fatalf("the download did not finish; console:\n%s", c)
	}
	if strings.Contains(text, "DROP") {
		t.Fatalf("the link dropped frames; this test wants a lossless run")
	}
	var retrans []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, "(retransmission)") && !strings.Contains(l, " SimNet ") {
			retrans = append(retrans, l)
		}
	}
	if len(retrans) != 0 {
		t.Errorf("%d retransmissions on a lossless 1 Mbit/s link, want 0; first: %s", len(retrans), retrans[0])
	}
	_ = bytes.MinRead
}
