package sim

import (
	"testing"
)

// The hardware expectations fail when the board's pins, reset cause,
// pixels, panel or PWM differ from what they ask: each shipped hardware
// scenario runs once with wrong twins of its expectations appended, and
// those fail while the scenario's own hold (see fieldCoverage).
func TestHardwareExpectationsFailWhenWrong(t *testing.T) {
	for _, tt := range []struct {
		scenario string
		wrong    []string
	}{
		{"hw_blink_button.yaml", []string{
			"{pin: {pin: 2, value: 0, at: 700ms}}", // the LED is on at 700 ms
			"{pin: {pin: 2, value: 1, at: 1200ms}}",
		}},
		{"hw_datalogger.yaml", []string{"{reset_cause: 1}"}}, // woken from deep sleep: 5
		{"hw_display_strip.yaml", []string{
			"{neopixel: {pin: 14, index: 0, color: [0, 255, 0]}}", // pixel 0 is red
			"{neopixel: {pin: 14, index: 3, color: [0, 0, 255]}}", // pixel 3 is white
			"{neopixel: {pin: 14, index: 4, color: [0, 0, 0]}}",   // the strip has count 4
			"{display: {lit_min: 100000}}",                        // a 128×64 panel has 8192 pixels
			"{display: {addr: 0x3d, lit_min: 1}}",                 // the panel is at 0x3c
		}},
		{"hw_spi_display.yaml", []string{
			`{display: {cs: 15, text: "Hello, SPJ"}}`, // one glyph differs
			`{display: {cs: 15, text: "hello, SPI"}}`,
			`{display: {cs: 15, text: "21.5F"}}`,
			`{display: {cs: 16, text: "Hello, SPI"}}`, // no panel selected by GPIO 16
			"{display: {lit_min: 1}}",                 // no panel at 0x3c on I2C
		}},
		{"hw_servo_pot.yaml", []string{
			"{pwm: {pin: 12, freq: 50, duty: 26}}", // ends at duty 128
			"{pwm: {pin: 12, freq: 1000, duty: 128}}",
		}},
	} {
		t.Run(tt.scenario, func(t *testing.T) {
			var set []string
			for _, w := range tt.wrong {
				set = append(set, "expect[+]="+w)
			}
			res, _ := runScenario(t, parseShipped(t, tt.scenario, set...), Options{})
			first := len(res.Expectations) - len(tt.wrong)
			for i, e := range res.Expectations {
				if wantPass := i < first; e.Passed != wantPass {
					t.Errorf("%s: passed %v, want %v (%s)", e.Description, e.Passed, wantPass, e.Reason)
				}
			}
		})
	}
}
