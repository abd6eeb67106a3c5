"""$value of a procfs probe's handler, rewritten at pass 2 into the builtins
_procfs_set_value (`=`), _procfs_append_value (`.=`) of a read probe and
_procfs_value() of a write probe (native/procfs.c); the uses stap refuses
are refused here."""
from __future__ import annotations

from ..errors import SemanticError
from ..lang import ast as A
from ..lang.rewrite import rewrite


def _is_value(e) -> bool:
    return isinstance(e, A.Target) and e.base == "$value"


def _plain(e) -> bool:
    return not (e.members or e.addr or e.suffix)


def rewrite_value(node, write: bool):
    """node with every $value of a procfs probe's handler replaced by a
    builtin call; SemanticError for a use stap refuses."""
    return rewrite(node, lambda n: _lower(n, write))


def _lower(node, write: bool):
    """The replacement of one node, or None to look inside it."""
    if isinstance(node, A.Special) and node.op == "@defined":
        return node                        # @defined($value) asks the context, as written
    if isinstance(node, A.Assign) and _is_value(node.target):
        t = node.target
        if write:
            raise SemanticError("$value of a procfs write probe cannot be assigned", t.loc)
        if not _plain(t) or node.op not in ("=", ".="):
            raise SemanticError(f"$value of a procfs read probe takes only '=' and '.=', not "
                                f"'{node.op}'" if _plain(t) else "$value is a string", t.loc)
        fn = "_procfs_set_value" if node.op == "=" else "_procfs_append_value"
        return A.Call(fn, (rewrite_value(node.value, write),), loc=node.loc)
    if _is_value(node):
        if not write:
            raise SemanticError("$value of a procfs read probe cannot be read, only assigned", node.loc)
        if not _plain(node):
            raise SemanticError("$value is a string: it has no members or elements", node.loc)
        return A.Call("_procfs_value", (), loc=node.loc)
    return None
