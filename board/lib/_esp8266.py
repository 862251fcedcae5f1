# Installs the ESP8266 profile in a fresh interpreter (run once per boot).
import sys
import gc
import _sys

_sys.__name__ = "sys"
sys.modules["sys"] = _sys
del sys.modules["_sys"]
gc.threshold((gc.mem_free() + gc.mem_alloc()) // 4)
del sys.modules["_esp8266"]
