"""printf format strings as pass 2 sees them: which argument types they take."""
from __future__ import annotations

import re

from ..errors import SemanticError
from .program import LONG, STRING

_CONV = re.compile(r"%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?(?:hh|h|ll|l|L|z|j|t)?(.)?", re.DOTALL)
_INT = set("diouxXcpb")
MAX_FIELD = 1 << 20   # the runtime's (native/fmt.c) largest width or precision
_STR = set("smM")


def conversions(fmt: str, loc) -> list[str]:
    """The argument types a format consumes, in order (`*` takes a long)."""
    out: list[str] = []
    i = 0
    while True:
        i = fmt.find("%", i)
        if i < 0:
            return out
        m = _CONV.match(fmt, i)
        conv = m.group(4)
        if conv == "%" and m.end() == i + 2:
            i += 2
            continue
        if conv is None or (conv not in _INT and conv not in _STR):
            raise SemanticError(f"invalid or missing conversion in format string at '{fmt[i:i + 4]}'", loc)
        for part, what in ((m.group(2), "width"), (m.group(3), "precision")):
            if part and part != "*" and int(part) > MAX_FIELD:
                raise SemanticError(f"format {what} {part} in '{fmt[i:m.end()]}' is out of range "
                                    f"(0 to {MAX_FIELD})", loc)
        if m.group(2) == "*":
            out.append(LONG)
        if m.group(3) == "*":
            out.append(LONG)
        out.append(LONG if conv in _INT else STRING)
        i = m.end()
