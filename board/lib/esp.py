# The board's esp module: the ESP8266 essentials.
import gc

SLEEP_NONE = 0
SLEEP_LIGHT = 1
SLEEP_MODEM = 2

_sleep_type = SLEEP_MODEM


def osdebug(level=None, *args):
    pass


def flash_id():
    return 1458376


def flash_size():
    return 4194304


def flash_user_start():
    return 1048576


def sleep_type(t=None):
    global _sleep_type
    if t is None:
        return _sleep_type
    _sleep_type = t


def freemem():
    return gc.mem_free()


def meminfo():
    print("data  : 0x3ffe8000 ~ 0x3ffe8410, len: 1040")
    print("rodata: 0x3ffe8410 ~ 0x3ffe9048, len: 3128")
    print("bss   : 0x3ffe9048 ~ 0x3fff1b78, len: 35632")
    print("heap  : 0x3fff1b78 ~ 0x3fffc000, len: 42120")


def check_fw():
    print("size:", 634652)
    print("md5:", "0" * 32)
    return True


def dht_readinto(pin, buf):
    import machine

    machine.dht_readinto(pin, buf)


def deepsleep(time_us=0, sleep_type=0):
    # esp.deepsleep(us): 0 sleeps until reset (modesp.c).
    import machine

    machine.deepsleep(time_us // 1000 if time_us else None)


def apa102_write(clock_pin, data_pin, buf):
    # The strip on data_pin latches the bytes (clocked by clock_pin).
    import machine

    machine.bitstream(data_pin, 0, (0, 0, 0, 0), buf)


def neopixel_write(pin, buf, is800khz=True):
    import machine

    machine.bitstream(pin, 0, (0, 0, 0, 0), buf)


def flash_read(offset, len_or_buf):
    from uctypes import addressof
    from _hw import flash_read as r
    from _hostcall import U, exc

    buf = bytearray(len_or_buf) if isinstance(len_or_buf, int) else len_or_buf
    if r(offset, addressof(buf), len(buf)) is U:
        raise exc()
    return bytes(buf) if isinstance(len_or_buf, int) else None


def flash_write(offset, buf):
    from uctypes import addressof
    from _hw import flash_write as w
    from _hostcall import U, exc

    b = bytes(buf)
    if w(offset, addressof(b), len(b)) is U:
        raise exc()


def flash_erase(sector):
    from _hw import flash_erase as e
    from _hostcall import U, exc

    if e(sector) is U:
        raise exc()
