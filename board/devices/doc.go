// Package devices holds simulated parts that sit on a board's buses, for
// board/machine to drive: an SSD1306 OLED display and a BME280 sensor on
// I2C, DS18B20 temperature sensors on 1-Wire. Each part speaks the bus
// protocol the real one does (register maps, ROM search, CRCs), so the
// MicroPython drivers that talk to them are the same code a real board
// runs.
package devices
