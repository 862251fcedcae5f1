# The board's asyncio: MicroPython's asyncio API (run, create_task, sleep,
# sleep_ms, gather, wait_for, wait_for_ms, Event, Lock, ThreadSafeFlag,
# start_server, open_connection, Stream/StreamReader/StreamWriter, Loop),
# written for the simulator: tasks wait for sockets through select.poll and
# for time through the simulator clock, so waiting costs no wall time.
from time import ticks_ms as _ticks, ticks_diff as _tdiff
import sys
import select
import heapq


class CancelledError(BaseException):
    pass


class TimeoutError(Exception):
    pass


class InvalidStateError(Exception):
    pass


# ---------------------------------------------------------------------------
# Time: milliseconds since the loop started, immune to ticks wrap-around.

_clk = [_ticks(), 0]


def _now():
    t = _ticks()
    _clk[1] += _tdiff(t, _clk[0])
    _clk[0] = t
    return _clk[1]


# ---------------------------------------------------------------------------
# Run queue: a heap of (due, seq, task); a task is in it at most once (a
# stale entry has a seq the task no longer carries).

_heap = []
_seq = [0]


def _push(t, due=None):
    if due is None:
        # "Now" as of the loop's last look at the clock: reading ticks_ms
        # costs a host call, and a ready task is due anyway.
        due = _clk[1]
    _seq[0] += 1
    t._qseq = _seq[0]
    heapq.heappush(_heap, (due, _seq[0], t))


def _unqueue(t):
    t._qseq = 0


def _peek():
    while _heap:
        due, seq, t = _heap[0]
        if t._qseq == seq:
            return due, t
        heapq.heappop(_heap)
    return None, None


# ---------------------------------------------------------------------------
# Waiting for streams.


class _IO:
    def __init__(self):
        self.poller = select.poll()
        self.map = {}  # id(stream) -> [reader task, writer task, stream]

    def _enqueue(self, s, idx):
        e = self.map.get(id(s))
        if e is None:
            e = [None, None, s]
            self.map[id(s)] = e
        e[idx] = _cur[0]
        ev = (select.POLLIN if e[0] is not None else 0) | (select.POLLOUT if e[1] is not None else 0)
        self.poller.register(s, ev)
        _cur[0]._io = self
        _cur[0]._waiting = True

    def queue_read(self, s):
        self._enqueue(s, 0)

    def queue_write(self, s):
        self._enqueue(s, 1)

    def remove(self, t):
        for k in list(self.map):
            e = self.map[k]
            if e[0] is t:
                e[0] = None
            if e[1] is t:
                e[1] = None
            if e[0] is None and e[1] is None:
                del self.map[k]
                self.poller.unregister(e[2])
        t._io = None

    def wait(self, ms):
        for s, ev in self.poller.ipoll(ms):
            e = self.map.get(id(s))
            if e is None:
                continue
            if ev & ~select.POLLOUT and e[0] is not None:
                e[0]._io = None
                _push(e[0])
                e[0] = None
            if ev & ~select.POLLIN and e[1] is not None:
                e[1]._io = None
                _push(e[1])
                e[1] = None
            if e[0] is None and e[1] is None:
                del self.map[id(s)]
                self.poller.unregister(s)
            else:
                self.poller.modify(s, select.POLLIN if e[0] is not None else select.POLLOUT)


_io_queue = _IO()
_cur = [None]


# ---------------------------------------------------------------------------
# Sleeping.


class _Sleep:
    def __init__(self, ms):
        self.ms = ms
        self.done = False

    def __iter__(self):
        return self

    def __next__(self):
        if self.done:
            raise StopIteration
        self.done = True
        t = _cur[0]
        _push(t, _now() + self.ms)
        t._waiting = True
        return None


def sleep_ms(t):
    return _Sleep(max(0, int(t)))


def sleep(t):
    return _Sleep(max(0, int(t * 1000)))


# ---------------------------------------------------------------------------
# Tasks.


class Task:
    def __init__(self, coro, globals=None):
        self.coro = coro
        self.data = None
        self._exc = None  # exception to throw in at the next step
        self._done = False
        self._result = None
        self._error = None
        self._waiters = []
        self._blocker = None  # what the task waits on (task, event, lock)
        self._io = None
        self._qseq = 0
        self._waiting = False
        self._retrieved = False
        self._callback = None

    def __repr__(self):
        return "<Task>"

    def __iter__(self):
        return self

    def __next__(self):
        if self._done:
            self._retrieved = True
            if self._error is not None:
                raise self._error
            raise StopIteration(self._result)
        t = _cur[0]
        self._waiters.append(t)
        t._blocker = self
        t._waiting = True
        return None

    def done(self):
        return self._done

    def cancel(self):
        if self._done:
            return False
        if self is _cur[0]:
            raise RuntimeError("can't cancel self")
        _detach(self)
        self._exc = CancelledError()
        _push(self)
        return True


