package devices

import (
	"bytes"
	"image/png"
	"testing"
)

func TestCRC8(t *testing.T) {
	// The datasheet's example ROM code: CRC of the first 7 bytes is the 8th.
	rom := []byte{0x28, 0xff, 0x64, 0x1e, 0x0f, 0x00, 0x00}
	if got := CRC8(append(rom, CRC8(rom))); got != 0 {
		t.Errorf("CRC over data and its CRC = %#x, want 0", got)
	}
	if got := CRC8([]byte{0x02, 0x1c, 0xb8, 0x01, 0x00, 0x00, 0x00}); got != 0xa2 {
		t.Errorf("CRC8 = %#x, want 0xa2 (Maxim AN27 example)", got)
	}
}

// owWrite sends a byte LSB first, as a controller does.
func owWrite(d *DS18B20, b byte) {
	for i := 0; i < 8; i++ {
		d.WriteBit(int(b >> i & 1))
	}
}

func owRead(d *DS18B20) byte {
	var b byte
	for i := 0; i < 8; i++ {
		b |= byte(d.ReadBit()) << i
	}
	return b
}

func TestDS18B20Scratchpad(t *testing.T) {
	tests := []struct {
		temp   float64
		lo, hi byte
	}{
		{25.0625, 0x91, 0x01},
		{-10.125, 0x5e, 0xff},
		{85, 0x50, 0x05},
		{0, 0, 0},
	}
	for _, tt := range tests {
		d := NewDS18B20(1, tt.temp)
		if !d.Reset() {
			t.Fatal("no presence pulse")
		}
		owWrite(d, 0xcc)
		owWrite(d, 0x44)
		d.Reset()
		owWrite(d, 0xcc)
		owWrite(d, 0xbe)
		var sp [9]byte
		for i := range sp {
			sp[i] = owRead(d)
		}
		if sp[0] != tt.lo || sp[1] != tt.hi || CRC8(sp[:]) != 0 {
			t.Errorf("%g °C: scratchpad % x, want %02x %02x with a valid CRC", tt.temp, sp, tt.lo, tt.hi)
		}
	}
}

func TestDS18B20MatchROM(t *testing.T) {
	a, b := NewDS18B20(1, 20), NewDS18B20(2, 30)
	for _, d := range []*DS18B20{a, b} {
		d.Reset()
		owWrite(d, 0x55)
		rom := a.ROM()
		for _, x := range rom {
			owWrite(d, x)
		}
		owWrite(d, 0xbe)
	}
	if got := owRead(a); got != 0x50 { // 85 °C power-on value, low byte
		t.Errorf("selected sensor read %#x", got)
	}
	if got := owRead(b); got != 0xff {
		t.Errorf("unselected sensor drove the bus: %#x", got)
	}
}

func TestSSD1306(t *testing.T) {
	d := NewSSD1306(128, 64)
	cmd := func(c ...byte) {
		for _, x := range c {
			d.I2CWrite([]byte{0x80, x})
		}
	}
	cmd(0xaf, 0x21, 10, 11, 0x22, 2, 3)
	d.I2CWrite([]byte{0x40, 0x01, 0x80, 0xff, 0x00})
	// Window columns 10-11, pages 2-3: bytes go (10,p2) (11,p2) (10,p3) (11,p3).
	want := map[[2]int]bool{{10, 16}: true, {11, 23}: true, {10, 24}: true, {10, 31}: true}
	for pt := range want {
		if !d.Pixel(pt[0], pt[1]) {
			t.Errorf("pixel %v off", pt)
		}
	}
	if n := d.Lit(); n != 10 {
		t.Errorf("%d pixels lit, want 10", n)
	}
	img, err := png.Decode(bytes.NewReader(d.PNG()))
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _, _ := img.At(10, 16).RGBA(); r == 0 {
		t.Error("PNG pixel (10,16) dark")
	}
	cmd(0xae)
	img, _ = png.Decode(bytes.NewReader(d.PNG()))
	if r, _, _, _ := img.At(10, 16).RGBA(); r != 0 {
		t.Error("display off still shows pixels")
	}
}
