# Part of the board's asyncio (see asyncio.py), loaded on first use:
# wait_for, wait_for_ms and gather.
import asyncio as _a
from asyncio import CancelledError, TimeoutError


async def _watch(waiter, aw):
    # Await aw for a wait_for that is sleeping out its timeout; if aw ends
    # first and the sleeper is still just sleeping (not awaiting this
    # watcher after a timeout, not cancelled), wake it with the outcome
    # packed in a CancelledError.
    try:
        r = await aw
        how = True
    except BaseException as e:
        r = None
        how = e
    if waiter._on is None and waiter._throw is None and waiter.cancel():
        waiter._throw = CancelledError(how, r)


async def wait_for(aw, timeout, sleep=_a.sleep):
    aw = _a._promote(aw)
    if timeout is None:
        return await aw
    watcher = _a.create_task(_watch(_a._cur, aw))
    try:
        await sleep(timeout)
    except CancelledError as e:
        how = e.args[0] if e.args else None
        if how is None:
            # Cancelled from outside: so is aw.
            watcher.cancel()
            raise e
        if how is True:
            return e.args[1]
        raise how
    # Timed out: cancel aw, let it finish, then say so.
    watcher.cancel()
    await watcher
    raise TimeoutError


def wait_for_ms(aw, timeout):
    return wait_for(aw, timeout, _a.sleep_ms)


class _Parked:
    # What a gathering task waits on: cancel() finds nothing to remove.
    @staticmethod
    def remove(t):
        pass


# gather is a generator (not async def) so it can park its task with a bare
# yield until a sub-task's completion callback queues it again.
def gather(*aws, return_exceptions=False):
    ts = [_a._promote(aw) for aw in aws]
    me = _a._cur
    left = [0]  # sub-tasks still running; or the exception that ends it

    def done(t, er):
        if me._on is not _Parked:
            # Already woken (another sub-task failed, or gather was
            # cancelled).
            return
        if not return_exceptions and not isinstance(er, StopIteration):
            left[0] = er
        else:
            left[0] -= 1
            if left[0]:
                return
        _a._push(me)

    for t in ts:
        if t._done:
            if not isinstance(t._out, StopIteration) and not return_exceptions:
                left[0] = -len(ts)
        elif t._cb is None and t._line is None:
            t._cb = done
            left[0] += 1
        else:
            raise RuntimeError("can't gather")
    cancelled = False
    if left[0] > 0:
        me._on = _Parked
        try:
            yield
        except CancelledError as e:
            cancelled = True
            left[0] = e
    for i in range(len(ts)):
        t = ts[i]
        if t._cb is done:
            t._cb = None
            if cancelled:
                t.cancel()
        elif isinstance(t._out, StopIteration):
            ts[i] = t._out.value
        elif return_exceptions:
            ts[i] = t._out
        elif isinstance(left[0], int):
            left[0] = t._out
    if left[0]:
        raise left[0]
    return ts
