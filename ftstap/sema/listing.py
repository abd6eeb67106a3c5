"""-p2 output, shaped like stap's: the globals, the functions in use, and each
probe with the event that serves it on this kernel."""
from __future__ import annotations

from ..lang import printer
from .program import Program


def _tname(t) -> str:
    return {"stat": "stats"}.get(t, t or "unknown")


def program_listing(p: Program) -> str:
    out = []
    shown = [g for g in p.globals.values() if (g.read or g.written) and not (g.tapset and not g.read)]
    if shown:
        out.append("# global")
        for g in shown:
            if g.is_array:
                keys = ", ".join(_tname(k) for k in g.key_types)
                out.append(f"{g.name}:{_tname(g.type)} [{keys}]")
            else:
                out.append(f"{g.name}:{_tname(g.type)}")
    if p.functions:
        out.append("# functions")
        for f in p.functions:
            params = ", ".join(f"{v.name}:{_tname(v.type)}" for v in f.params)
            out.append(f"{f.name}:{_tname(f.rtype)} ({params})")
            if f.locals:
                out.append("  # locals")
                out.extend(f"  {v.name}:{_tname(v.type)}" for v in f.locals.values())
    out.append("# probes")
    for inst in p.probes:
        out.append(f"{inst.pp} /* <- {printer.probe_point(inst.point)}; {inst.source.describe()} */")
        if inst.locals:
            out.append("  # locals")
            out.extend(f"  {v.name}:{_tname(v.type)}" for v in inst.locals.values())
    return "\n".join(out) + "\n"
