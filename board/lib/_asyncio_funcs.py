# Part of the board's asyncio (see asyncio.py), loaded on first use.
from asyncio import CancelledError, TimeoutError, create_task, sleep, sleep_ms, _promote


async def wait_for(aw, timeout, sleep=sleep):
    t = _promote(aw)
    if timeout is None:
        return await t
    state = [False]

    async def killer():
        await sleep(timeout)
        if not t._done:
            state[0] = True
            t.cancel()

    k = create_task(killer())
    try:
        return await t
    except CancelledError:
        if state[0]:
            raise TimeoutError
        if not t._done:
            t.cancel()
        raise
    finally:
        if not k._done:
            k.cancel()


def wait_for_ms(aw, timeout):
    return wait_for(aw, timeout, sleep_ms)


async def gather(*aws, return_exceptions=False):
    ts = [_promote(a) for a in aws]
    res = []
    for t in ts:
        try:
            res.append(await t)
        except BaseException as e:
            if isinstance(e, CancelledError) and not t._done:
                # gather itself was cancelled: so are the awaitables.
                for o in ts:
                    if not o._done:
                        o.cancel()
                raise
            if not return_exceptions or isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            res.append(e)
    return res


