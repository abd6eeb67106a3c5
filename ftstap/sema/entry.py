"""`@entry(expr)` in return probes, lowered before type checking.

stap evaluates `@entry(expr)` when the call is entered and hands the value
to the return probe of the same call.  Here each return probe that uses it
(or reads a `$param`, which in a return probe means its value at entry: a
kretprobe's registers no longer hold it) gets a synthetic probe on the
matching entry event, its "twin" (syscalls:sys_enter_NAME for
sys_exit_NAME, the uprobe/kprobe at the function's entry for its return),
that stores each value in a hidden global keyed like stap's per-call
storage:

- syscalls: `[tid()]`.  A thread is in one syscall at a time.
- functions (uprobes, kprobes): `[tid(), depth]`, depth counted per thread
  by the twin, so recursion pairs each return with its own entry.

The return probe starts by taking its values (and deleting them, so the
maps hold only calls in flight); a return whose entry was not seen (the
call began before the session) is skipped, as a kretprobe/uretprobe would
never fire for it in stap.  A call that never returns (its thread killed
inside it; longjmp out of a probed function) leaves its entry behind: for
functions the depth then stays one too deep for that thread."""
from __future__ import annotations

import re

from ..errors import SemanticError
from ..lang import ast as A
from .program import ProbeInst, Var
from ..lang.rewrite import rewrite

_COMP = re.compile(r'([A-Za-z_*?\[\]][\w*?\[\]]*)(?:\(("(?:[^"\\]|\\.)*"|-?\w+)\))?(?:\.|$)')


def _components(pp: str) -> tuple[A.Component, ...]:
    out, pos = [], 0
    while pos < len(pp):
        m = _COMP.match(pp, pos)
        if m is None:
            raise SemanticError(f"@entry: cannot take apart the probe point {pp}")
        name, arg = m.group(1), m.group(2)
        if arg is None:
            value = None
        elif arg.startswith('"'):
            value = A.String(arg[1:-1])
        else:
            value = A.Number(int(arg, 0))
        out.append(A.Component(name, value))
        pos = m.end()
    return tuple(out)


def entry_twin(source, features):
    """The EventSource of the call's entry for a return probe's source."""
    from ..probes import REGISTRY
    comps = _components(source.pp)
    while comps and comps[-1].name in ("return", "maxactive"):
        comps = comps[:-1]
    want = ".".join(c.name if c.arg is None else
                    f'{c.name}("{c.arg.value}")' if isinstance(c.arg, A.String) else f"{c.name}({c.arg.value})"
                    for c in comps)
    for provider in REGISTRY:
        if comps[0].name not in provider.families:
            continue
        found = provider.resolve(comps, features)
        if found:
            return next((s for s in found if s.pp == want), found[0])
    raise SemanticError(f"@entry: no entry event matches {source.pp}")


def _entry_var(source, node) -> bool:
    """A `$param` of a return probe that means its value at entry."""
    if not isinstance(node, A.Target) or not isinstance(node.base, str) or node.addr or node.suffix:
        return False
    var = source.context.get(node.base[1:])
    return var is not None and isinstance(var.fetch, tuple) and var.fetch[:1] == ("entry",)


def _resolvable(twin, e) -> bool:
    for n in A.walk(e):
        if isinstance(n, A.Target) and isinstance(n.base, str) and not n.base.startswith("$$") \
                and n.base[1:] not in twin.context:
            return False
    return True


class _Lowering:
    def __init__(self, inst: ProbeInst, n: int, features):
        self.inst = inst
        self.features = features
        self.prefix = f"__entry_{n}"
        self.values: list[tuple[str, A.Expr]] = []     # (global name, expression at entry)
        self.twin = None

    def twin_source(self):
        if self.twin is None:
            self.twin = entry_twin(self.inst.source, self.features)
        return self.twin

    def value(self, e: A.Expr, loc) -> A.Expr:
        twin = self.twin_source()
        if not _resolvable(twin, e):
            return None
        for name, old in self.values:
            if old == e:
                return A.Symbol(name + "_v", loc=loc)
        name = f"{self.prefix}_{len(self.values)}"
        self.values.append((name, e))
        return A.Symbol(name + "_v", loc=loc)

    def visit(self, node):
        if isinstance(node, A.Special) and node.op == "@defined":
            return node                  # asks whether the expression exists, as written
        if isinstance(node, A.Special) and node.op == "@entry" and len(node.args) == 1:
            return self.value(node.args[0], node.loc)
        if _entry_var(self.inst.source, node):
            return self.value(node, node.loc)
        return None


