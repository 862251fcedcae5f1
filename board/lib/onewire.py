# onewire: the 1-Wire bus with the firmware's API (OneWire(pin): reset,
# readbit/readbyte/readinto, writebit/writebyte/write, select_rom, scan,
# crc8). The slots are the board's, the ROM search runs here in Python as
# on the board.
import _hw


class OneWireError(Exception):
    pass


class OneWire:
    SEARCH_ROM = 0xF0
    MATCH_ROM = 0x55
    SKIP_ROM = 0xCC

    def __init__(self, pin):
        self.pin = pin
        self.pin.init(pin.OPEN_DRAIN, pin.PULL_UP)
        self._id = pin._id

    def reset(self, required=False):
        r = _hw.ow_reset(self._id)
        if required and not r:
            raise OneWireError
        return r

    def readbit(self):
        return _hw.ow_readbit(self._id)

    def readbyte(self):
        return _hw.ow_readbyte(self._id)

    def readinto(self, buf):
        for i in range(len(buf)):
            buf[i] = _hw.ow_readbyte(self._id)

    def writebit(self, value):
        _hw.ow_writebit(self._id, value & 1)

    def writebyte(self, value):
        _hw.ow_writebyte(self._id, value & 0xFF)

    def write(self, buf):
        for b in buf:
            _hw.ow_writebyte(self._id, b)

    def select_rom(self, rom):
        self.reset()
        self.writebyte(self.MATCH_ROM)
        self.write(rom)

    def scan(self):
        devices = []
        diff = 65
        rom = False
        for _ in range(0xFF):
            rom, diff = self._search_rom(rom, diff)
            if rom:
                devices.append(rom)
            if diff == 0:
                break
        return devices

    def _search_rom(self, l_rom, diff):
        # One pass of the ROM search: at each bit the devices answer the bit
        # and its complement; where they disagree take the branch the last
        # pass left for later (diff), and remember the newest fork.
        if not self.reset():
            return None, 0
        self.writebyte(self.SEARCH_ROM)
        if not l_rom:
            l_rom = bytearray(8)
        rom = bytearray(8)
        next_diff = 0
        i = 64
        for byte in range(8):
            r_b = 0
            for bit in range(8):
                b = self.readbit()
                if self.readbit():
                    if b:  # nobody answered
                        return None, 0
                else:
                    if not b:  # a fork: 0 and 1 both present
                        if diff > i or ((l_rom[byte] & (1 << bit)) and diff != i):
                            b = 1
                            next_diff = i
                self.writebit(b)
                if b:
                    r_b |= 1 << bit
                i -= 1
            rom[byte] = r_b
        return rom, next_diff

    def crc8(self, data):
        crc = 0
        for b in data:
            for _ in range(8):
                mix = (crc ^ b) & 1
                crc >>= 1
                if mix:
                    crc ^= 0x8C
                b >>= 1
        return crc
