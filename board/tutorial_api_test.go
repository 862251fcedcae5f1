package board

import (
	"context"
	"testing"
	"time"

	"github.com/esp8266sim/esp8266sim/board/devices"
	"github.com/esp8266sim/esp8266sim/board/machine"
)

// TestTutorialAPIs runs, in our own words, the machine and esp calls the
// ESP8266 quickref and tutorials use that no other test covers; check
// reads what the devices saw where the console is not enough.
func TestTutorialAPIs(t *testing.T) {
	tests := []struct {
		name  string
		main  string
		wire  func(h *machine.Hardware)
		want  []string // console, in order
		check func(t *testing.T, h *machine.Hardware)
	}{
		{
			name: "machine.freq: 80 or 160 MHz only",
			main: "import machine\nprint(machine.freq())\nmachine.freq(160000000)\nprint(machine.freq())\n" +
				"try:\n    machine.freq(120000000)\nexcept ValueError as e:\n    print(e)\n",
			want: []string{"80000000", "160000000", "frequency can only be either 80Mhz or 160MHz"},
		},
		{
			name: "esp.osdebug and esp.check_fw",
			main: "import esp\nesp.osdebug(None)\nesp.osdebug(0)\nprint('fw', esp.check_fw())\n",
			want: []string{"size: ", "md5: ", "fw True"},
		},
		{
			name: "APA102 strip through esp.apa102_write",
			main: "from machine import Pin\nfrom apa102 import APA102\n" +
				"apa = APA102(Pin(14, Pin.OUT), Pin(13, Pin.OUT), 2)\napa[0] = (255, 128, 1, 31)\napa[1] = (0, 0, 9, 7)\napa.write()\nprint(apa[0])\n",
			want: []string{"(255, 128, 1, 31)"},
			check: func(t *testing.T, h *machine.Hardware) {
				if got, want := h.Strip(13), []byte{255, 128, 1, 31, 0, 0, 9, 7}; string(got) != string(want) {
					t.Errorf("strip on GPIO 13 latched % x, want % x", got, want)
				}
			},
		},
		{
			name: "NeoPixel with bpp=4 (RGBW) sends GRBW",
			main: "from machine import Pin\nfrom neopixel import NeoPixel\n" +
				"np = NeoPixel(Pin(4), 2, bpp=4)\nnp[0] = (1, 2, 3, 4)\nnp.write()\nprint(np[0], np.n)\n",
			want: []string{"(1, 2, 3, 4) 2"},
			check: func(t *testing.T, h *machine.Hardware) {
				if got, want := h.Strip(4), []byte{2, 1, 3, 4, 0, 0, 0, 0}; string(got) != string(want) {
					t.Errorf("strip latched % x, want % x", got, want)
				}
			},
		},
		{
			name: "DHT11 reads whole degrees and percent",
			main: "import dht, machine\nd = dht.DHT11(machine.Pin(4))\nd.measure()\nprint(d.temperature(), d.humidity())\n",
			wire: func(h *machine.Hardware) {
				h.AttachDHT(4, &machine.DHT{Model: 11, Temperature: 23, Humidity: 41})
			},
			want: []string{"23 41"},
		},
		{
			name: "UART(1) transmits on GPIO 2 and cannot read",
			main: "from machine import UART\nu = UART(1, 115200)\nprint(u.write(b'hi\\n'))\n" +
				"try:\n    u.read()\nexcept OSError as e:\n    print(e)\n",
			want: []string{"3", "UART(1) can't read"},
			check: func(t *testing.T, h *machine.Hardware) {
				if got := string(h.UART1Sent()); got != "hi\n" {
					t.Errorf("UART1 sent %q", got)
				}
			},
		},
		{
			name: "SoftI2C finds and reads a part",
			main: "from machine import Pin, SoftI2C\ni2c = SoftI2C(scl=Pin(5), sda=Pin(4))\nprint(i2c.scan(), hex(i2c.readfrom_mem(0x76, 0xd0, 1)[0]))\n",
			wire: func(h *machine.Hardware) { _ = h.AttachI2C(0x76, devices.NewBME280(20, 1013.25, 50)) },
			want: []string{"[118] 0x60"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, res, b := runWired(t, tt.main, tt.wire)
			if res.Outcome != Finished {
				t.Fatalf("outcome %v: %s\n%s", res.Outcome, res.Message, out)
			}
			wantInOrder(t, out, tt.want)
			if tt.check != nil {
				tt.check(t, b.Hardware())
			}
		})
	}
}

// esp.deepsleep(0) sleeps until the RST pin, as system_deep_sleep(0) does:
// the board never wakes by itself.
func TestESPDeepSleepZeroWaitsForReset(t *testing.T) {
	var out syncBuffer
	b, err := New(Config{Name: "esp1", Console: &out, Files: files("import esp, machine\nprint('cause', machine.reset_cause())\nesp.deepsleep(0)\n")},
		testFirmware(t), newClock(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, _ = b.Run(ctx)
	if got := b.Hardware().Causes(); len(got) != 1 {
		t.Errorf("boots with causes %v, want only the first: nothing wakes the chip\n%s", got, out.String())
	}
}
