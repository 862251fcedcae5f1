# The board's time: the firmware's time module on the simulator clock, with
# the ESP8266's epoch (2000-01-01) and integer time().
from utime import *
import utime as _t
from _board import sleep as _sleep, sleep_ms as _sleep_ms, sleep_us as _sleep_us
from _board import ticks_us as _ticks_us, ticks_cpu as _ticks_cpu
from _board import time as _time, time_ns as _time_ns
from _hostcall import U as _U, exc as _exc

_OFFSET = 946684800


# A sleep is a wait of the board's: interrupt handlers that become due
# during it run inside it, as mp_hal_delay_us runs mp_handle_pending.
def sleep(seconds):
    if _sleep(seconds) is _U:
        raise _exc()


def sleep_ms(ms):
    if _sleep_ms(ms) is _U:
        raise _exc()


def sleep_us(us):
    if _sleep_us(us) is _U:
        raise _exc()


def ticks_us():
    r = _ticks_us()
    if r is _U:
        raise _exc()
    return r


def ticks_cpu():
    r = _ticks_cpu()
    if r is _U:
        raise _exc()
    return r


def time():
    return _time()


def time_ns():
    return int(_time_ns())


def localtime(secs=None):
    if secs is None:
        secs = _time()
    return _t.localtime(int(secs) + _OFFSET)


gmtime = localtime


def mktime(t):
    return _t.mktime(t) - _OFFSET
