"""Pass 2's check of a `=~` pattern: POSIX extended regular expressions, as
the runtime matches them (native/rematch.c, regcomp with REG_EXTENDED), so a
pattern is refused here exactly when the runtime could not compile it.
The libc's own regcomp is asked (ctypes), not a re-implementation: Python's
`re` accepts what POSIX refuses (`a**`) and refuses what it accepts (`[[:alpha:]]`
warns, `\\<` differs)."""
from __future__ import annotations

_libc = None
_REGEX_T = 256            # bytes: more than glibc's regex_t (64) or musl's


def check(pattern: str) -> str | None:
    """None when the pattern compiles, else the libc's reason."""
    global _libc
    import ctypes
    if _libc is None:
        _libc = ctypes.CDLL(None)
        _libc.regerror.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t)
        _libc.regcomp.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int)
        _libc.regfree.argtypes = (ctypes.c_void_p,)
    buf = ctypes.create_string_buffer(_REGEX_T)
    rc = _libc.regcomp(buf, pattern.encode("utf-8", "surrogateescape"), 1)   # REG_EXTENDED
    if rc == 0:
        _libc.regfree(buf)
        return None
    why = ctypes.create_string_buffer(200)
    _libc.regerror(rc, buf, why, len(why))
    return why.value.decode(errors="replace")
