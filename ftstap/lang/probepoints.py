"""Probe point syntax: `kernel.function("vfs_*").return?`, `a*b`,
`{a,b}.{c,{d,e}}.f!`, `foo(5) if (cond)`.

A component name is a run of *adjacent* tokens (identifiers, keywords,
numbers, `*`), so `probe a * b` is not one wildcard.  Brace groups are
expanded here, at parse time, into separate probe points (one pattern per
alternative), as stap does.
"""
from __future__ import annotations

from . import ast as A
from .lexer import EOF, IDENT, NUMBER, OP, STRING, Token

_STOP_OPS = frozenset([",", "?", "!", "=", "+=", ";"])


def _name_piece(t: Token) -> bool:
    return (t.kind == IDENT and t.value[0] not in "$@") or t.kind == NUMBER or t.is_op("*")


def _piece_text(t: Token) -> str:
    return str(t.value)


class ProbePointParser:
    """Mixin for parser.Parser."""

    def probe_points(self) -> list[A.ProbePoint]:
        """A comma-separated list of probe points."""
        points = self.probe_point()
        while self.peek().is_op(","):
            self.next()
            points.extend(self.probe_point())
        return points

    def probe_point(self) -> list[A.ProbePoint]:
        """One probe point with its ?, ! and `if`; a brace group makes several."""
        raw = self._gather_point()
        variants = _expand_braces(self, raw)
        marks = [{u.value for u in v if u.is_op("?", "!")} for v in variants]    # {a!, b}: per alternative
        comps_list = [self._components([u for u in v if not u.is_op("?", "!")], raw[0] if raw else self.peek())
                      for v in variants]
        optional = sufficient = False
        t = self.peek()
        if t.is_op("?"):
            self.next()
            optional = True
        elif t.is_op("!"):
            self.next()
            sufficient = True
        t = self.peek()
        if t.is_op("?", "!"):
            self.error("expected only one of '?' or '!'", t)
        condition = None
        if t.is_ident("if"):
            self.next()
            self.expect_op("(")
            condition = self.expression()
            self.expect_op(")")
        loc = raw[0].loc if raw else self.peek().loc
        return [A.ProbePoint(c, optional or "?" in m, sufficient or "!" in m, condition, loc=loc)
                for c, m in zip(comps_list, marks)]

    def _gather_point(self) -> list[Token]:
        """Collect the tokens of one probe point, up to ',', '?', '!', '=',
        '+=', 'if' or the body's '{'."""
        raw: list[Token] = []
        depth = 0
        while True:
            t = self.peek()
            if t.kind == EOF:
                break
            if depth == 0:
                if t.kind == OP and t.value in _STOP_OPS:
                    break
                if t.is_ident("if") and t.gap and raw:
                    break
                if t.is_op("{") and not self._expansion_brace(raw, t):
                    break
            if t.is_op("{"):
                depth += 1
            elif t.is_op("}"):
                if depth == 0:
                    break
                depth -= 1
            raw.append(self.next())
        return raw

    def _expansion_brace(self, raw: list[Token], t: Token) -> bool:
        """Is this '{' a brace expansion (not the probe body)?"""
        if not raw or raw[-1].is_op(".") or raw[-1].is_op("{") or raw[-1].is_op(","):
            return True
        if t.gap or not _name_piece(raw[-1]):
            return False
        # `begin{...}` is a body unless the group is a list of names.
        depth, i, comma = 0, self.pos, False
        while i < len(self.toks):
            u = self.toks[i]
            if u.is_op("{"):
                depth += 1
            elif u.is_op("}"):
                depth -= 1
                if depth == 0:
                    return comma
            elif u.is_op(",") and depth == 1:
                comma = True
            elif not (_name_piece(u) or u.is_op(".")):
                return False
            i += 1
        return False

    def _components(self, toks: list[Token], anchor: Token) -> tuple[A.Component, ...]:
        comps = []
        i, n = 0, len(toks)
        if n == 0:
            self.error("expected a probe point", anchor if anchor.kind != EOF else self.peek())
        while True:
            if i >= n or not _name_piece(toks[i]):
                self.error("expected a probe point component name", toks[i] if i < n else self.peek())
            start = toks[i]
            name = _piece_text(start)
            i += 1
            while i < n and _name_piece(toks[i]) and not toks[i].gap:
                name += _piece_text(toks[i])
                i += 1
            arg = None
            if i < n and toks[i].is_op("("):
                arg, i = self._component_arg(toks, i)
            comps.append(A.Component(name, arg, loc=start.loc))
            if i >= n:
                return tuple(comps)
            if not toks[i].is_op("."):
                self.error("expected '.' or the end of the probe point", toks[i])
            i += 1

    def _component_arg(self, toks: list[Token], i: int):
        open_tok = toks[i]
        i += 1
        t = toks[i] if i < len(toks) else self.peek()
        if t.kind == STRING:
            parts = []
            while i < len(toks) and toks[i].kind == STRING and (
                    not parts or self.glue_across_comments or toks[i].gap != 2):
                parts.append(toks[i].value)
                i += 1
            arg = A.String("".join(parts), loc=t.loc)
        else:
            neg = t.is_op("-")
            if neg:
                i += 1
                t = toks[i] if i < len(toks) else self.peek()
            if t.kind != NUMBER:
                self.error("expected a literal number or string as the probe point argument", t)
            i += 1
            arg = A.Number((-t.value) % (1 << 64) if neg else t.value, loc=t.loc)
        c = toks[i] if i < len(toks) else self.peek()
        if not c.is_op(")"):
            self.error("expected ')' after the probe point argument", c)
        i += 1
        if i < len(toks) and toks[i].is_op("("):
            self.error("expected '.' or the end of the probe point", toks[i])
        return arg, i


