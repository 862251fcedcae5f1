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


implementation = _implementation((_I.name, _I.version, "ESP module with ESP8266", _I._mpy, "ESP8266_GENERIC"))
del _I


# sys.stdin reads the UART (shared/runtime/sys_stdio_mphal.c): read(n)
# waits for n characters, "\r" arrives as "\n"; .buffer gives the bytes as
# sent. Ctrl-C while it waits raises KeyboardInterrupt.
class _UARTIn:
    def __init__(self, text):
        self._text = text

    def readinto(self, buf, n=-1):
        from uctypes import addressof
        from _board import uart_read
        from _hostcall import U, exc

        mv = memoryview(buf)
        if n < 0 or n > len(mv):
            n = len(mv)
        got = 0
        while got < n:
            r = uart_read(addressof(mv) + got, n - got, self._text)
            if r is U:
                raise exc()
            got += r
        return got

    def read(self, n=-1):
        if n is None or n < 0:
            # Until the end of the input, which a UART never reaches.
            out = bytearray()
            b = bytearray(1)
            while True:
                self.readinto(b)
                out += b
        b = bytearray(n)
        self.readinto(b)
        return str(b, "utf-8") if self._text else bytes(b)

    def readline(self, n=-1):
        out = bytearray()
        b = bytearray(1)
        while n < 0 or len(out) < n:
            self.readinto(b)
            out += b
            if b[0] == 10:
                break
        return str(out, "utf-8") if self._text else bytes(out)

    def __iter__(self):
        return self

    def __next__(self):
        return self.readline()

    def fileno(self):
        return 0

    def close(self):
        pass

    def __repr__(self):
        return "<io.TextIOWrapper 0>" if self._text else "<io.FileIO 0>"


stdin = _UARTIn(True)
stdin.buffer = _UARTIn(False)
