package wifi_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/esp8266sim/esp8266sim/internal/trace"
	"github.com/esp8266sim/esp8266sim/internal/vclock"
	"github.com/esp8266sim/esp8266sim/wifi"
)

// A station joins a WPA2 network; the trace shows every 802.11 step. (No
// Addressing is given, so the station stops after the 4-way handshake,
// waiting for an address; the sim layer wires netstack's DHCP client.)
func Example() {
	clock := vclock.New(vclock.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The program is an actor: time stands still while it runs.
	program := clock.NewActor("program")
	defer program.Close()
	go clock.Run(ctx)
	log := trace.New(trace.Config{})

	air, _ := wifi.New(wifi.Config{Clock: clock, Seed: 1, Trace: log})
	air.AddAP(wifi.APConfig{SSID: "SimNet", Security: wifi.WPA2PSK, Passphrase: "correct horse", Channel: 6})
	sta, _ := air.NewStation(wifi.StationConfig{Name: "esp1", MAC: []byte{0x5c, 0xcf, 0x7f, 1, 2, 3}, Active: true})

	sta.Connect(&wifi.JoinConfig{SSID: "SimNet", Key: "correct horse"})
	fmt.Println("status:", sta.Status())
	program.Sleep(ctx, 3*time.Second)

	for _, l := range log.Lines() {
		if !strings.Contains(l.Text, "probe") {
			fmt.Println(l)
		}
	}
	ap, _ := sta.AccessPoint()
	fmt.Println("associated with", ap.Name(), "status:", sta.Status())
	// Output:
	// status: STAT_CONNECTING
	// 1.950s esp1 → SimNet auth request (open system)
	// 1.954s SimNet → esp1 auth response ok
	// 1.954s esp1 → SimNet assoc request ssid="SimNet"
	// 1.962s SimNet → esp1 assoc response ok aid=1
	// 1.962s SimNet → esp1 EAPOL 1/4
	// 1.968s esp1 → SimNet EAPOL 2/4
	// 1.974s SimNet → esp1 EAPOL 3/4
	// 1.980s esp1 → SimNet EAPOL 4/4
	// 1.986s SimNet keys installed for esp1 (wpa2-psk)
	// 1.986s esp1 connected with SimNet, channel 6
	// associated with SimNet status: STAT_CONNECTING
}
