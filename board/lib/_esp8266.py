# Installs the ESP8266 profile in a fresh interpreter (run once per boot).
import sys
import gc
import _sys
from _board import rescue as _rescue
import _gc

_sys.__name__ = "sys"
sys.modules["sys"] = _sys
del sys.modules["_sys"]
_gc.__name__ = "gc"
sys.modules["gc"] = _gc
del sys.modules["_gc"]
gc.threshold((_gc.mem_free() + gc.mem_alloc()) // 4)

_GC = 0  # read by the host to trigger a collection


def _run(name, g):
    # Runs boot.py/main.py for the host. On an uncaught exception the host
    # frees C memory so the firmware can format the traceback even when the
    # script exhausted the heap; the host drops this frame from the text.
    try:
        execfile(name, g)
    except BaseException:
        _rescue()
        raise
