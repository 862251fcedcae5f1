package board

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/board/devices"
	"github.com/esp8266sim/esp8266sim/board/machine"
)

// runWired runs main.py on a board whose peripherals wire sets up first
// (a button's presses, a sensor).
func runWired(tb testing.TB, main string, wire func(h *machine.Hardware)) (string, Result, *Board) {
	tb.Helper()
	var out syncBuffer
	// Native CPU: these tests pin timer, pin-edge and wake instants to the
	// millisecond from boot, and the scripts' own code (imports, setup)
	// would add its CPU time to each (cputime.go).
	cfg := Config{Name: "esp1", Console: &out, Files: files(main), CPU: CPUNative}
	b, err := New(cfg, testFirmware(tb), newClock(tb))
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() { b.Close() })
	if wire != nil {
		wire(b.Hardware())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := b.Run(ctx)
	if err != nil {
		tb.Fatalf("Run: %v\nconsole:\n%s", err, out.String())
	}
	return out.String(), res, b
}

func TestMachineScripts(t *testing.T) {
	tests := []struct {
		name string
		main string
		wire func(h *machine.Hardware)
		want []string // lines the console must contain, in order
	}{
		{
			name: "pull-up reads 1, plain input 0, pressed button 0",
			main: "from machine import Pin\n" +
				"print(Pin(0, Pin.IN, Pin.PULL_UP).value(), Pin(4, Pin.IN).value(), Pin(5, Pin.IN, Pin.PULL_UP).value())\n",
			wire: func(h *machine.Hardware) { _ = h.Drive(5, []machine.Change{{At: 0, Level: 0}}) },
			want: []string{"1 0 0"},
		},
		{
			name: "output, toggle, on/off, init value=",
			main: "from machine import Pin\n" +
				"p = Pin(2, Pin.OUT)\nprint(p.value())\np.toggle()\nprint(p())\np.off()\nprint(p.value())\n" +
				"q = Pin(4, Pin.OUT, value=1)\nprint(q.value())\nq.init(Pin.IN)\nprint(q.value())\n",
			want: []string{"0", "1", "0", "1", "0"},
		},
		{
			name: "open drain released reads the pull-up, driven low reads 0",
			main: "from machine import Pin\n" +
				"p = Pin(4, Pin.OPEN_DRAIN, Pin.PULL_UP, value=1)\nprint(p.value())\np(0)\nprint(p.value())\n",
			want: []string{"1", "0"},
		},
		{
			name: "the port's pin rules",
			main: "from machine import Pin\n" +
				"for i in (6, 7, 8, 11, 17):\n    try:\n        Pin(i)\n    except ValueError as e:\n        print(i, e)\n" +
				"print(Pin(9), Pin(10))\n" +
				"try:\n    Pin(16, Pin.IN, Pin.PULL_UP)\nexcept ValueError as e:\n    print(e)\n" +
				"try:\n    Pin(16).irq(lambda p: 0)\nexcept OSError as e:\n    print(e)\n" +
				"try:\n    Pin(0).irq(lambda p: 0, hard=True)\nexcept ValueError as e:\n    print(e)\n",
			want: []string{"6 invalid pin", "7 invalid pin", "8 invalid pin", "11 invalid pin", "17 invalid pin",
				"Pin(9) Pin(10)", "Pin(16) doesn't support pull", "pin does not have IRQ capabilities", "hard IRQ not supported"},
		},
		{
			name: "a button press runs the IRQ handler, scheduled during a sleep",
			main: "import time\nfrom machine import Pin\n" +
				"seen = []\n" +
				"def h(p):\n    seen.append((p, p.value(), time.ticks_ms()))\n" +
				"b = Pin(0, Pin.IN, Pin.PULL_UP)\nb.irq(trigger=Pin.IRQ_FALLING, handler=h)\n" +
				"time.sleep(3)\nprint(seen)\n",
			wire: func(h *machine.Hardware) {
				_ = h.Drive(0, []machine.Change{{At: 1200 * time.Millisecond, Level: 0}, {At: 1500 * time.Millisecond, Level: -1}})
			},
			want: []string{"[(Pin(0), 0, 1200)]"},
		},
		{
			name: "a Timer toggles an LED every 500 ms",
			main: "import time\nfrom machine import Pin, Timer\n" +
				"led = Pin(2, Pin.OUT)\nlog = []\n" +
				"def t(tim):\n    led.toggle()\n    log.append((time.ticks_ms(), led.value()))\n" +
				"tim = Timer(-1)\ntim.init(period=500, mode=Timer.PERIODIC, callback=t)\n" +
				"time.sleep_ms(2100)\ntim.deinit()\ntime.sleep(1)\nprint(log)\n",
			want: []string{"[(500, 1), (1000, 0), (1500, 1), (2000, 0)]"},
		},
		{
			name: "one-shot timer fires once",
			main: "import time\nfrom machine import Timer\n" +
				"n = []\nTimer(-1).init(period=300, mode=Timer.ONE_SHOT, callback=lambda t: n.append(time.ticks_ms()))\n" +
				"time.sleep(2)\nprint(n)\n",
			want: []string{"[300]"},
		},
		{
			name: "Signal inverts",
			main: "from machine import Pin, Signal\n" +
				"s = Signal(Pin(2, Pin.OUT), invert=True)\ns.on()\nprint(s.value(), Pin(2).value())\n",
			want: []string{"1 0"},
		},
		{
			name: "lightsleep passes simulated time and runs due timers",
			main: "import machine, time\nn = []\n" +
				"machine.Timer(-1).init(period=200, mode=machine.Timer.ONE_SHOT, callback=lambda t: n.append(time.ticks_ms()))\n" +
				"t0 = time.ticks_ms()\nmachine.lightsleep(1000)\nprint(time.ticks_diff(time.ticks_ms(), t0), n)\n",
			want: []string{"1000 [200]"},
		},
		{
			name: "an edge written by the script on its own pin runs the handler",
			main: "from machine import Pin\nseen = []\np = Pin(5, Pin.OUT, value=0)\n" +
				"p.irq(lambda q: seen.append(q.value()), Pin.IRQ_RISING)\np.on()\nx = 0\nfor i in range(3):\n    x += i\nprint(seen)\n",
			want: []string{"[1]"},
		},
		{
			name: "a hard Timer callback runs with the heap locked",
			main: "import time\nfrom machine import Timer\nr = []\n" +
				"def cb(t):\n    try:\n        bytearray(8)\n        r.append('unlocked')\n    except MemoryError:\n        r.append('locked')\n" +
				"t = Timer(0)\nt.init(mode=Timer.ONE_SHOT, period=10, hard=True, callback=cb)\ntime.sleep_ms(50)\n" +
				"t.init(mode=Timer.ONE_SHOT, period=10, callback=cb)\ntime.sleep_ms(50)\nprint(r)\n",
			want: []string{"['locked', 'unlocked']"},
		},
		{
			name: "Timer's constructor takes only the id",
			main: "from machine import Timer\ntry:\n    Timer(-1, period=5)\nexcept TypeError as e:\n    print(e)\n",
			want: []string{"function doesn't take keyword arguments"},
		},
		{
			name: "WDT timeout is fixed",
			main: "import machine\ntry:\n    machine.WDT(timeout=2000)\nexcept ValueError:\n    print('fixed')\n",
			want: []string{"fixed"},
		},
		{
			name: "time_pulse_us measures a pulse",
			main: "import machine\nfrom machine import Pin\np = Pin(5, Pin.IN)\n" +
				"print(machine.time_pulse_us(p, 1, 1000000))\nprint(machine.time_pulse_us(p, 1, 1000))\n",
			wire: func(h *machine.Hardware) {
				_ = h.Drive(5, []machine.Change{{At: 10 * time.Millisecond, Level: 1}, {At: 10*time.Millisecond + 1500*time.Microsecond, Level: 0}})
			},
			want: []string{"1500", "-2"},
		},
		{
			name: "dht_readinto: a DHT22 answers, no sensor is ETIMEDOUT",
			main: "import machine\nfrom machine import Pin\nb = bytearray(5)\n" +
				"machine.dht_readinto(Pin(4), b)\nprint(list(b))\n" +
				"try:\n    machine.dht_readinto(Pin(5), b)\nexcept OSError as e:\n    print(e)\n",
			wire: func(h *machine.Hardware) {
				h.AttachDHT(4, &machine.DHT{Model: 22, Temperature: 21.5, Humidity: 45.2})
			},
			want: []string{"[1, 196, 0, 215, 156]", "ETIMEDOUT"},
		},
		{
			name: "ADC and PWM",
			main: "from machine import ADC, PWM, Pin\nprint(ADC(0).read())\n" +
				"p = PWM(Pin(2), freq=2000, duty=512)\nprint(p.freq(), p.duty())\n" +
				"try:\n    ADC(3)\nexcept ValueError as e:\n    print(e)\n",
			wire: func(h *machine.Hardware) { h.SetADC(612) },
			want: []string{"612", "1000 512", "ADC(3) doesn't exist"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, res, _ := runWired(t, tt.main, tt.wire)
			if res.Outcome != Finished {
				t.Fatalf("outcome %v, want Finished\nconsole:\n%s", res.Outcome, out)
			}
			wantInOrder(t, out, tt.want)
		})
	}
}

