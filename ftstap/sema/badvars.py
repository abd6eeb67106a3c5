"""--skip-badvars: a context variable the probe point does not have reads as
0 (a `$var$` pretty-print as ""), without an error, as stap substitutes
zero for variables it cannot resolve.  Lowered before type checking; an
`@defined($x)` still says whether $x exists."""
from __future__ import annotations

from ..lang import ast as A
from ..lang.rewrite import rewrite
from .program import ProbeInst


def skip_bad_variables(insts: list[ProbeInst]) -> list[ProbeInst]:
    for inst in insts:
        context = inst.source.context

        def visit(node):
            if isinstance(node, A.Special) and node.op == "@defined":
                return node
            if isinstance(node, A.Target) and isinstance(node.base, str) and node.base.startswith("$") \
                    and not node.base.startswith("$$") and node.base[1:] not in context:
                return A.String("", loc=node.loc) if node.suffix else A.Number(0, loc=node.loc)
            return None
        inst.body = rewrite(inst.body, visit)
    return insts
