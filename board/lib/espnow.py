# The board's espnow (the ESP8266 port's espnow.py over its _espnow C
# module), written for this simulator. ESPNow is a singleton: active(),
# config(rxbuf=, timeout_ms=), add_peer(mac[, lmk[, channel]]), del_peer,
# set_pmk, send(mac, msg[, sync]) -> bool, recv/irecv/recvinto, any() and
# iteration. Frames travel through the world's radio; bytes cross to the
# simulator as hex.
from binascii import hexlify, unhexlify
import _espnow
from _hostcall import U as _U, exc as _exc

MAX_DATA_LEN = 250
ADDR_LEN = 6
KEY_LEN = 16
MAX_TOTAL_PEER_NUM = 20
MAX_ENCRYPT_PEER_NUM = 6


def _ok(r):
    if r is _U:
        raise _exc()
    return r


def _hex(b, n=None):
    if n is not None and len(b) != n:
        raise ValueError("invalid buffer length")
    return hexlify(b).decode()


class ESPNowBase:
    def active(self, flag=None):
        return _ok(_espnow.active(_espnow.UNDEF if flag is None else bool(flag)))

    def config(self, rxbuf=-1, timeout_ms=-1):
        _ok(_espnow.config(rxbuf, timeout_ms))

    def set_pmk(self, key):
        _hex(key, KEY_LEN)

    def add_peer(self, mac, lmk=None, channel=0):
        if lmk is not None:
            _hex(lmk, KEY_LEN)
        _ok(_espnow.add_peer(_hex(mac, ADDR_LEN), channel))

    def del_peer(self, mac):
        _ok(_espnow.del_peer(_hex(mac, ADDR_LEN)))

    def send(self, mac, msg, sync=True):
        if isinstance(msg, str):
            msg = msg.encode()
        return _ok(_espnow.send(_hex(mac, ADDR_LEN), _hex(msg), sync))

    def recvinto(self, data, timeout_ms=None):
        r = _ok(_espnow.recv(timeout_ms))
        if r is None:
            return 0
        r = unhexlify(r)
        data[0][:] = r[:6]
        n = len(r) - 6
        if isinstance(data[1], bytearray):
            data[1][:] = r[6:]
        return n


class ESPNow(ESPNowBase):
    _data = [bytearray(ADDR_LEN), bytearray(MAX_DATA_LEN)]
    _none_tuple = (None, None)

    def irecv(self, timeout_ms=None):
        n = self.recvinto(self._data, timeout_ms)
        return self._data if n else self._none_tuple

    def recv(self, timeout_ms=None):
        n = self.recvinto(self._data, timeout_ms)
        return [bytes(x) for x in self._data] if n else self._none_tuple

    def __iter__(self):
        return self

    def __next__(self):
        return self.irecv()

    def any(self):
        return _ok(_espnow.any())
