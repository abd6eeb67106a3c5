"""Checks that need the whole program: arrays modified during a foreach
through a function call, and unused or never-assigned variables (stap's
"Eliding unused variable" and "never-assigned local variable" warnings)."""
from __future__ import annotations

from ..errors import SemanticError, SourceError
from .program import Func, Var


class Effects:
    """Which global arrays each function writes, who calls whom, and which
    calls happen inside a foreach over which arrays."""

    def __init__(self):
        self.writes: dict[int, set[str]] = {}
        self.calls: dict[int, set[int]] = {}
        self.funcs: dict[int, Func] = {}
        self.callers: dict[int, dict[int, object]] = {}    # id(f) -> its calling contexts by id
        self.in_foreach: list[tuple[tuple[str, ...], Func, object]] = []

    def write(self, ctx, array: str) -> None:
        if isinstance(ctx, Func):
            self.writes.setdefault(id(ctx), set()).add(array)

    def call(self, ctx, f: Func, iterating: list[str], loc) -> None:
        self.funcs[id(f)] = f
        self.callers.setdefault(id(f), {})[id(ctx)] = ctx
        if isinstance(ctx, Func):
            self.calls.setdefault(id(ctx), set()).add(id(f))
        if iterating:
            self.in_foreach.append((tuple(iterating), f, loc))

    def probes_reaching(self, ctx) -> list:
        """The probe contexts whose handlers run ctx: itself, or a function's callers, transitively."""
        seen, todo, out = set(), [ctx], []
        while todo:
            c = todo.pop()
            if id(c) in seen:
                continue
            seen.add(id(c))
            if isinstance(c, Func):
                todo.extend(self.callers.get(id(c), {}).values())
            else:
                out.append(c)
        return out

    def written_by(self, f: Func) -> set[str]:
        """Arrays f writes, itself or through the functions it calls."""
        seen, todo, out = set(), [id(f)], set()
        while todo:
            k = todo.pop()
            if k in seen:
                continue
            seen.add(k)
            out |= self.writes.get(k, set())
            todo.extend(self.calls.get(k, ()))
        return out

    def check(self) -> None:
        for arrays, f, loc in self.in_foreach:
            hit = [a for a in arrays if a in self.written_by(f)]
            if hit:
                raise SemanticError(f"invalid modification of array '{hit[0]}' during foreach over it: "
                                    f"function '{f.name}' writes it", loc)


def _user(var: Var) -> bool:
    loc = var.loc
    return loc is not None and not getattr(var, "tapset", False)


def _warning(message: str, loc) -> str:
    return SourceError(message, loc, kind="WARNING").render()


def unused_warnings(globals_: dict[str, Var], contexts, user_source) -> list[str]:
    """stap's warnings for the user's script: globals never used, locals
    read but never assigned."""
    out = []
    for g in globals_.values():
        if g.tapset or g.decl is None or g.read or g.written:
            continue
        if user_source is not None and getattr(g.loc, "source", user_source) is not user_source:
            continue
        out.append(_warning(f"Eliding unused variable '{g.name}'", g.loc))
    for c in contexts:
        if isinstance(c, Func) and c.tapset:
            continue
        for v in c.locals.values():
            if v.read and not v.written and _user(v):
                if user_source is not None and getattr(v.loc, "source", user_source) is not user_source:
                    continue
                out.append(_warning(f"never-assigned local variable '{v.name}'", v.loc))
    return out
