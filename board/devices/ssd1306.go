package devices

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"sync"
)

// SSD1306 is a monochrome OLED controller (128×64 or 128×32) on I2C or
// SPI. On I2C a control byte 0x80 (one command) or 0x00 (commands) or 0x40
// (display data) starts each write, as in the datasheet; on SPI the D/C
// pin tells them apart.
type SSD1306 struct {
	mu sync.Mutex
	// Guarded by mu:
	w, h      int
	ram       [8][128]byte // GDDRAM: 8 pages of 8 rows
	col, page int
	c0, c1    int // column window
	p0, p1    int // page window
	on        bool
	invert    bool
	pending   []byte // a command waiting for its arguments
}

// NewSSD1306 returns a display of width×height pixels (128×64 or 128×32).
func NewSSD1306(width, height int) *SSD1306 {
	return &SSD1306{w: width, h: height, c1: width - 1, p1: height/8 - 1}
}

// argCount is how many argument bytes follow each command that has them.
var argCount = map[byte]int{
	0x20: 1, 0x21: 2, 0x22: 2, 0x81: 1, 0xA8: 1, 0xD3: 1, 0xD5: 1,
	0xD9: 1, 0xDA: 1, 0xDB: 1, 0x8D: 1,
}

// I2CWrite implements machine.I2CDevice.
func (d *SSD1306) I2CWrite(data []byte) {
	if len(data) == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	ctl, rest := data[0], data[1:]
	if ctl&0x40 != 0 {
		for _, b := range rest {
			d.data(b)
		}
		return
	}
	for _, b := range rest {
		d.command(b)
		if ctl&0x80 != 0 {
			break // Co set: one command byte, then a new control byte
		}
	}
}

// SPIWrite implements machine.SPIDevice: in 4-wire SPI mode the D/C pin
// tells commands (0) from display data (1).
func (d *SSD1306) SPIWrite(data []byte, dc int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, b := range data {
		if dc == 1 {
			d.data(b)
		} else {
			d.command(b)
		}
	}
}

// I2CRead implements machine.I2CDevice: the status byte (display on).
func (d *SSD1306) I2CRead(n int) []byte {
	out := make([]byte, n)
	return out
}

func (d *SSD1306) command(b byte) {
	if len(d.pending) > 0 {
		d.pending = append(d.pending, b)
		if len(d.pending)-1 < argCount[d.pending[0]] {
			return
		}
		c := d.pending
		d.pending = nil
		switch c[0] {
		case 0x21:
			d.c0, d.c1 = int(c[1]&0x7f), int(c[2]&0x7f)
			d.col = d.c0
		case 0x22:
			d.p0, d.p1 = int(c[1]&7), int(c[2]&7)
			d.page = d.p0
		}
		return
	}
	if argCount[b] > 0 {
		d.pending = []byte{b}
		return
	}
	switch b {
	case 0xAE:
		d.on = false
	case 0xAF:
		d.on = true
	case 0xA6:
		d.invert = false
	case 0xA7:
		d.invert = true
	}
}

// data stores one byte at the cursor, horizontal addressing.
func (d *SSD1306) data(b byte) {
	if d.page < 8 && d.col < 128 {
		d.ram[d.page][d.col] = b
	}
	d.col++
	if d.col > d.c1 {
		d.col = d.c0
		d.page++
		if d.page > d.p1 {
			d.page = d.p0
		}
	}
}

// Pixel reports whether the pixel at x, y is lit (ignoring display on/off
// and inversion: what the frame buffer holds).
func (d *SSD1306) Pixel(x, y int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pixel(x, y)
}

func (d *SSD1306) pixel(x, y int) bool {
	if x < 0 || y < 0 || x >= d.w || y >= d.h {
		return false
	}
	return d.ram[y/8][x]>>(y%8)&1 != 0
}

// Lit counts lit pixels.
func (d *SSD1306) Lit() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for y := 0; y < d.h; y++ {
		for x := 0; x < d.w; x++ {
			if d.pixel(x, y) {
				n++
			}
		}
	}
	return n
}

// On reports whether the display was switched on (0xAF).
func (d *SSD1306) On() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.on
}

// PNG renders what the panel shows: white pixels on black, nothing when
// the display is off, inverted after 0xA7.
func (d *SSD1306) PNG() []byte {
	d.mu.Lock()
	img := image.NewGray(image.Rect(0, 0, d.w, d.h))
	for y := 0; y < d.h; y++ {
		for x := 0; x < d.w; x++ {
			lit := d.on && d.pixel(x, y) != d.invert
			if lit {
				img.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	d.mu.Unlock()
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// FindBitmap reports where the panel shows bitmap (rows of '#' lit and
// '.' dark, all the same length): the first x, y, scanning rows top to
// bottom, at which every pixel matches; ok false when none does.
func (d *SSD1306) FindBitmap(rows []string) (x, y int, ok bool) {
	if len(rows) == 0 || len(rows[0]) == 0 {
		return 0, 0, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	bw, bh := len(rows[0]), len(rows)
	for y0 := 0; y0+bh <= d.h; y0++ {
		for x0 := 0; x0+bw <= d.w; x0++ {
			if d.matchLocked(rows, x0, y0) {
				return x0, y0, true
			}
		}
	}
	return 0, 0, false
}

func (d *SSD1306) matchLocked(rows []string, x0, y0 int) bool {
	for dy, r := range rows {
		for dx := 0; dx < len(r); dx++ {
			if d.pixel(x0+dx, y0+dy) != (r[dx] == '#') {
				return false
			}
		}
	}
	return true
}
