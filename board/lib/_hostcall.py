# Shared by the board's modules: turn a failed host call into the exception
# the simulator asked for. Wrappers do `if r is U: raise exc()` so the
# traceback names the caller's line.
import _board

U = _board.UNDEF
_E = {
    "OSError": OSError,
    "ValueError": ValueError,
    "TypeError": TypeError,
    "MemoryError": MemoryError,
    "KeyboardInterrupt": KeyboardInterrupt,
    "SystemExit": SystemExit,
    "RuntimeError": RuntimeError,
    "NotImplementedError": NotImplementedError,
    "OverflowError": OverflowError,
    "IndexError": IndexError,
    "KeyError": KeyError,
    "AttributeError": AttributeError,
    "EOFError": EOFError,
}


def exc():
    t = _board.err_type()
    a = _board.err_arg()
    c = _E.get(t, RuntimeError)
    if a is None:
        return c()
    return c(a)
