# The board's machine module: the ESP8266 basics.
import _board
from _hostcall import U as _U, exc as _exc

PWRON_RESET = 0
WDT_RESET = 1
SOFT_RESET = 4
DEEPSLEEP_RESET = 5
HARD_RESET = 6
DEEPSLEEP = 4
IDLE = 0
SLEEP = 2

_freq = 80000000


def reset():
    if _board.reset("hard") is _U:
        raise _exc()


def soft_reset(*args):
    # machine.soft_reset is sys.exit on the board (extmod/modmachine.c):
    # main.py ends and the REPL follows; at the REPL it is a soft reboot.
    raise SystemExit(*args)


def reset_cause():
    return _board.reset_cause()


def unique_id():
    m = bytes.fromhex(_board.mac())
    return bytes((m[5], m[4], m[3], 0))


def freq(f=None):
    global _freq
    if f is None:
        return _freq
    if f != 80000000 and f != 160000000:
        raise ValueError("frequency can only be either 80Mhz or 160MHz")
    _freq = f
    _board.set_freq(f)


def idle():
    if _board.poll() is _U:
        raise _exc()


def disable_irq():
    return 0


def enable_irq(state=0):
    pass


def lightsleep(ms=None):
    if ms is not None:
        if _board.sleep_ms(ms) is _U:
            raise _exc()


sleep = lightsleep


def deepsleep(ms=None):
    if ms:
        _board.sleep_ms(ms)
    reset()


_PINS = (0, 1, 2, 3, 4, 5, 12, 13, 14, 15, 16)


class Pin:
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    PULL_UP = 1
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, id, mode=-1, pull=-1, *, value=None):
        if id not in _PINS:
            raise ValueError("invalid pin")
        self._id = id
        self._v = 0
        self._mode = 0
        self.init(mode, pull, value=value)

    def init(self, mode=-1, pull=-1, *, value=None):
        if mode != -1:
            self._mode = mode
        if value is not None:
            self.value(value)

    def value(self, v=None):
        if v is None:
            return self._v
        self._v = 1 if v else 0
        _board.pin_write(self._id, self._v)

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def irq(self, handler=None, trigger=3, *, hard=False):
        return None

    def __repr__(self):
        return "Pin(%d)" % self._id


class RTC:
    # The ESP8266's RTC: datetime() as (year, month, day, weekday, hours,
    # minutes, seconds, subseconds), epoch 2000.
    def __init__(self, id=0):
        pass

    def datetime(self, t=None):
        import utime

        if t is None:
            s = _board.time()
            y, mo, d, h, mi, se, wd, _ = utime.localtime(s + 946684800)
            return (y, mo, d, wd, h, mi, se, _board.rtc_us())
        y, mo, d, _, h, mi, se = t[:7]
        us = t[7] if len(t) > 7 else 0
        _board.rtc_set(utime.mktime((y, mo, d, h, mi, se, 0, 0)) - 946684800, us)

    def memory(self, data=None):
        global _rtc_mem
        if data is None:
            return _rtc_mem
        _rtc_mem = bytes(data)


_rtc_mem = b""
