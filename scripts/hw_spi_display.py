# An SSD1306 OLED in 4-wire SPI mode on hardware SPI(1) (SCK GPIO 14,
# MOSI GPIO 13), with D/C on GPIO 4, RES on GPIO 5 and CS on GPIO 15,
# shows two lines of text and a frame.
from machine import Pin, SPI
import ssd1306

spi = SPI(1, baudrate=8000000, polarity=0, phase=0)
oled = ssd1306.SSD1306_SPI(128, 64, spi, Pin(4), Pin(5), Pin(15))
oled.fill(0)
oled.text("Hello, SPI", 0, 0)
oled.text("temp 21.5C", 8, 24)
oled.rect(0, 40, 128, 24, 1)
oled.show()
print("drawn")
