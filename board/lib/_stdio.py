# The UART as an interactive board's sys.stdin/stdout/stderr (made by
# _esp8266._console, written into the firmware's sys by _surface; a board nobody types at keeps the firmware's objects).
# sys.stdin reads the UART (shared/runtime/sys_stdio_mphal.c): read(n)
# waits for n characters, "\r" arrives as "\n"; .buffer gives the bytes as
# sent. Ctrl-C while it waits raises KeyboardInterrupt. The classes carry
# the board's type names and stay out of this module's namespace.
def _make_stdin():
    import io

    # io.IOBase: a stream to select/poll, through ioctl (MP_STREAM_POLL).
    class TextIOWrapper(io.IOBase):
        _text = True

        def ioctl(self, req, arg):
            if req != 3:  # MP_STREAM_POLL
                return -1
            from _board import uart_any

            # esp_mphal.c mp_hal_stdio_poll: readable with a byte waiting,
            # always writable.
            r = arg & 4
            if arg & 1 and uart_any():
                r |= 1
            return r

        def readinto(self, buf, n=-1):
            from uctypes import addressof
            from _board import uart_read
            from _hostcall import U, exc

            mv = memoryview(buf)
            if n < 0 or n > len(mv):
                n = len(mv)
            got = 0
            while got < n:
                r = uart_read(addressof(mv) + got, n - got, self._text)
                if r is U:
                    raise exc()
                got += r
            return got

        def read(self, n=-1):
            if n is None or n < 0:
                # Until the end of the input, which a UART never reaches.
                b = bytearray(1)
                while True:
                    self.readinto(b)
            b = bytearray(n)
            self.readinto(b)
            return str(b, "utf-8") if self._text else bytes(b)

        def readline(self, n=-1):
            out = bytearray()
            b = bytearray(1)
            while n < 0 or len(out) < n:
                self.readinto(b)
                out += b
                if b[0] == 10:
                    break
            return str(out, "utf-8") if self._text else bytes(out)

        def __iter__(self):
            return self

        def __next__(self):
            return self.readline()

        def fileno(self):
            return 0

        def close(self):
            pass

        def __repr__(self):
            return "<io.%s 0>" % type(self).__name__

    class FileIO(TextIOWrapper):
        _text = False

    s = TextIOWrapper()
    s.buffer = FileIO()
    return s


# On an interactive board the firmware's stdout/stderr objects are moved to
# other descriptors so the host can cook their text (board/repl.go); these
# wrappers keep what a script sees of them as on the board.
def _make_out(raw, fd):
    import io

    # An io.IOBase subclass is a stream to print(file=...).
    class TextIOWrapper(io.IOBase):
        def write(self, s):
            return raw.write(s)

        def flush(self):
            pass

        def fileno(self):
            return fd

        def __repr__(self):
            return "<io.TextIOWrapper %d>" % fd

    o = TextIOWrapper()
    try:
        o.buffer = raw.buffer
    except AttributeError:
        pass
    return o


def streams(fw_sys):
    return {"stdin": _make_stdin(), "stdout": _make_out(fw_sys.stdout, 1), "stderr": _make_out(fw_sys.stderr, 2)}
