# The board's asyncio: MicroPython's asyncio API (run, create_task, sleep,
# sleep_ms, gather, wait_for, wait_for_ms, Event, Lock, ThreadSafeFlag,
# start_server, open_connection, Stream/StreamReader/StreamWriter, Loop,
# current_task, new_event_loop), written for the simulator to behave as the
# firmware's extmod/asyncio over its _asyncio module does:
# - tasks run in order of due time, first come first served at equal times,
#   and streams are polled (with a zero timeout when a task is due) before
#   every step, so output interleaves as on the board;
# - a task runs until it waits; whatever it waits on (a sleep, an Event, a
#   Lock, another task, a stream) puts it back on the run queue;
# - cancel() is delivered to the innermost task an awaiting chain waits on;
# - an exception nobody awaited is reported through the loop's exception
#   handler one round later, unless someone retrieves it first.
# Time is the simulator's: waiting costs no wall time in fast mode.
from time import ticks_ms as _ticks, ticks_diff as _tdiff, ticks_add as _tadd, sleep_ms as _idle
import sys
import select


class CancelledError(BaseException):
    pass


class TimeoutError(Exception):
    pass


# ---------------------------------------------------------------------------
# The run queue: a singly linked list threaded through the tasks (_nx),
# sorted by due time (ticks_ms, compared with ticks_diff so wrap-around does
# not reorder it), a task going after those due at the same time. Pushing
# and popping allocate nothing, as with the firmware's C task queue (a
# script may run the loop with the heap locked). _qd marks a queued task.

_rq = [None]


def _push(t, due=None):
    if due is None:
        due = _ticks()
    t._on = None
    t._due = due
    t._qd = True
    p = _rq[0]
    if p is None or _tdiff(due, p._due) < 0:
        t._nx = p
        _rq[0] = t
        return
    while p._nx is not None and _tdiff(p._nx._due, due) <= 0:
        p = p._nx
    t._nx = p._nx
    p._nx = t


def _head():
    return _rq[0]


def _pop():
    t = _rq[0]
    _rq[0] = t._nx
    t._nx = None
    t._qd = False
    return t


def _unqueue(t):
    if not t._qd:
        return
    t._qd = False
    p = _rq[0]
    if p is t:
        _rq[0] = t._nx
    else:
        while p is not None and p._nx is not t:
            p = p._nx
        if p is not None:
            p._nx = t._nx
    t._nx = None


# A waiting line (an Event's, a Lock's, a task's awaiters): first in, first
# out; remove() is what cancel() calls to take a task out of it.
class _Line:
    def __init__(self):
        self.q = []

    def add(self, t):
        self.q.append(t)
        t._on = self

    def take(self):
        return self.q.pop(0)

    def remove(self, t):
        try:
            self.q.remove(t)
        except ValueError:
            pass


# ---------------------------------------------------------------------------
# Streams: one reader and one writer task per stream, woken by poll.


class _IO:
    def __init__(self):
        self.poller = select.poll()
        self.map = {}  # id(stream) -> [reader, writer, stream]

    def _add(self, s, i):
        t = _cur
        e = self.map.get(id(s))
        if e is None:
            e = [None, None, s]
            e[i] = t
            self.map[id(s)] = e
            self.poller.register(s, select.POLLOUT if i else select.POLLIN)
        else:
            e[i] = t
            self.poller.modify(s, select.POLLIN | select.POLLOUT)
        t._on = self

    def queue_read(self, s):
        self._add(s, 0)

    def queue_write(self, s):
        self._add(s, 1)

    def _drop(self, s):
        del self.map[id(s)]
        self.poller.unregister(s)

    def remove(self, t):
        for k in list(self.map):
            e = self.map[k]
            if e[0] is t or e[1] is t:
                self._drop(e[2])

    def wait(self, ms):
        if not self.map:
            if ms > 0:
                _idle(ms)
            return
        for s, ev in self.poller.ipoll(ms):
            e = self.map.get(id(s))
            if e is None:
                continue
            if ev & ~select.POLLOUT and e[0] is not None:
                _push(e[0])
                e[0] = None
            if ev & ~select.POLLIN and e[1] is not None:
                _push(e[1])
                e[1] = None
            if e[0] is None and e[1] is None:
                self._drop(s)
            else:
                self.poller.modify(s, select.POLLIN if e[0] is not None else select.POLLOUT)


# ---------------------------------------------------------------------------
# Sleeping: one reusable awaitable, as the firmware's sleep_ms allocates
# nothing.


class _Sleeper:
    def __init__(self):
        self.due = None

    def __iter__(self):
        return self

    def __next__(self):
        if self.due is None:
            raise StopIteration
        due = self.due
        self.due = None
        _push(_cur, due)
        return None


_sleeper = _Sleeper()


