# The board's select module over the simulator's sockets: poll() and
# select() block on the simulator clock. Objects that are not board sockets
# (sys.stdin, a user stream) are asked through their ioctl, as modselect.c
# does.
import _sock
from _hostcall import U as _U, exc as _exc

POLLIN = 0x01
POLLOUT = 0x04
POLLERR = 0x08
POLLHUP = 0x10
# modselect.c has no POLLNVAL constant; an invalid object still reports 0x20.
_NVAL = 0x20


def _fd(obj):
    try:
        return obj._fd
    except AttributeError:
        return None


def _load_firmware_select():
    # The firmware's own select (for sys.stdin and other firmware streams):
    # with sys.path empty, import finds the built-in module, not this file.
    # Taken at import: once this module is the board's built-in select
    # (_surface.hide), `import select` gives this module.
    import sys

    saved = list(sys.path)
    sys.path.clear()
    try:
        import select as m
    finally:
        sys.path.extend(saved)
    return m


_builtin = _load_firmware_select()


def _firmware_select():
    return _builtin


def _other_flags(obj, ev):
    try:
        p = _firmware_select().poll()
        p.register(obj, ev)
        for _, rev in p.poll(0):
            return rev
        return 0
    except OSError:
        # modselect.c raises the error a stream's ioctl reports (a Python
        # stream's ioctl returning -errno); poll() must not swallow it.
        raise
    except Exception:
        return _NVAL


def _poll_once(entries, timeout):
    # entries: list of [obj, events, revents]; returns the number ready.
    host = []
    others = []
    for e in entries:
        fd = _fd(e[0])
        if fd is None:
            others.append(e)
        else:
            host.append((e, fd))
    while True:
        n = 0
        for e in others:
            e[2] = _other_flags(e[0], e[1])
            if e[2]:
                n += 1
        t = timeout
        if n or (others and (t < 0 or t > 10)):
            # Something else is ready, or must be asked again soon.
            t = 0 if n else 10
        if host:
            spec = ";".join("%d:%d" % (fd, e[1]) for e, fd in host)
            r = _sock.poll(spec, t)
            if r is _U:
                raise _exc()
            for (e, fd), rev in zip(host, r.split(";")):
                e[2] = int(rev)
                if e[2]:
                    n += 1
        elif t != 0:
            if _sock.poll("", t) is _U:
                raise _exc()
        if n or timeout == 0:
            return n
        if timeout > 0:
            timeout -= t
            if timeout <= 0:
                return 0


class poll:
    def __init__(self):
        self._m = {}

    def register(self, obj, eventmask=POLLIN | POLLOUT):
        _stream(obj)
        self._m[id(obj)] = [obj, eventmask, 0]

    def unregister(self, obj):
        self._m.pop(id(obj), None)

    def modify(self, obj, eventmask):
        e = self._m.get(id(obj))
        if e is None:
            raise OSError(2)  # ENOENT
        e[1] = eventmask

    def _wait(self, timeout):
        if timeout is None or timeout < 0:
            timeout = -1
        entries = list(self._m.values())
        for e in entries:
            e[2] = 0
        _poll_once(entries, timeout)
        return entries

    def poll(self, timeout=-1):
        return [(e[0], e[2]) for e in self._wait(timeout) if e[2]]

    def ipoll(self, timeout=-1, flags=0):
        for e in self._wait(timeout):
            if e[2]:
                if flags & 1:
                    e[1] = 0
                yield (e[0], e[2])


def _stream(obj):
    # The ESP8266 builds modselect.c without its POSIX optimisations: an
    # object must be a stream (mp_get_stream_raise), so a file descriptor
    # number is refused when it is registered.
    if type(obj) is int:
        raise OSError("stream operation not supported")


def select(rlist, wlist, xlist, timeout=None):
    m = {}
    for objs, ev in ((rlist, POLLIN), (wlist, POLLOUT), (xlist, POLLERR | POLLHUP)):
        for o in objs:
            e = m.get(id(o))
            if e is None:
                _stream(o)
                m[id(o)] = [o, ev, 0]
            else:
                e[1] |= ev
    t = -1
    if timeout is not None and timeout >= 0:
        t = int(timeout * 1000)
    entries = list(m.values())
    _poll_once(entries, t)
    r = [e[0] for e in entries if e[2] & POLLIN]
    w = [e[0] for e in entries if e[2] & POLLOUT]
    x = [e[0] for e in entries if e[2] & ~(POLLIN | POLLOUT)]
    return (r, w, x)

# The board's select is a C module.
__name__ = "select"
del __file__
