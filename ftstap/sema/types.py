"""Symbol resolution and type inference, with stap's rules and errors.

Types are long, string and stat (plus hist for @hist_* values that can only
be printed or indexed).  Inference runs over every probe and reachable
function until nothing changes: a variable's type comes from any use that
fixes it, function parameters from call sites and bodies, return types from
return statements.  Everything is checked again on the last round, so each
mismatch is reported where it is seen."""
from __future__ import annotations


from ..errors import SemanticError
from ..lang import ast as A
from .builtins import BUILTINS, GURU_ONLY
from .unsupported import reason as unsupported_reason
from .checks import Effects
from .elision import defined_truth
from .targets import TargetTyper
from .formats import conversions
from .program import HIST, LONG, STAT, STRING, VOID, Context, Func, ProbeInst, Var

ARITH = frozenset("+ - * / % << >> >>> & | ^ && ||".split())
COMPARE = frozenset("< > <= >= == !=".split())


def _tname(t) -> str:
    return {LONG: "long", STRING: "string", STAT: "statistic", HIST: "histogram",
            VOID: "void (no value)"}.get(t, "unknown")


class Checker:
    def __init__(self, globals_: dict[str, Var], functions: dict[tuple[str, int], Func],
                 guru: bool = False, features=None):
        self.globals = globals_
        self.functions = functions
        self.guru = guru
        self.effects = Effects()
        self.targets = TargetTyper(self, features)
        self.changed = False
        self.strict = self.deferred = False
        self.discarded: set[int] = set()      # ids of `x++;` whose value nothing uses
        self.ctx: Context | None = None
        self.iterating: list[str] = []
        self.called: set[int] = set()

    # ---- driving --------------------------------------------------------------
    def check(self, contexts: list[Context], strict: bool = True) -> None:
        """Type contexts to a fixpoint.  Errors that a later-checked function
        may still resolve (an autocast through its return) wait for the
        strict pass, run only when one was put off."""
        self.strict = False
        for _ in range(20):
            self.changed = self.deferred = False
            for ctx in contexts:
                self.body(ctx)
            if not self.changed:
                break
        if strict and self.deferred:
            self.strict = True
            for ctx in contexts:
                self.body(ctx)

    def body(self, ctx: Context) -> None:
        self.ctx = ctx
        self.iterating = []
        if isinstance(ctx, Func):
            if isinstance(ctx.decl.body, A.Block):
                self.stmt(ctx.decl.body)
        else:
            self.stmt(ctx.body)

    # ---- unification ------------------------------------------------------------
    def fix(self, var: Var, t: str | None, node) -> None:
        if t is None:
            return
        if t == STAT and var.kind == "param":
            raise SemanticError(f"parameter '{var.name}' cannot be a statistic: only globals can",
                                getattr(node, "loc", None) or var.loc)
        if var.type is None:
            var.type = t
            self.changed = True
        elif var.type != t:
            what = "array" if var.is_array else "variable"
            raise SemanticError(f"type mismatch for {what} '{var.name}': {_tname(var.type)} vs. {_tname(t)}",
                                getattr(node, "loc", None) or var.loc)

    def expect(self, e: A.Expr, t: str | None) -> str | None:
        """Type e, requiring t (when known); unknown sub-symbols take t."""
        got = self.expr(e)
        if t is None:
            return got
        if got is None:
            if isinstance(e, A.Symbol):
                self.fix(self.symbol_var(e), t, e)
            elif isinstance(e, A.Index) and isinstance(e.base, A.Symbol):
                self.fix(self.array_var(e.base, len(e.indexes)), t, e)
            elif isinstance(e, A.Call):
                f = self.functions.get((e.name, len(e.args)))
                if f is not None and f.rtype is None:
                    f.rtype = t
                    self.changed = True
            elif isinstance(e, A.Assign):
                self.expect(e.target, t)
            elif isinstance(e, A.Ternary):
                self.expect(e.then, t)
                self.expect(e.other, t)
            elif isinstance(e, A.Special) and e.op == "@entry":
                self.expect(e.args[0], t)
            return t
        if got != t:
            raise SemanticError(f"type mismatch: expected {_tname(t)}, found {_tname(got)}",
                                getattr(e, "loc", None))
        return got

    def settle(self, e: A.Expr, t: str | None) -> str | None:
        self.ctx.types[id(e)] = t
        return t

    # ---- variables ---------------------------------------------------------------
    def symbol_var(self, s: A.Symbol) -> Var:
        ctx = self.ctx
        v = ctx.vars.get(id(s))
        if v is not None:
            return v
        if isinstance(ctx, Func):
            for p in ctx.params:
                if p.name == s.name:
                    v = p
        if v is None:
            v = ctx.locals.get(s.name) or self.globals.get(s.name)
        if v is None:
            v = ctx.locals[s.name] = Var(s.name, "local", loc=s.loc, arity=0)
        ctx.vars[id(s)] = v
        return v

    def scalar(self, s: A.Symbol) -> Var:
        v = self.symbol_var(s)
        d = v.decl
        if v.kind == "global" and d is not None and (d.size is not None or d.wrap):
            how = f"with a size [{d.size}]" if d.size is not None else "with '%' (wrap)"
            raise SemanticError(f"global '{v.name}' is declared {how}, so it is an array, "
                                f"but it is used as a scalar", s.loc)
        if v.arity is None and v.kind == "global":
            v.arity = 0
            self.changed = True
        if v.is_array:
            raise SemanticError(f"array '{s.name}' used as a scalar", s.loc)
        return v

    def array_var(self, s: A.Symbol, arity: int) -> Var:
        v = self.symbol_var(s)
        if v.kind != "global":
            # There are no local arrays: an undeclared array is an error, as in stap.
            raise SemanticError(f"{'parameter' if v.kind == 'param' else 'local'} '{s.name}' used as an "
                                f"array: arrays must be declared global", s.loc,
                                hint=f"add 'global {s.name}' to the script")
        if v.arity == 0:
            raise SemanticError(f"scalar '{s.name}' used as an array", s.loc)
        if v.arity is None:
            v.arity = arity
            v.key_types = [None] * arity
            self.changed = True
        elif v.arity != arity:
            raise SemanticError(f"array '{s.name}' used with {arity} index(es), but it has {v.arity}", s.loc)
        return v

    def keys(self, v: Var, indexes, node) -> None:
        for i, k in enumerate(indexes):
            if k is None:
                continue
            t = self.expect(k, v.key_types[i])
            if t in (STAT, HIST, VOID):
                raise SemanticError(f"invalid index type {_tname(t)}", k.loc)
            if t is not None and v.key_types[i] is None:
                v.key_types[i] = t
                self.changed = True

    def not_iterating(self, e: A.Expr) -> None:
        if isinstance(e, A.Index) and isinstance(e.base, A.Symbol) and e.base.name in self.iterating:
            raise SemanticError(f"invalid modification of array '{e.base.name}' during foreach over it", e.loc)

    # ---- statements ------------------------------------------------------------------
    def stmt(self, s: A.Stmt) -> None:
        k = type(s)
        if k is A.Block:
            for x in s.body:
                self.stmt(x)
        elif k is A.ExprStmt:
            if isinstance(s.expr, A.Target) and not isinstance(s.expr.base, str) and not s.expr.suffix:
                # A side-effect-free `x->a->b;` is elided before its type matters.
                try:
                    self.expr(s.expr)
                except SemanticError:
                    pass
            else:
                if isinstance(s.expr, A.Crement):
                    self.discarded.add(id(s.expr))
                self.expr(s.expr)
        elif k is A.If:
            self.cond(s.cond)
            truth = defined_truth(s.cond, self.ctx.types)      # @defined(...): prune the dead branch
            if truth is not False:
                self.stmt(s.then)
            if s.other is not None and truth is not True:
                self.stmt(s.other)
        elif k is A.While:
            self.cond(s.cond)
            self.stmt(s.body)
        elif k is A.For:
            for e in (s.init, s.step):
                if e is not None:
                    if isinstance(e, A.Crement):
                        self.discarded.add(id(e))
                    self.expr(e)
            if s.cond is not None:
                self.cond(s.cond)
            self.stmt(s.body)
        elif k is A.Foreach:
            self.foreach(s)
        elif k is A.Return:
            f = self.ctx
            if s.value is None:
                if f.rtype not in (None, VOID):
                    raise SemanticError("return without a value in a function returning a value", s.loc)
            else:
                t = self.expect(s.value, f.rtype if f.rtype != VOID else None)
                if f.rtype == VOID:
                    raise SemanticError("return with a value in a function declared without one", s.loc)
                if t is not None and f.rtype is None:
                    f.rtype = t
                    self.changed = True
                self.targets.returned(f, s.value)
        elif k is A.Delete:
            self.delete(s.target)
        elif k is A.Try:
            self.stmt(s.body)
            if s.var is not None:
                self.fix(self.scalar(s.var), STRING, s.var)
                self.scalar(s.var).written = True
            self.stmt(s.handler)

    def cond(self, e: A.Expr) -> None:
        t = self.expect(e, LONG)
        if t != LONG and t is not None:
            raise SemanticError("condition must be a number", e.loc)

    def delete(self, t: A.Expr) -> None:
        if isinstance(t, A.Symbol):
            v = self.symbol_var(t)
            v.written = True
            return
        if isinstance(t, A.Index) and isinstance(t.base, A.Symbol):
            self.not_iterating(t)
            v = self.array_var(t.base, len(t.indexes))
            self.effects.write(self.ctx, v.name)
            self.keys(v, t.indexes, t)
            v.written = True
            return
        raise SemanticError("delete needs an array, an array element or a variable", t.loc)

    def foreach(self, s: A.Foreach) -> None:
        if isinstance(s.array, A.Hist):
            # foreach (bucket in @hist_log(x)): every bucket index, in order
            self.expr(s.array)
            if len(s.keys) != 1 or s.value is not None or s.slice is not None or s.sort_column:
                raise SemanticError("foreach over a histogram takes one key and no sorting", s.loc)
            kv = self.scalar(s.keys[0])
            kv.written = True
            self.fix(kv, LONG, s.keys[0])
            if s.limit is not None:
                self.cond(s.limit)
            self.stmt(s.body)
            return
        if not isinstance(s.array, A.Symbol):
            raise SemanticError("foreach needs a global array", s.loc)
        v = self.array_var(s.array, len(s.keys))
        v.read = True
        if s.slice is not None:
            if len(s.slice) != len(s.keys):
                raise SemanticError(f"slice has {len(s.slice)} index(es), the array has {len(s.keys)}", s.loc)
            self.keys(v, s.slice, s)
        for i, k in enumerate(s.keys):
            kv = self.scalar(k)
            kv.written = True
            self.fix(kv, v.key_types[i], k)
            if kv.type is not None and v.key_types[i] is None:
                v.key_types[i] = kv.type
                self.changed = True
            self.settle(k, kv.type)
        if s.value is not None:
            vv = self.scalar(s.value)
            vv.written = True
            if v.type == STAT:
                raise SemanticError(f"foreach value variable '{s.value.name}' would be a statistic "
                                    f"(locals cannot be)", s.value.loc,
                                    hint=f"use an aggregate of the element, e.g. @sum({s.array.name}[...])")
            self.fix(vv, v.type, s.value)
        if s.sort_stat is not None and v.type not in (None, STAT):
            raise SemanticError("sorting by an aggregate needs an array of statistics", s.loc)
        if s.limit is not None:
            self.cond(s.limit)
        self.iterating.append(s.array.name)
        try:
            self.stmt(s.body)
        finally:
            self.iterating.pop()

    # ---- expressions -----------------------------------------------------------------
    def expr(self, e: A.Expr) -> str | None:
        method = getattr(self, "e_" + type(e).__name__)
        return self.settle(e, method(e))

    def e_Number(self, e):
        return LONG

    def e_String(self, e):
        return STRING

    def e_Embedded(self, e):
        return LONG

    def e_Symbol(self, e):
        v = self.scalar(e)
        v.read = True
        return v.type

    def e_Target(self, e):
        if not isinstance(e.base, str):
            bt = self.expr(e.base)
            if bt not in (LONG, None) and (e.members or e.addr):
                raise SemanticError(f"cannot dereference a {_tname(bt)}", e.loc)
            for m in e.members:
                if m.index is not None:
                    self.expect(m.index, LONG)
            what = "the @cast" if isinstance(e.base, A.Cast) else "this expression"
            self.targets.target(e, self.targets.of(e.base), what, pointee=True)
            return STRING if e.suffix else LONG
        for m in e.members:
            if m.index is not None:
                self.expect(m.index, LONG)
        name = e.base
        if name.startswith("$$"):
            return STRING
        if e.suffix:
            return STRING
        ctx = self.ctx
        if not isinstance(ctx, ProbeInst):
            raise SemanticError(f"context variable '{name}' used outside a probe", e.loc)
        var = ctx.source.context.get(name[1:])
        if var is None:
            have = " ".join("$" + n for n in sorted(ctx.source.context))
            if not have:
                raise SemanticError(f"probe point {ctx.pp} has no context variables, so '{name}' "
                                    f"cannot be resolved", e.loc)
            raise SemanticError(f"unable to find context variable '{name}' in {ctx.pp}", e.loc,
                                hint=f"alternatives: {have}")
        f = var.fetch
        if (len(e.members) == 1 and e.members[0].index is not None and not e.suffix and not e.addr
                and getattr(f, "dims", None) and len(f.dims) == 1 and f.dims[0]):
            # $field[i] on a fixed-size array of a tracepoint record: one element
            self.expect(e.members[0].index, LONG)
            return LONG
        if e.addr and not e.members and isinstance(f, tuple) and f and (
                f[0] == "retval" or (f[0] in ("reg", "entry") and str(f[1]).startswith("%"))):
            what = "a return value" if f[0] == "retval" else "a parameter"
            raise SemanticError(f"cannot take the address of '{name}': {what} passed in a register "
                                "has no address", e.loc)
        if e.members:
            if var.btf_type is None:
                raise SemanticError(f"'{name}' ({var.ctype}) has no known type to take members of "
                                    f"(only kernel function parameters typed by BTF do)", e.loc)
            self.targets.target(e, var.btf_type, f"'{name}'")
            return STRING if e.suffix else LONG
        return var.type

    def e_Cast(self, e):
        self.expect(e.operand, LONG)
        self.targets.lookup(e.type, e.module, e.loc)
        return LONG

    def e_VarRef(self, e):
        return LONG

    def e_Unary(self, e):
        self.expect(e.operand, LONG)
        return LONG

    def e_Crement(self, e):
        self.not_iterating(e.operand)
        self.lvalue(e.operand, LONG)
        if id(e) not in self.discarded:      # `if (++c)` reads c; a bare `c++;` only writes it
            op = e.operand
            if isinstance(op, A.Symbol):
                self.scalar(op).read = True
            elif isinstance(op, A.Index) and isinstance(op.base, A.Symbol):
                self.array_var(op.base, len(op.indexes)).read = True
        return LONG

    def e_Binary(self, e):
        op = e.op
        if op not in COMPARE:
            # A left-deep chain of one type, typed without recursion.
            t = STRING if op == "." else LONG
            first, nodes = A.left_chain(e, (".",) if op == "." else _ARITH)
            self.expect(first, t)
            for n in nodes:
                self.expect(n.right, t)
                self.settle(n, t)
            return t
        if op in COMPARE:
            lt = self.expr(e.left)
            rt = self.expr(e.right)
            t = lt or rt
            for side, got in ((e.left, lt), (e.right, rt)):
                if t is not None and got != t:    # typed once: a <= b <= c is linear
                    self.expect(side, t)
            if t in (STAT, HIST, VOID):
                raise SemanticError(f"cannot compare a {_tname(t)}", e.loc)
            return LONG

    def e_Regex(self, e):
        self.expect(e.left, STRING)
        from .regex import check           # POSIX ERE, as native/rematch.c matches it
        why = check(e.pattern)
        if why is not None:
            raise SemanticError(f"invalid regular expression '{e.pattern}': {why}", e.loc)
        return LONG

    def e_Ternary(self, e):
        self.cond(e.cond)
        truth = defined_truth(e.cond, self.ctx.types)          # @choose_defined & co.
        if truth is not None:
            live = e.then if truth else e.other
            t = self.expr(live)
            if t is not None:
                self.expect(live, t)
            return t
        a = self.expr(e.then)
        b = self.expr(e.other)
        t = a or b
        if t is not None:
            self.expect(e.then, t)
            self.expect(e.other, t)
        return t

    def lvalue(self, target: A.Expr, t: str | None) -> str | None:
        if isinstance(target, A.Symbol):
            v = self.scalar(target)
            v.written = True
            self.fix(v, t, target)
            self.settle(target, v.type)
            return v.type
        if isinstance(target, A.Index) and isinstance(target.base, A.Symbol):
            v = self.array_var(target.base, len(target.indexes))
            v.written = True
            self.effects.write(self.ctx, v.name)
            self.keys(v, target.indexes, target)
            self.fix(v, t, target)
            self.settle(target, v.type)
            return v.type
        if isinstance(target, A.Target):
            raise SemanticError("writing to target variables is not supported (it needs guru mode "
                                "and a kernel with kprobes)", target.loc)
        raise SemanticError("expected an lvalue", target.loc)

    def e_Assign(self, e):
        op = e.op
        self.not_iterating(e.target)
        if op == "<<<":
            self.lvalue(e.target, STAT)
            self.expect(e.value, LONG)
            return LONG
        if op == "=":
            vt = self.expr(e.value)
            if vt in (STAT, HIST, VOID):
                raise SemanticError(f"cannot assign a {_tname(vt)}", e.value.loc)
            tt = self.lvalue(e.target, vt)
            if vt is None and tt is not None:
                self.expect(e.value, tt)
            if isinstance(e.target, A.Symbol):
                self.targets.assigned(self.symbol_var(e.target), e.value)
            return tt
        t = STRING if op == ".=" else LONG
        self.lvalue(e.target, t)
        self.expect(e.value, t)
        return t

    def e_Index(self, e):
        if isinstance(e.base, A.Hist):
            self.expr(e.base)
            if len(e.indexes) != 1 or e.indexes[0] is None:
                raise SemanticError("a histogram takes one bucket index", e.loc)
            self.expect(e.indexes[0], LONG)
            return LONG
        if not isinstance(e.base, A.Symbol):
            raise SemanticError("only arrays and histograms can be indexed", e.loc)
        if any(k is None for k in e.indexes):
            raise SemanticError("wildcard '*' is only allowed in foreach, delete and 'in'", e.loc)
        v = self.array_var(e.base, len(e.indexes))
        v.read = True
        self.keys(v, e.indexes, e)
        return v.type

    def e_In(self, e):
        if not isinstance(e.array, A.Symbol):
            raise SemanticError("'in' needs an array", e.loc)
        v = self.array_var(e.array, len(e.keys))
        v.read = True
        self.keys(v, e.keys, e)
        return LONG

    def _guru_only(self, e) -> None:
        """Builtins and tapset functions stap allows in guru mode (-g) only;
        the tapsets themselves may call them."""
        if e.name in GURU_ONLY and not self.guru and not (isinstance(self.ctx, Func) and self.ctx.tapset):
            raise SemanticError(f"function '{e.name}' is only available in guru mode", e.loc,
                                hint="run with -g if you mean it")

    def e_Call(self, e):
        f = self.functions.get((e.name, len(e.args)))
        if f is not None:
            if f.tapset:
                self._guru_only(e)
            self.called.add(id(f))
            self.effects.call(self.ctx, f, self.iterating, e.loc)
            for a, p in zip(e.args, f.params):
                t = self.expect(a, p.type)
                if t in (STAT, HIST, VOID):
                    raise SemanticError(f"cannot pass a {_tname(t)} to '{e.name}'", a.loc)
                if t is not None and p.type is None:
                    p.type = t
                    self.changed = True
            return f.rtype
        sig = BUILTINS.get(e.name)
        if sig is None:
            arities = sorted(n for (name, n) in self.functions if name == e.name)
            if arities:
                raise SemanticError(f"function '{e.name}' takes {' or '.join(map(str, arities))} "
                                    f"argument(s), not {len(e.args)}", e.loc)
            why = unsupported_reason(e.name)
            if why:
                raise SemanticError(f"function '{e.name}' cannot be served: {why}", e.loc)
            raise SemanticError(f"unresolved function '{e.name}'", e.loc)
        params, ret = sig
        self._guru_only(e)
        if len(params) != len(e.args):
            raise SemanticError(f"function '{e.name}' takes {len(params)} argument(s), not {len(e.args)}",
                                e.loc)
        for a, t in zip(e.args, params):
            self.expect(a, t)
        return ret

    def e_Print(self, e):
        if e.fmt is not None and "printf" in e.name:
            convs = conversions(e.fmt, e.loc)
            if len(convs) != len(e.args):
                raise SemanticError(f"format string expects {len(convs)} argument(s), got {len(e.args)}",
                                    e.loc)
            for a, t in zip(e.args, convs):
                self.expect(a, t)
        else:
            for a in e.args:
                t = self.expr(a)
                if t in (STAT, VOID):
                    raise SemanticError(f"cannot print a {_tname(t)}", a.loc)
        return STRING if e.name.startswith("s") else VOID

    def stat_var(self, operand: A.Expr) -> Var:
        if isinstance(operand, A.Symbol):
            v = self.scalar(operand)
        elif isinstance(operand, A.Index) and isinstance(operand.base, A.Symbol):
            v = self.array_var(operand.base, len(operand.indexes))
            self.keys(v, operand.indexes, operand)
        else:
            raise SemanticError("expected a statistic variable", operand.loc)
        if v.kind != "global":
            # `local <<< x` alone is elided as unused, as stap does; reading it is an error.
            raise SemanticError(f"local variable '{v.name}' cannot be a statistic: only globals can",
                                operand.loc, hint=f"add 'global {v.name}' to the script")
        v.read = True
        self.fix(v, STAT, operand)
        self.settle(operand, STAT)
        return v

    def e_Stat(self, e):
        v = self.stat_var(e.operand)
        if e.op == "@variance" and e.params:
            if v.shift not in (0, e.params[0]):
                raise SemanticError(f"statistic '{v.name}' used with different @variance shifts", e.loc)
            v.shift = e.params[0]
        return LONG

    def e_Hist(self, e):
        v = self.stat_var(e.operand)
        params = []
        for p in e.params:
            if not isinstance(p, (A.Number, A.Unary)):
                raise SemanticError("histogram parameters must be literal numbers", p.loc)
            self.expect(p, LONG)
            params.append(p)
        shape = (e.kind, tuple(_literal(p) for p in params))
        if e.kind == "linear":
            _check_linear(shape[1], params)
        if shape not in v.hist:
            v.hist.append(shape)
        if len(v.hist) > 1:
            raise SemanticError(f"statistic '{v.name}' used with different histogram shapes", e.loc)
        return HIST

    def e_Special(self, e):
        op = e.op
        if op == "@defined":
            try:
                self.expr(e.args[0])
            except SemanticError:
                pass
            return LONG
        if op == "@entry":
            ctx = self.ctx
            if not isinstance(ctx, ProbeInst) or not ctx.source.is_return:
                raise SemanticError("@entry is only valid in .return probes", e.loc)
            return self.expr(e.args[0])
        if op in ("@kderef", "@uderef"):
            self.expect(e.args[1], LONG)
        return LONG


