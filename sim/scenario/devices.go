package scenario

import "fmt"

// Device is a simulated part wired to a board (boards[].devices): an input
// the script reads (a button, a switch, a potentiometer, a DHT sensor) or an
// output it drives (an LED), whose state the report shows.
type Device struct {
	// Kind is button, switch, led, potentiometer, light_sensor, dht11 or
	// dht22.
	Kind string `json:"kind"`
	// Name labels the device in reports; default kind and pin ("button@0").
	Name string `json:"name,omitempty"`
	// Pin is the GPIO the device is on (not for potentiometer and
	// light_sensor, which are on the ADC input A0).
	Pin *int `json:"pin,omitempty"`
	// Presses are a button's presses: it pulls the pin to ground from At
	// for Hold (default 100ms), then lets go (the pull-up reads 1 again).
	Presses []Press `json:"presses,omitempty"`
	// Timeline is a switch's positions: the level the pin takes at each
	// time (0 or 1), or an ADC device's readings over time.
	Timeline []DeviceLevel `json:"timeline,omitempty"`
	// Value is an ADC device's steady reading, 0..1024.
	Value int `json:"value,omitempty"`
	// Temperature (°C) and Humidity (%RH) are a DHT sensor's reading; a
	// ds18b20 uses Temperature.
	Temperature float64 `json:"temperature,omitempty"`
	Humidity    float64 `json:"humidity,omitempty"`
	// Pressure is a bme280's reading in hPa (default 1013.25).
	Pressure float64 `json:"pressure,omitempty"`
	// Addr is an I2C device's 7-bit address; default 0x3C for ssd1306,
	// 0x76 for bme280.
	Addr int `json:"addr,omitempty"`
	// CS and DC put an ssd1306 on the SPI bus instead of I2C: the GPIOs of
	// its chip select and its data/command input.
	CS *int `json:"cs,omitempty"`
	DC *int `json:"dc,omitempty"`
	// Width and Height are an ssd1306's panel size; default 128×64.
	Width  int `json:"width,omitempty"`
	Height int `json:"height,omitempty"`
	// Count is a neopixel strip's number of LEDs.
	Count int `json:"count,omitempty"`
	// Serial is a ds18b20's 48-bit serial number (its ROM code's middle);
	// default derived from its position. Several ds18b20 may share a pin.
	Serial uint64 `json:"serial,omitempty"`
}

// Press is one press of a button.
type Press struct {
	// At is when the button goes down.
	At Duration `json:"at"`
	// Hold is how long it stays down; default 100ms.
	Hold Duration `json:"hold,omitempty"`
}

// DeviceLevel is a device's level or reading from a time on.
type DeviceLevel struct {
	At    Duration `json:"at"`
	Level int      `json:"level"`
}

// deviceKinds: kind → whether it sits on a GPIO (else on A0).
var deviceKinds = map[string]bool{
	"button": true, "switch": true, "led": true, "dht11": true, "dht22": true,
	"neopixel": true, "ds18b20": true, "servo": true, "potentiometer": false, "light_sensor": false, "ssd1306": false,
	"bme280": false, "uart_peer": false,
}

// validGPIO lists the pins machine.Pin accepts on the ESP8266.
func validGPIO(p int) bool {
	switch p {
	case 0, 1, 2, 3, 4, 5, 9, 10, 12, 13, 14, 15, 16:
		return true
	}
	return false
}

