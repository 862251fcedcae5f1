# Part of the board's asyncio (see asyncio.py), loaded on first use:
# streams over sockets, open_connection and start_server. A stream
# operation waits for its socket to poll ready, then does one non-blocking
# call.
from asyncio import CancelledError, create_task, sleep_ms
import asyncio as _core
import sys


class _QRead:
    def __init__(self, s, idx):
        self.s = s
        self.idx = idx
        self.done = False

    def __iter__(self):
        return self

    def __next__(self):
        if self.done:
            raise StopIteration
        self.done = True
        _core._io._add(self.s, self.idx)
        return None


class Stream:
    def __init__(self, s, e={}):
        self.s = s
        self.e = e
        self.out_buf = b""

    def get_extra_info(self, v):
        return self.e[v]

    def close(self):
        pass

    async def wait_closed(self):
        self.s.close()

    aclose = wait_closed

    async def read(self, n=-1):
        r = b""
        while True:
            await _QRead(self.s, 0)
            r2 = self.s.read(n)
            if r2 is not None:
                if n >= 0:
                    return r2
                if not len(r2):
                    return r
                r += r2

    async def readinto(self, buf):
        await _QRead(self.s, 0)
        return self.s.readinto(buf)

    async def readexactly(self, n):
        r = b""
        while n:
            await _QRead(self.s, 0)
            r2 = self.s.read(n)
            if r2 is not None:
                if not len(r2):
                    raise EOFError
                r += r2
                n -= len(r2)
        return r

    async def readline(self):
        l = b""
        while True:
            await _QRead(self.s, 0)
            l2 = self.s.readline()
            if l2 is None:
                continue
            l += l2
            if not l2 or l[-1] == 10:
                return l

    def write(self, buf):
        if not self.out_buf:
            ret = self.s.write(buf)
            if ret == len(buf):
                return
            if ret is not None:
                buf = buf[ret:]
        self.out_buf += buf

    async def drain(self):
        if not self.out_buf:
            await sleep_ms(0)
            return
        mv = memoryview(self.out_buf)
        off = 0
        while off < len(mv):
            await _QRead(self.s, 1)
            ret = self.s.write(mv[off:])
            if ret is not None:
                off += ret
        self.out_buf = b""


StreamReader = Stream
StreamWriter = Stream


async def open_connection(host, port, ssl=None, server_hostname=None):
    from errno import EINPROGRESS
    import socket

    ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
    s = socket.socket(ai[0], ai[1], ai[2])
    s.setblocking(False)
    try:
        s.connect(ai[-1])
    except OSError as er:
        if er.errno != EINPROGRESS:
            raise er
    if ssl:
        if ssl is True:
            import ssl as _ssl

            ssl = _ssl.SSLContext(_ssl.PROTOCOL_TLS_CLIENT)
        if not server_hostname:
            server_hostname = host
        await _QRead(s, 1)
        s.setblocking(True)
        s = ssl.wrap_socket(s, server_hostname=server_hostname)
        s.setblocking(False)
    ss = Stream(s)
    await _QRead(s, 1)
    return ss, ss


class Server:
    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc, tb):
        self.close()
        await self.wait_closed()

    def close(self):
        self.state = True
        self.task.cancel()

    async def wait_closed(self):
        await self.task

    async def _serve(self, s, cb, ssl):
        self.state = False
        while True:
            try:
                await _QRead(s, 0)
            except CancelledError as er:
                s.close()
                if self.state:
                    return
                raise er
            try:
                s2, addr = s.accept()
            except:
                continue
            if ssl:
                try:
                    s2 = ssl.wrap_socket(s2, server_side=True, do_handshake_on_connect=False)
                except OSError as e:
                    sys.print_exception(e)
                    s2.close()
                    continue
            s2.setblocking(False)
            s2s = Stream(s2, {"peername": addr})
            create_task(cb(s2s, s2s))


async def start_server(cb, host, port, backlog=5, ssl=None):
    import socket

    ai = socket.getaddrinfo(host, port)[0]
    s = socket.socket(ai[0])
    s.setblocking(False)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(ai[-1])
    s.listen(backlog)
    srv = Server()
    srv.task = create_task(srv._serve(s, cb, ssl))
    try:
        await sleep_ms(0)
    except CancelledError as er:
        srv.task.cancel()
        raise er
    return srv