// TestWDTNotFedResets checks that a WDT not fed reboots the board with
// reset_cause() == WDT_RESET, through the RST-pin path.
func TestWDTNotFedResets(t *testing.T) {
	main := "import machine, time\nprint('cause', machine.reset_cause())\n" +
		"if machine.reset_cause() != machine.WDT_RESET:\n" +
		"    w = machine.WDT()\n    for i in range(3):\n        time.sleep(1)\n        w.feed()\n" +
		"    print('fed', time.ticks_ms())\n    time.sleep(60)\n    print('not reset')\n"
	out, res, b := runWired(t, main, nil)
	if res.Outcome != Finished {
		t.Fatalf("outcome %v\n%s", res.Outcome, out)
	}
	if !strings.Contains(out, "cause 0") || !strings.Contains(out, "fed 3000") || !strings.Contains(out, "cause 1") || strings.Contains(out, "not reset") {
		t.Fatalf("console:\n%s", out)
	}
	// Fed at 3 s, so the reset is 5 s later.
	if got := b.Clock().Elapsed(); got < 8*time.Second || got > 9*time.Second {
		t.Errorf("reset at %v, want 8s", got)
	}
}

// TestDeepSleepKeepsRTCMemory is the tutorial's deep-sleep pattern: each
// wake reports DEEPSLEEP_RESET and RTC memory counts the wakes.
func TestDeepSleepKeepsRTCMemory(t *testing.T) {
	main := "import machine, time\nr = machine.RTC()\nm = r.memory()\nn = int(m) if m else 0\n" +
		"print('wake', n, machine.reset_cause())\n" +
		"if n < 12:\n    r.memory(str(n + 1))\n    machine.deepsleep(300000)\n"
	out, res, b := runWired(t, main, nil)
	if res.Outcome != Finished {
		t.Fatalf("outcome %v: %s\n%s", res.Outcome, res.Message, out)
	}
	if !strings.Contains(out, "wake 0 0") || !strings.Contains(out, "wake 1 5") || !strings.Contains(out, "wake 12 5") {
		t.Fatalf("console:\n%s", out)
	}
	if got := b.Clock().Elapsed(); got != time.Hour {
		t.Errorf("slept until %v, want 1h", got)
	}
}

