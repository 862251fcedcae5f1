# The board's tls module. The ESP8266 port builds it on axTLS: SSLContext
# with load_cert_chain and wrap_socket, CERT_NONE only, no certificate checks.
# A world may ask for the mbedTLS ports' module instead (CERT_REQUIRED,
# load_verify_locations, getpeercert). The TLS runs in the simulator (Go
# crypto/tls) over the board's TCP socket.
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


class SSLSocket(_socket):
    if _MBED:

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

    # axTLS's SSLSocket has no accept/connect/bind/listen/send/recv...
    accept = connect = bind = listen = None


class SSLContext:
    def __init__(self, protocol):
        self._p = int(protocol)
        self._cert = self._key = self._ca = b""
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
        self._cert, self._key = _b(cert), _b(key)

    if _MBED:

        def load_verify_locations(self, cadata):
            self._ca = _b(cadata)

    def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True, server_hostname=None):
        a = []
        for x in (self._ca, self._cert, self._key):
            a.append(_addr(x) if x else 0)
            a.append(len(x))
        fd = _ok(_sock.wrap(sock._fd, 1 if server_side else 0, server_hostname, self._verify, *a, 1 if do_handshake_on_connect else 0))
        return SSLSocket(_fd=fd)
