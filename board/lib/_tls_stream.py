# Part of the board's tls module (see tls.py), loaded only when
# wrap_socket is given a stream that is not a board socket, so ordinary
# scripts do not pay heap for it.
import _sock
from uctypes import addressof as _addr
from socket import _ok, _take


class StreamSSL:
    # axTLS over a stream that is not a board socket (wrap_socket takes
    # any stream): the simulator runs the client engine, this object
    # moves its records through the stream's write and readinto. A
    # server side is not simulated over such streams: it reads as an
    # empty stream (axTLS's CONN_LOST, read as EOF).
    def __init__(self, s, server, hostname, handshake):
        self._s = s
        self._h = None
        self._open = True
        self._b = bytearray(5)
        self._client = not server
        self._host = hostname
        if self._client and handshake:
            try:
                self._hs()
            except Exception:
                self._free()
                raise

    def __repr__(self):
        return "<SSLSocket>"

    def _engine(self):
        # The engine starts at first use (no finaliser frees the
        # engines of wrappers a script drops, so none is made for a
        # wrapper that is never used).
        if self._h is None and self._client and self._open:
            self._h = _ok(_sock.tls_snew(self._host))
        return self._h

    def _free(self):
        if self._h is not None:
            _sock.tls_sclose(self._h)
            self._h = None

    def _flush(self):
        n = _ok(_sock.tls_sout(self._h))
        if n:
            self._s.write(_take(n))

    def _do(self, f, *a):
        # Run an engine step; whatever it queued (records, an alert)
        # reaches the stream, even when the step fails.
        try:
            return _ok(f(self._h, *a))
        finally:
            self._flush()

    def _fill(self):
        # One read of the stream into the engine, of exactly what
        # completes the record being read (as axTLS asks); False:
        # nothing yet (a non-blocking stream).
        m = _ok(_sock.tls_sneed(self._h))
        if m > len(self._b):
            self._b = bytearray(m)
        r = self._s.readinto(memoryview(self._b)[:m])
        if r is None:
            return False
        _ok(_sock.tls_sfeed(self._h, _addr(self._b), r))
        return True

    def _hs(self):
        self._engine()
        while not self._do(_sock.tls_shs):
            if not self._fill():
                raise OSError(11)

    def _check(self):
        if not self._open:
            raise OSError(9)

    def read(self, n=-1):
        self._check()
        if self._engine() is None:
            return b""
        out = b""
        while True:
            r = _ok(_sock.tls_sread(self._h, 1024 if n < 0 else n))
            if r > 0:
                d = _take(r)
                self._flush()
                if n >= 0:
                    return d
                out += d
                continue
            self._flush()
            if r == 0:
                return out
            if not self._fill():
                return out or None

    def readinto(self, buf, nbytes=-1):
        d = self.read(len(buf) if nbytes < 0 else min(nbytes, len(buf)))
        if d is None:
            return None
        buf[: len(d)] = d
        return len(d)

    def readline(self, limit=-1):
        line = b""
        while limit < 0 or len(line) < limit:
            c = self.read(1)
            if not c:
                break
            line += c
            if c == b"\n":
                break
        return line

    def write(self, data):
        self._check()
        if self._engine() is None:
            return 0
        if isinstance(data, str):
            data = data.encode()
        n = len(data)
        while True:
            r = self._do(_sock.tls_swrite, _addr(data) if n else 0, n)
            if r >= 0:
                return r
            if not self._fill():
                return None

    def setblocking(self, flag):
        return self._s.setblocking(flag)

    def close(self):
        if self._open:
            self._open = False
            if self._h is not None:
                n = _sock.tls_sclose(self._h)
                self._h = None
                if n:
                    try:
                        self._s.write(_take(n))
                    except Exception:
                        pass
            if hasattr(self._s, "ioctl"):
                self._s.ioctl(4, 0)
            else:
                self._s.close()
