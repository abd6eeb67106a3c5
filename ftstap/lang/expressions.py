"""Expression parsing, with stap's precedence (lowest first):

  assignment (= += -= *= /= %= <<= >>= &= ^= |= .= <<<)   right-assoc
  ?:                                                        right-assoc
  ||   &&   |   ^   &
  in                      ([a, b] in arr, a in arr)
  < > <= >= == != =~ !~
  << >> >>>
  .                       (string concatenation)
  + -
  * / %
  unary + - ! ~, ++/-- prefix and postfix
  target and autocast postfixes: &x, x->m, x[i], x$, x$$
"""
from __future__ import annotations

from . import ast as A
from .lexer import EMBEDDED, IDENT, KEYWORDS, NUMBER, OP, STRING

ASSIGN_OPS = frozenset("= += -= *= /= %= <<= >>= &= ^= |= .= <<<".split())
COMPARE_OPS = frozenset("< > <= >= == !=".split())
PRINT_FUNCS = frozenset("""print println printf printd printdln sprint sprintln sprintf
sprintd sprintdln""".split())
STAT_OPS = frozenset("@count @sum @min @max @avg @variance".split())
GURU_OPS = frozenset("@kregister @uregister @kderef @uderef".split())
MAX_NESTING = 500


class ExpressionParser:
    """Mixin for parser.Parser: needs peek/next/expect/error and options."""

    # ---- entry ------------------------------------------------------
    def expression(self) -> A.Expr:
        self.depth += 1
        if self.depth > MAX_NESTING:
            self.error("expressions nested too deeply", self.peek())
        try:
            return self.assignment()
        finally:
            self.depth -= 1

    def assignment(self) -> A.Expr:
        left = self.ternary()
        t = self.peek()
        if t.kind == OP and t.value in ASSIGN_OPS:
            self.next()
            if not isinstance(left, (A.Symbol, A.Index, A.Target)):
                self.error("expected an lvalue on the left of the assignment", t)
            return A.Assign(t.value, left, self.expression(), loc=t.loc)
        return left

    def ternary(self) -> A.Expr:
        cond = self.binary_level(0)
        t = self.peek()
        if t.is_op("?"):
            self.next()
            then = self.expression()
            self.expect_op(":")
            return A.Ternary(cond, then, self.expression(), loc=t.loc)
        return cond

    # Left-associative binary operators by precedence (higher binds tighter),
    # parsed by precedence climbing: an operand costs two calls, not a call per
    # level, and a flat chain of any length is a loop.
    _LOW = {op: p for p, level in enumerate(("||", "&&", "|", "^", "&")) for op in level.split()}
    _HIGH = {op: p for p, level in enumerate(("<< >> >>>", ".", "+ -", "* / %")) for op in level.split()}

    def binary_level(self, least: int = 0) -> A.Expr:
        """Operators below `in` (|| && | ^ &) of precedence >= least."""
        return self._climb(self.array_in, self._LOW, least, self.binary_level)

    def high_level(self, least: int = 0) -> A.Expr:
        """Operators above the comparisons (shifts . + - * / %) of precedence >= least."""
        return self._climb(self.unary, self._HIGH, least, self.high_level)

    def _climb(self, operand, ops, least, again) -> A.Expr:
        left = operand()
        while True:
            t = self.peek()
            prec = ops.get(t.value, -1) if t.kind == OP else -1
            if prec < least:
                return left
            self.next()
            left = A.Binary(t.value, left, again(prec + 1), loc=t.loc)

    def array_in(self) -> A.Expr:
        t = self.peek()
        if t.is_op("["):
            self.next()
            keys = self.index_list("]")
            t2 = self.peek()
            if not t2.is_ident("in"):
                self.error("expected 'in'", t2)
            self.next()
            return self.membership(keys, self.indexable(), t)
        left = self.comparison()
        t = self.peek()
        if t.is_ident("in"):
            self.next()
            return self.membership((left,), self.indexable(), t)
        return left

    def membership(self, keys, array: A.Expr, t) -> A.Expr:
        """`k in a`; on a histogram, as stap defines it: `k in @hist_log(s)`
        is true when bucket k is nonzero (`@hist_log(s)[k] != 0`)."""
        if not isinstance(array, A.Hist):
            return A.In(keys, array, loc=t.loc)
        if len(keys) != 1 or keys[0] is None:
            self.error("a histogram has one index: 'BUCKET in @hist_...(s)'", t)
        return A.Binary("!=", A.Index(array, keys, loc=t.loc), A.Number(0, loc=t.loc), loc=t.loc)

    def indexable(self) -> A.Expr:
        t = self.peek()
        if t.kind == IDENT and t.value in ("@hist_log", "@hist_linear"):
            return self.hist_op()
        if t.kind == IDENT and t.value[0] not in "$@" and t.value not in KEYWORDS:
            self.next()
            return A.Symbol(t.value, loc=t.loc)
        self.error("expected an array name or histogram", t)

    def comparison(self) -> A.Expr:
        left = self.high_level()
        t = self.peek()
        if t.kind == OP and t.value in ("=~", "!~"):
            self.next()
            pat = self.peek()
            if pat.kind != STRING:
                self.error("expected a literal string as the regular expression", pat)
            return A.Regex(t.value, left, self.string_literal(), loc=t.loc)
        while t.kind == OP and t.value in COMPARE_OPS:
            self.next()
            left = A.Binary(t.value, left, self.high_level(), loc=t.loc)
            t = self.peek()
        return left

    def unary(self) -> A.Expr:
        t = self.peek()
        if t.kind == OP and t.value in ("+", "-", "!", "~"):
            self.next()
            self.depth += 1
            if self.depth > MAX_NESTING:
                self.error("expressions nested too deeply", t)
            try:
                return A.Unary(t.value, self.unary(), loc=t.loc)
            finally:
                self.depth -= 1
        if t.kind == OP and t.value in ("++", "--"):
            self.next()
            return A.Crement(t.value, self.dwarf_value(), False, loc=t.loc)
        value = self.dwarf_value()
        t = self.peek()
        if t.kind == OP and t.value in ("++", "--"):
            self.next()
            return A.Crement(t.value, value, True, loc=t.loc)
        return value

    # ---- targets and autocasts --------------------------------------------
    def dwarf_value(self) -> A.Expr:
        start = self.peek()
        addr = start.is_op("&")
        if addr:
            self.next()
        value = self.value()
        is_target = isinstance(value, (A.Target, A.Cast, A.VarRef))
        may_cast = is_target or self.autocast
        members = []
        suffix = ""
        while True:
            t = self.peek()
            if t.is_op("->") and may_cast:
                self.next()
                m = self.peek()
                name = m.value.rstrip("$") if m.kind == IDENT else ""
                pretty = m.value[len(name):] if m.kind == IDENT else ""
                # `$p->comm$` and `$p->$$` pretty-print, as stap reads them.
                if m.kind != IDENT or m.value[0] == "@" or pretty not in ("", "$", "$$") or (
                        name[:1] == "$" or (not name and not pretty)):
                    self.error("expected a field name after '->'", m)
                self.next()
                if name:
                    members.append(A.Member(name=name, loc=m.loc))
                if pretty:
                    suffix = pretty
                    break
            elif t.is_op("[") and may_cast:
                self.next()
                idx = self.expression()
                self.expect_op("]")
                members.append(A.Member(index=idx, loc=t.loc))
            else:
                break
        t = self.peek()
        if not suffix and t.kind == IDENT and t.value in ("$", "$$") and may_cast:
            self.next()
            suffix = t.value
        if addr and not may_cast:
            self.error("'&' applies only to target variables (or autocasts)", start)
        if not (addr or members or suffix):
            return value
        if isinstance(value, A.Target) and not value.addr and not value.suffix:
            return A.Target(value.base, value.members + tuple(members), addr, suffix, loc=start.loc)
        return A.Target(value, tuple(members), addr, suffix, loc=start.loc)

    # ---- primary values ---------------------------------------------------
    def value(self) -> A.Expr:
        t = self.peek()
        if t.is_op("("):
            self.next()
            e = self.expression()
            self.expect_op(")")
            return e
        if t.kind == NUMBER:
            self.next()
            return A.Number(t.value, loc=t.loc)
        if t.kind == STRING:
            return A.String(self.string_literal(), loc=t.loc)
        if t.kind == EMBEDDED:
            if not self.guru:
                self.error("embedded code is only allowed in guru mode (-g)", t)
            self.next()
            return A.Embedded(t.value, loc=t.loc)
        if t.kind == IDENT:
            name = t.value
            if name[0] == "$":
                self.next()
                base = name.rstrip("$") if not name.startswith("$$") else "$$" + name[2:].rstrip("$")
                suffix = name[len(base):]
                if base in ("", "$", "$$") or suffix not in ("", "$", "$$"):
                    self.error("malformed target variable", t)
                return A.Target(base, (), False, suffix, loc=t.loc)
            if name[0] == "@":
                return self.at_operator()
            if name in KEYWORDS:
                self.error("expected a value", t)
            self.next()
            nt = self.peek()
            if nt.is_op("("):
                if name in PRINT_FUNCS:
                    return self.print_call(t)
                return A.Call(name, self.call_args(), loc=t.loc)
            if nt.is_op("["):
                self.next()
                return A.Index(A.Symbol(name, loc=t.loc), self.index_list("]"), loc=t.loc)
            return A.Symbol(name, loc=t.loc)
        self.error("expected a value", t)

    def string_literal(self) -> str:
        """A string, with adjacent literals glued ("a" "b" is "ab")."""
        parts = [self.next().value]
        while self.peek().kind == STRING and (self.glue_across_comments or self.peek().gap != 2):
            parts.append(self.next().value)
        return "".join(parts)

    def call_args(self) -> tuple:
        self.expect_op("(")
        args = []
        if self.peek().is_op(")"):
            self.next()
            return ()
        while True:
            args.append(self.expression())
            t = self.next()
            if t.is_op(")"):
                return tuple(args)
            if not t.is_op(","):
                self.error("expected ',' or ')'", t)

    def index_list(self, close: str) -> tuple:
        """`i, *, j` up to `close`; `*` is a wildcard (None)."""
        keys = []
        while True:
            t = self.peek()
            if t.is_op("*"):
                self.next()
                keys.append(None)
            else:
                keys.append(self.expression())
            t = self.next()
            if t.is_op(close):
                return tuple(keys)
            if not t.is_op(","):
                self.error(f"expected ',' or '{close}'", t)

    def print_call(self, name_tok) -> A.Print:
        name = name_tok.value
        self.expect_op("(")
        fmt = None
        args = []
        if name.endswith("f") or "printd" in name:
            t = self.peek()
            if t.kind != STRING:
                self.error("expected a literal string as the format" if name.endswith("f")
                           else "expected a literal string as the delimiter", t)
            fmt = self.string_literal()
            t = self.next()
            if t.is_op(","):
                args = list(self.call_args_rest())
            elif not t.is_op(")"):
                self.error("expected ',' or ')'", t)
        elif not self.peek().is_op(")"):
            args = list(self.call_args_rest())
        else:
            self.next()
        if "printd" in name and len(args) < 2:
            self.error(f"'{name}' needs a delimiter and at least two values to join", name_tok)
        if name in ("print", "sprint") and not args:
            self.error(f"'{name}' needs at least one value", name_tok)
        return A.Print(name, fmt, tuple(args), loc=name_tok.loc)

    def call_args_rest(self):
        while True:
            yield self.expression()
            t = self.next()
            if t.is_op(")"):
                return
            if not t.is_op(","):
                self.error("expected ',' or ')'", t)

    def hist_op(self) -> A.Hist:
        t = self.next()
        self.expect_op("(")
        operand = self.expression()
        params = []
        if t.value == "@hist_linear":
            for _ in range(3):
                self.expect_op(",")
                params.append(self.expression())
        self.expect_op(")")
        return A.Hist("log" if t.value == "@hist_log" else "linear", operand, tuple(params), loc=t.loc)

    def literal_arg(self, kind, what):
        t = self.peek()
        if t.kind != kind:
            self.error(f"expected {what}", t)
        return self.string_literal() if kind == STRING else self.next().value

    def at_operator(self) -> A.Expr:
        t = self.peek()
        op = t.value
        if op in STAT_OPS:
            self.next()
            self.expect_op("(")
            operand = self.expression()
            params = []
            if op == "@variance" and self.peek().is_op(","):
                self.next()
                params.append(self.literal_arg(NUMBER, "a number"))
            self.expect_op(")")
            return A.Stat(op, operand, tuple(params), loc=t.loc)
        if op in ("@hist_log", "@hist_linear"):
            h = self.hist_op()
            if self.peek().is_op("["):
                self.next()
                return A.Index(h, self.index_list("]"), loc=t.loc)
            return h
        self.next()
        self.expect_op("(")
        if op == "@choose_defined":
            # stap's sugar: the first of its expressions that resolves
            # (`@defined(a) ? a : b`, the others in turn), pruned at pass 2
            choices = [self.expression()]
            while self.peek().is_op(","):
                self.next()
                choices.append(self.expression())
            self.expect_op(")")
            if len(choices) < 2:
                self.error("'@choose_defined' needs at least two expressions", t)
            out = choices[-1]
            for e in reversed(choices[:-1]):
                out = A.Ternary(A.Special("@defined", (e,), loc=t.loc), e, out, loc=t.loc)
            return out
        if op == "@cast":
            operand = self.expression()
            self.expect_op(",")
            typ = self.literal_arg(STRING, "a literal string naming the type")
            module = None
            if self.peek().is_op(","):
                self.next()
                module = self.literal_arg(STRING, "a literal string naming the module")
            elif not self.cast_in_probe_module:     # --compatible < 4.2: the kernel's, always
                module = "kernel"
            self.expect_op(")")
            return A.Cast(operand, typ, module, loc=t.loc)
        if op == "@var":
            name = self.literal_arg(STRING, "a literal string naming the variable")
            module = None
            if self.peek().is_op(","):
                self.next()
                module = self.literal_arg(STRING, "a literal string naming the module")
            self.expect_op(")")
            return A.VarRef(name, module, loc=t.loc)
        if op in GURU_OPS and not self.guru:
            self.error(f"'{op}' is only allowed in guru mode (-g)", t)
        if op in ("@perf", "@const"):
            name = self.literal_arg(STRING, "a literal string")
            if not name:
                self.error(f"'{op}' needs a non-empty name", t)
            args = (A.String(name, loc=t.loc),)
        elif op in ("@kregister", "@uregister"):
            args = (A.Number(self.literal_arg(NUMBER, "a register number"), loc=t.loc),)
        elif op in ("@kderef", "@uderef"):
            size = A.Number(self.literal_arg(NUMBER, "a size in bytes"), loc=t.loc)
            self.expect_op(",")
            args = (size, self.expression())
        elif op in ("@defined", "@entry", "@probewrite"):
            args = (self.expression(),)
        else:
            self.error(f"unknown operator '{op}'", t)
        self.expect_op(")")
        return A.Special(op, args, loc=t.loc)
