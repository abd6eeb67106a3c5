"""begin, end, error and never: probes the runtime fires itself."""
from __future__ import annotations

from ..errors import SemanticError
from .base import EventSource, Provider, arg_of
from .grammar import Grammar
from .targets import SpecialTarget


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


class SpecialProvider(Provider):
    grammar = Grammar(("begin", "begin(number)", "end", "end(number)", "error", "error(number)", "never"))

    def resolve(self, comps, features):
        m = self.grammar.match(comps)
        if m is None:
            return None
        c = comps[0]
        if m.wrong:              # begin("x"): `begin` alone matched exactly
            raise SemanticError(f"{c.name} takes a number (its priority), not a string", c.loc)
        if c.name == "never":
            return [EventSource(SpecialTarget("never"), "never")]
        prio = arg_of(c)
        prio = _signed(prio) if prio is not None else 0
        pp = c.name if c.arg is None else f"{c.name}({prio})"
        return [EventSource(SpecialTarget(c.name, prio), pp)]

    def listing(self, features):
        return ["begin", "end", "error", "never"]
