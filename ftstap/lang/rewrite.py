"""Rewriting a shared AST without touching it: pass 2's lowerings (@entry,
int_arg(), a procfs probe's $value) build new nodes along the changed
paths only, since alias bodies are shared by every probe they expand to."""
from __future__ import annotations


def rewrite(node, visit):
    """node with each subtree for which visit(subtree) returns a node
    replaced by it (visit returns None to look inside)."""
    got = visit(node)
    if got is not None:
        return got
    if isinstance(node, (tuple, list)):
        items = [rewrite(x, visit) for x in node]
        return type(node)(items) if any(a is not b for a, b in zip(items, node)) else node
    fields = getattr(type(node), "_fields", None)
    if not fields:
        return node
    changed, new = False, {}
    for f in fields:
        v = getattr(node, f)
        nv = rewrite(v, visit) if f != "loc" else v
        changed |= nv is not v
        new[f] = nv
    return type(node)(**new) if changed else node
