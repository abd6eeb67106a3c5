"""Statements with no effect, removed at pass 2 before type checking, as
stap's optimizer removes them (unless -u): an expression statement whose
value nothing uses and whose evaluation changes nothing (`foo->a->b;`,
`- @entry(get_cycles());` outside a return probe), such a for loop's init
and step, and `if (COND) {}` with a condition like that.  Their variables
then need not resolve, nor their types settle.

Pure here: literals, variables, context variables and member chains,
casts, operators other than assignment and ++/--, and @entry/@defined/
@const; a function call is never pure (it may print, assign a global or
fail), and neither is an array access or `in`: stap resolves which names
are arrays before it optimizes (`if (4 in scalar) {}` is an error there)."""
from __future__ import annotations

from ..lang import ast as A
from ..lang.rewrite import rewrite

_PURE_SPECIAL = frozenset({"@entry", "@defined", "@const"})


def pure(e) -> bool:
    if e is None or isinstance(e, (A.Number, A.String, A.Symbol)):
        return True
    if isinstance(e, A.Target):
        return (isinstance(e.base, str) or pure(e.base)) and all(pure(m.index) for m in e.members)
    if isinstance(e, A.Cast):
        return pure(e.operand)
    if isinstance(e, A.Unary):
        return pure(e.operand)
    if isinstance(e, A.Binary):
        return pure(e.left) and pure(e.right)
    if isinstance(e, A.Ternary):
        return pure(e.cond) and pure(e.then) and pure(e.other)
    if isinstance(e, A.Special):
        return e.op in _PURE_SPECIAL
    return False


def _empty(s) -> bool:
    return s is None or isinstance(s, A.Null) or (isinstance(s, A.Block) and all(_empty(x) for x in s.body))


def _visit(node):
    if isinstance(node, A.Block):
        body = [rewrite(s, _visit) for s in node.body]
        kept = [s for s in body if not _removable(s)]
        if len(kept) == len(node.body) and all(a is b for a, b in zip(kept, node.body)):
            return node
        return A.Block(tuple(kept), loc=node.loc)
    if isinstance(node, A.For) and (node.init is not None and pure(node.init)
                                    or node.step is not None and pure(node.step)):
        return A.For(None if pure(node.init) else node.init, node.cond,
                     None if pure(node.step) else node.step, rewrite(node.body, _visit), loc=node.loc)
    return None


def _removable(s) -> bool:
    if isinstance(s, A.ExprStmt):
        return pure(s.expr)
    if isinstance(s, A.If):
        return pure(s.cond) and _empty(s.then) and _empty(s.other)
    return False


def drop_no_effect(body: A.Block) -> A.Block:
    return rewrite(body, _visit)
