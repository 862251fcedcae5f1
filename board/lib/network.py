# The board's network module: the ESP8266 port's network.WLAN
# (ports/esp8266/network_wlan.c). Every check, message and state lives in the
# simulator (host module _network, board/network.go); this file only moves
# arguments across. Bytes travel as "\x01"+hex, tuples as "\x02"+items
# joined by "\x1e", lists as "\x03"+items joined by "\x1d", ints inside them
# as "\x04"+digits.
import _network as _n
from _hostcall import U as _U, exc as _exc

STA_IF = 0
AP_IF = 1
STAT_IDLE = 0
STAT_CONNECTING = 1
STAT_WRONG_PASSWORD = 2
STAT_NO_AP_FOUND = 3
STAT_CONNECT_FAIL = 4
STAT_GOT_IP = 5
MODE_11B = 1
MODE_11G = 2
MODE_11N = 3
AUTH_OPEN = 0
AUTH_WEP = 1
AUTH_WPA_PSK = 2
AUTH_WPA2_PSK = 3
AUTH_WPA_WPA2_PSK = 4


def _e(x):
    t = type(x)
    if t in (bytes, bytearray, memoryview):
        return "\x01" + "".join("%02x" % c for c in bytes(x))
    if t in (tuple, list):
        return "\x02" + "\x1e".join(_i(v) for v in x)
    return x


def _i(x):
    x = _e(x)
    if type(x) is str:
        return x
    if type(x) is int:
        return "\x04%d" % x
    return "\x05" + type(x).__name__


def _f(a, k):
    r = [_e(x) for x in a]
    for n in k:
        r.append(n)
        r.append(_e(k[n]))
    return r


def _r(x):
    if x is _U:
        raise _exc()
    if type(x) is str and x and x[0] < "\x05":
        c, x = x[0], x[1:]
        if c == "\x01":
            return bytes.fromhex(x)
        if c == "\x04":
            return int(x)
        if c == "\x02":
            return tuple(_r(v) for v in x.split("\x1e")) if x else ()
        return [_r(v) for v in x.split("\x1d")] if x else []
    return x


def _c(r):
    if r is _U:
        raise _exc()
    return r


def _m(n):
    f = getattr(_n, n)

    def m(self, *a, **k):
        return _r(f(self._if, len(a), *_f(a, k)))

    return m


def _g(n):
    f = getattr(_n, n)

    def g(*a, **k):
        return _r(f(-1, len(a), *_f(a, k)))

    return g


_w = {}


class WLAN:
    IF_STA = 0
    IF_AP = 1
    SEC_OPEN = 0
    SEC_WEP = 1
    SEC_WPA = 2
    SEC_WPA2 = 3
    SEC_WPA_WPA2 = 4
    PM_NONE = 0
    PM_PERFORMANCE = 2
    PM_POWERSAVE = 1

    def __new__(cls, *a, **k):
        # One object per interface, as the port returns its static objects.
        i = _r(_n.wlan(-1, len(a), *_f(a, k)))
        o = _w.get(i)
        if o is None:
            o = _w[i] = object.__new__(cls)
            o._if = i
        return o

    def __repr__(self):
        return "<WLAN>"

    def ifconfig(self, *a, **k):
        # The hot path of polling loops: a plain "ip mask gw dns" string.
        if a or k:
            return _r(_n.ifconfig(self._if, len(a), *_f(a, k)))
        return tuple(_c(_n.ifconfig(self._if, -1)).split(" "))


for _x in ("active", "connect", "disconnect", "status", "scan", "isconnected", "config", "ipconfig"):
    setattr(WLAN, _x, _m(_x))
hostname = _g("hostname")
country = _g("country")
phy_mode = _g("phy_mode")
ipconfig = _g("net_ipconfig")
del _x
