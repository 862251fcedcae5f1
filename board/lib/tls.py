# The board's tls module. The ESP8266 port builds it on axTLS
# (modtls_axtls.c): SSLContext with load_cert_chain and wrap_socket,
# CERT_NONE only, DER keys and certificates, an SSLSocket with stream methods
# only. A world may ask for the mbedTLS ports' module instead (CERT_REQUIRED,
# load_verify_locations, getpeercert). The TLS itself runs in the simulator
# over the board's TCP socket.
import _sock
from uctypes import addressof as _addr
from socket import socket as _socket, _ok, _nb, _take

_MBED = _sock.tls_flavor() == "mbedtls"

PROTOCOL_TLS_CLIENT = 0
PROTOCOL_TLS_SERVER = 1
CERT_NONE = 0
if _MBED:
    PROTOCOL_DTLS_CLIENT = 2
    PROTOCOL_DTLS_SERVER = 3
    CERT_OPTIONAL = 1
    CERT_REQUIRED = 2


def _b(x):
    if x is None:
        return b""
    return x.encode() if isinstance(x, str) else bytes(x)


if _MBED:

    class SSLSocket(_socket):
        def recv(self, n):
            r = _nb(_sock.read(self._fd, n, 1))
            return None if r is None else _take(r)

        def recv_into(self, buf, nbytes=-1):
            return self.readinto(buf, nbytes)

        def send(self, data):
            return self.write(data)

        sendall = send

        def getpeercert(self, binary_form):
            if not binary_form:
                raise NotImplementedError
            r = _ok(_sock.peercert(self._fd))
            return _take(r) if r else None

        accept = connect = bind = listen = None

else:

    class SSLSocket:
        # axTLS's SSLSocket: read, readinto, readline, write, setblocking,
        # close; setblocking also reaches the wrapped socket.
        def __init__(self, _fd, _s):
            self._fd = _fd
            self._s = _s
            # modtls_axtls's finaliser (stream close), as in socket.py.
            self._g = _sock.guard(_fd)

        def __repr__(self):
            return "<SSLSocket>"

        # The stream methods are the board socket's: modtls_axtls.c and
        # modlwip.c both list py/stream.c's mp_stream_read_obj,
        # mp_stream_readinto_obj, mp_stream_unbuffered_readline_obj and
        # mp_stream_write_obj, and both streams live behind an fd here.
        read = _socket.read
        readinto = _socket.readinto
        readline = _socket.readline
        write = _socket.write

        def setblocking(self, flag):
            r = self._s.setblocking(flag)
            _sock.settimeout(self._fd, -1 if flag else 0)
            return r

        def close(self):
            _sock.close(self._fd)
            if self._s is not None:
                self._s.close()
                self._s = None


class SSLContext:
    def __init__(self, protocol):
        self._p = int(protocol)
        self._cert = self._key = self._ca = None
        # mbedTLS clients verify by default; axTLS never does.
        self._verify = 2 if _MBED and self._p == 0 else 0

    @property
    def verify_mode(self):
        return self._verify

    @verify_mode.setter
    def verify_mode(self, mode):
        if _MBED:
            self._verify = mode

    def load_cert_chain(self, cert, key):
        self._cert, self._key = cert, key

    if _MBED:

        def load_verify_locations(self, cadata):
            self._ca = _b(cadata)

    def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True, server_hostname=None):
        if not _MBED and self._key is not None:
            # modtls_axtls.c loads the key, then the certificate, from
            # str/bytes objects: a missing certificate is a TypeError.
            key = _b(self._key)
            if not key:
                raise ValueError("invalid key")
            if not isinstance(self._cert, (str, bytes, bytearray)):
                _ok(_sock.tls_check(_addr(key), len(key), 0, -1))
                raise TypeError("can't convert '%s' object to str implicitly" % type(self._cert).__name__)
            cert = _b(self._cert)
            _ok(_sock.tls_check(_addr(key), len(key), _addr(cert) if cert else 0, len(cert)))
        if not hasattr(sock, "_fd"):
            if _MBED:
                raise OSError(22)
            from _tls_stream import StreamSSL

            return StreamSSL(sock, server_side, server_hostname, do_handshake_on_connect)
        a = []
        for x in (self._ca, _b(self._cert), _b(self._key)):
            x = x or b""
            a.append(_addr(x) if x else 0)
            a.append(len(x))
        fd = _ok(_sock.wrap(sock._fd, 1 if server_side else 0, server_hostname, self._verify, *a, 1 if do_handshake_on_connect else 0))
        if _MBED:
            return SSLSocket(_fd=fd)
        return SSLSocket(fd, sock)


# The C type has no instance dict: other attributes cannot be added or
# deleted. The board has no __setattr__ hook for classes
# (MICROPY_PY_DELATTR_SETATTR 0), and the simulator's firmware calls only
# the names _surface kept (board/lib/_surface.py), so they go in by those.
def _ctx_setattr(self, name, value):
    if name not in ("_p", "_cert", "_key", "_ca", "_verify", "verify_mode"):
        raise AttributeError(name)
    _setattr_hook[1](self, name, value)


def _ctx_delattr(self, name):
    raise AttributeError(name)


from _esp8266 import _setattr_hook

setattr(SSLContext, _setattr_hook[0], _ctx_setattr)
setattr(SSLContext, _setattr_hook[2], _ctx_delattr)
