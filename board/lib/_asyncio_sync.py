# Part of the board's asyncio (see asyncio.py), loaded on first use.
from asyncio import CancelledError, _push, _cur


class _Wait:
    # Park the current task on obj's waiter list.
    def __init__(self, obj):
        self.obj = obj
        self.done = False

    def __iter__(self):
        return self

    def __next__(self):
        if self.done:
            raise StopIteration
        self.done = True
        t = _cur[0]
        self.obj._waiters.append(t)
        t._blocker = self.obj
        t._waiting = True
        return None


class Event:
    def __init__(self):
        self.state = False
        self._waiters = []

    def is_set(self):
        return self.state

    def set(self):
        self.state = True
        for t in self._waiters:
            t._blocker = None
            _push(t)
        self._waiters = []

    def clear(self):
        self.state = False

    async def wait(self):
        if not self.state:
            await _Wait(self)
        return True


class ThreadSafeFlag:
    def __init__(self):
        self.state = False
        self._waiters = []

    def set(self):
        self.state = True
        for t in self._waiters:
            t._blocker = None
            _push(t)
        self._waiters = []

    def clear(self):
        self.state = False

    async def wait(self):
        while not self.state:
            await _Wait(self)
        self.state = False


class Lock:
    def __init__(self):
        self.state = False
        self._waiters = []

    def locked(self):
        return self.state

    def release(self):
        if not self.state:
            raise RuntimeError("Lock not acquired")
        if self._waiters:
            t = self._waiters.pop(0)
            t._blocker = None
            _push(t)
            # The lock passes to t.
        else:
            self.state = False

    async def acquire(self):
        if self.state:
            try:
                await _Wait(self)
            except CancelledError:
                raise
        self.state = True
        return True

    async def __aenter__(self):
        return await self.acquire()

    async def __aexit__(self, exc_type, exc, tb):
        return self.release()


