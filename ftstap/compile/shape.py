"""The shape of an event probe's handler, for work pass 3 can move into the
kernel (compile/kfilter.py: event filters; compile/counting.py: counting
mode).

A handler qualifies when, with its nested blocks flattened (stap blocks do
not scope locals), it is

    PROLOGUE...  LAST

where every PROLOGUE statement only sets a local to a literal or to a plain
tracepoint field (`name = "read"`, `fd = $fd`: what the syscall aliases'
prologues do, trimmed by pass 2 to the locals the body uses) and LAST is one
statement.  The prologue then has no effect but its locals, so a handler
whose LAST does nothing for some event does nothing at all for it."""
from __future__ import annotations

from ..record import mutable

from ..lang import ast as A


@mutable
class Shape:
    prologue: list
    last: object
    bindings: dict = {}   # id(local Var) -> literal or Target node


def _flatten(stmt, out: list) -> None:
    if isinstance(stmt, A.Block):
        for s in stmt.body:
            _flatten(s, out)
    elif not isinstance(stmt, A.Null):
        out.append(stmt)


def literal(e):
    """(value, type) of a number or string literal (numbers as the VM's signed
    64-bit value, strings decoded), else None."""
    if isinstance(e, A.Number):
        v = e.value % (1 << 64)
        return (v - (1 << 64) if v >= 1 << 63 else v), "long"
    if isinstance(e, A.Unary) and e.op == "-" and isinstance(e.operand, A.Number):
        v = (-e.operand.value) % (1 << 64)
        return (v - (1 << 64) if v >= 1 << 63 else v), "long"
    if isinstance(e, A.String):
        from .strings import decode
        return decode(e.value), "string"
    return None


def plain_field(e) -> bool:
    """`$name`: a whole tracepoint field, no members, address or suffix."""
    return (isinstance(e, A.Target) and isinstance(e.base, str) and not e.base.startswith("$$")
            and not e.members and not e.addr and not e.suffix)


def handler_shape(inst) -> Shape | None:
    stmts: list = []
    _flatten(inst.body, stmts)
    if not stmts:
        return None
    shape = Shape([], stmts[-1])
    for s in stmts[:-1]:
        e = s.expr if isinstance(s, A.ExprStmt) else None
        if not (isinstance(e, A.Assign) and e.op == "=" and isinstance(e.target, A.Symbol)):
            return None
        var = inst.vars.get(id(e.target))
        if var is None or var.kind == "global" or not (literal(e.value) or plain_field(e.value)):
            return None
        shape.prologue.append(s)
        shape.bindings[id(var)] = e.value
    return shape


def resolve(inst, shape: Shape, e):
    """e with a prologue local replaced by what the prologue set it to."""
    if isinstance(e, A.Symbol):
        var = inst.vars.get(id(e))
        if var is not None and var.kind != "global":
            return shape.bindings.get(id(var))
    return e