def _detach(t):
    _unqueue(t)
    if t._io is not None:
        t._io.remove(t)
    b = t._blocker
    if b is not None:
        try:
            b._waiters.remove(t)
        except (AttributeError, ValueError):
            pass
        t._blocker = None


def _finish(t, result, error):
    t._done = True
    t._result = result
    t._error = error
    woke = False
    for w in t._waiters:
        w._blocker = None
        _push(w)
        woke = True
    t._waiters = []
    if t._callback is not None:
        t._callback(t, error)
        woke = True
    if error is not None and not woke and not isinstance(error, (CancelledError, StopIteration)):
        # Report it later unless someone retrieves it first.
        t._qseq = 0
        _report.append(t)


_report = []


def _step(t):
    _cur[0] = t
    t._waiting = False
    exc = t._exc
    t._exc = None
    try:
        if exc is None:
            t.coro.send(None)
        else:
            t.coro.throw(exc)
    except StopIteration as e:
        _finish(t, e.value, None)
    except BaseException as e:
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            _cur[0] = None
            raise
        _finish(t, None, e)
    else:
        if not t._waiting:
            _push(t)
    _cur[0] = None


def create_task(coro):
    if not hasattr(coro, "send"):
        raise TypeError("coroutine expected")
    t = Task(coro)
    _push(t)
    return t


def current_task():
    if _cur[0] is None:
        raise RuntimeError("no running event loop")
    return _cur[0]


def _promote(aw):
    return aw if isinstance(aw, Task) else create_task(aw)


# ---------------------------------------------------------------------------
# The loop.

_stop = [False]


def run_until_complete(main_task=None):
    _stop[0] = False
    while True:
        now = _now()
        # One round runs the tasks queued before it began, then streams are
        # polled again: a task that keeps yielding cannot starve I/O.
        last = _seq[0]
        while True:
            due, t = _peek()
            if t is None or t._qseq > last:
                break
            if due > now:
                now = _now()
                if due > now:
                    break
            heapq.heappop(_heap)
            t._qseq = 0
            _step(t)
            if main_task is not None and main_task._done:
                main_task._retrieved = True
                _flush_reports()
                if main_task._error is not None:
                    raise main_task._error
                return main_task._result
            if _stop[0]:
                return None
        _flush_reports()
        due, t = _peek()
        if t is None:
            if not _io_queue.map and main_task is None:
                return None
            ms = -1
        else:
            ms = max(0, due - now)
        _io_queue.wait(ms)


def _flush_reports():
    while _report:
        t = _report.pop(0)
        if not t._retrieved:
            Loop.call_exception_handler({"message": "Task exception wasn't retrieved", "exception": t._error, "future": t})


def run(coro):
    return run_until_complete(create_task(coro))


class Loop:
    _exc_handler = None

    def create_task(coro):
        return create_task(coro)

    def run_forever():
        run_until_complete()

    def run_until_complete(aw):
        return run_until_complete(_promote(aw))

    def stop():
        _stop[0] = True

    def close():
        pass

    def set_exception_handler(handler):
        Loop._exc_handler = handler

    def get_exception_handler():
        return Loop._exc_handler

    def default_exception_handler(loop, context):
        print(context["message"], file=sys.stderr)
        print("future:", context["future"], "coro=", context["future"].coro, file=sys.stderr)
        sys.print_exception(context["exception"], sys.stderr)

    def call_exception_handler(context):
        (Loop._exc_handler or Loop.default_exception_handler)(Loop, context)


def get_event_loop(runq_len=0, waitq_len=0):
    return Loop


def new_event_loop():
    global _io_queue
    del _heap[:]
    del _report[:]
    _io_queue = _IO()
    return Loop


# The rest of the API loads on first use (as MicroPython's asyncio package
# does), so a script pays heap only for what it uses.
_attrs = {
    "wait_for": "_asyncio_funcs",
    "wait_for_ms": "_asyncio_funcs",
    "gather": "_asyncio_funcs",
    "Event": "_asyncio_sync",
    "ThreadSafeFlag": "_asyncio_sync",
    "Lock": "_asyncio_sync",
    "open_connection": "_asyncio_stream",
    "start_server": "_asyncio_stream",
    "Stream": "_asyncio_stream",
    "StreamReader": "_asyncio_stream",
    "StreamWriter": "_asyncio_stream",
    "Server": "_asyncio_stream",
}


def __getattr__(attr):
    mod = _attrs.get(attr, None)
    if mod is None:
        raise AttributeError(attr)
    value = getattr(__import__(mod, None, None, True, 0), attr)
    globals()[attr] = value
    return value
