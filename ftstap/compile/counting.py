"""Counting mode: event probes that need no samples (issue 6, "aggregate in
the kernel when the script allows").

A tracepoint probe whose handler (compile/shape.py) ends in

    g++   ++g   g += K   g[k1, ...]++   g[k1, ...] += K
    s <<< V   s[k1, ...] <<< V

or in `if (COND) STMT` where STMT is one of those and COND becomes the
event's kernel filter in full (compile/kfilter.py), with g a global number,
s a global statistic, K a number literal, and V and every key fixed per
probe expansion (`fixed` below: a literal, a prologue local set to one --
`syscalls[name]++` on syscall.* -- or pp(), probefunc() and the other
builtins that read only the probe point), adds the same thing for every
event.  Its event is opened as a plain counter (EventSpec.counting,
native/counters.c): the kernel only counts, no record is written or read.
At stop the runtime runs the probe's "apply" handler once with the total
COUNT in its context record (`LDFI 0 8`) and the probe's own context (so
pp() and the rest give what a sample gives): the prologue, then
`g += COUNT * K`, or V added COUNT times to s at once (STADDN/ASTADDN,
native/stat.c: every aggregate and histogram exactly as COUNT `<<< V`).

Only when the totals cannot be observed early: g must be used by nothing
but such probes and begin/end/error probes (a timer or another event
probe reading or clearing g would see the counts late), and by no
function.  Not on the few tracepoints whose perf count is a weight rather
than one per event (WEIGHTED).  FTSTAP_NO_PUSHDOWN=1 turns it off
(compile/kfilter.py)."""
from __future__ import annotations

from ..record import mutable

from ..lang import ast as A
from ..sema.program import LONG, STAT
from .kfilter import kernel_filter, pushdown_enabled
from .shape import _flatten, handler_shape, literal, resolve



# Builtins that read only the probe point (native/builtins.c pp, evfuncs.c
# pn/ppfunc/probefunc/probemod: the probe's name in the image) or the event's
# flags (is_return: counters.c sets them for the apply handler as records.c
# does for a sample): one value per probe expansion.
FIXED_BUILTINS = frozenset({"pp", "pn", "ppfunc", "probefunc", "probemod", "is_return"})

from ..kernel.tracefs import WEIGHTED_TRACEPOINTS as WEIGHTED


@mutable
class Counter:
    var: object            # the global (sema Var)
    target: object         # Symbol or Index node
    scale: int             # K
    shape: object
    filter: str = ""       # the kernel filter that stands for the handler's `if`
    keys: tuple = ()       # the index expressions, prologue locals resolved
    value: object = None   # V of `s <<< V` (a statistic), else None

    def describe(self) -> str:
        name = self.var.name
        if isinstance(self.target, A.Index):
            name += "[" + ", ".join(_text(k) for k in self.keys) + "]"
        if self.value is not None:
            what = f"{name} <<< {_text(self.value)}, count times"
        else:
            what = f"{name} += count" + (f" * {self.scale}" if self.scale != 1 else "")
        return what + (" of the filtered events" if self.filter else "")


def _text(e) -> str:
    v = literal(e)
    if v is not None:
        return repr(v[0]).replace("'", '"')
    return f"{e.name}()" if isinstance(e, A.Call) else "?"


def fixed(inst, shape, program, e):
    """e, prologue locals resolved, if its value is the same for every event of
    inst: a literal or a call of a FIXED_BUILTINS builtin (not shadowed by a
    script or tapset function); else None."""
    e = resolve(inst, shape, e) if e is not None else None
    if e is None or literal(e) is not None:
        return e
    if (isinstance(e, A.Call) and not e.args and e.name in FIXED_BUILTINS
            and not any(f.name == e.name and not f.params for f in program.functions)):
        return e
    return None


def _update(stmt, inst, shape, program):
    """(target, K, V) of a counting statement, else None."""
    if not isinstance(stmt, A.ExprStmt):
        return None
    e = stmt.expr
    if isinstance(e, A.Crement) and e.op == "++":
        return e.operand, 1, None
    if isinstance(e, A.Assign) and e.op == "+=" and isinstance(e.value, A.Number):
        return e.target, literal(e.value)[0], None
    if isinstance(e, A.Assign) and e.op == "<<<":
        v = fixed(inst, shape, program, e.value)
        return (e.target, 1, v) if v is not None else None
    return None


