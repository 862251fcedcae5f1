package sim

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
)

// Device fields no shipped scenario shows, each read back by the board or
// the report: a device's name, a potentiometer's value, a ds18b20's
// serial in its ROM code, a bme280's pressure in its raw registers (two
// boards, one at the default), an I2C address on the bus, and an
// ssd1306's panel size in its PNG. See fieldCoverage.
func TestDeviceFieldsTakeEffect(t *testing.T) {
	code := `
      import machine, onewire, ds18x20
      from machine import Pin, I2C
      print("adc", machine.ADC(0).read())
      roms = ds18x20.DS18X20(onewire.OneWire(Pin(12))).scan()
      print("rom", [bytes(r).hex() for r in roms])
      i2c = I2C(scl=Pin(5), sda=Pin(4))
      print("i2c", i2c.scan())
      i2c.writeto_mem(0x77, 0xF4, b"\x27")
      print("praw", i2c.readfrom_mem(0x77, 0xF7, 3).hex())
`
	res := runYAML(t, `
time_mode: fast
boards:
  - name: esp1
    devices:
      - {kind: led, pin: 2, name: status}
      - {kind: potentiometer, value: 700}
      - {kind: ds18b20, pin: 12, serial: 0x0a0b0c0d0e0f}
      - {kind: bme280, addr: 0x77, pressure: 900}
      - {kind: ssd1306, addr: 0x3d, width: 128, height: 32}
    code: |`+code+`
  - name: esp2
    devices:
      - {kind: bme280, addr: 0x77}
    code: |`+code+`
`)
	c1, c2 := res.Boards[0].Console, res.Boards[1].Console
	for _, want := range []string{
		"adc 700",              // Device.value
		"rom ['280f0e0d0c0b0a", // Device.serial, little-endian after the family code
		"i2c [61, 119]",        // Device.addr: 0x3d and 0x77
	} {
		if !strings.Contains(c1, want) {
			t.Errorf("esp1 console lacks %q", want)
		}
	}
	p1, p2 := after(c1, "praw "), after(c2, "praw ")
	if p1 == "" || p1 == p2 {
		t.Errorf("raw pressure %q at 900 hPa, %q at the default: want both read and different", p1, p2)
	}
	if d := res.Report().Boards[0].Devices; len(d) == 0 || d[0].Name != "status" {
		t.Errorf("report devices %+v, want the led named status", d)
	}
	img, err := png.Decode(bytes.NewReader(res.Boards[0].Displays["ssd1306@0x3d"]))
	if err != nil {
		t.Errorf("the ssd1306 panel: %v (displays %v)", err, len(res.Boards[0].Displays))
	} else if b := img.Bounds(); b.Dx() != 128 || b.Dy() != 32 {
		t.Errorf("panel %v, want 128×32", b)
	}
	if t.Failed() {
		t.Logf("esp1:\n%s\nesp2:\n%s", c1, c2)
	}
}

// after is the rest of the line following key in s, or "".
func after(s, key string) string {
	_, rest, ok := strings.Cut(s, key)
	if !ok {
		return ""
	}
	line, _, _ := strings.Cut(rest, "\n")
	return strings.TrimSpace(line)
}
