package report_test

import (
	"os"
	"time"

	"github.com/esp8266sim/esp8266sim/sim/report"
)

func ExampleWriteText() {
	r := &report.Run{
		Scenario: "connect", Seed: 1, SimTime: 4200 * time.Millisecond, Frames: 12,
		Boards: []report.Board{{
			Name:    "esp1",
			WiFi:    report.WiFi{Status: "got_ip", SSID: "SimNet", IP: "192.168.1.100"},
			Exit:    report.Exit{Kind: report.ExitClean, At: 4200 * time.Millisecond},
			Console: []string{"network config: ('192.168.1.100', '255.255.255.0', '192.168.1.1', '192.168.1.1')"},
		}},
		Expectations: []report.Expectation{{Description: "esp1 exits cleanly", Passed: true, At: 4200 * time.Millisecond}},
	}
	report.WriteText(os.Stdout, r, report.TextOptions{})
	// Output:
	// PASS connect: 1/1 expectations passed (sim 4.200s, wall 0.000s, 12 frames, seed 1)
	//
	// board esp1: exited cleanly at 4.200s; wifi got_ip SimNet 192.168.1.100
	//   console:
	//   | network config: ('192.168.1.100', '255.255.255.0', '192.168.1.1', '192.168.1.1')
	//   sockets: none
	//
	// expectations:
	//   pass  esp1 exits cleanly (at 4.200s)
}
