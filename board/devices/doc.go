// Package devices holds simulated parts that sit on a board's buses, for
// board/machine to drive: an SSD1306 OLED display on I2C. Each part speaks
// the bus protocol the real one does, so the MicroPython drivers that talk
// to them are the same code a real board runs.
package devices
