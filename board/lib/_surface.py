# Gives the firmware the ESP8266's built-in surface (issue 22), run once per
# boot before the script: names the ESP8266 build compiles out
# (ports/esp8266/mpconfigport.h) are removed from the firmware's ROM tables.
#
# The tables are const mp_map_t in the firmware's data segment: a header
# word (all_keys_are_qstrs, is_fixed, is_ordered in the low three bits, the
# entry count above), the allocation and a pointer to (key, value) word
# pairs. Fixed ordered maps are searched linearly over `used` entries, so
# removing an entry is moving the later entries down one pair and lowering
# the count: lookups, dir() and help() then behave as if the C source never
# defined it. Linear memory is writable from WebAssembly, and uctypes reaches it.
import uctypes
import struct

# (table owner, names): what the ESP8266's config turns off.
#   MICROPY_PY_BUILTINS_STR_CENTER/PARTITION/SPLITLINES 0 (str and bytes)
#   MICROPY_PY_RANDOM_EXTRA_FUNCS 0
#   MICROPY_PY_MATH_CONSTANTS/SPECIAL_FUNCTIONS/FACTORIAL/ISCLOSE 0
#   MICROPY_PY_BINASCII_CRC32 0
#   MICROPY_PY_BUILTINS_COMPILE/EXECFILE/NOTIMPLEMENTED/COMPLEX 0
#   MICROPY_PY_DELATTR_SETATTR 0
#   MICROPY_VFS_POSIX 0
#   MICROPY_PY_DEFLATE_COMPRESS 0 (a FULL_FEATURES option; the ESP8266's
#     ROM level is EXTRA_FEATURES): DeflateIO only decompresses
_STR = ("center", "partition", "rpartition", "splitlines")


def _tables():
    import builtins
    import random
    import math
    import binascii
    import uos
    import vfs
    import deflate

    return (
        (str.__dict__, _STR),
        (bytes.__dict__, _STR),
        (random.__dict__, ("randrange", "randint", "choice", "random", "uniform")),
        (math.__dict__, ("tau", "inf", "nan", "erf", "erfc", "gamma", "lgamma", "factorial", "isclose")),
        (binascii.__dict__, ("crc32",)),
        (builtins.__dict__, ("compile", "execfile", "NotImplemented", "complex")),
        # MICROPY_PY_DELATTR_SETATTR 0 (objobject.c; the host also detaches
        # the names from objtype.c's attribute stores, board/surface.go)
        (object.__dict__, ("__setattr__", "__delattr__")),
        # MICROPY_VFS_POSIX 0: ESP8266_GENERIC builds VfsFat and VfsLfs2
        # (boards/ESP8266_GENERIC/mpconfigvariant.mk), which the simulator
        # has not: the board's flash is the host's (board/fs.go).
        (uos.__dict__, ("VfsPosix",)),
        (vfs.__dict__, ("VfsPosix",)),
        (deflate.DeflateIO.__dict__, ("write",)),
    )


def _header(addr):
    w = struct.unpack("<III", uctypes.bytes_at(addr, 12))
    return w[0], w[1], w[2]


def _remove(hdr, names):
    # hdr: address of the mp_map_t. Returns how many entries went.
    flags, alloc, table = _header(hdr)
    n = flags >> 3
    if flags & 7 != 7 or alloc != n:
        return 0  # not a ROM table: leave it alone
    drop = [id(s) for s in names]
    t = uctypes.bytearray_at(table, n * 8)
    keep = 0
    for i in range(n):
        k = struct.unpack_from("<I", t, i * 8)[0]
        if k in drop:
            continue
        if keep != i:
            t[keep * 8 : keep * 8 + 8] = t[i * 8 : i * 8 + 8]
        keep += 1
    if keep != n:
        struct.pack_into("<II", uctypes.bytearray_at(hdr, 8), 0, (flags & 7) | (keep << 3), keep)
    return n - keep


# Built-in C modules of the pyscript build that the ESP8266 has not:
# cmath (MICROPY_PY_BUILTINS_COMPLEX 0), js and jsffi (the JavaScript FFI).
_MODULES = ("cmath", "js", "jsffi")


def pairs():
    # The builtin module map is reachable from no Python object: the host
    # finds its entries by their (qstr key, module) words (board/surface.go).
    return " ".join("%d %d" % (id(n), id(__import__(n))) for n in _MODULES)


