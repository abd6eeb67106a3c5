"""How `-c CMD` becomes a program to exec, as staprun does it.

staprun splits CMD with wordexp(3) (WRDE_NOCMD | WRDE_UNDEF): quotes,
backslashes, $VARIABLES, ~ and globs are expanded and the words exec'd
directly, so target() is the command itself (`dd if=/dev/zero of=/dev/null`
too).  A shell metacharacter wordexp refuses (`|&;<>(){}`, newline) or a
command substitution sends the whole line to `/bin/sh -c`, and target() is
that shell."""
from __future__ import annotations

import ctypes
import ctypes.util

from ..errors import FtstapError

WRDE_NOCMD, WRDE_UNDEF = 1 << 2, 1 << 5                    # glibc and musl <wordexp.h>
WRDE_NOSPACE, WRDE_BADCHAR, WRDE_BADVAL, WRDE_CMDSUB, WRDE_SYNTAX = 1, 2, 3, 4, 5
_ERRORS = {WRDE_BADVAL: "it names an undefined shell variable",
           WRDE_SYNTAX: "unbalanced quotes or another shell syntax error",
           WRDE_NOSPACE: "out of memory"}


class _WordExp(ctypes.Structure):
    _fields_ = [("we_wordc", ctypes.c_size_t), ("we_wordv", ctypes.POINTER(ctypes.c_char_p)),
                ("we_offs", ctypes.c_size_t)]


def _libc():
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    libc.wordexp.argtypes = [ctypes.c_char_p, ctypes.POINTER(_WordExp), ctypes.c_int]
    libc.wordexp.restype = ctypes.c_int
    libc.wordfree.argtypes = [ctypes.POINTER(_WordExp)]
    return libc


def command_argv(cmd: str) -> list[str]:
    """The argv -c CMD is exec'd with (see the module docstring)."""
    libc = _libc()
    we = _WordExp()
    rc = libc.wordexp(cmd.encode(), ctypes.byref(we), WRDE_NOCMD | WRDE_UNDEF)
    if rc in (WRDE_BADCHAR, WRDE_CMDSUB):
        return ["/bin/sh", "-c", cmd]
    if rc != 0:
        raise FtstapError(f"-c '{cmd}': cannot split the command: {_ERRORS.get(rc, f'wordexp error {rc}')}")
    try:
        words = [we.we_wordv[i].decode(errors="surrogateescape") for i in range(we.we_wordc)]
    finally:
        libc.wordfree(ctypes.byref(we))
    if not words:
        raise FtstapError(f"-c '{cmd}': no command to run")
    return words
