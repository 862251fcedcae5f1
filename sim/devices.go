package sim

import (
	"fmt"
	"sort"
	"time"

	"github.com/esp8266sim/esp8266sim/board/machine"
	"github.com/esp8266sim/esp8266sim/sim/report"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// defaultHold is how long a button press lasts when the scenario does not
// say.
const defaultHold = 100 * time.Millisecond

// wireDevices connects a board's scenario devices to its peripherals:
// inputs become pin or ADC timelines, sensors answer on their pins. The
// scenario was validated, so pins are valid.
func wireDevices(h *machine.Hardware, devs []scenario.Device, trace func(at time.Duration, s string)) {
	if trace != nil {
		h.Observe(func(e machine.Event) { trace(e.At, "hw: "+e.Text()) })
	}
	for _, d := range devs {
		pin := -1
		if d.Pin != nil {
			pin = *d.Pin
		}
		switch d.Kind {
		case "button":
			// Active low, as the tutorials wire it: to ground, with the
			// pin's pull-up holding it high when released.
			var ch []machine.Change
			for _, p := range d.Presses {
				hold := p.Hold.D()
				if hold <= 0 {
					hold = defaultHold
				}
				ch = append(ch, machine.Change{At: p.At.D(), Level: 0}, machine.Change{At: p.At.D() + hold, Level: -1})
			}
			sort.SliceStable(ch, func(i, j int) bool { return ch[i].At < ch[j].At })
			_ = h.Drive(pin, ch)
		case "switch":
			var ch []machine.Change
			for _, l := range d.Timeline {
				ch = append(ch, machine.Change{At: l.At.D(), Level: l.Level})
			}
			_ = h.Drive(pin, ch)
		case "potentiometer", "light_sensor":
			pts := []machine.ADCPoint{{Value: d.Value}}
			for _, l := range d.Timeline {
				pts = append(pts, machine.ADCPoint{At: l.At.D(), Value: l.Level})
			}
			h.DriveADC(pts)
		case "dht11", "dht22":
			model := 22
			if d.Kind == "dht11" {
				model = 11
			}
			h.AttachDHT(pin, &machine.DHT{Model: model, Temperature: d.Temperature, Humidity: d.Humidity})
		case "led":
			// An LED only shows the pin's level: the report reads it.
		}
	}
}

// deviceName is how reports name a device.
func deviceName(d scenario.Device) string {
	if d.Name != "" {
		return d.Name
	}
	if d.Pin != nil {
		return fmt.Sprintf("%s@%d", d.Kind, *d.Pin)
	}
	return d.Kind + "@A0"
}

func describeHardware(e scenario.Expect) string {
	if p := e.Pin; p != nil {
		if p.At == 0 {
			return fmt.Sprintf("GPIO %d is %d at the end", p.Pin, p.Value)
		}
		return fmt.Sprintf("GPIO %d is %d at %s", p.Pin, p.Value, p.At.D())
	}
	return fmt.Sprintf("boots with reset_cause() == %d", *e.ResetCause)
}

// checkHardware decides the pin and reset_cause expectations at the end of
// the run.
func (c *checker) checkHardware(ch *check, bn *boardNode, simEnd time.Duration, verdict func(ok bool, pass, fail string)) {
	if bn == nil || bn.board == nil {
		verdict(false, "", "the board never started")
		return
	}
	h := bn.board.Hardware()
	e := ch.exp
	if p := e.Pin; p != nil {
		at := p.At.D()
		if at == 0 {
			at = simEnd
		}
		got := h.LevelAt(p.Pin, at)
		verdict(got == p.Value, fmt.Sprintf("GPIO %d was %d", p.Pin, got), fmt.Sprintf("GPIO %d was %d", p.Pin, got))
		return
	}
	causes := h.Causes()
	ok := false
	for _, cause := range causes {
		ok = ok || cause == *e.ResetCause
	}
	verdict(ok, fmt.Sprintf("booted with causes %v", causes), fmt.Sprintf("booted with causes %v", causes))
}

// deviceRows is the state of the board's devices for the report.
func (w *World) deviceRows(bn *boardNode) []report.Device {
	if bn.board == nil {
		return nil
	}
	h := bn.board.Hardware()
	now := w.clock.Elapsed()
	var rows []report.Device
	for _, d := range bn.inst.Board.Devices {
		row := report.Device{Name: deviceName(d), Kind: d.Kind, Pin: -1}
		if d.Pin != nil {
			row.Pin = *d.Pin
		}
		switch d.Kind {
		case "potentiometer", "light_sensor":
			row.State = fmt.Sprintf("A0 %d", h.ReadADC(now))
		case "dht11", "dht22":
			row.State = fmt.Sprintf("%g °C %g %%RH", d.Temperature, d.Humidity)
		default:
			row.State = fmt.Sprintf("level %d", h.LevelAt(row.Pin, now))
		}
		rows = append(rows, row)
	}
	return rows
}
