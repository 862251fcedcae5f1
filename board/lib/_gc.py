# The board's gc: the firmware's, reporting the board's fixed heap.
from gc import *
import gc as _g

_SPLIT = 134217728  # the firmware adds its (disabled) heap-growth allowance


def mem_free():
    f = _g.mem_free()
    if f >= _SPLIT:
        f -= _SPLIT
    return f


_base = 0


def mem_alloc():
    a = _g.mem_alloc() - _base
    return a if a > 0 else 0
