# The board's websocket (extmod/modwebsocket.c, a C module on the ESP8266),
# written for this simulator. It keeps the C module's state machine, so the
# results match it call for call:
# - a read gives at most one frame's payload per step and the stream
#   methods (read, readinto, readline) loop over steps as py/stream.c's
#   mp_stream_rw does, so read(n) runs across frames;
# - a frame header that arrives in pieces is EAGAIN (None, or what was
#   read before it), even on a blocking socket;
# - control frames are read like data (their payload reaches the caller
#   when it does not fit the read) and then skipped, except close, which is
#   answered with an empty close frame and reads as end of stream;
# - every frame header, control frames included, sets what ioctl(8) gives;
# - 64-bit lengths close the socket and raise EIO, writes of 64 KiB or
#   more raise ENOBUFS; write() sends each call as one unmasked frame.

_HEADER, _OPT, _PAYLOAD, _CONTROL = 0, 1, 2, 3
_BLOCKING_WRITE = 0x80


def _int(x):
    # mp_obj_get_int: an int or bool, else TypeError ("can't convert str
    # to int"), which range's own conversion raises.
    range(x)
    return int(x)


def _nonblocking(e):
    # mp_is_nonblocking_error: EAGAIN (and EWOULDBLOCK, the same on lwIP)
    return e.errno == 11


import io


