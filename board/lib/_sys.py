# The board's sys: the firmware's own, with the ESP8266's platform and
# implementation. path, argv and the prompts are the firmware's objects.
import sys as _s
from sys import *

platform = "esp8266"
path = _s.path
argv = _s.argv
modules = _s.modules
for _n in ("ps1", "ps2", "tracebacklimit"):
    try:
        globals()[_n] = getattr(_s, _n)
    except AttributeError:
        pass
del _n

_I = _s.implementation
_F = ("name", "version", "_machine", "_mpy", "_build")


class _implementation(tuple):
    name = property(lambda self: self[0])
    version = property(lambda self: self[1])
    _machine = property(lambda self: self[2])
    _mpy = property(lambda self: self[3])
    _build = property(lambda self: self[4])

    def __repr__(self):
        return "(" + ", ".join("%s=%r" % (f, v) for f, v in zip(_F, self)) + ")"

    __str__ = __repr__


# _mpy as the ESP8266 build (MICROPY_EMIT_XTENSA) reports it: .mpy version 6,
# sub-version 3 and MP_NATIVE_ARCH_XTENSA (9) in py/persistentcode.h's
# MPY_FILE_HEADER_INT.
implementation = _implementation((_I.name, _I.version, "ESP module with ESP8266", 6 | (3 | 9 << 2) << 8, "ESP8266_GENERIC"))
del _I
