"""Pass 1a: turn script text into tokens, as stap's lexer does.

Tokens know whether whitespace came before them (`gap`): probe point
components such as `a*b` or `sys_{open,close}` are made of adjacent tokens,
and `probe a * b` is not a wildcard.  Numbers are validated here (stap's
strtoll-style rules: 0x hex, leading 0 octal, at most 64 bits).
"""
from __future__ import annotations

import re

from ..errors import SourceError
from .source import Loc, Source

# Token kinds
IDENT = "ident"      # foo, $foo, $$vars, @count, a$b
NUMBER = "number"    # value is an int (unsigned 64-bit range, wrapped later)
STRING = "string"    # value is the raw text between the quotes, escapes kept
OP = "op"            # operators and punctuation, including %( %? %: %)
EMBEDDED = "embedded"  # %{ ... %}: value is the code between the markers
ARG = "arg"          # $1 @1 $# @#: value is the text, resolved by the preprocessor
EOF = "eof"

KEYWORDS = frozenset("""probe global function if else for foreach in limit return
delete while break continue next private try catch""".split())

OPERATORS = sorted("""<<< >>> <<= >>= == != <= >= && || ++ -- += -= *= /= %= &= |= ^=
.= -> << >> =~ !~ %( %? %: %) + - * / % < > = ! ~ & | ^ . ? : ; , ( ) { } [ ]""".split(),
                   key=len, reverse=True)

_TOKEN_RE = re.compile(r"""
    (?P<ws>[ \t\r\n\f\v]+)
  | (?P<comment>\#[^\n]*|//[^\n]*|/\*)
  | (?P<embedded>%\{)
  | (?P<arg>[$@](?:\#|[0-9][A-Za-z0-9_]*))
  | (?P<ident>[A-Za-z_$@][A-Za-z0-9_$]*)
  | (?P<number>[0-9][A-Za-z0-9_]*)
  | (?P<string>")
  | (?P<op>""" + "|".join(re.escape(o) for o in OPERATORS) + r""")
""", re.VERBOSE)

_STRING_BODY_RE = re.compile(r'(?:[^"\\]|\\.|\\\n)*"', re.DOTALL)


class Token:
    __slots__ = ("kind", "value", "loc", "gap")

    def __init__(self, kind: str, value, loc: Loc, gap: bool):
        self.kind = kind
        self.value = value
        self.loc = loc
        self.gap = gap  # truthy if whitespace (1) or a comment (2) came before

    def is_op(self, *ops: str) -> bool:
        return self.kind == OP and self.value in ops

    def is_ident(self, *names: str) -> bool:
        return self.kind == IDENT and self.value in names

    def describe(self) -> str:
        """How stap names a token in 'saw:' lines."""
        if self.kind == EOF:
            return "end of input"
        if self.kind == STRING:
            return f'string "{self.value}"'
        if self.kind == NUMBER:
            return f"number '{self.value}'"
        if self.kind == IDENT:
            return f"keyword '{self.value}'" if self.value in KEYWORDS else f"identifier '{self.value}'"
        if self.kind == EMBEDDED:
            return "embedded-code"
        return f"operator '{self.value}'"

    def __repr__(self) -> str:
        return f"Token({self.kind}, {self.value!r})"


def parse_number(text: str, loc: Loc) -> int:
    """stap's number rules: decimal, 0x hex or 0-prefixed octal; values up to
    2**64-1 are accepted (they wrap to signed 64-bit when used)."""
    try:
        if text[:2] in ("0x", "0X"):
            value = int(text[2:], 16)
        elif len(text) > 1 and text[0] == "0":
            value = int(text[1:], 8)
        else:
            value = int(text, 10)
    except ValueError:
        raise SourceError("malformed number", loc, saw=f"number '{text}'") from None
    if value >= 1 << 64:
        raise SourceError("number out of range", loc, saw=f"number '{text}'")
    return value


def tokenize(source: Source, via: Loc | None = None) -> list[Token]:
    """Split a whole source into tokens, ending with one EOF token."""
    text = source.text
    out: list[Token] = []
    append = out.append
    match = _TOKEN_RE.match
    pos, n, gap = 0, len(text), 1
    while pos < n:
        m = match(text, pos)
        if m is None:
            bad = text[pos]
            raise SourceError(f"invalid character {bad!r} in input", Loc(source, pos, via),
                              saw=f"'{bad}'" if bad.isprintable() else f"character 0x{ord(bad):02x}")
        kind = m.lastgroup
        end = m.end()
        if kind == "ws":
            gap = gap or 1
            pos = end
            continue
        if kind == "comment":
            if m.group() == "/*":
                close = text.find("*/", end)
                if close < 0:
                    raise SourceError("unterminated comment", Loc(source, pos, via), saw="'/*'")
                end = close + 2
            gap = 2
            pos = end
            continue
        loc = Loc(source, pos, via)
        if kind == "ident":
            append(Token(IDENT, m.group(), loc, gap))
        elif kind == "number":
            append(Token(NUMBER, parse_number(m.group(), loc), loc, gap))
        elif kind == "string":
            sm = _STRING_BODY_RE.match(text, end)
            if sm is None:
                raise SourceError("unterminated string", loc, saw="'\"'")
            append(Token(STRING, text[end:sm.end() - 1], loc, gap))
            end = sm.end()
        elif kind == "embedded":
            close = text.find("%}", end)
            if close < 0:
                raise SourceError("unterminated embedded code", loc, saw="'%{'")
            append(Token(EMBEDDED, text[end:close], loc, gap))
            end = close + 2
        elif kind == "arg":
            append(Token(ARG, m.group(), loc, gap))
        else:
            append(Token(OP, m.group(), loc, gap))
        gap = 0
        pos = end
    out.append(Token(EOF, None, Loc(source, n, via), True))
    return out
