"""Binding probe points: aliases (with prologue `=`, epilogue `+=` and suffix
propagation), wildcards, `?` optional, `!` sufficient, `if (cond)`, then the
providers of ftstap.probes for what remains."""
from __future__ import annotations

import fnmatch
from ..record import mutable

from ..errors import SemanticError
from ..lang import ast as A
from ..lang.printer import probe_point as pp_text
from ..probes import REGISTRY
from ..probes.base import EventSource, Unservable

MAX_ALIAS_DEPTH = 30


@mutable
class Binding:
    source: EventSource
    prologues: list[A.Block]     # in execution order
    epilogues: list[A.Block]     # in execution order
    alias: str | None = None     # the outermost alias matched, as -l prints it


def _comp_match(pattern: A.Component, name: A.Component) -> bool:
    """Does a user's component (may hold wildcards) match an alias name's?"""
    if (pattern.arg is None) != (name.arg is None):
        return False
    if pattern.arg is not None and pattern.arg != name.arg:
        return False
    if any(c in pattern.name for c in "*?["):
        return fnmatch.fnmatchcase(name.name, pattern.name)
    return pattern.name == name.name


def _comp_text(c: A.Component) -> str:
    if c.arg is None:
        return c.name
    v = c.arg.value
    return f'{c.name}("{v}")' if isinstance(v, str) else f"{c.name}({v})"


def _alias_match(alias_name: tuple, comps: tuple):
    """If the alias name matches a prefix of comps, return the suffix."""
    if len(alias_name) > len(comps):
        return None
    for a, c in zip(alias_name, comps):
        if c.name == "**":
            return None
        if not _comp_match(c, a):
            return None
    return comps[len(alias_name):]


# process.function(...) & co. without a program name mean -c's command or -x's process
_PROGRAM_PARTS = frozenset({"function", "statement", "mark", "plt", "library", "provider"})
# process(PID).X: process.X for that process alone (_one_process); .begin,
# .end and .thread.*: probes/process_lifecycle.py
_ONE_PROCESS = frozenset({"syscall"})


def target_program(command: str | None, pid: int | None) -> str | None:
    """The executable of -c CMD (its first word, found as exec would) or of -x PID."""
    import os
    import shlex
    import shutil
    if command:
        try:
            words = shlex.split(command)
        except ValueError:
            return None
        if not words:
            return None
        found = words[0] if "/" in words[0] else shutil.which(words[0])
        return os.path.realpath(found) if found else None
    if pid:
        try:
            return os.readlink(f"/proc/{pid}/exe")
        except OSError:
            return None
    return None


