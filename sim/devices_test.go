package sim

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/esp8266sim/esp8266sim/sim/report"
)

// The hardware scenarios show their pin, interrupt, timer and reset events
// in the trace, and their devices' state in the JSON report.
func TestHardwareTraceAndReport(t *testing.T) {
	var tr syncBuf
	res := runTestWorld(t, newTestWorld(t, parseShipped(t, "hw_blink_button.yaml"), Options{Trace: &tr}))
	for _, want := range []string{
		"0.000s esp1 hw: boot: reset cause 0",
		"0.500s esp1 hw: timer 1 expired: callback scheduled",
		"0.500s esp1 hw: GPIO 2 = 1",
		"2.200s esp1 hw: GPIO 0 falling: handler scheduled",
	} {
		if !strings.Contains(tr.String(), want) {
			t.Errorf("trace lacks %q; trace:\n%s", want, tr.String())
		}
	}
	var buf strings.Builder
	if err := report.WriteJSON(&buf, res.Report()); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Boards []struct {
			Devices []struct {
				Name, Kind, State string
				Pin               int
			}
		}
	}
	if err := json.Unmarshal([]byte(buf.String()), &got); err != nil {
		t.Fatal(err)
	}
	devs := got.Boards[0].Devices
	if len(devs) != 2 || devs[0].Name != "led@2" || devs[0].State != "level 0" || devs[1].Name != "button@0" || devs[1].State != "level 1" {
		t.Errorf("devices in the report: %+v", devs)
	}
}

// The servo scenario's report shows the servo's angle from the PWM and
// what UART1 sent to its peer.
func TestServoAndUARTPeerReport(t *testing.T) {
	res := runShipped(t, "hw_servo_pot.yaml")
	devs := res.Report().Boards[0].Devices
	got := map[string]string{}
	for _, d := range devs {
		got[d.Name] = d.State
	}
	if got["servo@12"] != "180° (pulse 2500 µs)" {
		t.Errorf("servo: %q", got["servo@12"])
	}
	if got["uart_peer@UART1"] != `received "duty 26\nduty 128\n"` {
		t.Errorf("uart peer: %q", got["uart_peer@UART1"])
	}
}