def _candidate(inst, program) -> Counter | None:
    target = inst.source.target
    if not target.record_fields or target.name in WEIGHTED:
        return None
    shape = handler_shape(inst)
    if shape is None:
        return None
    stmt, flt = shape.last, ""
    if isinstance(stmt, A.If) and stmt.other is None:
        # `if (COND) g[k]++`: counting only when COND is all kernel filter
        # (compile/kfilter.py translates nothing it cannot match exactly)
        flt = kernel_filter(inst)
        body: list = []
        _flatten(stmt.then, body)
        if not flt or len(body) != 1:
            return None
        stmt = body[0]
    update = _update(stmt, inst, shape, program)
    if update is None:
        return None
    target, scale, value = update
    if isinstance(target, A.Symbol):
        var = inst.vars.get(id(target))
        keys = ()
    elif isinstance(target, A.Index) and isinstance(target.base, A.Symbol):
        var = program.globals.get(target.base.name)
        keys = tuple(fixed(inst, shape, program, k) for k in target.indexes)
        if any(k is None for k in keys):
            return None
    else:
        return None
    if var is None or var.kind != "global" or var.type != (LONG if value is None else STAT):
        return None
    return Counter(var, target, scale, shape, flt, keys, value)


def _nodes(node):
    if isinstance(node, (list, tuple)):
        for x in node:
            yield from _nodes(x)
    elif hasattr(type(node), "_fields") and not isinstance(node, type):     # ftstap/record.py nodes
        yield node
        for name in type(node)._fields:
            if name != "loc":
                yield from _nodes(getattr(node, name))


def _uses(ctx, body, var) -> bool:
    for n in _nodes(body):
        if isinstance(n, A.Symbol):
            v = ctx.vars.get(id(n))
            if v is var or (v is None and n.name == var.name and n.name not in ctx.locals):
                return True
    return False


def plan(program) -> dict[int, Counter]:
    """id(ProbeInst) -> Counter for every probe compiled in counting mode."""
    if not pushdown_enabled():
        return {}
    cands = {id(inst): c for inst in program.probes if (c := _candidate(inst, program)) is not None}
    ok_vars = {}
    for c in cands.values():
        ok_vars[id(c.var)] = c.var
    for vid, var in list(ok_vars.items()):
        if any(_uses(f, f.decl.body, var) for f in program.functions if f.decl is not None):
            del ok_vars[vid]
            continue
        for inst in program.probes:
            c = cands.get(id(inst))
            if (c is not None and c.var is var) or inst.source.target.once:
                continue
            if _uses(inst, inst.body, var):
                del ok_vars[vid]
                break
    return {k: c for k, c in cands.items() if id(c.var) in ok_vars}


def emit_apply(gen, inst, counter: Counter) -> None:
    """The apply handler: the prologue, then g += COUNT * K or s <<< V COUNT times."""
    for s in counter.shape.prologue:
        gen.stmt(s)
    gen.emit("ACTION", 1, gen.loc(counter.shape.last, "statement"))
    target = counter.target
    if counter.value is not None:
        if isinstance(target, A.Index):
            gen.push_key(target.indexes)
        gen.gen(counter.value)
        gen.emit("LDFI", 0, 8, 1)
        gid = gen.cg.global_id(counter.var)
        if isinstance(target, A.Index):
            gen.emit("ASTADDN", gid, gen.ident_loc(target))
        else:
            gen.emit("STADDN", gid)
    elif isinstance(target, A.Index):
        gid = gen.cg.global_id(counter.var)
        gen.push_key(target.indexes)
        _count(gen, counter.scale)
        gen.emit("AADDI", gid, 0, gen.ident_loc(target))
    else:
        gen.g_Symbol(target, True)
        _count(gen, counter.scale)
        gen.emit("ADD")
        gen.store(counter.var, LONG, False)


def _count(gen, scale: int) -> None:
    gen.emit("LDFI", 0, 8, 1)
    if scale != 1:
        gen.emit("PUSHI", scale)
        gen.emit("MUL")