class Binder:
    def __init__(self, aliases: list[A.ProbeAlias], features, program: str | None = None):
        self.features = features
        self.program = program            # -c's / -x's executable, for process.function(...)
        self.by_first: dict[str, list[tuple[tuple, A.ProbeAlias]]] = {}
        for al in aliases:
            for name in al.names:
                self.by_first.setdefault(name.components[0].name, []).append((name.components, al))

    def bind(self, point: A.ProbePoint) -> list[Binding]:
        """All bindings of a user's probe point; errors unless it is optional."""
        try:
            found = self._expand(point.components, point, 0)
        except (SemanticError, Unservable) as e:
            if point.optional or point.sufficient:      # `!` is optional too
                return []
            if isinstance(e, SemanticError):
                raise
            raise SemanticError(f"probe point {pp_text(point)} cannot be served: {e}", point.loc) from None
        if not found and not (point.optional or point.sufficient):
            raise SemanticError(f"probe point mismatch: no match for {pp_text(point)}", point.loc,
                                hint=self._hint(point))
        return found

    def _hint(self, point) -> str | None:
        first = point.components[0].name
        known = sorted(set(self.by_first) | {f for p in REGISTRY for f in p.families})
        close = [k for k in known if k[:2] == first[:2]]
        return f"probe families that exist: {', '.join(close or known[:12])}" if known else None

    def _expand(self, comps: tuple, point: A.ProbePoint, depth: int) -> list[Binding]:
        if depth > MAX_ALIAS_DEPTH:
            raise SemanticError("recursive probe alias expansion", point.loc)
        first = comps[0].name
        out: list[Binding] = []
        matched_alias = False
        matches = []
        for key in list(self.by_first):
            if not (key == first or ("*" in first and fnmatch.fnmatchcase(key, first))):
                continue
            for name, al in self.by_first[key]:
                suffix = _alias_match(name, comps)
                if suffix is not None:
                    matches.append((name, al, suffix))
        # The longest alias name wins: `syscall_any.return` is its own alias,
        # not `syscall_any` with the suffix .return.
        longest: dict[tuple, int] = {}
        for name, al, suffix in matches:
            k = tuple(c.name for c in name[:1])
            longest[k] = max(longest.get(k, 0), len(name))
        wild = "*" in first          # sys*.open: every family it names, aliases and providers alike
        for name, al, suffix in matches:
            if len(name) == longest[tuple(c.name for c in name[:1])]:
                try:
                    found = self._through_alias(al, suffix, point, depth, name)
                except (SemanticError, Unservable):
                    if not wild:
                        raise
                    continue          # syscall_any.open: that family has no such point
                matched_alias = matched_alias or bool(found) or not wild
                out.extend(found)
        if matched_alias and not wild:
            return out
        if first == "process" and comps[0].arg is None and len(comps) > 1 and comps[1].name in _PROGRAM_PARTS:
            if self.program is None:
                raise SemanticError(f"{pp_text(point)} names no program: give it one (process(\"PATH\")) "
                                    "or run with -c CMD or -x PID, whose executable it then means", point.loc)
            comps = (A.Component("process", A.String(self.program), loc=comps[0].loc),) + tuple(comps[1:])
        if first == "process" and isinstance(comps[0].arg, A.Number) and len(comps) > 1 \
                and comps[1].name in _ONE_PROCESS:
            return self._one_process(comps, point, depth)
        for provider in REGISTRY:
            if not any(f == first or ("*" in first and fnmatch.fnmatchcase(f, first)) for f in provider.families):
                continue
            # a wildcard in a fixed name (kerne*.funct*, .maxact*(10)): every probe point it names
            found = [provider.resolve(c, self.features) for c in provider.grammar.concrete(comps) or [comps]]
            if any(f is not None for f in found):
                out += [Binding(s, [], []) for f in found if f for s in f]
                if not wild:
                    return out
        return out

    def _one_process(self, comps: tuple, point: A.ProbePoint, depth: int) -> list[Binding]:
        """process(PID).syscall[.return]: the probe point for every process,
        its handler run only for that process's events (`if (pid() != PID)
        next`, which pass 3 pushes down as a kernel filter)."""
        pid = comps[0].arg.value
        found = self._expand((A.Component("process", None, loc=comps[0].loc),) + tuple(comps[1:]), point,
                             depth + 1)
        loc = comps[0].loc
        gate = A.Block((A.If(A.Binary("!=", A.Call("pid", (), loc=loc), A.Number(pid, loc=loc), loc=loc),
                             A.Next(loc=loc), None, loc=loc),), loc=loc)
        for b in found:
            b.source.pp = b.source.pp.replace("process.", f"process({pid}).", 1)
            b.prologues.insert(0, gate)
        return found

    def _through_alias(self, al: A.ProbeAlias, suffix: tuple, point, depth, name=()) -> list[Binding]:
        out: list[Binding] = []
        for target in al.points:
            try:
                found = self._expand(target.components + suffix, target, depth + 1)
            except (SemanticError, Unservable):
                if target.optional or target.sufficient:
                    continue
                raise
            if not found and not (target.optional or target.sufficient):
                if suffix:
                    raise SemanticError(f"probe point mismatch: {pp_text(target)} does not accept "
                                        f"the suffix .{'.'.join(c.name for c in suffix)}", point.loc)
                raise SemanticError(f"probe alias target {pp_text(target)} matches nothing", target.loc)
            # Execution order: the innermost alias's prologue runs first, its
            # epilogue last.
            concrete = ".".join(_comp_text(c) for c in tuple(name) + tuple(suffix))
            for b in found:
                b.alias = concrete
                if al.epilogue:
                    b.epilogues.insert(0, al.body)
                else:
                    b.prologues.append(al.body)
            out.extend(found)
            if found and target.sufficient:
                break
        return out