func (v *validator) devices(f string, b *Board) {
	used := map[int]int{}
	for i, d := range b.Devices {
		df := fmt.Sprintf("%s.devices[%d]", f, i)
		onPin, ok := deviceKinds[d.Kind]
		if !ok {
			v.errf(df+".kind", "unknown device %q; use button, switch, led, potentiometer, light_sensor, dht11, dht22, ds18b20, neopixel, servo, ssd1306, bme280 or uart_peer", d.Kind)
			continue
		}
		if onPin {
			switch {
			case d.Pin == nil:
				v.errf(df+".pin", "missing: name the GPIO the %s is on, e.g. pin: 0", d.Kind)
			case !validGPIO(*d.Pin):
				v.errf(df+".pin", "GPIO %d is not a pin the ESP8266 offers; use 0-5, 9, 10, 12-16", *d.Pin)
			default:
				if j, dup := used[*d.Pin]; dup && !(d.Kind == "ds18b20" && b.Devices[j].Kind == "ds18b20") {
					v.errf(df+".pin", "GPIO %d already has devices[%d]", *d.Pin, j)
				}
				used[*d.Pin] = i
			}
		} else if d.Pin != nil && d.Kind == "uart_peer" {
			v.errf(df+".pin", "a uart_peer listens to UART1's TX (GPIO 2); leave pin out")
		} else if d.Pin != nil && (d.Kind == "ssd1306" || d.Kind == "bme280") {
			v.errf(df+".pin", "a %s is on the I2C bus; give its addr instead of a pin (an ssd1306 on SPI: cs and dc)", d.Kind)
		} else if d.Pin != nil {
			v.errf(df+".pin", "a %s is on the ADC input A0; leave pin out", d.Kind)
		}
		if d.CS != nil || d.DC != nil {
			switch {
			case d.Kind != "ssd1306":
				v.errf(df+".cs", "only an ssd1306 goes on the SPI bus")
			case d.CS == nil || d.DC == nil:
				v.errf(df, "an ssd1306 on SPI needs both cs and dc")
			case d.Addr != 0:
				v.errf(df+".addr", "an ssd1306 on SPI (cs, dc) has no I2C address")
			case !validGPIO(*d.CS) || !validGPIO(*d.DC) || *d.CS == *d.DC:
				v.errf(df, "cs %d and dc %d must be two different usable GPIOs (0-5, 9, 10, 12-16)", *d.CS, *d.DC)
			}
		}
		if d.Addr < 0 || d.Addr > 0x7f {
			v.errf(df+".addr", "%#x is not a 7-bit I2C address", d.Addr)
		}
		if d.Kind == "ssd1306" && !(d.Width == 0 && d.Height == 0 || d.Width == 128 && (d.Height == 64 || d.Height == 32)) {
			v.errf(df, "an ssd1306 panel is 128×64 or 128×32, got %d×%d", d.Width, d.Height)
		}
		if d.Kind == "neopixel" && (d.Count < 1 || d.Count > 1024) {
			v.errf(df+".count", "a strip has 1 to 1024 LEDs, got %d", d.Count)
		}
		if d.Value < 0 || d.Value > 1024 {
			v.errf(df+".value", "%d is out of range; the ADC reads 0..1024", d.Value)
		}
		for j, p := range d.Presses {
			v.at(fmt.Sprintf("%s.presses[%d].at", df, j), p.At)
		}
		for j, l := range d.Timeline {
			lf := fmt.Sprintf("%s.timeline[%d]", df, j)
			v.at(lf+".at", l.At)
			if onPin && l.Level != 0 && l.Level != 1 {
				v.errf(lf+".level", "%d: a pin level is 0 or 1", l.Level)
			}
			if !onPin && (l.Level < 0 || l.Level > 1024) {
				v.errf(lf+".level", "%d is out of range; the ADC reads 0..1024", l.Level)
			}
		}
		if len(d.Presses) > 0 && d.Kind != "button" {
			v.errf(df+".presses", "only a button has presses")
		}
	}
}

// PinExpect is a GPIO's expected level: at a time, or at the end of the
// run when At is left out.
type PinExpect struct {
	// Pin is the GPIO.
	Pin int `json:"pin"`
	// Value is the level, 0 or 1.
	Value int `json:"value"`
	// At is when the pin must have that level; default the end of the run.
	At Duration `json:"at,omitempty"`
}