def sleep_ms(t):
    _sleeper.due = _tadd(_ticks(), max(0, t))
    return _sleeper


def sleep(t):
    return sleep_ms(int(t * 1000))


# ---------------------------------------------------------------------------
# Tasks. _done: finished; _out: how (a StopIteration holding the result, or
# the exception); _seen: someone awaited or collected the outcome; _line:
# the tasks awaiting it; _cb: a completion callback (gather's); _on: what the
# task waits on; _throw: an exception to deliver at its next step.

_RUNNING, _WAITED, _CALLBACK = 0, 1, 2


class Task:
    def __init__(self, coro, globals=None):
        self.coro = coro
        self._done = False
        self._out = None
        self._seen = False
        self._line = None
        self._cb = None
        self._on = None
        self._throw = None
        self._qd = False
        self._nx = None
        self._due = 0

    def __repr__(self):
        return "<Task>"

    def __iter__(self):
        if self._done:
            self._seen = True
        elif self._cb is not None:
            raise RuntimeError("can't wait")
        elif self._line is None:
            self._line = _Line()
        return self

    def __next__(self):
        if self._done:
            raise self._out
        self._line.add(_cur)
        _cur._on = self
        return None

    def done(self):
        return self._done

    def cancel(self):
        if self._done:
            return False
        if self is _cur:
            raise RuntimeError("can't cancel self")
        t = self
        while isinstance(t._on, Task):
            t = t._on
        on = t._on
        if on is not None:
            on.remove(t)
            _push(t)
        elif t._qd and _tdiff(t._due, _ticks()) > 0:
            _unqueue(t)
            _push(t)
        t._throw = CancelledError
        return True


def create_task(coro):
    if not hasattr(coro, "send"):
        raise TypeError("coroutine expected")
    t = Task(coro)
    _push(t)
    return t


def current_task():
    if _cur is None:
        raise RuntimeError("no running event loop")
    return _cur


def _promote(aw):
    return aw if isinstance(aw, Task) else create_task(aw)


# ---------------------------------------------------------------------------
# The loop.

_cur = None
_ctx = {"message": "Task exception wasn't retrieved", "exception": None, "future": None}


def _ended(t, er, main):
    # t's coroutine finished with er (StopIteration or an exception).
    global _cur
    if t is main:
        _cur = None
        if not isinstance(er, StopIteration):
            t._done = t._seen = True
            t._out = er
            raise er
    awaited = t is main
    if not t._done:
        t._done = True
        if t._cb is not None:
            cb = t._cb
            t._cb = None
            t._out = er
            cb(t, er)
            awaited = True
        elif t._line is not None:
            line = t._line
            t._line = None
            while line.q:
                _push(line.take())
                awaited = True
        t._seen = awaited
        t._out = er
        if not awaited and not isinstance(er, (CancelledError, StopIteration)):
            # Look again after one round: if still nobody has the outcome,
            # the exception handler reports it.
            _push(t)
    elif not t._seen:
        t._seen = True
        _ctx["exception"] = t._out
        _ctx["future"] = t
        Loop.call_exception_handler(_ctx)
    if t is main:
        return er.value
    return None


def run_until_complete(main=None):
    global _cur
    while True:
        while True:
            t = _head()
            if t is not None:
                dt = max(0, _tdiff(t._due, _ticks()))
            elif not _io.map:
                _cur = None
                if main is None or main._done:
                    return None
                # Nothing can wake a task, yet main has not ended: idle
                # (a scheduled callback may still set an Event).
                dt = 3
            else:
                dt = -1
            _io.wait(dt)
            if dt <= 0:
                break
        t = _head()
        if t is None:
            continue
        _pop()
        _cur = t
        if t._done:
            # An unawaited exception coming round again.
            _ended(t, t._out, main)
            continue
        try:
            e = t._throw
            if e is None:
                t.coro.send(None)
            else:
                t._throw = None
                t.coro.throw(e)
        except (CancelledError, Exception) as er:
            r = _ended(t, er, main)
            if t is main:
                return r


def run(coro):
    return run_until_complete(create_task(coro))


async def _stopper():
    pass


_stop_task = None


class Loop:
    _exc_handler = None

    def create_task(coro):
        return create_task(coro)

    def run_forever():
        global _stop_task
        _stop_task = Task(_stopper())
        run_until_complete(_stop_task)

    def run_until_complete(aw):
        return run_until_complete(_promote(aw))

    def stop():
        global _stop_task
        if _stop_task is not None:
            _push(_stop_task)
            _stop_task = None

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
    global _io
    t = _rq[0]
    while t is not None:
        n = t._nx
        t._nx = None
        t._qd = False
        t = n
    _rq[0] = None
    _io = _IO()
    return Loop


_io = _IO()

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
