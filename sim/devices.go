package sim

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"sort"
	"strings"
	"time"

	"github.com/esp8266sim/esp8266sim/board"
	"github.com/esp8266sim/esp8266sim/board/devices"
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
	for i, d := range devs {
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
		case "ds18b20":
			serial := d.Serial
			if serial == 0 {
				serial = uint64(0x5eed00 + i)
			}
			h.AttachOneWire(pin, devices.NewDS18B20(serial, d.Temperature))
		case "bme280":
			p := d.Pressure
			if p == 0 {
				p = 1013.25
			}
			_ = h.AttachI2C(i2cAddr(d), devices.NewBME280(d.Temperature, p, d.Humidity))
		case "ssd1306":
			w, hgt := d.Width, d.Height
			if w == 0 {
				w, hgt = 128, 64
			}
			if d.CS != nil {
				_ = h.AttachSPI(*d.CS, *d.DC, devices.NewSSD1306(w, hgt))
				continue
			}
			_ = h.AttachI2C(i2cAddr(d), devices.NewSSD1306(w, hgt))
		case "led", "neopixel":
			// Outputs: the report and expectations read the pin or the
			// frame the strip latched.
		}
	}
}

// i2cAddr is an I2C device's address, with the ssd1306's usual default.
func i2cAddr(d scenario.Device) int {
	if d.Addr != 0 {
		return d.Addr
	}
	if d.Kind == "bme280" {
		return 0x76
	}
	return 0x3c
}

// display returns the ssd1306 at addr on the board's bus, or nil.
func display(h *machine.Hardware, addr int) *devices.SSD1306 {
	d, _ := h.I2CDevice(addr).(*devices.SSD1306)
	return d
}

