# The board's socket module: the ESP8266 port's lwIP sockets (modlwip.c).
# State and semantics live in the simulator (board/sockets); this file only
# moves arguments and bytes across, kept small because the board's heap is.
import _sock
from uctypes import addressof as _addr
from _hostcall import U as _U, exc as _exc

AF_INET = 2
AF_INET6 = 10
SOCK_STREAM = 1
SOCK_DGRAM = 2
SOCK_RAW = 3
SOL_SOCKET = 1
SO_REUSEADDR = 4
SO_BROADCAST = 32
IPPROTO_IP = 0
IP_ADD_MEMBERSHIP = 1024
IP_DROP_MEMBERSHIP = 1025
IPPROTO_TCP = 6
TCP_NODELAY = 64
MSG_PEEK = 1
MSG_DONTWAIT = 2

_sock.init()


def _err():
    e = _exc()
    m = _sock.errmsg()
    if m is not None:
        return OSError(e.args[0], m)
    return e


def _ok(r):
    if r is _U:
        raise _err()
    return r


def _nb(r):
    # Stream calls: EAGAIN means None.
    if r is _U:
        e = _err()
        if e.args and e.args[0] == 11:
            return None
        raise e
    return r


def _take(n):
    if not n:
        return b""
    b = bytearray(n)
    _sock.take(_addr(b), n)
    return bytes(b)


def _int(x):
    # mp_obj_get_int: an int or bool, else TypeError ("can't convert str to
    # int"), raised by range's own conversion.
    range(x)
    return int(x)


def _a(addr):
    if len(addr) != 2:
        raise ValueError("requested length 2 but object has length %d" % len(addr))
    return addr[0], _int(addr[1])


def _out(f, fd, data, *more):
    if isinstance(data, str):
        data = data.encode()
    n = len(data)
    return f(fd, _addr(data) if n else 0, n, *more)


class socket:
    def __init__(self, af=AF_INET, type=SOCK_STREAM, proto=0, _fd=None):
        self._fd = _ok(_sock.socket(af, type, proto)) if _fd is None else _fd
        # modlwip's finaliser: this firmware runs no __del__ of a Python
        # class, but frees the proxy of a host object with the socket, and
        # the host then closes the socket (board/sockfinal.go).
        self._g = _sock.guard(self._fd)

    def close(self):
        _sock.close(self._fd)

    def __repr__(self):
        return _sock.repr(self._fd)

    def bind(self, addr):
        _ok(_sock.bind(self._fd, *_a(addr)))

    def listen(self, backlog=None):
        _ok(_sock.listen(self._fd, backlog))

    def accept(self):
        fd, h, p = _ok(_sock.accept(self._fd)).split(" ")
        return socket(_fd=int(fd)), (h, int(p))

    def connect(self, addr):
        _ok(_sock.connect(self._fd, *_a(addr)))

    def send(self, data):
        return _ok(_out(_sock.send, self._fd, data))

    def sendall(self, data):
        _ok(_out(_sock.sendall, self._fd, data))

    def sendto(self, data, addr):
        return _ok(_out(_sock.sendto, self._fd, data, *_a(addr)))

    def recv(self, n, flags=0):
        return _take(_ok(_sock.recv(self._fd, n, flags)))

    def recvfrom(self, n, flags=0):
        d = _take(_ok(_sock.recvfrom(self._fd, n, flags)))
        h, p = _sock.peer().split(" ")
        return d, (h, int(p))

    def settimeout(self, t):
        _sock.settimeout(self._fd, -1 if t is None or t < 0 else int(1000 * t))

    def setblocking(self, flag):
        _sock.settimeout(self._fd, -1 if flag else 0)

    def setsockopt(self, level, opt, value):
        if opt == 20:
            return  # modlwip's private data-callback option
        if opt == 1024 or opt == 1025:
            _ok(_out(_sock.mcast, self._fd, value, 1 if opt == 1024 else 0))
            return
        w = _ok(_sock.setsockopt(self._fd, level, opt, value if isinstance(value, int) else 1))
        if w:
            print(w, end="")

    def makefile(self, *args):
        return self

    def read(self, n=-1):
        r = _nb(_sock.read(self._fd, n, 0))
        return None if r is None else _take(r)

    def readinto(self, buf, nbytes=-1):
        r = _nb(_sock.read(self._fd, len(buf) if nbytes < 0 else min(nbytes, len(buf)), 0))
        if r:
            _sock.take(_addr(buf), r)
        return r

    def readline(self, limit=-1):
        r = _nb(_sock.readline(self._fd, limit))
        return None if r is None else _take(r)

    def write(self, data, *n):
        # Streams take write(buf, max_len) and write(buf, off, max_len).
        if n:
            o = n[0] if len(n) > 1 else 0
            data = memoryview(data)[o : o + n[-1]]
        return _nb(_out(_sock.write, self._fd, data))

    def ioctl(self, req, arg):
        if req == 3:
            return _sock.pollflags(self._fd, arg)
        if req == 4:
            _sock.close(self._fd)
            return 0
        raise OSError(22)


def getaddrinfo(host, port, af=0, socktype=0, proto=0, flags=0):
    port = _int(port)
    if af not in (0, 2, 10) or socktype not in (0, 1) or proto or flags:
        print("Warning: unsupported getaddrinfo constraints")
    return [(2, 1, 0, "", (_ok(_sock.getaddrinfo(host)), port))]


def print_pcbs():
    print(_sock.print_pcbs(), end="")


def reset():
    # lwip_init() again; the simulated stack needs nothing.
    pass


def callback():
    # Runs lwIP's timers by hand (sys_check_timeouts); they run on their own
    # in the simulator.
    pass

# On the board socket, usocket and lwip are one C module named lwip.
__name__ = "lwip"
del __file__
