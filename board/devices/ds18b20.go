package devices

import (
	"math"
	"sync"
)

// DS18B20 is a 1-Wire temperature sensor, answering the ROM commands (READ,
// MATCH, SKIP, SEARCH) and CONVERT T, READ and WRITE SCRATCHPAD bit by bit,
// as the datasheet describes.
type DS18B20 struct {
	mu sync.Mutex
	// Guarded by mu:
	rom     [8]byte
	temp    float64
	th, tl  byte
	config  byte
	state   int
	acc     uint64 // bits received for the current command or argument
	nacc    int
	out     []int // bits queued for read slots
	search  int   // bit index of a SEARCH ROM
	phase   int   // 0: send bit, 1: send complement, 2: master's bit
	scratch [9]byte
}

const (
	owROM      = iota // waiting for a ROM command
	owMatch           // receiving MATCH ROM's 64 bits
	owSearch          // in SEARCH ROM
	owFunction        // selected: waiting for a function command
	owWriteSP         // receiving WRITE SCRATCHPAD's 3 bytes
	owIdle            // not selected until the next reset
)

// NewDS18B20 returns a sensor with the serial number serial (48 bits) and
// the temperature temp °C.
func NewDS18B20(serial uint64, temp float64) *DS18B20 {
	d := &DS18B20{temp: temp, th: 0x4b, tl: 0x46, config: 0x7f}
	d.rom[0] = 0x28
	for i := 1; i < 7; i++ {
		d.rom[i] = byte(serial >> (8 * (i - 1)))
	}
	d.rom[7] = CRC8(d.rom[:7])
	return d
}

// ROM returns the 64-bit ROM code (family 0x28, serial, CRC).
func (d *DS18B20) ROM() [8]byte { return d.rom }

// SetTemperature changes what the next conversion measures.
func (d *DS18B20) SetTemperature(t float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.temp = t
}

// CRC8 is the Dallas/Maxim 1-Wire CRC (x⁸+x⁵+x⁴+1, reflected).
func CRC8(data []byte) byte {
	var crc byte
	for _, b := range data {
		for i := 0; i < 8; i++ {
			mix := (crc ^ b) & 1
			crc >>= 1
			if mix != 0 {
				crc ^= 0x8c
			}
			b >>= 1
		}
	}
	return crc
}

// Reset implements machine.OneWireDevice.
func (d *DS18B20) Reset() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.state, d.acc, d.nacc, d.out = owROM, 0, 0, nil
	return true
}

func (d *DS18B20) queue(p []byte) {
	for _, b := range p {
		for i := 0; i < 8; i++ {
			d.out = append(d.out, int(b>>i&1))
		}
	}
}

func (d *DS18B20) romBit(i int) int { return int(d.rom[i/8] >> (i % 8) & 1) }

// ReadBit implements machine.OneWireDevice.
func (d *DS18B20) ReadBit() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.state == owSearch {
		switch d.phase {
		case 0:
			d.phase = 1
			return d.romBit(d.search)
		case 1:
			d.phase = 2
			return 1 - d.romBit(d.search)
		}
		return 1
	}
	if len(d.out) > 0 {
		b := d.out[0]
		d.out = d.out[1:]
		return b
	}
	return 1 // a finished conversion reads 1; an idle line too
}

// WriteBit implements machine.OneWireDevice.
func (d *DS18B20) WriteBit(b int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch d.state {
	case owIdle:
		return
	case owSearch:
		if d.phase != 2 {
			return
		}
		if b != d.romBit(d.search) {
			d.state = owIdle
			return
		}
		d.search++
		d.phase = 0
		if d.search == 64 {
			d.state = owFunction
		}
		return
	}
	d.acc |= uint64(b&1) << d.nacc
	d.nacc++
	switch d.state {
	case owMatch:
		if d.nacc < 64 {
			return
		}
		var want uint64
		for i := 7; i >= 0; i-- {
			want = want<<8 | uint64(d.rom[i])
		}
		if d.acc == want {
			d.state = owFunction
		} else {
			d.state = owIdle
		}
	case owWriteSP:
		if d.nacc < 24 {
			return
		}
		d.th, d.tl, d.config = byte(d.acc), byte(d.acc>>8), byte(d.acc>>16)|0x1f
		d.state = owFunction
	default:
		if d.nacc < 8 {
			return
		}
		d.command(byte(d.acc))
	}
	d.acc, d.nacc = 0, 0
}

func (d *DS18B20) command(c byte) {
	d.acc, d.nacc = 0, 0
	if d.state == owROM {
		switch c {
		case 0x33: // READ ROM
			d.queue(d.rom[:])
			d.state = owFunction
		case 0x55: // MATCH ROM
			d.state = owMatch
		case 0xcc: // SKIP ROM
			d.state = owFunction
		case 0xf0: // SEARCH ROM
			d.state, d.search, d.phase = owSearch, 0, 0
		default:
			d.state = owIdle
		}
		return
	}
	switch c {
	case 0x44: // CONVERT T: done at once (the driver waits 750 ms anyway)
		raw := int16(math.Round(d.temp * 16))
		d.scratch = [9]byte{byte(raw), byte(raw >> 8), d.th, d.tl, d.config, 0xff, 0x0c, 0x10}
		d.scratch[8] = CRC8(d.scratch[:8])
	case 0xbe: // READ SCRATCHPAD
		if d.scratch[5] == 0 {
			// Power-on value: 85 °C until the first conversion.
			d.scratch = [9]byte{0x50, 0x05, d.th, d.tl, d.config, 0xff, 0x0c, 0x10}
			d.scratch[8] = CRC8(d.scratch[:8])
		}
		d.queue(d.scratch[:])
	case 0x4e: // WRITE SCRATCHPAD
		d.state = owWriteSP
	}
}