// TestDeepSleepAlarm: with no argument, deepsleep sleeps until the RTC
// alarm when it is set to wake the chip.
func TestDeepSleepAlarm(t *testing.T) {
	main := "import machine\nprint('cause', machine.reset_cause())\n" +
		"if machine.reset_cause() != machine.DEEPSLEEP_RESET:\n" +
		"    rtc = machine.RTC()\n    rtc.irq(trigger=rtc.ALARM0, wake=machine.DEEPSLEEP)\n" +
		"    rtc.alarm(rtc.ALARM0, 10000)\n    machine.deepsleep()\n"
	out, res, b := runWired(t, main, nil)
	if res.Outcome != Finished || !strings.Contains(out, "cause 5") {
		t.Fatalf("outcome %v\n%s", res.Outcome, out)
	}
	if got := b.Clock().Elapsed(); got != 10*time.Second {
		t.Errorf("woke at %v, want 10s", got)
	}
}

// TestSSD1306OverI2C draws on an SSD1306 through the ssd1306 driver and
// machine.I2C; the simulated panel's frame buffer shows it.
func TestSSD1306OverI2C(t *testing.T) {
	oled := devices.NewSSD1306(128, 64)
	main := "from machine import Pin, I2C\nimport ssd1306\n" +
		"i2c = I2C(scl=Pin(5), sda=Pin(4))\nprint(i2c.scan())\n" +
		"d = ssd1306.SSD1306_I2C(128, 64, i2c)\n" +
		"d.fill_rect(10, 20, 4, 3, 1)\nd.text('Hi', 0, 0, 1)\nd.show()\nprint('shown')\n"
	out, res, _ := runWired(t, main, func(h *machine.Hardware) { _ = h.AttachI2C(0x3c, oled) })
	if res.Outcome != Finished || !strings.Contains(out, "[60]") || !strings.Contains(out, "shown") {
		t.Fatalf("outcome %v\n%s", res.Outcome, out)
	}
	if !oled.On() {
		t.Error("display not switched on")
	}
	for _, p := range [][2]int{{10, 20}, {13, 22}} {
		if !oled.Pixel(p[0], p[1]) {
			t.Errorf("pixel %v of the rectangle is off", p)
		}
	}
	if oled.Pixel(14, 20) || oled.Pixel(10, 23) {
		t.Error("pixel outside the rectangle is on")
	}
	// "Hi" in the 8×8 font lights a few dozen pixels in the top-left cell.
	if n := oled.Lit(); n < 12+10 || n > 12+64 {
		t.Errorf("%d pixels lit, want the rectangle's 12 and the text's", n)
	}
	img, err := png.Decode(bytes.NewReader(oled.PNG()))
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _, _ := img.At(10, 20).RGBA(); r == 0 {
		t.Error("PNG pixel (10,20) is black")
	}
	if r, _, _, _ := img.At(100, 60).RGBA(); r != 0 {
		t.Error("PNG pixel (100,60) is lit")
	}
}

