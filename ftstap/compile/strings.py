"""stap string literals: the raw text between the quotes, decoded the way
stap's translator does (C escapes: \\n \\t \\a \\b \\f \\r \\v \\\\ \\" \\ooo \\xhh)."""
from __future__ import annotations

_SIMPLE = {"n": "\n", "t": "\t", "a": "\a", "b": "\b", "f": "\f", "r": "\r", "v": "\v",
           "\\": "\\", '"': '"', "'": "'", "?": "?", "\n": ""}


def _byte(v: int) -> str:
    """The character for a \\ooo or \\xhh escape: bytes >= 0x80 as lone
    surrogates, which the image writes back as that one raw byte (UTF-8 with
    surrogateescape), not as a two-byte UTF-8 sequence."""
    v &= 0xFF
    return chr(v) if v < 0x80 else chr(0xDC00 + v)


def decode(raw: str) -> str:
    out = []
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c != "\\" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        e = raw[i + 1]
        if e in _SIMPLE:
            out.append(_SIMPLE[e])
            i += 2
        elif e in "01234567":
            j = i + 1
            while j < n and j < i + 4 and raw[j] in "01234567":
                j += 1
            out.append(_byte(int(raw[i + 1:j], 8)))
            i = j
        elif e == "x":
            j = i + 2
            while j < n and raw[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(_byte(int(raw[i + 2:j] or "0", 16)))
            i = j
        else:
            # Unknown escapes keep the backslash (printf formats need \% etc.).
            out.append("\\" + e)
            i += 2
    s = "".join(out)
    # stap strings are C strings: a literal ends at its first "\0"
    # (str_replace(s, "x", "\0") replaces with nothing).
    nul = s.find("\0")
    return s if nul < 0 else s[:nul]


def escape_format(text: str) -> str:
    """Literal text inside a synthesized printf format."""
    return text.replace("%", "%%")
