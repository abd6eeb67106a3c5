"""stap's probe elision (pass 2, unless -u): a probe whose handler does
nothing once its constant conditions are folded -- `probe end {}`, or
`if (@defined($foo)) {...}` where $foo does not exist -- is removed, as
stap's optimizer removes it; with none left, stap says "no probes found".

Only the user's own code counts: a probe bound through a tapset alias
(its prologue reads the event) or with a probe-point condition is kept."""
from __future__ import annotations

from ..lang import ast as A


def static_truth(e: A.Expr, types: dict) -> bool | None:
    """The value of a condition known at pass 2, None if it is not."""
    if isinstance(e, A.Number):
        return e.value != 0
    if isinstance(e, A.Special) and e.op == "@defined":
        return id(e.args[0]) in types          # the checker typed it: it exists
    if isinstance(e, A.Unary) and e.op == "!":
        inner = static_truth(e.operand, types)
        return None if inner is None else not inner
    return None


def defined_truth(e: A.Expr, types: dict) -> bool | None:
    """static_truth of a condition made of @defined (and !): the branch it
    rules out is dead, and is neither type-checked nor compiled, as stap
    prunes `@defined($x) ? $x : 0` before $x must exist.  Other constant
    conditions (`if (0)`) are checked as written, as stap resolves them."""
    if not any(isinstance(n, A.Special) and n.op == "@defined" for n in A.walk(e)):
        return None
    return static_truth(e, types)


def does_nothing(s: A.Stmt | None, types: dict) -> bool:
    if s is None or isinstance(s, A.Null):
        return True
    if isinstance(s, A.Block):
        return all(does_nothing(x, types) for x in s.body)
    if isinstance(s, A.If):
        truth = static_truth(s.cond, types)
        if truth is True:
            return does_nothing(s.then, types)
        if truth is False:
            return does_nothing(s.other, types)
        return False
    return False


def elide_empty(insts: list, plain: set[int]) -> list:
    """The probes that do something; `plain`: ids of the ones whose body
    is the user's code alone (no alias prologue or epilogue, no condition)."""
    keep = [i for i in insts if id(i) not in plain or not does_nothing(i.body, i.types)]
    for n, inst in enumerate(keep):
        inst.index = n
    return keep
