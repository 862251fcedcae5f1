package devices

import (
	"encoding/binary"
	"math"
	"sync"
)

// BME280 is Bosch's temperature, pressure and humidity sensor on I2C
// (address 0x76 or 0x77), with its register map: chip id 0x60 at 0xD0,
// calibration at 0x88–0xA1 and 0xE1–0xE7, raw readings at 0xF7–0xFE. The
// raw readings are chosen so that the datasheet's compensation formulas,
// run by the script's driver on the calibration it reads, give the
// configured values.
type BME280 struct {
	mu sync.Mutex
	// Guarded by mu:
	reg         RegisterFile
	temperature float64 // °C
	pressure    float64 // hPa
	humidity    float64 // %RH
}

// RegisterFile is an I2C register map: the first byte written selects the
// register, further bytes fill registers from there, reads continue from
// the selected register.
type RegisterFile struct {
	Regs [256]byte
	ptr  byte
}

func (r *RegisterFile) write(data []byte) {
	if len(data) == 0 {
		return
	}
	r.ptr = data[0]
	for _, b := range data[1:] {
		r.Regs[r.ptr] = b
		r.ptr++
	}
}

func (r *RegisterFile) read(n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = r.Regs[r.ptr]
		r.ptr++
	}
	return out
}

// The calibration of one real part (the datasheet's example values for
// temperature and pressure).
var bmeCal = struct {
	t1                             uint16
	t2, t3                         int16
	p1                             uint16
	p2, p3, p4, p5, p6, p7, p8, p9 int16
	h1, h3                         uint8
	h2, h4, h5                     int16
	h6                             int8
}{27504, 26435, -1000, 36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000, 75, 0, 362, 313, 50, 30}

// NewBME280 returns a sensor reading temp °C, press hPa and hum %RH.
func NewBME280(temp, press, hum float64) *BME280 {
	d := &BME280{temperature: temp, pressure: press, humidity: hum}
	r := &d.reg.Regs
	r[0xd0] = 0x60
	le := binary.LittleEndian
	le.PutUint16(r[0x88:], bmeCal.t1)
	le.PutUint16(r[0x8a:], uint16(bmeCal.t2))
	le.PutUint16(r[0x8c:], uint16(bmeCal.t3))
	le.PutUint16(r[0x8e:], bmeCal.p1)
	for i, v := range []int16{bmeCal.p2, bmeCal.p3, bmeCal.p4, bmeCal.p5, bmeCal.p6, bmeCal.p7, bmeCal.p8, bmeCal.p9} {
		le.PutUint16(r[0x90+2*i:], uint16(v))
	}
	r[0xa1] = bmeCal.h1
	le.PutUint16(r[0xe1:], uint16(bmeCal.h2))
	r[0xe3] = bmeCal.h3
	r[0xe4] = byte(bmeCal.h4 >> 4)
	r[0xe5] = byte(bmeCal.h4&0xf) | byte(bmeCal.h5&0xf)<<4
	r[0xe6] = byte(bmeCal.h5 >> 4)
	r[0xe7] = byte(bmeCal.h6)
	d.update()
	return d
}

// Set changes the reading.
func (d *BME280) Set(temp, press, hum float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.temperature, d.pressure, d.humidity = temp, press, hum
	d.update()
}

// update stores raw readings that compensate to the configured values.
func (d *BME280) update() {
	adcT := search(0, 1<<20-1, true, func(a int32) float64 { t, _ := bmeTemp(a); return float64(t) / 100 }, d.temperature)
	_, fine := bmeTemp(adcT)
	adcP := search(0, 1<<20-1, false, func(a int32) float64 { return float64(bmePress(a, fine)) / 256 / 100 }, d.pressure)
	adcH := search(0, 1<<16-1, true, func(a int32) float64 { return float64(bmeHum(a, fine)) / 1024 }, d.humidity)
	r := &d.reg.Regs
	put20 := func(at int, v int32) {
		r[at], r[at+1], r[at+2] = byte(v>>12), byte(v>>4), byte(v<<4)
	}
	put20(0xf7, adcP)
	put20(0xfa, adcT)
	r[0xfd], r[0xfe] = byte(adcH>>8), byte(adcH)
}

// search finds the raw value in [lo, hi] whose compensated value f is
// closest to want, for f monotonic (rising when up).
func search(lo, hi int32, up bool, f func(int32) float64, want float64) int32 {
	for lo < hi {
		mid := lo + (hi-lo)/2
		if (f(mid) < want) == up {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo > 0 && math.Abs(f(lo-1)-want) < math.Abs(f(lo)-want) {
		return lo - 1
	}
	return lo
}

// bmeTemp is the datasheet's BME280_compensate_T_int32 (0.01 °C, and
// t_fine), computed without overflow as a MicroPython driver's
// arbitrary-precision integers do.
func bmeTemp(adc int32) (int32, int32) {
	a, t1, t2, t3 := int64(adc), int64(bmeCal.t1), int64(bmeCal.t2), int64(bmeCal.t3)
	var1 := (((a >> 3) - (t1 << 1)) * t2) >> 11
	var2 := (((((a >> 4) - t1) * ((a >> 4) - t1)) >> 12) * t3) >> 14
	fine := var1 + var2
	return int32((fine*5 + 128) >> 8), int32(fine)
}

// bmePress is BME280_compensate_P_int64: Pa in Q24.8.
func bmePress(adc, fine int32) uint32 {
	c := bmeCal
	var1 := int64(fine) - 128000
	var2 := var1 * var1 * int64(c.p6)
	var2 += (var1 * int64(c.p5)) << 17
	var2 += int64(c.p4) << 35
	var1 = ((var1 * var1 * int64(c.p3)) >> 8) + ((var1 * int64(c.p2)) << 12)
	var1 = (((int64(1) << 47) + var1) * int64(c.p1)) >> 33
	if var1 == 0 {
		return 0
	}
	p := int64(1048576 - adc)
	p = (((p << 31) - var2) * 3125) / var1
	var1 = (int64(c.p9) * (p >> 13) * (p >> 13)) >> 25
	var2 = (int64(c.p8) * p) >> 19
	return uint32(((p + var1 + var2) >> 8) + (int64(c.p7) << 4))
}

// bmeHum is bme280_compensate_H_int32 (%RH in Q22.10), in 64 bits.
func bmeHum(adc, fine int32) uint32 {
	c := bmeCal
	h2, h3, h4, h5, h6 := int64(c.h2), int64(c.h3), int64(c.h4), int64(c.h5), int64(c.h6)
	v := int64(fine) - 76800
	v = ((((int64(adc) << 14) - (h4 << 20) - (h5 * v)) + 16384) >> 15) *
		(((((((v*h6)>>10)*(((v*h3)>>11)+32768))>>10)+2097152)*h2 + 8192) >> 14)
	v -= ((((v >> 15) * (v >> 15)) >> 7) * int64(c.h1)) >> 4
	v = min(max(v, 0), 419430400)
	return uint32(v >> 12)
}

// I2CWrite implements machine.I2CDevice.
func (d *BME280) I2CWrite(data []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reg.write(data)
	if d.reg.Regs[0xe0] == 0xb6 { // soft reset
		d.reg.Regs[0xe0] = 0
	}
}

// I2CRead implements machine.I2CDevice.
func (d *BME280) I2CRead(n int) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.reg.read(n)
}
