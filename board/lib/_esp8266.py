# Installs the ESP8266 profile in a fresh interpreter (run once per boot).
import sys
import gc
from _board import rescue as _rescue
import _gc

_gc.__name__ = "gc"
sys.modules["gc"] = _gc
del sys.modules["_gc"]

_held = None
_budget = 0


def _hold(budget):
    # Keep the script's budget free while the board's own modules (frozen in
    # flash on the real board) load into the heap allowance above it.
    global _held, _budget, _roots
    _budget = budget
    _roots = [None] * 4096
    _held = bytearray(budget * 95 // 100)


# Filled by the host with the words of the C stack while it collects in the
# middle of a script, so objects only the C stack refers to survive.
_roots = None


def _roots_addr():
    return id(_roots)


_filler = None


def _fill():
    # Occupy the holes the module loading left, so that once the held budget
    # is released it is the only free memory: one contiguous region.
    global _filler
    node = None
    for size in (4096, 1024, 256, 64, 16):
        try:
            while True:
                node = (node, bytearray(size))
        except MemoryError:
            pass
    _filler = node


def _release():
    global _held
    _held = None


def _settle():
    # mem_alloc() reads like the board's after boot.
    _gc._base = gc.mem_alloc() - 2048
    # As the ESP8266's _boot.py does: collect after a quarter of the heap.
    gc.threshold(_budget // 4)


_GC = 0  # read by the host to trigger a collection


# Captured before _surface removes the builtin (the ESP8266 has no execfile).
_execfile = execfile


def _run(name, g):
    # Runs boot.py/main.py for the host. On an uncaught exception the host
    # frees C memory so the firmware can format the traceback even when the
    # script exhausted the heap; the host drops this frame from the text.
    try:
        _execfile(name, g)
    except BaseException:
        _rescue()
        raise


def _probe():
    # Show the host what safe calls look like (see board/gcsafety.go).
    from _board import probe as p

    def f():
        p(1)

    f()

    class C:
        def m(self):
            p(2)

    C().m()

    def g():
        p(3)
        yield 1

    for _ in g():
        pass

    class It:
        def __iter__(self):
            return self

        def __next__(self):
            p(5)
            raise StopIteration

    for _ in It():
        pass
    p(6)
    for _ in range(3):
        pass
    p(7)
    x = 1

    def clo():
        return x

    o = C()
    import utime

    # Builtins safe to collect under: they keep what they use on the Python
    # or C stack (print of an object with __str__ included).
    p(4, id(_run), id(clo), id(_gen), id(o.m), id(p), id(g()), id(C), id(_execfile), id(exec), id(eval),
      id(print), id(utime.ticks_ms), id(utime.ticks_diff), id(utime.ticks_add), id(len))


def _gen():
    yield


_HELP = """Welcome to MicroPython!

For online docs please visit http://docs.micropython.org/

For diagnostic information to include in bug reports execute 'import port_diag'.

Basic WiFi configuration:

import network
sta_if = network.WLAN(network.WLAN.IF_STA); sta_if.active(True)
sta_if.scan()                             # Scan for available access points
sta_if.connect("<AP_name>", "<key>") # Connect to an AP
sta_if.isconnected()                      # Check for successful connection
# Change name/password of ESP8266's AP:
ap_if = network.WLAN(network.WLAN.IF_AP)
ap_if.config(ssid="<AP_NAME>", security=network.AUTH_WPA_WPA2_PSK, key="<key>")

Control commands:
  CTRL-A        -- on a blank line, enter raw REPL mode
  CTRL-B        -- on a blank line, enter normal REPL mode
  CTRL-C        -- interrupt a running program
  CTRL-D        -- on a blank line, do a soft reset of the board
  CTRL-E        -- on a blank line, enter paste mode

For further help on a specific object, type help(obj)
"""


def _input(prompt=None):
    from _board import uart_readline
    from _hostcall import U, exc

    if prompt is not None:
        print(prompt, end="")
    r = uart_readline()
    if r is U:
        raise exc()
    return r


def _help(*args):
    if not args:
        print(_HELP, end="")
    elif args[0] is "modules":
        # The firmware compares with the qstr object, as `is` does here.
        # The list loads only when asked (boot time), and leaves no trace
        # in sys.modules.
        import _helpmods

        sys.modules.pop("_helpmods", None)
        _helpmods.show()
    elif args[0] is _help or args[0] is _input:
        # Builtins on the board.
        print("object <function> is of type function")
    else:
        _fw_help(*args)


_emg = None


def alloc_emergency_exception_buf(size):
    # micropython.alloc_emergency_exception_buf (py/modmicropython.c; the
    # ESP8266 has MICROPY_ENABLE_EMERGENCY_EXCEPTION_BUF with a dynamic
    # buffer): takes the buffer from the heap and frees the previous one,
    # as the board does. The firmware has no code that would use it, so
    # messages of exceptions raised with the heap full stay lost
    # (RATIONALE.md, "The emergency exception buffer").
    global _emg
    size = int(size)
    _emg = None
    if size > 0:
        _emg = bytearray(size)


_fw_help = None
# The interactive board's sys.stdin/stdout/stderr, which _surface writes
# into the firmware's sys.
_streams = None


def _console(interactive):
    # input() reads the UART and help() gives the ESP8266 port's text
    # (ports/esp8266/help.c); returns where sys.stdout/stderr live.
    global _fw_help
    import builtins

    if interactive:
        import _stdio

        global _streams
        _streams = _stdio.streams(sys)
        del sys.modules["_stdio"]

    _fw_help = builtins.help
    builtins.input = _input
    builtins.help = _help
    return "%d %d" % (id(sys.stdout), id(sys.stderr))
