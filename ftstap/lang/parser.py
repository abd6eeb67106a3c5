"""Pass 1c: preprocessed tokens to the AST (recursive descent).

Hand-written rather than generated: stap's grammar is context-sensitive in
ways a table-driven parser handles badly (wildcard probe components are made
of *adjacent* tokens, `return` exists only in functions, autocast postfixes
depend on --compatible, some constructs are guru-only), and errors must say
what was expected and what was seen, as stap's do.
"""
from __future__ import annotations

from ..record import mutable

from ..errors import SourceError
from . import ast as A
from .expressions import ExpressionParser
from .lexer import EMBEDDED, EOF, IDENT, KEYWORDS, NUMBER, OP, STRING, Token
from .probepoints import ProbePointParser

MAX_STMT_NESTING = 500
MAX_ARRAY_SIZE = 1 << 30    # as -D MAXMAPENTRIES (ftstap/options.py)


@mutable
class ParseOptions:
    guru: bool = False        # -g: embedded C and guru-only operators allowed
    privileged: bool = False  # a tapset file: like guru for embedded code
    autocast: bool = True     # --compatible >= 2.6: postfix ->/[] on any value
    glue_across_comments: bool = True  # --compatible >= 2.0: "a" /* c */ "b" is "ab"
    cast_in_probe_module: bool = True  # --compatible >= 4.2: @cast with no module: the probe's own