// TestNeoPixel: the neopixel driver clocks GRB bytes out with
// machine.bitstream; the strip decodes them back to the colours set.
func TestNeoPixel(t *testing.T) {
	main := "from machine import Pin\nfrom neopixel import NeoPixel\n" +
		"np = NeoPixel(Pin(4), 3)\nnp[0] = (255, 0, 0)\nnp[1] = (0, 128, 0)\nnp[2] = (1, 2, 3)\nnp.write()\nprint(np[1])\n"
	out, res, b := runWired(t, main, nil)
	if res.Outcome != Finished || !strings.Contains(out, "(0, 128, 0)") {
		t.Fatalf("outcome %v\n%s", res.Outcome, out)
	}
	got := machine.NeoPixelColors(b.Hardware().Strip(4), 3)
	want := [][3]byte{{255, 0, 0}, {0, 128, 0}, {1, 2, 3}}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("LED %d = %v, want %v", i, got[i], want[i])
		}
	}
}

// TestDS18B20 finds two sensors with the onewire ROM search and reads
// their temperatures through ds18x20, bit by bit on the simulated bus.
func TestDS18B20(t *testing.T) {
	a := devices.NewDS18B20(0x0000_0123_4567, 21.5)
	b := devices.NewDS18B20(0x0000_89ab_cdef, -5.25)
	main := "import time, machine, onewire, ds18x20\n" +
		"ds = ds18x20.DS18X20(onewire.OneWire(machine.Pin(12)))\nroms = ds.scan()\nprint(len(roms))\n" +
		"ds.convert_temp()\ntime.sleep_ms(750)\n" +
		"for r in sorted(roms):\n    print(r.hex(), ds.read_temp(r))\n" +
		"print(onewire.OneWire(machine.Pin(13)).reset())\n"
	out, res, _ := runWired(t, main, func(h *machine.Hardware) {
		h.AttachOneWire(12, a)
		h.AttachOneWire(12, b)
	})
	if res.Outcome != Finished {
		t.Fatalf("outcome %v\n%s", res.Outcome, out)
	}
	ra, rb := a.ROM(), b.ROM()
	for _, want := range []string{"2\n", fmt.Sprintf("%x 21.5", ra[:]), fmt.Sprintf("%x -5.25", rb[:]), "False"} {
		if !strings.Contains(out, want) {
			t.Errorf("console lacks %q:\n%s", want, out)
		}
	}
}

