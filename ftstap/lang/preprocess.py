"""Pass 1b: stap's preprocessor, on tokens.

- `%( COND %? THEN %: ELSE %)` conditionals, nested, with `&&`/`||`, on
  kernel_v, kernel_vr, systemtap_v, arch, runtime, systemtap_privilege,
  guru_mode, CONFIG_*, $#, @# and plain number/string comparisons;
- `@define NAME(PARAMS) %( BODY %)` macros and `@NAME(ARGS)` invocations,
  including macros from `.stpm` library files;
- command-line arguments: `$N` becomes the argument's tokens, `@N` a string,
  `$#` and `@#` their count.
"""
from __future__ import annotations

import fnmatch
from ..record import mutable
from typing import Callable

from ..errors import SourceError
from .lexer import ARG, EOF, IDENT, NUMBER, OP, STRING, Token, tokenize
from .source import Loc, Source

# @-names that are language operators, not macros (unless a macro shadows one).
BUILTIN_AT = frozenset("""@count @sum @min @max @avg @variance @hist_log @hist_linear
@cast @var @defined @entry @perf @probewrite @const @kregister @uregister @kderef
@uderef @define @choose_defined""".split())

MAX_EXPANSION_DEPTH = 200


@mutable
class PPContext:
    """What preprocessor conditions can ask about."""
    kernel_release: str = "0.0.0"
    arch: str = "x86_64"
    runtime: str = "kernel"
    systemtap_v: str = "5.3"
    privilege: str = "stapdev"
    guru: bool = False
    args: list[str] = []
    config: Callable[[str], str] | None = None  # CONFIG_X -> "y"/"m"/"" ...

    @property
    def kernel_v(self) -> str:
        return self.kernel_release.split("-")[0]


@mutable
class Macro:
    name: str
    params: list[str]
    body: list[Token]
    loc: Loc
    library: bool = False


def _vercmp(a: str, b: str) -> int:
    """Compare version strings the way strverscmp orders them, roughly:
    numeric runs as numbers, everything else as text."""
    import re
    def parts(s):
        return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.findall(r"\d+|\D+", s)]
    pa, pb = parts(a), parts(b)
    return (pa > pb) - (pa < pb)