// deviceName is how reports name a device.
func deviceName(d scenario.Device) string {
	if d.Name != "" {
		return d.Name
	}
	if d.Pin != nil {
		return fmt.Sprintf("%s@%d", d.Kind, *d.Pin)
	}
	if d.Kind == "uart_peer" {
		return "uart_peer@UART1"
	}
	if d.Kind == "ssd1306" && d.CS != nil {
		return fmt.Sprintf("ssd1306@spi-cs%d", *d.CS)
	}
	if d.Kind == "ssd1306" || d.Kind == "bme280" {
		return fmt.Sprintf("%s@%#x", d.Kind, i2cAddr(d))
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
	if n := e.NeoPixel; n != nil {
		return fmt.Sprintf("LED %d of the strip on GPIO %d shows %v", n.Index, n.Pin, n.Color)
	}
	if p := e.PWM; p != nil {
		s := fmt.Sprintf("GPIO %d runs PWM", p.Pin)
		if p.Freq > 0 {
			s += fmt.Sprintf(" at %d Hz", p.Freq)
		}
		if p.Duty != nil {
			s += fmt.Sprintf(" with duty %d", *p.Duty)
		}
		return s
	}
	if d := e.Display; d != nil {
		if d.PNG != "" {
			return fmt.Sprintf("the display shows %s", d.PNG)
		}
		if d.Text != "" {
			return fmt.Sprintf("the display shows the text %q", d.Text)
		}
		return fmt.Sprintf("the display lights at least %d pixels", d.LitMin)
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
	if n := e.NeoPixel; n != nil {
		// A pixel past the strip's last LED is not black: it does not
		// exist, and an expectation on it is wrong about the hardware.
		for _, d := range bn.inst.Board.Devices {
			if d.Kind == "neopixel" && d.Pin != nil && *d.Pin == n.Pin && n.Index >= d.Count {
				verdict(false, "", fmt.Sprintf("the strip on GPIO %d has %d LEDs, no LED %d", n.Pin, d.Count, n.Index))
				return
			}
		}
		cols := machine.NeoPixelColors(h.Strip(n.Pin), n.Index+1)
		got := cols[n.Index]
		ok := len(n.Color) == 3 && int(got[0]) == n.Color[0] && int(got[1]) == n.Color[1] && int(got[2]) == n.Color[2]
		msg := fmt.Sprintf("LED %d shows %v", n.Index, []int{int(got[0]), int(got[1]), int(got[2])})
		verdict(ok, msg, msg)
		return
	}
	if p := e.PWM; p != nil {
		st, ok := h.PWM(p.Pin)
		if !ok {
			verdict(false, "", fmt.Sprintf("GPIO %d has no PWM output", p.Pin))
			return
		}
		good := (p.Freq == 0 || st.Freq == p.Freq) && (p.Duty == nil || st.Duty == *p.Duty)
		msg := fmt.Sprintf("GPIO %d at %d Hz, duty %d", p.Pin, st.Freq, st.Duty)
		verdict(good, msg, msg)
		return
	}
	if d := e.Display; d != nil {
		addr := d.Addr
		if addr == 0 {
			addr = 0x3c
		}
		disp := display(h, addr)
		where := fmt.Sprintf("at %#x", addr)
		if d.CS != nil {
			disp, _ = h.SPIDevice(*d.CS).(*devices.SSD1306)
			where = fmt.Sprintf("on SPI with cs %d", *d.CS)
		}
		if disp == nil {
			verdict(false, "", fmt.Sprintf("no ssd1306 %s on the board", where))
			return
		}
		if d.Text != "" {
			rows, err := board.TextBitmap(c.w.opts.Firmware, d.Text)
			if err != nil {
				verdict(false, "", err.Error())
				return
			}
			x, y, ok := disp.FindBitmap(rows)
			verdict(ok, fmt.Sprintf("%q drawn at (%d, %d)", d.Text, x, y), fmt.Sprintf("the panel does not show %q", d.Text))
			return
		}
		lit := disp.Lit()
		if d.LitMin > 0 {
			verdict(lit >= d.LitMin, fmt.Sprintf("%d pixels lit", lit), fmt.Sprintf("%d pixels lit", lit))
			return
		}
		want, err := c.w.sc.ReadFile(d.PNG)
		if err != nil {
			verdict(false, "", fmt.Sprintf("reading %s: %v", d.PNG, err))
			return
		}
		diff, err := pngDiff(want, disp.PNG())
		if err != nil {
			verdict(false, "", err.Error())
			return
		}
		verdict(diff == 0, "the panel matches", fmt.Sprintf("%d pixels differ from %s", diff, d.PNG))
		return
	}
	causes := h.Causes()
	ok := false
	for _, cause := range causes {
		ok = ok || cause == *e.ResetCause
	}
	verdict(ok, fmt.Sprintf("booted with causes %v", causes), fmt.Sprintf("booted with causes %v", causes))
}

// deviceRows is the state of the board's devices for the report, and its
// displays' panels as PNG.
func (w *World) deviceRows(bn *boardNode) ([]report.Device, map[string][]byte) {
	if bn.board == nil {
		return nil, nil
	}
	var pngs map[string][]byte
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
		case "ds18b20":
			row.State = fmt.Sprintf("%g °C", d.Temperature)
		case "uart_peer":
			row.State = fmt.Sprintf("received %q", clip(string(h.UART1Sent()), 200))
		case "bme280":
			row.State = fmt.Sprintf("%g °C %g hPa %g %%RH", d.Temperature, d.Pressure, d.Humidity)
		case "servo":
			row.State = servoState(h, row.Pin)
		case "ssd1306":
			if disp := display(h, i2cAddr(d)); disp != nil {
				onOff := "off"
				if disp.On() {
					onOff = "on"
				}
				row.State = fmt.Sprintf("display %s, %d pixels lit", onOff, disp.Lit())
				if pngs == nil {
					pngs = map[string][]byte{}
				}
				pngs[row.Name] = disp.PNG()
			}
		case "neopixel":
			var parts []string
			for _, c := range machine.NeoPixelColors(h.Strip(row.Pin), d.Count) {
				parts = append(parts, fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2]))
			}
			row.State = strings.Join(parts, " ")
		default:
			row.State = fmt.Sprintf("level %d", h.LevelAt(row.Pin, now))
		}
		rows = append(rows, row)
	}
	return rows, pngs
}

// pngDiff counts the pixels whose lit state differs between two images of
// the same size.
func pngDiff(want, got []byte) (int, error) {
	a, err := png.Decode(bytes.NewReader(want))
	if err != nil {
		return 0, fmt.Errorf("reference image: %w", err)
	}
	b, err := png.Decode(bytes.NewReader(got))
	if err != nil {
		return 0, fmt.Errorf("panel image: %w", err)
	}
	if a.Bounds() != b.Bounds() {
		return 0, fmt.Errorf("reference image is %v, the panel %v", a.Bounds().Size(), b.Bounds().Size())
	}
	lit := func(img image.Image, x, y int) bool {
		r, g, bl, _ := img.At(x, y).RGBA()
		return r+g+bl > 3*0x7fff
	}
	n := 0
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if lit(a, x, y) != lit(b, x, y) {
				n++
			}
		}
	}
	return n, nil
}

// servoState is a hobby servo's position from the PWM on its pin: it
// follows a pulse of 0.5 ms (0°) to 2.5 ms (180°), repeated at ~50 Hz.
func servoState(h *machine.Hardware, pin int) string {
	st, ok := h.PWM(pin)
	if !ok || st.Freq == 0 {
		return "no signal"
	}
	pulseUS := float64(st.Duty) / 1024 * 1e6 / float64(st.Freq)
	if pulseUS < 400 || pulseUS > 2600 {
		return fmt.Sprintf("pulse %.0f µs: out of range", pulseUS)
	}
	angle := (pulseUS - 500) / 2000 * 180
	return fmt.Sprintf("%.0f° (pulse %.0f µs)", min(max(angle, 0), 180), pulseUS)
}
