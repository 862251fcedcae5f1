# The board's socket module: the ESP8266 port's lwIP sockets (modlwip.c).
# All state and semantics live in the simulator (Go, board/sockets); this file
# only moves arguments and bytes across.
import _sock
from uctypes import addressof as _addr
from _hostcall import U as _U, exc as _exc

AF_INET = 2
AF_INET6 = 10
SOCK_STREAM = 1
SOCK_DGRAM = 2
SOCK_RAW = 3
SOL_SOCKET = 1
SO_REUSEADDR = 0x04
SO_BROADCAST = 0x20
IPPROTO_IP = 0
IP_ADD_MEMBERSHIP = 0x400
IP_DROP_MEMBERSHIP = 0x401
IPPROTO_TCP = 6
TCP_NODELAY = 0x40
MSG_PEEK = 0x01
MSG_DONTWAIT = 0x02


def _err():
    e = _exc()
    m = _sock.errmsg()
    if m is not None:
        return OSError(e.args[0], m)
    return e


def _buf(data):
    if isinstance(data, str):
        data = data.encode()
    return data


def _take(n):
    if n == 0:
        return b""
    b = bytearray(n)
    _sock.take(_addr(b), n)
    return bytes(b)


def _hp(addr):
    h, p = addr
    if not isinstance(h, str):
        raise TypeError("can't convert '%s' object to str implicitly" % type(h).__name__)
    return h, p


class socket:
    def __init__(self, af=AF_INET, type=SOCK_STREAM, proto=0, _fd=None):
        if _fd is None:
            _fd = _sock.socket(af, type, proto)
            if _fd is _U:
                raise _err()
        self._fd = _fd
        self._timeout = -1
        self._cb = None

    def __del__(self):
        _sock.close(self._fd)

    def __repr__(self):
        return "<socket fd=%d timeout=%d>" % (self._fd, self._timeout)

    def fileno(self):
        return self._fd

    def close(self):
        _sock.close(self._fd)

    def bind(self, addr):
        h, p = _hp(addr)
        if _sock.bind(self._fd, h, p) is _U:
            raise _err()

    def listen(self, backlog=None):
        if _sock.listen(self._fd, backlog) is _U:
            raise _err()

    def accept(self):
        r = _sock.accept(self._fd)
        if r is _U:
            raise _err()
        fd, host, port = r.split(" ")
        s = socket(_fd=int(fd))
        s._timeout = self._timeout
        return s, (host, int(port))

    def connect(self, addr):
        h, p = _hp(addr)
        if _sock.connect(self._fd, h, p) is _U:
            raise _err()

    def send(self, data):
        data = _buf(data)
        n = len(data)
        r = _sock.send(self._fd, _addr(data) if n else 0, n)
        if r is _U:
            raise _err()
        return r

    def sendall(self, data):
        data = _buf(data)
        n = len(data)
        if _sock.sendall(self._fd, _addr(data) if n else 0, n) is _U:
            raise _err()

    def sendto(self, data, addr):
        data = _buf(data)
        h, p = _hp(addr)
        n = len(data)
        r = _sock.sendto(self._fd, _addr(data) if n else 0, n, h, p)
        if r is _U:
            raise _err()
        return r

    def recv(self, n, flags=0):
        r = _sock.recv(self._fd, n, flags)
        if r is _U:
            raise _err()
        return _take(r)

    def recvfrom(self, n, flags=0):
        r = _sock.recvfrom(self._fd, n, flags)
        if r is _U:
            raise _err()
        h, p = _sock.peer().split(" ")
        return _take(r), (h, int(p))

    def settimeout(self, t):
        if t is None:
            ms = -1
        else:
            ms = int(1000 * t)
            if ms < 0:
                ms = -1
        self._timeout = ms
        _sock.settimeout(self._fd, ms)

    def setblocking(self, flag):
        self.settimeout(None if flag else 0)

    def setsockopt(self, level, opt, value):
        if opt == 20:
            # modlwip's private "callback on incoming data" option.
            self._cb = value
            return
        if not isinstance(value, int):
            value = 1 if value else 0
        w = _sock.setsockopt(self._fd, level, opt, value)
        if w is _U:
            raise _err()
        if w:
            print(w, end="")

    def makefile(self, *args):
        return self

    def read(self, n=-1):
        r = _sock.read(self._fd, n, 0)
        if r is _U:
            e = _err()
            if e.args and e.args[0] == 11:
                return None
            raise e
        return _take(r)

    def readinto(self, buf, nbytes=-1):
        n = len(buf) if nbytes < 0 else min(nbytes, len(buf))
        r = _sock.read(self._fd, n, 0)
        if r is _U:
            e = _err()
            if e.args and e.args[0] == 11:
                return None
            raise e
        if r:
            _sock.take(_addr(buf), r)
        return r

    def readline(self, limit=-1):
        r = _sock.readline(self._fd, limit)
        if r is _U:
            e = _err()
            if e.args and e.args[0] == 11:
                return None
            raise e
        return _take(r)

    def write(self, data):
        data = _buf(data)
        n = len(data)
        r = _sock.write(self._fd, _addr(data) if n else 0, n)
        if r is _U:
            e = _err()
            if e.args and e.args[0] == 11:
                return None
            raise e
        return r

    def ioctl(self, req, arg):
        if req == 3:  # MP_STREAM_POLL
            return _sock.pollflags(self._fd, arg)
        if req == 4:  # MP_STREAM_CLOSE
            _sock.close(self._fd)
            return 0
        raise OSError(22)


def getaddrinfo(host, port, af=0, socktype=0, proto=0, flags=0):
    if not ((af == 0 or af == AF_INET or af == AF_INET6) and (socktype == 0 or socktype == SOCK_STREAM) and proto == 0 and flags == 0):
        print("Warning: unsupported getaddrinfo constraints")
    if not isinstance(host, str):
        raise TypeError("can't convert '%s' object to str implicitly" % type(host).__name__)
    port = int(port)
    a = _sock.getaddrinfo(host)
    if a is _U:
        raise _err()
    return [(AF_INET, SOCK_STREAM, 0, "", (a, port))]


def print_pcbs():
    print(_sock.print_pcbs(), end="")


def reset():
    pass


def callback():
    pass