// TestBME280 reads a BME280's id, calibration and raw values over I2C and
// compensates them with the datasheet's formulas in Python, as a driver
// does: the result is what the sensor was set to.
func TestBME280(t *testing.T) {
	bme := devices.NewBME280(23.45, 1002.0, 41.5)
	main := `from machine import Pin, I2C
import struct
i2c = I2C(scl=Pin(5), sda=Pin(4))
print(hex(i2c.readfrom_mem(0x76, 0xD0, 1)[0]))
T1, T2, T3, P1, P2, P3, P4, P5, P6, P7, P8, P9 = struct.unpack('<HhhHhhhhhhhh', i2c.readfrom_mem(0x76, 0x88, 24))
H1 = i2c.readfrom_mem(0x76, 0xA1, 1)[0]
e = i2c.readfrom_mem(0x76, 0xE1, 7)
H2 = struct.unpack('<h', e[0:2])[0]
H3 = e[2]
H4 = (e[3] << 4) | (e[4] & 0xF)
H5 = (e[5] << 4) | (e[4] >> 4)
H6 = struct.unpack('<b', e[6:7])[0]
i2c.writeto_mem(0x76, 0xF2, b'\x01')
i2c.writeto_mem(0x76, 0xF4, b'\x27')
r = i2c.readfrom_mem(0x76, 0xF7, 8)
adc_p = (r[0] << 12) | (r[1] << 4) | (r[2] >> 4)
adc_t = (r[3] << 12) | (r[4] << 4) | (r[5] >> 4)
adc_h = (r[6] << 8) | r[7]
v1 = (((adc_t >> 3) - (T1 << 1)) * T2) >> 11
v2 = (((((adc_t >> 4) - T1) * ((adc_t >> 4) - T1)) >> 12) * T3) >> 14
fine = v1 + v2
temp = ((fine * 5 + 128) >> 8) / 100
v1 = fine - 128000
v2 = v1 * v1 * P6 + ((v1 * P5) << 17) + (P4 << 35)
v1 = ((v1 * v1 * P3) >> 8) + ((v1 * P2) << 12)
v1 = (((1 << 47) + v1) * P1) >> 33
p = 1048576 - adc_p
p = (((p << 31) - v2) * 3125) // v1
p = ((p + ((P9 * (p >> 13) * (p >> 13)) >> 25) + ((P8 * p) >> 19)) >> 8) + (P7 << 4)
h = fine - 76800
h = (((((adc_h << 14) - (H4 << 20) - (H5 * h)) + 16384) >> 15) * (((((((h * H6) >> 10) * (((h * H3) >> 11) + 32768)) >> 10) + 2097152) * H2 + 8192) >> 14))
h = h - (((((h >> 15) * (h >> 15)) >> 7) * H1) >> 4)
h = min(max(h, 0), 419430400) >> 12
print('%.2f %.1f %.1f' % (temp, p / 256 / 100, h / 1024))
`
	out, res, _ := runWired(t, main, func(h *machine.Hardware) { _ = h.AttachI2C(0x76, bme) })
	if res.Outcome != Finished || !strings.Contains(out, "0x60") || !strings.Contains(out, "23.45 1002.0 41.5") {
		t.Fatalf("outcome %v\n%s", res.Outcome, out)
	}
}

// TestRawFlash: esp.flash_erase/write/read behave as NOR flash does.
func TestRawFlash(t *testing.T) {
	main := "import esp\nsec = esp.flash_user_start() // 4096 + 200\n" +
		"esp.flash_erase(sec)\nprint(esp.flash_read(sec * 4096, 4))\n" +
		"esp.flash_write(sec * 4096, b'\\x0f\\xf0\\xaa\\x55')\nesp.flash_write(sec * 4096, b'\\xff\\x0f\\xff\\xff')\n" +
		"print(esp.flash_read(sec * 4096, 4))\nb = bytearray(4)\nesp.flash_read(sec * 4096, b)\nprint(b)\n" +
		"try:\n    esp.flash_write(sec * 4096, b'abc')\nexcept ValueError as e:\n    print(e)\n" +
		"try:\n    esp.flash_read(esp.flash_size(), 4)\nexcept OSError as e:\n    print(e)\n"
	out, res, _ := runWired(t, main, nil)
	want := []string{`b'\xff\xff\xff\xff'`, `b'\x0f\x00\xaaU'`, `bytearray(b'\x0f\x00\xaaU')`, "len must be multiple of 4", "EIO"}
	if res.Outcome != Finished {
		t.Fatalf("outcome %v\n%s", res.Outcome, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("console lacks %q:\n%s", w, out)
		}
	}
}
