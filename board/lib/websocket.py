# The board's websocket (extmod/modwebsocket.c, a C module on the ESP8266),
# written for this simulator: a stream over a connected socket that reads
# frames (unmasking them, answering close with close, skipping other
# control frames) and writes each write() as one unmasked frame, text
# unless ioctl(9, 2) chose binary. 64-bit frame lengths are refused with
# EIO, writes of 64 KiB or more with ENOBUFS, as in the C module.


class websocket:
    def __init__(self, sock, blocking_write=False):
        self.s = sock
        self.bw = blocking_write is True
        self.opts = 1  # text frames
        self.flags = 0  # opcode of the last data frame
        self.left = 0  # payload bytes left in the current frame
        self.mask = None
        self.pos = 0

    def _exact(self, n):
        # n bytes; b"" at end of stream; None when a non-blocking socket
        # has nothing yet (EAGAIN, which read() reports as None).
        b = b""
        while len(b) < n:
            d = self.s.read(n - len(b))
            if d is None:
                if not b:
                    return None
                continue
            if not d:
                return b""
            b += d
        return b

    def _header(self):
        # Reads frame headers up to a data frame with payload: True, or
        # False at end of stream, None when nothing has arrived.
        while True:
            h = self._exact(2)
            if not h:
                return h if h is None else False
            op, n = h[0] & 0x0F, h[1] & 0x7F
            if n == 127:
                self.s.close()
                raise OSError(5)
            if n == 126:
                e = self._exact(2)
                if not e:
                    return False
                n = e[0] << 8 | e[1]
            self.mask = self._exact(4) if h[1] & 0x80 else None
            self.pos = 0
            if op >= 8:
                if n:
                    self._exact(n)
                if op == 8:
                    self._raw(b"\x88\x00")
                    return False
                continue
            if op:
                self.flags = op
            if n:
                self.left = n
                return True

    def read(self, n=-1):
        out = b""
        while n < 0 or len(out) < n:
            if not self.left:
                if out:
                    break
                got = self._header()
                if not got:
                    return None if got is None else out
            d = self.s.read(self.left if n < 0 else min(self.left, n - len(out)))
            if d is None:
                if out:
                    break
                return None
            if not d:
                break
            if self.mask:
                d = bytes(c ^ self.mask[(self.pos + i) & 3] for i, c in enumerate(d))
                self.pos += len(d)
            self.left -= len(d)
            out += d
        return out

    def readinto(self, buf, n=-1):
        d = self.read(len(buf) if n < 0 else min(n, len(buf)))
        if d is None:
            return None
        buf[: len(d)] = d
        return len(d)

    def readline(self):
        line = b""
        while not line.endswith(b"\n"):
            c = self.read(1)
            if not c:
                break
            line += c
        return line

    def _raw(self, data):
        if self.bw:
            self.s.setblocking(True)
        try:
            self.s.write(data)
        finally:
            if self.bw:
                self.s.setblocking(False)

    def write(self, buf):
        if isinstance(buf, str):
            buf = buf.encode()
        n = len(buf)
        if n >= 0x10000:
            raise OSError(105)  # ENOBUFS
        h = bytes((0x80 | self.opts, n)) if n < 126 else bytes((0x80 | self.opts, 126, n >> 8, n & 0xFF))
        self._raw(h + bytes(buf))
        return n

    def ioctl(self, req, arg=0):
        if req == 4:  # close
            self.s.close()
            return 0
        if req == 8:  # the last data frame's opcode
            return self.flags
        if req == 9:  # set the frame type of writes, return the old one
            old, self.opts = self.opts, arg & 0x0F
            return old
        raise OSError(22)

    def close(self):
        self.s.close()
