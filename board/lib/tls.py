# The board's tls module. The ESP8266 port builds it on axTLS: an SSLContext
# with load_cert_chain and wrap_socket, CERT_NONE only, no certificate checks.
# The simulator can also imitate the mbedTLS ports (verification, getpeercert)
# when the world asks for it. The TLS itself runs in the simulator (Go
# crypto/tls) over the board's TCP socket.
import _sock
from uctypes import addressof as _addr
from _hostcall import U as _U
from socket import _err, _buf, _take

_MBED = _sock.tls_flavor() == "mbedtls"

PROTOCOL_TLS_CLIENT = 0
PROTOCOL_TLS_SERVER = 1
CERT_NONE = 0
if _MBED:
    PROTOCOL_DTLS_CLIENT = 2
    PROTOCOL_DTLS_SERVER = 3
    CERT_OPTIONAL = 1
    CERT_REQUIRED = 2
    MBEDTLS_VERSION = "Mbed TLS 3.6.2"


def _bytes(x, what):
    if x is None:
        return b""
    if isinstance(x, str):
        x = x.encode()
    try:
        memoryview(x)
    except TypeError:
        raise TypeError("object with buffer protocol required")
    return x


class SSLSocket:
    def __init__(self, fd, sock):
        self._fd = fd
        self._sock = sock
        self._timeout = sock._timeout

    def __del__(self):
        _sock.close(self._fd)

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

    def setblocking(self, flag):
        self._sock.setblocking(flag)
        self._timeout = -1 if flag else 0
        _sock.settimeout(self._fd, self._timeout)

    def close(self):
        _sock.close(self._fd)

    def ioctl(self, req, arg):
        if req == 3:
            return _sock.pollflags(self._fd, arg)
        if req == 4:
            _sock.close(self._fd)
            return 0
        raise OSError(22)

    if _MBED:

        def recv(self, n):
            r = _sock.read(self._fd, n, 1)
            if r is _U:
                e = _err()
                if e.args and e.args[0] == 11:
                    return None
                raise e
            return _take(r)

        def recv_into(self, buf, nbytes=-1):
            return self.readinto(buf, nbytes)

        def send(self, data):
            return self.write(data)

        def sendall(self, data):
            return self.write(data)

        def getpeercert(self, binary_form):
            if not binary_form:
                raise NotImplementedError
            r = _sock.peercert(self._fd)
            if r is _U:
                raise _err()
            if r == 0:
                return None
            return _take(r)

        def cipher(self):
            return "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256"


class SSLContext:
    def __init__(self, protocol):
        if not isinstance(protocol, int):
            raise TypeError("can't convert %s to int" % type(protocol).__name__)
        self._protocol = protocol
        self._key = None
        self._cert = None
        self._cadata = None
        self._verify = CERT_NONE
        if _MBED and protocol == PROTOCOL_TLS_CLIENT:
            # mbedTLS clients verify by default.
            self._verify = CERT_REQUIRED

    @property
    def verify_mode(self):
        return self._verify

    @verify_mode.setter
    def verify_mode(self, mode):
        if _MBED:
            self._verify = mode
        # axTLS: CERT_NONE is the only mode; setting is ignored.

    def load_cert_chain(self, cert, key):
        self._cert = _bytes(cert, "cert")
        self._key = _bytes(key, "key")

    if _MBED:

        def load_verify_locations(self, cadata):
            self._cadata = _bytes(cadata, "cadata")

    def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True, server_hostname=None):
        ca = self._cadata or b""
        cert = self._cert or b""
        key = self._key or b""
        fd = _sock.wrap(
            sock._fd,
            1 if server_side else 0,
            server_hostname,
            self._verify,
            _addr(ca) if ca else 0,
            len(ca),
            _addr(cert) if cert else 0,
            len(cert),
            _addr(key) if key else 0,
            len(key),
            1 if do_handshake_on_connect else 0,
        )
        if fd is _U:
            raise _err()
        return SSLSocket(fd, sock)
