# Part of the board's asyncio (see asyncio.py), loaded on first use: Event,
# Lock and ThreadSafeFlag.
import asyncio as _a
from asyncio import CancelledError, _Line


class Event:
    def __init__(self):
        self.state = False
        self.waiting = _Line()

    def is_set(self):
        return self.state

    def set(self):
        # Every waiter becomes runnable; like the firmware's, call it only
        # from the loop's own context.
        q = self.waiting.q
        while q:
            _a._push(q.pop(0))
        self.state = True

    def clear(self):
        self.state = False

    # A generator, so waiting on a set event costs no task switch.
    def wait(self):
        if not self.state:
            self.waiting.add(_a._cur)
            yield
        return True


class Lock:
    # state: 0 free, 1 held, or the task the lock was handed to (runnable,
    # not yet running).
    def __init__(self):
        self.state = 0
        self.waiting = _Line()

    def locked(self):
        return self.state == 1

    def release(self):
        if self.state != 1:
            raise RuntimeError("Lock not acquired")
        if self.waiting.q:
            self.state = self.waiting.take()
            _a._push(self.state)
        else:
            self.state = 0

    def acquire(self):
        if self.state != 0:
            self.waiting.add(_a._cur)
            try:
                yield
            except CancelledError as e:
                if self.state is _a._cur:
                    # Handed the lock, then cancelled before running: pass
                    # it on.
                    self.state = 1
                    self.release()
                raise e
        self.state = 1
        return True

    async def __aenter__(self):
        return await self.acquire()

    async def __aexit__(self, exc_type, exc, tb):
        return self.release()


try:
    import io

    class ThreadSafeFlag(io.IOBase):
        # Set from anywhere (an IRQ, a scheduled callback); the loop polls
        # it as a stream. wait() clears it.
        def __init__(self):
            self.state = 0

        def ioctl(self, req, flags):
            if req == 3:
                return self.state * flags
            return -1

        def set(self):
            self.state = 1

        def clear(self):
            self.state = 0

        async def wait(self):
            if not self.state:
                yield _a._io.queue_read(self)
            self.state = 0

except ImportError:
    pass
