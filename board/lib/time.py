# The board's time: the firmware's time module on the simulator clock, with
# the ESP8266's epoch (2000-01-01) and integer time().
from utime import *
import utime as _t
from _board import sleep as _sleep, sleep_ms as _sleep_ms, sleep_us as _sleep_us
from _board import ticks_us as _ticks_us, ticks_cpu as _ticks_cpu
from _board import time as _time, time_ns as _time_ns
from _hostcall import U as _U, exc as _exc
from _hw import wait as _hwwait

_OFFSET = 946684800


# _irq is set by machine when it is imported: it schedules the interrupt
# handlers (Pin.irq, Timer) that became due during a wait, as the port's
# interrupt handlers do with micropython.schedule.
_irq = None


def _wait(us):
    # The wait ends early when a handler becomes due; the handler runs
    # (scheduled) and the wait goes on for the time left. Whole
    # microseconds throughout, so no float is allocated (heap_lock), at
    # most 1000 s per host call (the host takes 32-bit ints).
    while us > 0:
        n = us if us < 1000000000 else 1000000000
        r = _hwwait(n)
        if r is _U:
            raise _exc()
        if r < 0:
            us -= n
            continue
        _irq()
        us -= n - r


def sleep(seconds):
    if _irq is not None and seconds > 0:
        return _wait(int(seconds * 1000000))
    if _sleep(seconds) is _U:
        raise _exc()


def sleep_ms(ms):
    if _irq is not None and ms > 0:
        return _wait(ms * 1000)
    if _sleep_ms(ms) is _U:
        raise _exc()


def sleep_us(us):
    if _irq is not None and us > 0:
        return _wait(us)
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
