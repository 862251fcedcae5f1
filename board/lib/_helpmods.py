# help('modules') on ESP8266_GENERIC v1.27.0 (py/builtinhelp.c): the C
# modules its build registers (MP_REGISTER_MODULE and _EXTENSIBLE_ at
# EXTRA_FEATURES, with SSL, BTREE, ESPNOW, LWIP, ONEWIRE, WEBREPL), then the
# frozen names of boards/ESP8266_GENERIC/manifest_2MiB.py without ".py".
_MODS = (
    "__main__ _asyncio _espnow _onewire _webrepl array binascii btree builtins collections cryptolib "
    "deflate errno esp framebuf gc hashlib heapq io json lwip machine math micropython network os "
    "platform random re select socket struct sys time tls uctypes vfs websocket "
    "_boot apa102 espnow flashbdev inisetup port_diag mip/__init__ ntptime ssl requests/__init__ "
    "webrepl webrepl_setup urequests dht ds18x20 neopixel onewire asyncio/__init__ asyncio/core "
    "asyncio/event asyncio/funcs asyncio/lock asyncio/stream uasyncio ssd1306 upysh umqtt/simple "
    "umqtt/robust"
)


def show():
    # Sorted, printed column-first in 4 columns 18 wide, as
    # mp_help_print_modules does.
    m = sorted(_MODS.split())
    n = len(m)
    rows = (n + 3) // 4
    for i in range(rows):
        j = i
        line = ""
        while True:
            line += m[j]
            l = len(m[j])
            j += rows
            if j >= n:
                break
            gap = 18 - l
            while gap < 1:
                gap += 18
            line += " " * gap
        print(line)
    print("Plus any modules on the filesystem")
