# ssd1306: the SSD1306 OLED driver with the firmware's API (SSD1306_I2C,
# SSD1306_SPI; a framebuf.FrameBuffer you draw on, then show()). The
# commands are the datasheet's; written for this simulator.
import framebuf

_CONTRAST = 0x81
_ENTIRE_ON = 0xA4
_NORM_INV = 0xA6
_DISP = 0xAE
_MEM_MODE = 0x20
_COL_ADDR = 0x21
_PAGE_ADDR = 0x22
_START_LINE = 0x40
_SEG_REMAP = 0xA0
_MUX_RATIO = 0xA8
_IREF = 0xAD
_COM_OUT_DIR = 0xC0
_DISP_OFFSET = 0xD3
_COM_PIN_CFG = 0xDA
_DISP_CLK_DIV = 0xD5
_PRECHARGE = 0xD9
_VCOM_DESEL = 0xDB
_CHARGE_PUMP = 0x8D


class SSD1306(framebuf.FrameBuffer):
    def __init__(self, width, height, external_vcc):
        self.width = width
        self.height = height
        self.external_vcc = external_vcc
        self.pages = height // 8
        self.buffer = bytearray(self.pages * width)
        super().__init__(self.buffer, width, height, framebuf.MONO_VLSB)
        self.init_display()

    def init_display(self):
        ext = self.external_vcc
        for c in (
            _DISP,
            _MEM_MODE, 0x00,  # horizontal addressing
            _START_LINE | 0x00,
            _SEG_REMAP | 0x01,
            _MUX_RATIO, self.height - 1,
            _COM_OUT_DIR | 0x08,
            _DISP_OFFSET, 0x00,
            _COM_PIN_CFG, 0x02 if self.width > 2 * self.height else 0x12,
            _DISP_CLK_DIV, 0x80,
            _PRECHARGE, 0x22 if ext else 0xF1,
            _VCOM_DESEL, 0x30,
            _CONTRAST, 0xFF,
            _ENTIRE_ON,
            _NORM_INV,
            _IREF, 0x30,
            _CHARGE_PUMP, 0x10 if ext else 0x14,
            _DISP | 0x01,
        ):
            self.write_cmd(c)
        self.fill(0)
        self.show()

    def poweroff(self):
        self.write_cmd(_DISP)

    def poweron(self):
        self.write_cmd(_DISP | 0x01)

    def contrast(self, c):
        self.write_cmd(_CONTRAST)
        self.write_cmd(c)

    def invert(self, inv):
        self.write_cmd(_NORM_INV | (inv & 1))

    def rotate(self, r):
        self.write_cmd(_COM_OUT_DIR | ((r & 1) << 3))
        self.write_cmd(_SEG_REMAP | (r & 1))

    def show(self):
        x0, x1 = 0, self.width - 1
        if self.width != 128:
            # Narrow panels sit in the middle of the 128 columns.
            off = (128 - self.width) // 2
            x0, x1 = x0 + off, x1 + off
        for c in (_COL_ADDR, x0, x1, _PAGE_ADDR, 0, self.pages - 1):
            self.write_cmd(c)
        self.write_data(self.buffer)


class SSD1306_I2C(SSD1306):
    def __init__(self, width, height, i2c, addr=0x3C, external_vcc=False):
        self.i2c = i2c
        self.addr = addr
        self._cmd = bytearray(2)
        self._vec = [b"\x40", None]
        super().__init__(width, height, external_vcc)

    def write_cmd(self, cmd):
        self._cmd[0] = 0x80  # Co=1, D/C#=0: one command byte
        self._cmd[1] = cmd
        self.i2c.writeto(self.addr, self._cmd)

    def write_data(self, buf):
        self._vec[1] = buf
        self.i2c.writevto(self.addr, self._vec)


class SSD1306_SPI(SSD1306):
    def __init__(self, width, height, spi, dc, res, cs, external_vcc=False):
        self.rate = 10 * 1024 * 1024
        dc.init(dc.OUT, value=0)
        res.init(res.OUT, value=0)
        cs.init(cs.OUT, value=1)
        self.spi, self.dc, self.res, self.cs = spi, dc, res, cs
        import time

        res(1)
        time.sleep_ms(1)
        res(0)
        time.sleep_ms(10)
        res(1)
        super().__init__(width, height, external_vcc)

    def write_cmd(self, cmd):
        self.spi.init(baudrate=self.rate, polarity=0, phase=0)
        self.cs(1)
        self.dc(0)
        self.cs(0)
        self.spi.write(bytearray([cmd]))
        self.cs(1)

    def write_data(self, buf):
        self.spi.init(baudrate=self.rate, polarity=0, phase=0)
        self.cs(1)
        self.dc(1)
        self.cs(0)
        self.spi.write(buf)
        self.cs(1)