def _compare(op: str, c: int) -> bool:
    return {"==": c == 0, "!=": c != 0, "<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[op]


class Preprocessor:
    def __init__(self, ctx: PPContext, macros: dict[str, Macro] | None = None):
        self.ctx = ctx
        self.macros: dict[str, Macro] = macros if macros is not None else {}
        self.warnings: list[str] = []

    # ---- public entry points -------------------------------------------
    def run(self, source: Source) -> list[Token]:
        """Preprocess a whole source; returns tokens ending in EOF."""
        toks = tokenize(source)
        out = self._expand(toks, 0, len(toks) - 1, 0, library=False)
        out.append(toks[-1])
        return out

    def load_library(self, source: Source) -> None:
        """Read a .stpm file: only its macro definitions matter."""
        toks = tokenize(source)
        self._expand(toks, 0, len(toks) - 1, 0, library=True)

    # ---- the expansion loop -------------------------------------------
    def _expand(self, toks: list[Token], i: int, end: int, depth: int, library: bool) -> list[Token]:
        """Expand toks[i:end] without recursion: a stack of token ranges, each
        with its macro depth.  A conditional's chosen branch is a range of the
        same list at the same depth (conditionals are not macro expansion, and
        10,000 nested ones cost linear time); a macro body is a new list one
        level deeper."""
        out: list[Token] = []
        frames = [[toks, i, end, depth, None]]    # tokens, next, end, depth, gap of the first
        while frames:
            frame = frames[-1]
            toks, i, end, depth, gap = frame
            if i >= end:
                frames.pop()
                continue
            t = toks[i]
            if gap is not None:           # a chosen branch starts where its '%(' stood
                t = Token(t.kind, t.value, t.loc, t.gap or gap)
                frame[4] = None
            if t.kind == OP and t.value == "%(":
                (a, b), frame[1] = self._conditional(toks, i, end)
                if a < b:
                    frames.append([toks, a, b, depth, t.gap])
            elif t.kind == OP and t.value in ("%?", "%:", "%)"):
                raise SourceError(f"incomplete conditional: '{t.value}' without '%('", t.loc,
                                  saw=t.describe(), kind="preprocessor error")
            elif t.kind == IDENT and t.value == "@define":
                frame[1] = self._define(toks, i, end, library)
            elif t.kind == IDENT and t.value[0] == "@" and (t.value[1:] in self.macros or t.value not in BUILTIN_AT):
                body, frame[1] = self._invoke(toks, i, end)
                if depth + 1 > MAX_EXPANSION_DEPTH:
                    raise SourceError("macro or argument expansion too deep (recursive?)",
                                      (body[0] if body else t).loc, kind="preprocessor error")
                frames.append([body, 0, len(body), depth + 1, None])
            elif t.kind == ARG:
                out.extend(self._argument(t))
                frame[1] = i + 1
            else:
                out.append(t)
                frame[1] = i + 1
        return out

    # ---- command-line arguments -----------------------------------------
    def _argument(self, t: Token) -> list[Token]:
        text, args = t.value, self.ctx.args
        if text[1] == "#":
            n = len(args)
            return [Token(NUMBER, n, t.loc, t.gap)] if text[0] == "$" else [Token(STRING, str(n), t.loc, t.gap)]
        digits = text[1:]
        if not digits.isdigit() or int(digits) == 0:
            raise SourceError(f"invalid command line argument reference '{text}'", t.loc,
                              saw=t.describe(), kind="parse error")
        idx = int(digits)
        if idx > len(args):
            raise SourceError(f"command line argument index {idx} out of range [1-{len(args)}]", t.loc,
                              saw=f"'{text}'", kind="parse error")
        value = args[idx - 1]
        if text[0] == "@":
            raw = value.replace("\\", "\\\\").replace('"', '\\"')
            return [Token(STRING, raw, t.loc, t.gap)]
        sub = tokenize(Source(f"<command line argument {idx}>", value), via=t.loc)[:-1]
        for s in sub:
            if s.kind == ARG:
                raise SourceError(f"command line argument {idx} refers to another argument ('{s.value}')",
                                  t.loc, saw=f"'{text}'", kind="parse error")
        if sub:
            sub[0] = Token(sub[0].kind, sub[0].value, sub[0].loc, t.gap)
        return sub

    # ---- conditionals --------------------------------------------------
    def _conditional(self, toks: list[Token], i: int, end: int) -> tuple[tuple[int, int], int]:
        """`%( cond %? then %: else %)` at toks[i]: the chosen branch as a range
        of toks, and the index after the closing '%)'."""
        start = toks[i]
        pos = [i + 1]

        def peek() -> Token:
            return toks[pos[0]] if pos[0] < end else toks[end] if end < len(toks) else start

        def take() -> Token:
            t = peek()
            if pos[0] >= end:
                raise SourceError("incomplete conditional at end of input", start.loc,
                                  saw=t.describe(), kind="preprocessor error")
            pos[0] += 1
            return t

        result = self._cond_or(take, peek)
        t = take()
        if not t.is_op("%?"):
            raise SourceError("expected '%?' after the condition", t.loc, saw=t.describe(),
                              kind="preprocessor error")
        colon, close, error = _structure(toks).get(i, (None, None, None))
        if error is not None and error < (close if close is not None else len(toks)):
            bad = toks[error]
            what = "duplicate '%:' in conditional" if bad.value == "%:" else "unexpected '%?' in conditional"
            raise SourceError(what, bad.loc, saw=bad.describe(), kind="preprocessor error")
        if close is None or close >= end:
            raise SourceError("incomplete conditional at end of input", start.loc,
                              saw=toks[end].describe() if end < len(toks) else "end of input",
                              kind="preprocessor error")
        then_end = colon if colon is not None else close
        chosen = (pos[0], then_end) if result else (then_end + 1, close) if colon is not None else (close, close)
        return chosen, close + 1

    def _cond_or(self, take, peek) -> bool:
        value = self._cond_and(take, peek)
        while peek().is_op("||"):
            take()
            rhs = self._cond_and(take, peek)
            value = value or rhs
        return value

    def _cond_and(self, take, peek) -> bool:
        value = self._cond_term(take, peek)
        while peek().is_op("&&"):
            take()
            rhs = self._cond_term(take, peek)
            value = value and rhs
        return value

    def _operand(self, take) -> Token:
        t = take()
        if t.kind == ARG:
            sub = self._argument(t)
            if len(sub) != 1:
                raise SourceError("expected a single value", t.loc, saw=t.describe(), kind="preprocessor error")
            return Token(sub[0].kind, sub[0].value, t.loc, t.gap)
        return t

    def _cond_term(self, take, peek) -> bool:
        lhs = self._operand(take)
        op = take()
        if not (op.kind == OP and op.value in ("==", "!=", "<", "<=", ">", ">=")):
            raise SourceError("expected a comparison operator", op.loc, saw=op.describe(),
                              kind="preprocessor error")
        rhs = self._operand(take)

        def need(kind, what):
            if rhs.kind != kind:
                raise SourceError(f"expected {what} as right value of the comparison", rhs.loc,
                                  saw=rhs.describe(), kind="preprocessor error")

        def only_equality():
            if op.value not in ("==", "!="):
                raise SourceError("expected '==' or '!='", op.loc, saw=op.describe(), kind="preprocessor error")

        def glob(value: str) -> bool:
            hit = fnmatch.fnmatchcase(value, rhs.value)
            return hit if op.value == "==" else not hit

        ctx, name = self.ctx, lhs.value
        if lhs.kind == IDENT and name in ("kernel_v", "kernel_vr", "systemtap_v"):
            need(STRING, "a string")
            value = {"kernel_v": ctx.kernel_v, "kernel_vr": ctx.kernel_release,
                     "systemtap_v": ctx.systemtap_v}[name]
            if op.value in ("==", "!=") and any(c in rhs.value for c in "*?["):
                return glob(value)
            return _compare(op.value, _vercmp(value, rhs.value))
        if lhs.kind == IDENT and name in ("arch", "runtime", "systemtap_privilege"):
            need(STRING, "a string")
            only_equality()
            value = {"arch": ctx.arch, "runtime": ctx.runtime, "systemtap_privilege": ctx.privilege}[name]
            return glob(value)
        if lhs.kind == IDENT and name == "guru_mode":
            need(NUMBER, "a number")
            only_equality()
            if rhs.value not in (0, 1):
                raise SourceError("expected 0 or 1 for guru_mode", rhs.loc, saw=rhs.describe(),
                                  kind="preprocessor error")
            return _compare(op.value, int(ctx.guru) - rhs.value)
        if lhs.kind == IDENT and name.startswith("CONFIG_"):
            value = ctx.config(name) if ctx.config else ""
            if rhs.kind == IDENT and rhs.value.startswith("CONFIG_"):
                other = ctx.config(rhs.value) if ctx.config else ""
                try:
                    a, b = int(value, 0), int(other, 0)
                except ValueError:
                    a, b = value, other
                return _compare(op.value, (a > b) - (a < b))
            if rhs.kind == STRING:
                only_equality()
                return glob(value)
            need(NUMBER, "a string or number")
            try:
                num = int(value, 0)
            except ValueError:
                num = 0
            return _compare(op.value, (num > rhs.value) - (num < rhs.value))
        if lhs.kind == NUMBER:
            need(NUMBER, "a number")
            return _compare(op.value, (lhs.value > rhs.value) - (lhs.value < rhs.value))
        if lhs.kind == STRING:
            need(STRING, "a string")
            return _compare(op.value, (lhs.value > rhs.value) - (lhs.value < rhs.value))
        raise SourceError("expected kernel_v, kernel_vr, arch, runtime, systemtap_v, systemtap_privilege, "
                          "guru_mode, CONFIG_..., $#, @# or a literal in the condition", lhs.loc,
                          saw=lhs.describe(), kind="preprocessor error")

    # ---- macros ------------------------------------------------------
    def _define(self, toks: list[Token], i: int, end: int, library: bool) -> int:
        at = toks[i]

        def tok(j: int) -> Token:
            if j >= end:
                raise SourceError("incomplete macro definition", at.loc, saw="end of input",
                                  kind="preprocessor error")
            return toks[j]

        name_t = tok(i + 1)
        if name_t.kind != IDENT or name_t.value[0] in "$@" or name_t.value == "define":
            raise SourceError("expected a macro name after '@define'", name_t.loc, saw=name_t.describe(),
                              kind="preprocessor error")
        j = i + 2
        params: list[str] = []
        if tok(j).is_op("(") and not tok(j).gap:
            j += 1
            while True:
                p = tok(j)
                if p.is_op(")") and not params:
                    j += 1
                    break
                if p.kind != IDENT or p.value[0] in "$@":
                    raise SourceError("expected a macro parameter name", p.loc, saw=p.describe(),
                                      kind="preprocessor error")
                if p.value in params:
                    raise SourceError(f"duplicate macro parameter '{p.value}'", p.loc, saw=p.describe(),
                                      kind="preprocessor error")
                params.append(p.value)
                sep = tok(j + 1)
                j += 2
                if sep.is_op(")"):
                    break
                if not sep.is_op(","):
                    raise SourceError("expected ',' or ')' in macro parameters", sep.loc, saw=sep.describe(),
                                      kind="preprocessor error")
        opener = tok(j)
        if not opener.is_op("%("):
            raise SourceError("expected '%(' to begin the macro body", opener.loc, saw=opener.describe(),
                              kind="preprocessor error")
        j += 1
        body: list[Token] = []
        nest = 0
        while True:
            t = tok(j)
            j += 1
            if t.is_op("%("):
                nest += 1
            elif t.is_op("%)"):
                if nest == 0:
                    break
                nest -= 1
            body.append(t)
        name = name_t.value
        old = self.macros.get(name)
        if old is not None and not old.library and not library and old.loc.source is name_t.loc.source:
            raise SourceError(f"attempt to redefine macro '@{name}' in the same file", name_t.loc,
                              saw=name_t.describe(), kind="preprocessor error")
        if (old is not None and old.library and not library) or (not library and "@" + name in BUILTIN_AT):
            self.warnings.append(f"WARNING: macro '@{name}' at {name_t.loc} shadows "
                                 f"{'a library macro' if old is not None else 'a built-in operator'}")
        self.macros[name] = Macro(name, params, body, name_t.loc, library)
        return j

    def _invoke(self, toks: list[Token], i: int, end: int) -> tuple[list[Token], int]:
        call = toks[i]
        macro = self.macros.get(call.value[1:])
        if macro is None:
            raise SourceError(f"unknown macro or operator '{call.value}'", call.loc, saw=call.describe(),
                              kind="preprocessor error")
        j = i + 1
        args: list[list[Token]] = []
        if macro.params:
            if j >= end or not toks[j].is_op("("):
                raise SourceError(f"macro '@{macro.name}' takes {len(macro.params)} argument(s)", call.loc,
                                  saw=call.describe(), kind="preprocessor error")
            j += 1
            cur: list[Token] = []
            depth = 0
            while True:
                if j >= end:
                    raise SourceError(f"unterminated argument list of macro '@{macro.name}'", call.loc,
                                      saw="end of input", kind="preprocessor error")
                t = toks[j]
                j += 1
                if t.kind == OP and t.value in ("(", "[", "{"):
                    depth += 1
                elif t.kind == OP and t.value in (")", "]", "}"):
                    if depth == 0 and t.value == ")":
                        args.append(cur)
                        break
                    depth -= 1
                elif depth == 0 and t.is_op(","):
                    args.append(cur)
                    cur = []
                    continue
                cur.append(t)
            if len(args) != len(macro.params):
                raise SourceError(f"macro '@{macro.name}' takes {len(macro.params)} argument(s), "
                                  f"got {len(args)}", call.loc, saw=call.describe(), kind="preprocessor error")
        bound = dict(zip(macro.params, args))
        out: list[Token] = []
        for t in macro.body:
            if t.kind == IDENT and t.value[0] == "@" and t.value[1:] in bound:
                sub = bound[t.value[1:]]
                for k, s in enumerate(sub):
                    out.append(Token(s.kind, s.value, s.loc, t.gap if k == 0 else s.gap))
            else:
                out.append(Token(t.kind, t.value, Loc(t.loc.source, t.loc.offset, call.loc), t.gap))
        if out:
            out[0] = Token(out[0].kind, out[0].value, out[0].loc, call.gap)
        return out, j


_STRUCTURES: dict[int, tuple[list[Token], dict]] = {}


def _structure(toks: list[Token]) -> dict[int, tuple]:
    """For each '%(' of toks (by index): the index of its own '%:' (or None),
    of its '%)' (None: never closed), and of a second '%:' or '%?' at its level
    (an error, or None); one pass over toks, remembered for the list."""
    hit = _STRUCTURES.get(id(toks))
    if hit is not None and hit[0] is toks:
        return hit[1]
    table: dict[int, tuple] = {}
    open_: list[list] = []                     # [index, seen %?, colon, error]
    for k, t in enumerate(toks):
        if t.kind != OP or t.value not in ("%(", "%?", "%:", "%)"):
            continue
        if t.value == "%(":
            open_.append([k, False, None, None])
        elif not open_:
            continue
        elif t.value == "%?":
            top = open_[-1]
            if top[1] and top[3] is None:
                top[3] = k
            top[1] = True
        elif t.value == "%:":
            top = open_[-1]
            if top[2] is None:
                top[2] = k
            elif top[3] is None:
                top[3] = k
        else:
            top = open_.pop()
            table[top[0]] = (top[2], k, top[3])
    for top in open_:
        table[top[0]] = (top[2], None, top[3])
    if len(_STRUCTURES) > 64:
        _STRUCTURES.clear()
    _STRUCTURES[id(toks)] = (toks, table)
    return table


def first_eof(tokens: list[Token]) -> Token:
    return next(t for t in tokens if t.kind == EOF)
