package board

import (
	"strings"
	"testing"

	"github.com/esp8266sim/esp8266sim/board/devices"
	"github.com/esp8266sim/esp8266sim/board/machine"
)

// TestSSD1306OverSPI draws the same picture through the ssd1306 driver's
// SSD1306_SPI on machine.SPI(1) and on SoftSPI as through SSD1306_I2C: the
// panels end up with the same pixels. A panel whose chip select the script
// never pulls low stays dark.
func TestSSD1306OverSPI(t *testing.T) {
	draw := "d.fill_rect(10, 20, 4, 3, 1)\nd.text('SPI', 0, 0, 1)\nd.show()\nprint('shown')\n"
	ref := devices.NewSSD1306(128, 64)
	out, res, _ := runWired(t, "from machine import Pin, I2C\nimport ssd1306\n"+
		"d = ssd1306.SSD1306_I2C(128, 64, I2C(scl=Pin(5), sda=Pin(4)))\n"+draw,
		func(h *machine.Hardware) { _ = h.AttachI2C(0x3c, ref) })
	if res.Outcome != Finished || !strings.Contains(out, "shown") {
		t.Fatalf("I2C reference: outcome %v\n%s", res.Outcome, out)
	}
	for _, tt := range []struct{ name, bus string }{
		{"hardware SPI", "spi = SPI(1, baudrate=8000000)\n"},
		{"SoftSPI", "spi = SoftSPI(baudrate=500000, sck=Pin(14), mosi=Pin(13), miso=Pin(12))\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			oled := devices.NewSSD1306(128, 64)
			other := devices.NewSSD1306(128, 64) // its CS (GPIO 16) stays high
			main := "from machine import Pin, SPI, SoftSPI\nimport ssd1306\n" + tt.bus +
				"Pin(16, Pin.OUT, value=1)\n" +
				"d = ssd1306.SSD1306_SPI(128, 64, spi, Pin(4), Pin(5), Pin(15))\n" + draw
			out, res, _ := runWired(t, main, func(h *machine.Hardware) {
				_ = h.AttachSPI(15, 4, oled)
				_ = h.AttachSPI(16, 4, other)
			})
			if res.Outcome != Finished || !strings.Contains(out, "shown") {
				t.Fatalf("outcome %v\n%s", res.Outcome, out)
			}
			if !oled.On() || oled.Lit() == 0 {
				t.Fatalf("panel on %v with %d pixels lit", oled.On(), oled.Lit())
			}
			for y := 0; y < 64; y++ {
				for x := 0; x < 128; x++ {
					if oled.Pixel(x, y) != ref.Pixel(x, y) {
						t.Fatalf("pixel (%d,%d) is %v over SPI, %v over I2C", x, y, oled.Pixel(x, y), ref.Pixel(x, y))
					}
				}
			}
			if other.On() || other.Lit() != 0 {
				t.Errorf("the unselected panel saw the bus: on %v, %d lit", other.On(), other.Lit())
			}
		})
	}
}

// A str is a buffer to the bus methods, its UTF-8 bytes on the wire, as
// the quickref's i2c.writeto(0x3a, '12') relies on: '\x00\xaf' is three
// bytes (0xaf is two in UTF-8), the last the SSD1306's "display on".
func TestBusWritesTakeStr(t *testing.T) {
	oled := devices.NewSSD1306(128, 64)
	out, res, _ := runWired(t, "from machine import Pin, I2C\ni2c = I2C(scl=Pin(5), sda=Pin(4))\n"+
		"print(i2c.writeto(0x3c, '\\x00\\xaf'))\n", func(h *machine.Hardware) { _ = h.AttachI2C(0x3c, oled) })
	if res.Outcome != Finished || !strings.Contains(out, "3") {
		t.Fatalf("outcome %v\n%s", res.Outcome, out)
	}
	if !oled.On() {
		t.Error("the str's bytes did not reach the panel")
	}
}
