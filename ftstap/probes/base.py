"""What every probe provider shares: the event source a probe point is bound
to, the context variables it offers, and the provider interface.

A provider is one file per probe family (special, timer, tracepoint, syscall,
kprobe, uprobe, perf).  Pass 2 asks each one, in registry order, whether it
serves a probe point, and gets back the concrete event sources."""
from __future__ import annotations

import fnmatch
from ..record import mutable
from typing import Any

from ..lang import ast as A
from .grammar import Grammar


@mutable
class ContextVar:
    """A `$name` a probe offers: its stap type and how to fetch it."""
    name: str
    type: str                  # "long" or "string"
    ctype: str = "long"        # the C type, for -L
    fetch: Any = None          # provider-specific plan (a tracepoint field, a fetch-arg...)
    btf_type: int | None = None  # BTF type id (kernel function parameters), for $var->field


@mutable
class EventSource:
    """One concrete thing that fires a handler: its target (probes/targets.py)
    and what the handler sees of it."""
    target: Any                # a probes.targets Target
    pp: str                    # the probe point as stap prints it (pp())
    context: dict[str, ContextVar] = {}
    warning: str | None = None  # e.g. "no process runs it, the probe never fires"
    note: str | None = None     # shown as a warning, never fatal under -W: e.g. "served by a tracepoint"
    prologue: Any = None       # an A.Block run before the handler (syscall.*'s locals)
    version_gates: dict[str, str] = {}   # prologue variables stap defines only up to a release (sema/versions.py)

    @property
    def is_return(self) -> bool:
        """.return probes (@entry, $return)."""
        return self.target.is_return

    @property
    def priority(self) -> int:
        """begin(N) / end(N)."""
        return self.target.priority

    def describe(self) -> str:
        """The event behind the probe, for -p2 comments."""
        return self.target.describe()


class Unservable(Exception):
    """The provider recognizes the probe point but this kernel cannot serve
    it; the message names what is missing (and any alternative)."""


class Provider:
    """Subclasses declare their probe points once, as `grammar`
    (probes/grammar.py: --dump-probe-types prints its patterns, the binder
    asks only the providers of a point's first component) and implement
    resolve(); `listing()` enumerates concrete points for -l."""
    grammar: Grammar = Grammar(())

    @property
    def patterns(self) -> tuple[str, ...]:
        return self.grammar.patterns

    @property
    def families(self) -> tuple[str, ...]:
        return self.grammar.families

    def resolve(self, comps: tuple[A.Component, ...], features) -> list[EventSource] | None:
        """The event sources for this probe point; None if the shape is not
        one this provider knows; [] if it matches nothing on this kernel;
        raises Unservable when the kernel lacks the feature."""
        raise NotImplementedError

    def listing(self, features) -> list[str]:
        return []


def names(comps) -> list[str]:
    return [c.name for c in comps]


def arg_of(comp: A.Component):
    return None if comp.arg is None else comp.arg.value


def has_wildcard(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def match(pattern: str, name: str) -> bool:
    return fnmatch.fnmatchcase(name, pattern) if has_wildcard(pattern) else pattern == name


def quote(s: str) -> str:
    return '"' + s + '"'
