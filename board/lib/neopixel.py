# neopixel: WS2812 ("NeoPixel") LED strips, with the firmware's API:
# np = NeoPixel(pin, n); np[i] = (r, g, b); np.write(). The strip takes
# green, red, blue (ORDER) and machine.bitstream clocks the bytes out.
from machine import bitstream


class NeoPixel:
    ORDER = (1, 0, 2, 3)

    def __init__(self, pin, n, bpp=3, timing=1):
        self.pin = pin
        self.n = n
        self.bpp = bpp
        self.buf = bytearray(n * bpp)
        self.pin.init(pin.OUT)
        # Nanoseconds high/low for a 0 and a 1 bit: 800 kHz or 400 kHz.
        if timing == 1:
            self.timing = (400, 850, 800, 450)
        elif timing == 0:
            self.timing = (800, 1700, 1600, 900)
        else:
            self.timing = timing

    def __len__(self):
        return self.n

    def __setitem__(self, i, v):
        off = i * self.bpp
        for k in range(self.bpp):
            self.buf[off + self.ORDER[k]] = v[k]

    def __getitem__(self, i):
        off = i * self.bpp
        return tuple(self.buf[off + self.ORDER[k]] for k in range(self.bpp))

    def fill(self, v):
        for i in range(self.n):
            self[i] = v

    def write(self):
        bitstream(self.pin, 0, self.timing, self.buf)
