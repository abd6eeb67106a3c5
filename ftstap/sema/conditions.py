"""Probe arming conditions (`probe P if (EXPR) { }`): stap's rules.

A condition arms and disarms a probe, so it is evaluated where no event
context exists: it may read only global variables, may not change any, and
may not call functions or read `$context` variables."""
from __future__ import annotations

from ..errors import SemanticError
from ..lang import ast as A


def check_condition(cond, globals_) -> None:
    """Raise SemanticError at the first part of `cond` stap refuses."""
    if cond is None:
        return
    for node in A.walk(cond):
        loc = getattr(node, "loc", None) or getattr(cond, "loc", None)
        if isinstance(node, (A.Assign, A.Crement)):
            raise SemanticError("probe condition must not modify any variables", loc)
        if isinstance(node, (A.Call, A.Print)):
            raise SemanticError(f"probe condition must not call functions ('{node.name}')", loc)
        if isinstance(node, (A.Target, A.VarRef, A.Cast)):
            raise SemanticError("probe condition must not read context variables: "
                                "it is evaluated where no probe has fired", loc)
        if isinstance(node, A.Symbol) and node.name not in globals_:
            raise SemanticError(f"probe condition must refer only to global variables: "
                                f"'{node.name}' is not one", loc)