# An io.IOBase subclass, so firmware code that takes a stream (select's
# poll, print(file=), os.dupterm) reaches these methods as it reaches the
# C module's stream protocol: polling it raises EINVAL, as
# websocket_ioctl refuses MP_STREAM_POLL.
class websocket(io.IOBase):
    def __init__(self, sock, *args, **kw):
        # websocket_make_new: mp_arg_check_num(1, 2, no keywords) and a
        # stream that reads, writes and takes ioctl.
        if kw:
            raise TypeError("function doesn't take keyword arguments")
        if len(args) > 1:
            raise TypeError("function expected at most 2 arguments, got %d" % (len(args) + 1))
        if not ((hasattr(sock, "read") or hasattr(sock, "readinto")) and hasattr(sock, "write")):
            raise OSError("stream operation not supported")
        self._s = sock
        # One raw read, as the C module's stream_p->read: a socket's recv
        # (one lwIP receive), else the stream's readinto (what an io.IOBase
        # subclass's stream protocol calls), else its read.
        self._recv = getattr(sock, "recv", None)
        self._readinto = getattr(sock, "readinto", None)
        self._state = _HEADER
        self._to_recv = 2
        self._buf = bytearray(6)
        self._buf_pos = 0
        self._msg_sz = 0
        self._mask = b"\0\0\0\0"
        self._mask_pos = 0
        self._opts = 1  # FRAME_TXT
        if args and args[0] is True:
            self._opts |= _BLOCKING_WRITE
        self._ws_flags = 0  # the last data frame's flags
        self._last_flags = 0  # the current frame's flags

    def _raw(self, n):
        # One read of up to n bytes: bytes, b"" at end of stream, None for
        # EAGAIN; other errors raise.
        if self._recv is not None:
            try:
                return self._recv(n)
            except OSError as e:
                if _nonblocking(e):
                    return None
                raise
        if self._readinto is not None:
            b = bytearray(n)
            r = self._readinto(b)
            if r is None:
                return None
            if r < 0:  # io.IOBase: a negative result is an errno
                raise OSError(-r)
            return bytes(b[:r])
        return self._s.read(n)

    def _close_sock(self):
        # mp_stream_close: the stream's ioctl(MP_STREAM_CLOSE), which an
        # io.IOBase subclass (or the board's socket) has as a method.
        f = getattr(self._s, "ioctl", None)
        if f is None:
            self._s.close()
            return
        r = f(4, 0)
        if isinstance(r, int) and r < 0:
            raise OSError(-r)

    def _step(self, size):
        # websocket_read: up to size bytes of one frame's payload, b"" at
        # end of stream (or after a close frame), None for EAGAIN.
        while True:
            if self._to_recv:
                d = self._raw(self._to_recv)
                if not d:
                    return d
                n = len(d)
                self._buf[self._buf_pos : self._buf_pos + n] = d
                self._buf_pos += n
                self._to_recv -= n
                if self._to_recv:
                    return None
            st = self._state
            if st == _HEADER:
                b0, b1 = self._buf[0], self._buf[1]
                self._last_flags = b0
                if b0 & 0x0F == 0:  # continuation: keep the message's opcode
                    self._ws_flags = (self._ws_flags & 0x0F) | (b0 & 0xF0)
                else:
                    self._ws_flags = b0
                self._mask = b"\0\0\0\0"
                to_recv = 0
                sz = b1 & 0x7F
                if sz == 126:
                    to_recv += 2
                elif sz == 127:
                    # 64-bit length: unsupported, the framing is lost
                    self._close_sock()
                    raise OSError(5)  # EIO
                if b1 & 0x80:
                    to_recv += 4
                self._buf_pos = 0
                self._to_recv = to_recv
                self._msg_sz = sz
                if to_recv:
                    self._state = _OPT
                else:
                    self._state = _CONTROL if b0 & 0x0F >= 8 else _PAYLOAD
                continue
            if st == _OPT:
                p = self._buf_pos
                if p & 2:  # a 16-bit length came (2 or 6 bytes)
                    self._msg_sz = self._buf[0] << 8 | self._buf[1]
                if p & 4:
                    self._mask = bytes(self._buf[p - 4 : p])
                self._buf_pos = 0
                self._state = _CONTROL if self._last_flags & 0x0F >= 8 else _PAYLOAD
                continue
            # _PAYLOAD or _CONTROL
            d = b""
            if self._msg_sz:
                d = self._raw(min(size, self._msg_sz))
                if not d:
                    return d
                n = len(d)
                if self._mask != b"\0\0\0\0":
                    d = self._unmask(d)
                self._mask_pos += n
                self._msg_sz -= n
            if not self._msg_sz:
                self._state = _HEADER
                self._to_recv = 2
                self._mask_pos = 0
                self._buf_pos = 0
                if st == _CONTROL:
                    if self._last_flags & 0x0F == 8:  # close: answer it, end of stream
                        try:
                            self._write_raw(b"\x88\x00", b"")
                        except OSError:
                            pass
                        return b""
                    continue  # ping, pong: skipped
            if d:
                return d
            # an empty data frame is not the end of the stream

    def _unmask(self, d):
        n = len(d)
        m = self._mask
        k = self._mask_pos & 3
        key = (m[k:] + m[:k]) * (n // 4 + 1)
        return (int.from_bytes(d, "big") ^ int.from_bytes(key[:n], "big")).to_bytes(n, "big")

    def _rw(self, size):
        # mp_stream_rw for reads: steps until size bytes, end of stream or
        # an error; EAGAIN after some data gives the data.
        out = b""
        while len(out) < size:
            d = self._step(size - len(out))
            if d is None:
                return out if out else None
            if not d:
                break
            out += d
        return out

    def read(self, *args):
        if len(args) > 1:
            raise TypeError("function expected at most 2 arguments, got %d" % (len(args) + 1))
        if not args or _int(args[0]) == -1:
            # stream_readall: 256-byte steps to the end of the stream
            out = b""
            while True:
                d = self._step(256)
                if d is None:
                    return out if out else None
                if not d:
                    return out
                out += d
        n = _int(args[0])
        if n < 0:
            # vstr_init_len of a negative size
            raise MemoryError("memory allocation failed, allocating %u bytes" % ((n + 1) & 0xFFFFFFFF))
        return self._rw(n)

    def readinto(self, buf, *args):
        if len(args) > 1:
            raise TypeError("function expected at most 3 arguments, got %d" % (len(args) + 2))
        mv = memoryview(buf)
        n = len(mv)
        if args:
            n = min(n, _int(args[0]) & 0xFFFFFFFF)
        d = self._rw(n)
        if d is None:
            return None
        mv[: len(d)] = d
        return len(d)

    def readline(self, *args):
        # stream_unbuffered_readline: one byte a step
        limit = int(args[0]) if args else -1
        line = b""
        while limit == -1 or len(line) < limit:
            c = self._step(1)
            if c is None:
                return line if line else None
            if not c:
                break
            line += c
            if c == b"\n":
                break
        return line

    def _write_exactly(self, data):
        # mp_stream_write_exactly: (bytes written, error or None)
        done = 0
        mv = memoryview(data)
        while done < len(mv):
            try:
                r = self._s.write(mv[done:])
            except OSError as e:
                return done, e
            if r is None:
                return done, None if done else OSError(11)
            if r < 0:  # io.IOBase: a negative result is an errno
                return done, OSError(-r)
            if not r:
                break
            done += r
        return done, None

    def _write_raw(self, header, payload):
        # websocket_write_raw: the header, then the payload, with the
        # socket blocking for the while if asked at construction.
        bw = self._opts & _BLOCKING_WRITE
        if bw:
            self._s.setblocking(True)
        n, err = self._write_exactly(header)
        if err is None:
            n, err = self._write_exactly(payload)
        if bw:
            self._s.setblocking(False)
        if err is not None:
            raise err
        return n

    def _frame(self, data):
        # websocket_write: one final frame of the chosen type
        n = len(data)
        if n >= 0x10000:
            raise OSError(105)  # ENOBUFS
        op = 0x80 | (self._opts & 0x0F)
        h = bytes((op, n)) if n < 126 else bytes((op, 126, n >> 8, n & 0xFF))
        return self._write_raw(h, data)

    def write(self, buf, *args):
        if len(args) > 2:
            raise TypeError("function expected at most 4 arguments, got %d" % (len(args) + 2))
        mv = memoryview(buf.encode() if isinstance(buf, str) else buf)
        off, n = 0, len(mv)
        if len(args) == 1:
            n = min(n, _int(args[0]) & 0xFFFFFFFF)
        elif len(args) == 2:
            off = min(_int(args[0]) & 0xFFFFFFFF, n)
            n = min(n - off, _int(args[1]) & 0xFFFFFFFF)
        mv = mv[off : off + n]
        # mp_stream_rw: a short write sends the rest as another frame
        done = 0
        while done < n:
            try:
                r = self._frame(mv[done:])
            except OSError as e:
                if _nonblocking(e):
                    if done:
                        break
                    return None
                raise
            if not r:
                break
            done += r
        return done

    def ioctl(self, req, *args):
        if len(args) > 1:
            raise TypeError("function expected at most 3 arguments, got %d" % (len(args) + 2))
        arg = 0
        if args:
            a = args[0]
            if isinstance(a, int):
                arg = a
            else:
                try:
                    from uctypes import addressof

                    arg = addressof(a)
                except TypeError:
                    arg = _int(a)
        req = _int(req)
        if req == 4:  # MP_STREAM_CLOSE
            self._close_sock()
            return 0
        if req == 8:  # MP_STREAM_GET_DATA_OPTS: the last data frame's opcode
            return self._ws_flags & 0x0F
        if req == 9:  # MP_STREAM_SET_DATA_OPTS: the frame type of writes
            cur = self._opts & 0x0F
            self._opts = (self._opts & ~0x0F) | (arg & 0x0F)
            return cur
        raise OSError(22)  # EINVAL

    def close(self):
        self._close_sock()
