package sim

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// Board.mac, Board.profile, FlashFile.from and DNS.ttl each take effect
// where the board or the wire can see it: the station reports the MAC the
// scenario gave it and sends from it, the flash holds the copied file's
// bytes, the board is the profile's model, and the DNS answers carry the
// scenario's TTL. One tiny run shows all four (see fieldCoverage).
func TestBoardAndDNSFieldsTakeEffect(t *testing.T) {
	dir := t.TempDir()
	// A flash file copied from beside the scenario file (FlashFile.from).
	if err := os.WriteFile(filepath.Join(dir, "settings.json"), []byte(`{"copied": "from disk"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	yaml := `
internet_hosts:
  - name: files.sim
    services: {tcp_echo: 7}
dns:
  ttl: 42s
boards:
  - name: esp1
    profile: esp8266
    mac: "5c:cf:7f:12:34:56"
    files:
      - {path: /settings.json, from: settings.json}
    code: |
` + joinSimNet + `      import os, socket, ubinascii
      print("mac", ubinascii.hexlify(sta.config("mac"), ":").decode())
      print("flash", open("/settings.json").read())
      print("machine", os.uname().machine)
      print("addr", socket.getaddrinfo("files.sim", 7)[0][-1][0])
`
	path := filepath.Join(dir, "fields.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Load(path)
	if err != nil {
		t.Fatalf("scenario: %v", err)
	}
	var pcap bytes.Buffer
	res, _ := runScenario(t, sc, Options{Pcap: &pcap})
	c := res.Boards[0].Console
	for _, want := range []string{
		"mac 5c:cf:7f:12:34:56",           // Board.mac, as the board reports it
		`flash {"copied": "from disk"}`,   // FlashFile.from
		"machine ESP module with ESP8266", // Board.profile: the esp8266 model
		"addr 203.0.113.",                 // the DNS answer the TTL rides on
	} {
		if !strings.Contains(c, want) {
			t.Errorf("console lacks %q", want)
		}
	}

	// On the wire: the DNS answers carry ttl (42 s, not the 5 min default)
	// and the station sends from the scenario's MAC.
	r, err := pcapgo.NewNgReader(bytes.NewReader(pcap.Bytes()), pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		t.Fatalf("capture: %v", err)
	}
	var ttls []uint32
	fromMAC := false
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("capture: %v", err)
		}
		pkt, src := decodeCaptured(r, ci.InterfaceIndex, data)
		if src.String() == "5c:cf:7f:12:34:56" {
			fromMAC = true
		}
		if d, ok := pkt.Layer(layers.LayerTypeDNS).(*layers.DNS); ok && d.QR {
			for _, a := range d.Answers {
				ttls = append(ttls, a.TTL)
			}
		}
	}
	if len(ttls) == 0 {
		t.Error("the capture holds no DNS answer")
	}
	for _, ttl := range ttls {
		if ttl != 42 {
			t.Errorf("DNS answer TTL %d, want 42 (dns.ttl)", ttl)
		}
	}
	if !fromMAC {
		t.Error("no frame in the capture comes from the board's MAC 5c:cf:7f:12:34:56")
	}
	if t.Failed() {
		t.Logf("console:\n%s", c)
	}
}

// A profile other than the one board model is refused with a sentence
// naming the field, not run as an esp8266.
func TestUnknownProfileIsRefused(t *testing.T) {
	_, err := scenario.Parse("test.yaml", []byte("boards:\n  - {name: esp1, profile: esp32}\n"), "yaml")
	if err == nil || !strings.Contains(err.Error(), "boards[0].profile") || !strings.Contains(err.Error(), `"esp32"`) {
		t.Fatalf("profile esp32: got %v, want an error naming boards[0].profile", err)
	}
}
