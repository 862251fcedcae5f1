# dht: the DHT11 and DHT22 temperature and humidity sensors, with the
# firmware's API (measure(), then temperature() and humidity()). The bit
# timing is done by dht_readinto, as on the board.
from esp import dht_readinto


class DHTBase:
    def __init__(self, pin):
        self.pin = pin
        self.buf = bytearray(5)

    def measure(self):
        b = self.buf
        dht_readinto(self.pin, b)
        if (b[0] + b[1] + b[2] + b[3]) & 0xFF != b[4]:
            raise Exception("checksum error")


class DHT11(DHTBase):
    def humidity(self):
        return self.buf[0]

    def temperature(self):
        return self.buf[2]


class DHT22(DHTBase):
    def humidity(self):
        return (self.buf[0] << 8 | self.buf[1]) * 0.1

    def temperature(self):
        t = ((self.buf[2] & 0x7F) << 8 | self.buf[3]) * 0.1
        return -t if self.buf[2] & 0x80 else t
