"""Pass 3: what a probe handler needs from its event beyond the record.

Today: stacks.  A handler that -- itself or through any function it calls --
uses a backtrace builtin gets its event opened with PERF_SAMPLE_CALLCHAIN
(EventSpec.callchain), and only then: a callchain costs every record up to
a kilobyte and the kernel a stack walk.  When the kernel part is printed
with symbols (print_backtrace, symname, ...), the session loads the kernel
symbol table (EventSpec.ksyms; reading /proc/kallsyms costs ~100 ms).
"""
from __future__ import annotations

from ..lang import ast as A

# builtins that read the event's callchain
CHAIN = frozenset("""backtrace ubacktrace print_backtrace sprint_backtrace print_ubacktrace
sprint_ubacktrace stack ustack caller caller_addr uaddr""".split())
# builtins that name kernel addresses
KSYMS = frozenset("""print_backtrace sprint_backtrace print_stack sprint_stack caller symname
symdata""".split())


def _calls(node, out: set) -> None:
    """Every (name, nargs) called anywhere under an AST node."""
    out.update((n.name, len(n.args)) for n in A.walk(node) if isinstance(n, A.Call))


class Needs:
    """needs(inst) -> set of {"callchain", "ksyms"} for a ProbeInst."""

    def __init__(self, program):
        self.functions = {(f.name, len(f.params)): f for f in program.functions}
        self._calls: dict[int, set] = {}        # function -> what its body calls

    def _body_calls(self, f) -> set:
        c = self._calls.get(id(f))
        if c is None:
            c = self._calls[id(f)] = set()
            _calls(f.decl.body, c)
        return c

    def names(self, inst) -> set:
        """Names of everything the handler calls, directly or through functions."""
        calls: set = set()
        _calls(inst.body, calls)
        todo, seen = list(calls), set()
        while todo:
            key = todo.pop()
            f = self.functions.get(key)
            if f is None or id(f) in seen:
                continue
            seen.add(id(f))
            more = self._body_calls(f) - calls
            calls |= more
            todo.extend(more)
        return {name for name, _ in calls}

    def __call__(self, inst) -> set:
        names = self.names(inst)
        out = set()
        if names & CHAIN:
            out.add("callchain")
        if names & KSYMS:
            out.add("ksyms")
        return out
