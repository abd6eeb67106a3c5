"""Script sources and locations in them.

A Loc is (source, offset); line, column and the line's text are computed only
when a diagnostic needs them, so the lexer pays nothing per token."""
from __future__ import annotations

import bisect

from ..errors import FtstapError, SourceError, Span


class Source:
    """One script text: a file, stdin ("<input>"), -e ("<input>"), a tapset,
    or a command-line argument being substituted."""

    __slots__ = ("name", "text", "_starts")

    def __init__(self, name: str, text: str):
        self.name = name
        self.text = text
        self._starts: list[int] | None = None

    def line_col(self, offset: int) -> tuple[int, int]:
        if self._starts is None:
            starts = [0]
            find = self.text.find
            i = find("\n")
            while i >= 0:
                starts.append(i + 1)
                i = find("\n", i + 1)
            self._starts = starts
        line = bisect.bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1

    def line_text(self, line: int) -> str:
        self.line_col(0)
        start = self._starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]

    def __repr__(self) -> str:
        return f"Source({self.name!r})"


class Loc:
    """A place in a Source.  `via` is the location of the macro invocation or
    `$N` argument whose expansion produced this token, for error traces."""

    __slots__ = ("source", "offset", "via")

    def __init__(self, source: Source, offset: int, via: "Loc | None" = None):
        self.source = source
        self.offset = offset
        self.via = via

    @property
    def file(self) -> str:
        return self.source.name

    @property
    def line(self) -> int:
        return self.source.line_col(self.offset)[0]

    @property
    def col(self) -> int:
        return self.source.line_col(self.offset)[1]

    @property
    def text(self) -> str:
        return self.source.line_text(self.line)

    def __str__(self) -> str:
        line, col = self.source.line_col(self.offset)
        return f"{self.source.name}:{line}:{col}"

    def __repr__(self) -> str:
        return f"Loc({self})"

    # Locations never take part in AST equality: a script printed by -p1 and
    # parsed again must compare equal to the original.
    def __eq__(self, other):
        return isinstance(other, Loc)

    def __hash__(self):
        return 0


def read_source(path: str) -> Source:
    """Read a script file; stdin is '-'."""
    import sys
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
            name = "<input>"
        else:
            with open(path, "rb") as f:
                data = f.read()
            name = path
    except OSError as e:
        raise FtstapError(f"cannot read script file '{path}': {e.strerror}") from None
    return Source(name, decode(data, name))


def decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        # stap reads bytes; we need text: say where the bad byte is.
        line = data[:e.start].count(b"\n") + 1
        start = data.rfind(b"\n", 0, e.start) + 1
        end = data.find(b"\n", e.start)
        before = data[start:e.start].decode("utf-8", "replace")
        text = data[start:end if end >= 0 else len(data)].decode("utf-8", "replace")
        raise SourceError(f"invalid UTF-8 byte 0x{data[e.start]:02x} in the script",
                          Span(name, line, len(before) + 1, text), saw=f"byte 0x{data[e.start]:02x}") from None