_ARITH = frozenset(op for op in A.LEVEL_OF if op not in COMPARE and op != ".")


def _literal(e) -> int:
    """A literal number as the 64-bit signed value stap gives it."""
    if isinstance(e, A.Unary) and e.op == "-" and isinstance(e.operand, A.Number):
        value = -e.operand.value
    elif isinstance(e, A.Number):
        value = e.value
    else:
        raise SemanticError("expected a literal number", e.loc)
    return (value + (1 << 63)) % (1 << 64) - (1 << 63)


MAX_BUCKETS = 128   # the runtime's FT_MAX_BUCKETS, underflow and overflow included


def _check_linear(values, params) -> None:
    """@hist_linear(x, start, stop, interval): what the runtime can hold."""
    start, stop, interval = values
    if interval <= 0:
        raise SemanticError(f"histogram interval must be positive, not {interval}", params[2].loc)
    if stop < start:
        raise SemanticError(f"histogram stop {stop} is less than its start {start}", params[1].loc)
    buckets = (stop - start) // interval + 3
    if buckets > MAX_BUCKETS:
        raise SemanticError(f"histogram needs {buckets} buckets, more than the limit of {MAX_BUCKETS} "
                            f"(underflow and overflow included)", params[2].loc,
                            hint="use a wider interval or a narrower start..stop")
