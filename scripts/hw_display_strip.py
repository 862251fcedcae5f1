# An SSD1306 OLED on I2C (SCL GPIO 5, SDA GPIO 4) shows a block and a
# frame; a 4-LED NeoPixel strip on GPIO 14 shows red, green, blue, white.
from machine import Pin, I2C
import neopixel
import ssd1306

i2c = I2C(scl=Pin(5), sda=Pin(4), freq=400000)
print("i2c devices:", [hex(a) for a in i2c.scan()])
oled = ssd1306.SSD1306_I2C(128, 64, i2c)
oled.fill(0)
oled.fill_rect(0, 0, 16, 8, 1)
oled.rect(60, 30, 40, 20, 1)
oled.show()

np = neopixel.NeoPixel(Pin(14), 4)
for i, c in enumerate(((255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255))):
    np[i] = c
np.write()
print("drawn")