# The ESP8266's flash is littlefs (VfsLfs2), whose ilistdir gives
# (name, type, 0, size) entries (extmod/vfs_lfsx.c); the firmware's posix
# VFS, which stands for it at "/", gives (name, type, inode). The posix
# type's own ilistdir entry becomes one that adds the sizes, so os.ilistdir
# stays the firmware's (extmod/vfs.c) for every path and mount, and only
# the flash's entries change, as only VfsLfs2's differ on the board.
_posix_ilistdir = None


def _sized(fs, path, it):
    sep = b"/" if isinstance(path, bytes) else "/"
    base = path if not path or path[-1:] == sep else path + sep
    for e in it:
        size = 0
        if e[1] == 0x8000:
            try:
                size = fs.stat(base + e[0])[6]
            except OSError:
                pass
        yield (e[0], e[1], 0, size)


def _lfs_ilistdir(fs, path):
    # The posix listing opens the directory now, so a missing one raises
    # at the call, as VfsLfs2's does.
    return _sized(fs, path, _posix_ilistdir(fs, path))


def _esp_vfs():
    # The ESP8266 mounts its flash with vfs.mount(bdev, "/") in _boot.py,
    # which leaves the current volume at the virtual root (mp_init's
    # NULL, MP_VFS_ROOT), where relative paths are looked up among the
    # mount points first; the webassembly main.c makes the flash's mount
    # current. Unmounting it makes the root current (mp_vfs_umount), and
    # mounting it again gives the ESP8266's state; the posix VFS's mount
    # and umount touch nothing (a chdir("/") would be a syscall the boot
    # snapshot cannot replay).
    import vfs

    m = vfs.mount()
    if len(m) == 1 and m[0][1] == "/":
        vfs.umount("/")
        vfs.mount(m[0][0], "/")
    _lfs_listing()


def _lfs_listing():
    global _posix_ilistdir
    import vfs
    from _board import keep

    for fs, mnt in vfs.mount():
        d = type(fs).__dict__
        f = d.get("ilistdir")
        if mnt == "/" and f is not None and f is not _lfs_ilistdir and type(f) is not type(_lfs_ilistdir):
            _posix_ilistdir = f
            keep(_lfs_ilistdir)
            _set(d, "ilistdir", _lfs_ilistdir)


def apply():
    # Before object loses them: the firmware's own names of the hooks and
    # object's store, for the board's modules that stand for C types
    # without an instance dict (tls.SSLContext).
    import _esp8266

    h = [None, object.__setattr__, None]
    for k in object.__dict__:
        if k == "__setattr__":
            h[0] = k
        elif k == "__delattr__":
            h[2] = k
    _esp8266._setattr_hook = tuple(h)
    for d, names in _tables():
        _remove(id(d) + 4, names)  # mp_obj_dict_t: base, then the map
    _esp_vfs()
    # @micropython.native and viper compile as bytecode: the patched
    # compiler also accepts the parse nodes (qstr << 4 | kind) stored at
    # 1024 (board/firmware/decorator.go). The literals intern the names;
    # id() of an interned str is its qstr << 3 | 2.
    struct.pack_into("<II", uctypes.bytearray_at(1024, 8), 0, id("native") >> 3 << 4, id("viper") >> 3 << 4)


# After boot the board's modules leave sys.modules: on the ESP8266 most are
# C built-ins (machine, network, time, os, socket, gc, ...), which import
# returns straight from the firmware's module maps (py/builtinimport.c),
# and the simulator's own (_board, _sock, _esp8266, ...) are no module of
# the board's. The host (board/modmap.go) writes them into the maps:
# the extensible ones (MP_REGISTER_EXTENSIBLE_MODULE at v1.27) into the
# extensible map, which import consults after sys.path, so a user's
# time.py still wins and `import utime` is `time` (py/objmodule.c
# mp_module_get_builtin); the others into the built-in map.
_EXT = ("os", "time", "select", "socket", "machine", "websocket")
# Frozen Python modules on the board: the built-in map holds them ('.frozen'
# comes before '/lib' on the board's sys.path, so mip's /lib copies do not
# shadow them), and the first import puts them into sys.modules, as
# importing a frozen module does.
_FROZEN = ("apa102", "asyncio", "uasyncio", "dht", "ds18x20", "espnow", "neopixel", "ntptime",
           "onewire", "requests", "urequests", "ssd1306", "ssl", "upysh", "webrepl", "webrepl_setup")
# Packages stay in sys.modules (their submodules are found through them).
_PKG = ("mip", "umqtt", "umqtt.simple", "umqtt.robust")
# Dropped without an entry: the old names our /.frozen serves as files
# (on the board, u-aliases of the extensible modules) and this module.
_DROP = ("usocket", "uselect", "_surface")