def _expand_braces(p, toks: list[Token]) -> list[list[Token]]:
    """Expand the first brace group, recursively: a{b,c}d -> abd, acd."""
    for i, t in enumerate(toks):
        if t.is_op("{"):
            break
    else:
        for t in toks:
            if t.is_op("}"):
                p.error("unbalanced '}' in probe point", t)
        return [toks]
    depth, alts, cur, j = 0, [], [], i + 1
    while j < len(toks):
        u = toks[j]
        if u.is_op("{"):
            depth += 1
        elif u.is_op("}"):
            if depth == 0:
                break
            depth -= 1
        elif u.is_op(",") and depth == 0:
            alts.append(cur)
            cur = []
            j += 1
            continue
        elif u.is_op("?", "!"):         # `{a!, b}`: only at the end of an alternative, once
            nxt = toks[j + 1] if j + 1 < len(toks) else None
            if nxt is None or not nxt.is_op(",", "}") or any(c.is_op("?", "!") for c in cur):
                p.error(f"'{u.value}' must end an alternative of a brace expansion", u)
        elif u.kind == OP and u.value not in ("*", ".", ",", "(", ")"):
            p.error("unexpected token in a brace expansion", u)
        elif u.kind in (IDENT,) and u.value == "if":
            p.error("unexpected 'if' in a brace expansion", u)
        cur.append(u)
        j += 1
    else:
        p.error("unbalanced '{' in probe point", t)
    alts.append(cur)
    prefix, suffix, close = toks[:i], toks[j + 1:], toks[j]
    out = []
    for alt in alts:
        if not alt:
            p.error("empty alternative in a brace expansion", t)
        glued = [Token(a.kind, a.value, a.loc, t.gap if k == 0 else a.gap) for k, a in enumerate(alt)]
        rest = [Token(s.kind, s.value, s.loc, close.gap if k == 0 else s.gap) for k, s in enumerate(suffix)]
        out.extend(_expand_braces(p, prefix + glued + rest))
    return out