class Parser(ExpressionParser, ProbePointParser):
    def __init__(self, tokens: list[Token], options: ParseOptions | None = None):
        opts = options or ParseOptions()
        self.toks = tokens
        self.pos = 0
        self.guru = opts.guru or opts.privileged
        self.privileged = opts.privileged
        self.autocast = opts.autocast
        self.glue_across_comments = opts.glue_across_comments
        self.cast_in_probe_module = opts.cast_in_probe_module
        self.depth = 0
        self.in_function = False
        self.errors: list[SourceError] = []

    # ---- token stream ----------------------------------------------------
    def peek(self, k: int = 0) -> Token:
        i = self.pos + k
        return self.toks[i] if i < len(self.toks) else self.toks[-1]

    def next(self) -> Token:
        t = self.toks[self.pos]
        if t.kind != EOF:
            self.pos += 1
        return t

    def error(self, message: str, tok: Token):
        raise SourceError(message, tok.loc, saw=tok.describe())

    def expect_op(self, op: str) -> Token:
        t = self.peek()
        if not t.is_op(op):
            self.error(f"expected '{op}'", t)
        return self.next()

    def expect_name(self, what: str) -> Token:
        t = self.peek()
        if t.kind != IDENT or t.value[0] in "$@" or t.value in KEYWORDS:
            self.error(f"expected {what}", t)
        return self.next()

    def swallow(self, op: str) -> None:
        if self.peek().is_op(op):
            self.next()

    # ---- the file --------------------------------------------------------
    def script(self, name: str = "") -> A.Script:
        items: list[object] = []
        while self.peek().kind != EOF:
            start = self.pos
            try:
                items.extend(self.declaration())
            except SourceError as e:
                self.errors.append(e)
                self.recover(start)
        return A.Script(tuple(items), name)

    def recover(self, start: int) -> None:
        """Skip to the next top-level keyword after an error."""
        if self.pos == start:
            self.next()
        while self.peek().kind != EOF and not (
                self.peek().kind == IDENT and self.peek().value in ("probe", "global", "function", "private")
                and self.peek().gap):
            self.next()

    def declaration(self) -> list[object]:
        t = self.peek()
        if t.is_ident("probe"):
            self.next()
            return [self.probe(t)]
        if t.is_ident("global"):
            self.next()
            return self.globals(False)
        if t.is_ident("function"):
            self.next()
            return [self.function(t, False)]
        if t.is_ident("private"):
            self.next()
            k = self.peek()
            if k.is_ident("global"):
                self.next()
                return self.globals(True)
            if k.is_ident("function"):
                self.next()
                return [self.function(k, True)]
            self.error("expected 'global' or 'function' after 'private'", k)
        if t.kind == EMBEDDED:
            self.next()
            if not self.guru:
                self.error("embedded code is only allowed in guru mode (-g)", t)
            return [A.TopEmbedded(t.value, loc=t.loc)]
        self.error("expected 'probe', 'global', 'private', 'function', or '%{'", t)

    def globals(self, private: bool) -> list[A.Global]:
        out = []
        while True:
            name = self.expect_name("a global variable name")
            size, wrap, init = None, False, None
            if self.peek().is_op("%"):
                self.next()
                wrap = True
            if self.peek().is_op("["):
                self.next()
                st = self.peek()
                if st.kind != NUMBER or st.value <= 0:
                    self.error("expected a positive array size", st)
                if st.value > MAX_ARRAY_SIZE:
                    self.error(f"array size {st.value} is out of range (1 to {MAX_ARRAY_SIZE})", st)
                size = self.next().value
                self.expect_op("]")
                if self.peek().is_op("%"):
                    self.next()
                    wrap = True
            if self.peek().is_op("="):
                eq = self.next()
                if size is not None or wrap:
                    self.error("arrays cannot be initialized", eq)
                init = self.literal()
            out.append(A.Global(name.value, size, wrap, init, private, loc=name.loc))
            if not self.peek().is_op(","):
                break
            self.next()
        self.swallow(";")
        return out

    def literal(self) -> A.Expr:
        t = self.peek()
        if t.kind == STRING:
            return A.String(self.string_literal(), loc=t.loc)
        neg = t.is_op("-")
        if neg:
            self.next()
        n = self.peek()
        if n.kind != NUMBER:
            self.error("expected a literal number or string", n)
        self.next()
        return A.Number((-n.value) % (1 << 64) if neg else n.value, loc=t.loc)

    def function(self, kw: Token, private: bool) -> A.Function:
        name = self.expect_name("a function name")
        rtype = self.type_suffix()
        self.expect_op("(")
        params: list[A.Param] = []
        names: set[str] = set()
        if self.peek().is_op(")"):
            self.next()
        else:
            while True:
                p = self.expect_name("a parameter name")
                if p.value in names:
                    self.error(f"duplicate parameter '{p.value}'", p)
                names.add(p.value)
                params.append(A.Param(p.value, self.type_suffix(), loc=p.loc))
                t = self.next()
                if t.is_op(")"):
                    break
                if not t.is_op(","):
                    self.error("expected ',' or ')'", t)
        prio = None
        if self.peek().is_op(":"):
            self.next()
            pt = self.peek()
            if pt.kind != NUMBER:
                self.error("expected a number as the function priority", pt)
            prio = self.next().value
        t = self.peek()
        if t.kind == EMBEDDED:
            self.next()
            if not self.guru:
                self.error("embedded code is only allowed in guru mode (-g)", t)
            body = A.Embedded(t.value, loc=t.loc)
        else:
            self.in_function = True
            try:
                body = self.block()
            finally:
                self.in_function = False
        return A.Function(name.value, tuple(params), rtype, body, prio, private, loc=name.loc)

    def type_suffix(self):
        if not self.peek().is_op(":") or self.peek(1).kind == NUMBER:
            return None
        self.next()
        t = self.peek()
        if not t.is_ident("long", "string"):
            self.error("expected 'long' or 'string'", t)
        return self.next().value

    def probe(self, kw: Token) -> object:
        points = self.probe_points()
        t = self.peek()
        if t.is_op("=", "+="):
            for p in points:
                if p.optional or p.sufficient or p.condition is not None:
                    self.error("probe alias names cannot be optional, sufficient or conditional", t)
            self.next()
            targets = self.probe_points()
            body = self.block()
            return A.ProbeAlias(tuple(points), t.value == "+=", tuple(targets), body, loc=kw.loc)
        body = self.block()
        return A.Probe(tuple(points), body, self.privileged, loc=kw.loc)

    # ---- statements ------------------------------------------------------
    def block(self) -> A.Block:
        t = self.expect_op("{")
        self.depth += 1
        if self.depth > MAX_STMT_NESTING:
            self.error("statements nested too deeply", t)
        body = []
        while not self.peek().is_op("}"):
            if self.peek().kind == EOF:
                self.error("expected '}'", self.peek())
            body.append(self.statement())
        self.next()
        self.depth -= 1
        return A.Block(tuple(body), loc=t.loc)

    def statement(self) -> A.Stmt:
        t = self.peek()
        if t.is_op("{"):
            return self.block()
        if t.is_op(";"):
            self.next()
            return A.Null(loc=t.loc)
        if t.kind == IDENT and t.value in KEYWORDS:
            handler = getattr(self, "stmt_" + t.value, None)
            if handler is not None:
                self.next()
                self.depth += 1
                if self.depth > MAX_STMT_NESTING:
                    self.error("statements nested too deeply", t)
                try:
                    return handler(t)
                finally:
                    self.depth -= 1
        e = self.expression()
        self.swallow(";")
        return A.ExprStmt(e, loc=t.loc)

    def paren_expr(self) -> A.Expr:
        self.expect_op("(")
        e = self.expression()
        self.expect_op(")")
        return e

    def stmt_if(self, t):
        cond = self.paren_expr()
        then = self.statement()
        other = None
        if self.peek().is_ident("else"):
            self.next()
            other = self.statement()
        return A.If(cond, then, other, loc=t.loc)

    def stmt_while(self, t):
        cond = self.paren_expr()
        return A.While(cond, self.statement(), loc=t.loc)

    def stmt_for(self, t):
        self.expect_op("(")
        init = None if self.peek().is_op(";") else self.expression()
        self.expect_op(";")
        cond = None if self.peek().is_op(";") else self.expression()
        self.expect_op(";")
        step = None if self.peek().is_op(")") else self.expression()
        self.expect_op(")")
        return A.For(init, cond, step, self.statement(), loc=t.loc)

    def stmt_foreach(self, t):
        from .foreach import parse_foreach
        return parse_foreach(self, t)

    def stmt_break(self, t):
        self.swallow(";")
        return A.Break(loc=t.loc)

    def stmt_continue(self, t):
        self.swallow(";")
        return A.Continue(loc=t.loc)

    def stmt_next(self, t):
        self.swallow(";")
        return A.Next(loc=t.loc)

    def stmt_return(self, t):
        if not self.in_function:
            self.error("found 'return' not in function context", t)
        value = None
        if not self.peek().is_op(";", "}"):
            value = self.expression()
        self.swallow(";")
        return A.Return(value, loc=t.loc)

    def stmt_delete(self, t):
        target = self.expression()
        self.swallow(";")
        return A.Delete(target, loc=t.loc)

    def stmt_try(self, t):
        body = self.block()
        c = self.peek()
        if not c.is_ident("catch"):
            self.error("expected 'catch'", c)
        self.next()
        var = None
        if self.peek().is_op("("):
            self.next()
            v = self.expect_name("a variable name for the error message")
            var = A.Symbol(v.value, loc=v.loc)
            self.expect_op(")")
        return A.Try(body, var, self.block(), loc=t.loc)
