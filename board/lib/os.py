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


# The ESP8266's littlefs gives (name, type, inode, size) entries
# (extmod/vfs_lfsx.c); the firmware's posix VFS gives three fields.
_fw_ilistdir = ilistdir


def ilistdir(path="."):
    base = path if path.endswith("/") else path + "/"
    for e in _fw_ilistdir(path):
        size = 0
        if e[1] == 0x8000:
            try:
                size = stat(base + e[0])[6]
            except OSError:
                pass
        yield (e[0], e[1], 0, size)


# dupterm slots (MICROPY_PY_OS_DUPTERM is 2 on the ESP8266); main.c puts
# UART(0) in slot 1 for the REPL. The simulator keeps the slots but does
# not yet reroute the console through them.
_dupterm = [None, True]


def dupterm(stream=None, index=0):
    if index < 0 or index > 1:
        raise ValueError("invalid dupterm index")
    prev = _dupterm[index]
    if prev is True:
        import machine

        prev = machine.UART(0, 115200)
    _dupterm[index] = stream
    return prev


def dupterm_notify(obj_in):
    pass