def _call(name, *args):
    return A.Call(name, tuple(args))


def _stmt(e):
    return A.ExprStmt(e)


def _set(target, value):
    return _stmt(A.Assign("=", target, value))


def _idx(name, keys):
    return A.Index(A.Symbol(name), tuple(keys))


def lower_entry(insts: list[ProbeInst], globals_: dict[str, Var], features) -> list[ProbeInst]:
    """insts with @entry lowered; the twins appended (they run on the entry
    events, before the returns that read what they saved)."""
    out = list(insts)
    for inst in insts:
        if not inst.source.is_return:
            continue
        if not any((isinstance(n, A.Special) and n.op == "@entry") or _entry_var(inst.source, n)
                   for n in A.walk(inst.body)):
            continue
        low = _Lowering(inst, len(out), features)
        body = rewrite(inst.body, low.visit)
        if not low.values:
            continue
        syscall = inst.source.target.kind == "tracepoint"
        tid = _call("tid")
        depth = low.prefix + "_depth"
        names = [n for n, _ in low.values] + ([] if syscall else [depth])
        for name in names:
            globals_[name] = Var(name, "global", tapset=True)
        # the entry twin: depth++, then each value under its key
        twin_body: list[A.Stmt] = []
        if syscall:
            key = (tid,)
        else:
            twin_body.append(_stmt(A.Crement("++", _idx(depth, (tid,)), post=False)))
            key = (tid, _idx(depth, (tid,)))
        for name, e in low.values:
            twin_body.append(_set(_idx(name, key), e))
        twin = low.twin_source()
        pro = twin.prologue
        block = A.Block(tuple(twin_body), loc=inst.body.loc)
        if pro is not None:
            block = _with_prologue(pro, block)
        out.append(ProbeInst(source=twin, body=block, point=inst.point, user_probe=inst.user_probe,
                             index=len(out)))
        # the return: take the values (skip a call whose entry was not seen)
        first = low.values[0][0]
        head: list[A.Stmt] = []
        if syscall:
            rkey = (tid,)
            head.append(A.If(A.Unary("!", A.In((tid,), A.Symbol(first))), A.Next(), None))
        else:
            dv = low.prefix + "_d"
            head.append(A.If(A.Unary("!", A.In((tid,), A.Symbol(depth))), A.Next(), None))
            head.append(_set(A.Symbol(dv), _idx(depth, (tid,))))
            rkey = (tid, A.Symbol(dv))
        for name, _ in low.values:
            head.append(_set(A.Symbol(name + "_v"), _idx(name, rkey)))
            head.append(A.Delete(_idx(name, rkey)))
        if not syscall:
            head.append(A.If(A.Binary(">", A.Symbol(dv), A.Number(1)),
                             _set(_idx(depth, (tid,)), A.Binary("-", A.Symbol(dv), A.Number(1))),
                             A.Delete(_idx(depth, (tid,)))))
        inst.body = A.Block(tuple(head) + (body,), loc=inst.body.loc)
    return out


def _with_prologue(prologue: A.Block, block: A.Block) -> A.Block:
    """The entry source's generated locals the saved expressions read."""
    reads = {n.name for n in A.walk(block) if isinstance(n, A.Symbol)}
    keep = []
    for s in reversed(prologue.body):
        if isinstance(s, A.ExprStmt) and isinstance(s.expr, A.Assign) and isinstance(s.expr.target, A.Symbol):
            if s.expr.target.name not in reads:
                continue
            reads |= {n.name for n in A.walk(s.expr.value) if isinstance(n, A.Symbol)}
        keep.append(s)
    return A.Block(tuple(reversed(keep)) + (block,), loc=block.loc)