def _set(d, name, value):
    # Points the entry `name` of the ROM dict d at value; the caller keeps
    # value alive (a ROM table is no GC root).
    flags, alloc, table = _header(id(d) + 4)
    n = flags >> 3
    if flags & 7 != 7 or alloc != n:
        return False
    t = uctypes.bytearray_at(table, n * 8)
    k = id(name)
    for i in range(n):
        if struct.unpack_from("<I", t, i * 8)[0] == k:
            struct.pack_into("<I", t, i * 8 + 4, id(value))
            return True
    return False


def _add(d, name, value, keep):
    # Gives the ROM dict d one more entry, name (a qstr) -> value: a new
    # table in the heap, which keep holds (a ROM table is no GC root).
    flags, alloc, table = _header(id(d) + 4)
    n = flags >> 3
    if flags & 7 != 7 or alloc != n:
        return False
    t = bytearray(8 * (n + 1))
    t[: 8 * n] = uctypes.bytes_at(table, 8 * n)
    struct.pack_into("<II", t, 8 * n, id(name), id(value))
    keep.append(t)
    keep.append(value)
    struct.pack_into("<III", uctypes.bytearray_at(id(d) + 4, 12), 0, 7 | (n + 1) << 3, n + 1, uctypes.addressof(t))
    return True


def _esp_sys(keep, streams):
    # The firmware's own sys, with the ESP8266's platform and implementation
    # written into its ROM dict and attrtuple: it stays a built-in (sys.x = 1
    # raises AttributeError, as basics/module2 expects).
    import usys

    d = usys.__dict__
    p = "esp8266"
    keep.append(p)
    _set(d, "platform", p)
    impl = usys.implementation
    if len(impl) == 5 and impl[0] == "micropython":
        # name, version, _machine, _mpy, _build: _mpy as the ESP8266 build
        # (MICROPY_EMIT_XTENSA) reports it: .mpy version 6, sub-version 3 and
        # MP_NATIVE_ARCH_XTENSA (9) in py/persistentcode.h.
        m, b = "ESP module with ESP8266", "ESP8266_GENERIC"
        keep.append(m)
        keep.append(b)
        items = uctypes.bytearray_at(id(impl) + 8, 20)
        struct.pack_into("<III", items, 8, id(m), id(6 | (3 | 9 << 2) << 8), id(b))
    if streams:
        for k in streams:
            keep.append(streams[k])
            _set(d, k, streams[k])


_ks = None
_vs = None


def hide(frozen):
    # Empties sys.modules and gives the host what it needs, as words: the
    # two maps' anchors (a key and value known to be in each), the
    # addresses of the key and value lists and of _EXT, _FROZEN, _PKG and
    # _DROP; then the names of _EXT (and _FROZEN). Loops stay in C: this
    # runs at every boot.
    global _ks, _vs
    import sys
    import micropython
    import utime
    import _esp8266
    from _board import keep

    k = []
    _esp_sys(k, _esp8266._streams)
    # The ESP8266's micropython module has alloc_emergency_exception_buf;
    # the function's __name__ is the qstr the dict needs as its key.
    f = _esp8266.alloc_emergency_exception_buf
    if not hasattr(micropython, f.__name__):
        _add(micropython.__dict__, f.__name__, f, k)
    # The board's sys.path: frozen is '.frozen', which the host serves from
    # its frozen directory (board/syscalls.go), or that directory itself.
    sys.path[:] = ["", frozen, "/lib", "/"]
    mods = sys.modules
    me = mods["_surface"]
    _ks = list(mods)
    _vs = list(mods.values())
    mods.clear()
    mods["_surface"] = me  # until restore
    k.append(_ks)
    k.append(_vs)
    keep(k)
    return "%d %d %d %d %d %d %d %d %d %d " % (
        id("micropython"), id(micropython), id("time"), id(utime), id(_ks), id(_vs), id(_EXT), id(_FROZEN), id(_PKG),
        id(_DROP)) + " ".join(_EXT + _FROZEN)


def _first_import(name, mod):
    # Called by import while `name` is a built-in (MICROPY_MODULE_BUILTIN_INIT):
    # the module enters sys.modules, where later imports find it.
    def __init__():
        import sys

        sys.modules[name] = mod
        del mod.__init__

    return __init__


def restore(back, frozen):
    # Puts the packages the host names back into sys.modules, and hooks
    # the frozen modules' first import.
    import sys

    for i in back.split():
        i = int(i)
        sys.modules[_ks[i]] = _vs[i]
    for i in frozen.split():
        i = int(i)
        _vs[i].__init__ = _first_import(_ks[i], _vs[i])
    del sys.modules["_surface"]
