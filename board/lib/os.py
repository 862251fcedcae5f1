# The board's os: the firmware's, with the ESP8266's uname and urandom.
from uos import *
from uctypes import addressof as _addr
from _board import urandom as _urandom

_UNAME = ("esp8266", "esp8266", "2.2.0-dev(9422289)", "v1.27.0 on 2025-12-09", "ESP module with ESP8266")
_FIELDS = ("sysname", "nodename", "release", "version", "machine")


# The board's os.uname() is an attrtuple (py/objattrtuple.c): a real tuple
# to '%' formatting and unpacking, printed as "(sysname=..., ...)". A
# namedtuple with the empty name is the nearest the firmware offers; a
# tuple subclass is not, since str '%' takes only tuple-compatible types.
from collections import namedtuple as _nt

_uname_result = _nt("", _FIELDS)
del _nt


def uname():
    return _uname_result(*_UNAME)


def urandom(n):
    b = bytearray(n)
    if n:
        _urandom(_addr(b), n)
    return bytes(b)


# statvfs of the virtual root with nothing mounted at "/" is a made-up
# tuple whose f_namemax is MICROPY_ALLOC_PATH_MAX (extmod/vfs.c): 128 on
# the ESP8266 (ports/esp8266/mpconfigport.h), 256 in the firmware.
_fw_statvfs = statvfs


def statvfs(path):
    r = _fw_statvfs(path)
    if (path == "/" or path == b"/" or (not path and getcwd() == "/")) and len(r) == 10 and r[9] == 256:
        import vfs

        for m in vfs.mount():
            if m[1] == "/":
                return r
        return r[:9] + (128,)
    return r


# dupterm slots (MICROPY_PY_OS_DUPTERM is 2 on the ESP8266); main.c puts
# UART(0) in slot 1 at every boot. The board routes the terminal by them
# (board/dupterm.go): UART(0) out of every slot takes the REPL off the
# serial port; a stream in a slot gets the terminal's output.
_dupterm = [None, 0]  # 0 stands for the boot's UART(0) object


def _isuart0(s):
    import machine

    return isinstance(s, machine.UART) and s._id == 0


def dupterm(stream=None, index=0):
    if index < 0 or index > 1:
        raise ValueError("invalid dupterm index")
    if stream is not None and not hasattr(stream, "write"):
        raise OSError("stream operation not supported")
    prev = _dupterm[index]
    if prev == 0 and not isinstance(prev, bool):
        import machine

        prev = machine.UART(0, 115200)
    _dupterm[index] = stream
    n = 0
    py = 0
    for s in _dupterm:
        if (s == 0 and not isinstance(s, bool)) or _isuart0(s):
            n += 1
        elif s is not None:
            py = 1
    import _hw

    _hw.dupterm_set(n, py)
    return prev


def _dt_tx(data):
    # The terminal's output, for the streams in the slots (called by the
    # board); a stream whose write raises leaves its slot, as
    # mp_os_dupterm_tx_strn deactivates it.
    for i in (0, 1):
        s = _dupterm[i]
        if s is None or (s == 0 and not isinstance(s, bool)) or _isuart0(s):
            continue
        try:
            s.write(data)
        except Exception as e:
            _dupterm[i] = None
            dupterm(None, i)
            import sys

            print("dupterm: Exception in write() method, deactivating: ", end="")
            sys.print_exception(e)


def _dt_rx():
    # Input from the streams in the slots (called by the board while it
    # waits for input): what readinto gives goes to stdin, as
    # mp_os_dupterm_rx_chr reads the slots.
    for i in (0, 1):
        s = _dupterm[i]
        if s is None or (s == 0 and not isinstance(s, bool)) or _isuart0(s):
            continue
        b = bytearray(32)
        try:
            n = s.readinto(b)
        except Exception:
            continue
        if n:
            from uctypes import addressof
            import _hw

            _hw.dupterm_rx(addressof(b), n)


def dupterm_notify(obj_in):
    pass
