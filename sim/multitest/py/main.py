# esp8266sim multitest driver: wait for this instance's turn (the board is
# on the WiFi by then, as a real board that remembers its network), then run
# the test's instance function with the multitest helper, as
# run-multitests.py does.
import _multitest as _m

_s = _m.start({run}, {idx})
if _s is not None:
    import gc

    _ok = False
    try:
        import multitest as _mt

        _mt._RUN = {run}
        _mt._IDX = {idx}
        _fn, _g = _s.split("\n", 1)
        del _s
        gc.collect()
        import {module} as _t

        _t.multitest = _mt.multitest
        exec(_g, _t.__dict__)
        del _g
        getattr(_t, _fn)()
        _mt.multitest.flush()
        _ok = True
    except SystemExit:
        _ok = True
    except BaseException as _e:
        import sys

        _t = _g = None
        gc.collect()
        sys.print_exception(_e)
    finally:
        gc.collect()
        if _ok:
            _m.done({run}, {idx})
        else:
            _m.error({run}, {idx})