func (v *validator) hardwareExpect(f string, e *Expect) {
	if p := e.Pin; p != nil {
		if !validGPIO(p.Pin) {
			v.errf(f+".pin.pin", "GPIO %d is not a pin the ESP8266 offers; use 0-5, 9, 10, 12-16", p.Pin)
		}
		if p.Value != 0 && p.Value != 1 {
			v.errf(f+".pin.value", "%d: a pin level is 0 or 1", p.Value)
		}
		v.at(f+".pin.at", p.At)
	}
	if n := e.NeoPixel; n != nil {
		if !validGPIO(n.Pin) {
			v.errf(f+".neopixel.pin", "GPIO %d is not a pin the ESP8266 offers; use 0-5, 9, 10, 12-16", n.Pin)
		}
		if n.Index < 0 {
			v.errf(f+".neopixel.index", "must not be negative, got %d", n.Index)
		}
		ok := len(n.Color) == 3
		for _, c := range n.Color {
			ok = ok && c >= 0 && c <= 255
		}
		if !ok {
			v.errf(f+".neopixel.color", "write red, green, blue from 0 to 255, e.g. [255, 0, 0]")
		}
	}
	if p := e.PWM; p != nil {
		if !validGPIO(p.Pin) || p.Pin == 16 {
			v.errf(f+".pwm.pin", "GPIO %d has no PWM; use 0-5, 9, 10, 12-15", p.Pin)
		}
		if p.Freq < 0 || p.Freq > 1000 {
			v.errf(f+".pwm.freq", "%d Hz: the ESP8266's PWM runs at 1 to 1000 Hz", p.Freq)
		}
		if p.Duty != nil && (*p.Duty < 0 || *p.Duty > 1023) {
			v.errf(f+".pwm.duty", "%d: duty is 0 to 1023", *p.Duty)
		}
	}
	if d := e.Display; d != nil {
		if d.PNG == "" && d.LitMin <= 0 && d.Text == "" {
			v.errf(f+".display", "set png (a reference image), lit_min or text")
		}
		if len(d.Text) > 16 {
			v.errf(f+".display.text", "%d characters: a 128-pixel panel shows at most 16", len(d.Text))
		}
		if d.CS != nil && (d.Addr != 0 || !validGPIO(*d.CS)) {
			v.errf(f+".display.cs", "cs picks an SPI panel by its chip-select GPIO (0-5, 9, 10, 12-16), without addr")
		}
	}
	if c := e.ResetCause; c != nil {
		switch *c {
		case 0, 1, 4, 5, 6:
		default:
			v.errf(f+".reset_cause", "%d is not a reset cause; use 0 (PWRON), 1 (WDT), 4 (SOFT), 5 (DEEPSLEEP) or 6 (HARD)", *c)
		}
	}
}

// NeoPixelExpect is a colour an LED of a neopixel strip must show at the
// end of the run.
type NeoPixelExpect struct {
	// Pin is the strip's data pin.
	Pin int `json:"pin"`
	// Index is the LED, from 0.
	Index int `json:"index"`
	// Color is red, green, blue (0..255 each).
	Color []int `json:"color"`
}

// DisplayExpect checks an ssd1306's panel at the end of the run.
type DisplayExpect struct {
	// Addr is the display's I2C address; default 0x3C.
	Addr int `json:"addr,omitempty"`
	// CS picks a display on the SPI bus by its chip-select GPIO instead.
	CS *int `json:"cs,omitempty"`
	// PNG is a reference image (relative to the scenario file) the panel
	// must equal pixel for pixel.
	PNG string `json:"png,omitempty"`
	// LitMin passes when at least this many pixels are lit.
	LitMin int `json:"lit_min,omitempty"`
	// Text passes when the panel shows this text somewhere, pixel for
	// pixel as framebuf's text() draws it in the firmware's 8×8 font (lit
	// on dark); 1 to 16 characters.
	Text string `json:"text,omitempty"`
}

// PWMExpect is a pin's PWM output at the end of the run; unset parts
// are not checked.
type PWMExpect struct {
	// Pin is the GPIO.
	Pin int `json:"pin"`
	// Freq is the frequency in Hz; 0: any.
	Freq int `json:"freq,omitempty"`
	// Duty is PWM.duty() (0..1023); nil: any.
	Duty *int `json:"duty,omitempty"`
}
