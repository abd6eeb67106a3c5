"""-l / -L PATTERN, --dump-probe-types and --dump-functions.

-l prints every probe point PATTERN expands to on this kernel (alias names
as the user would write them, provider points as pp() shows them); -L adds
each point's variables: the locals an alias sets, with their types, then
the context variables with their C types, as stap -L does."""
from __future__ import annotations

from ..errors import FtstapError
from ..lang import ast as A
from ..options import SYSTEMTAP_VERSION
from ..probes import REGISTRY
from .builtins import BUILTINS
from .elaborate import _collect
from .probes import Binder
from .program import ProbeInst
from .types import Checker
from .versions import apply_version_gates


def _points(pattern: str):
    from ..lang.frontend import run_pass1
    from ..lang.source import Source
    result = run_pass1(Source("<pattern>", f"probe {pattern} {{}}"), [])
    probe = next(i for i in result.script.items if isinstance(i, A.Probe))
    return result.tapsets, result.script, probe


def _tname(t) -> str:
    return {"stat": "stats"}.get(t, t or "unknown")


def list_probes(pattern: str, features, with_vars: bool, notes: list[str] | None = None,
                language: str = SYSTEMTAP_VERSION) -> list[str]:
    """The lines of -l/-L; notes (when given) gets -L's warnings, as pass 2
    gives them: strings these variables read after the event.  language:
    --compatible's version, which decides some variables (sema/versions.py)."""
    tapsets, script, probe = _points(pattern)
    # The pattern may define its own aliases (stap wraps it as `probe PATTERN {}`).
    globals_, functions, aliases, _ = _collect(tapsets + [script], [True] * len(tapsets) + [False])
    binder = Binder(aliases, features)
    lines: dict[str, str] = {}
    insts: list[ProbeInst] = []
    for point in probe.points:
        for b in _bind_each(binder, point):
            name = b.alias or b.source.pp
            if name in lines:
                continue
            apply_version_gates(b.source, language, False, None)
            if with_vars and notes is not None:
                notes.extend(n for n in _serving_notes(name, b.source, features) if n not in notes)
            lines[name] = _vars(b, globals_, functions, features, insts) if with_vars else ""
    if notes is not None:
        from .fieldstrings import late_string_warnings
        from .syscall_strings import lower_syscall_strings
        notes.extend(late_string_warnings(lower_syscall_strings(insts, features), features))
    return sorted((f"{k} {v}".rstrip() for k, v in lines.items()))


def _bind_each(binder, point) -> list:
    """The point's bindings, as an optional point; when a wildcard names
    several aliases and one of them cannot be served here (scsi.* where
    scsi.ioentry needs kprobes), those that can, one by one, as stap -L
    lists every point that resolves."""
    from .probes import _alias_match
    found = binder.bind(A.ProbePoint(point.components, True, point.sufficient, None, point.loc))
    if found or not any("*" in c.name for c in point.components):
        return found
    names = {comps for key, pairs in binder.by_first.items() for comps, _ in pairs
             if _alias_match(comps, point.components) == () and not key.startswith("__")}
    out = []
    for comps in sorted(names, key=lambda c: [x.name for x in c]):
        out.extend(binder.bind(A.ProbePoint(comps, True, False, None, point.loc)))
    return out


def _serving_notes(name: str, source, features) -> list[str]:
    """-L's word on how this kernel serves a probe point, where that is not
    the point itself: an approximation (a tracepoint for a kernel function)
    or a probe this kernel cannot run (refused at pass 5)."""
    from ..kernel.dynevents import NEEDS
    out = []
    out.extend(w for w in (source.warning, source.note) if w)
    kind = getattr(source.target, "kind", "")
    can = {"kprobe": features.has_kprobes, "uprobe": features.has_uprobes}.get(kind)
    if can is False:
        out.append(f"WARNING: {name} cannot run on this kernel: {NEEDS[kind]}")
    return out


def _vars(binding, globals_, functions, features, insts: list) -> str:
    parts = []
    generated = binding.source.prologue
    body = ([generated] if generated is not None else []) + list(binding.prologues) + list(binding.epilogues)
    if (binding.alias or generated is not None) and body:
        inst = ProbeInst(source=binding.source, body=A.Block(tuple(body)))
        try:
            from .entry import lower_entry            # pipe.return's @entry($fildes)
            gl = dict(globals_)
            lower_entry([inst], gl, features)
            Checker(gl, functions, guru=True, features=features).check([inst])
            insts.append(inst)
            parts.extend(f"{v.name}:{_tname(v.type)}" for v in inst.locals.values()
                         if not v.name.startswith("__entry_"))
        except FtstapError:
            pass
    if not binding.alias and generated is None:
        parts.extend(f"${v.name}:{_ctype(v)}" for v in binding.source.context.values())
        parts.extend(f"${v.name}:{_ctype(v).replace(' *', '*')}" for v in _raw_arguments(binding.source, features)
                     if v.name not in binding.source.context)
    return " ".join(parts)


def _raw_arguments(source, features) -> list:
    """A tracepoint's own arguments ($prev of sched_switch), which a handler
    can read where sema/rawtp.py can serve them."""
    from ..kernel import arch
    from ..probes.targets import TracepointTarget
    from .rawtp import raw_arguments
    target = source.target
    if type(target) is not TracepointTarget or target.is_return or features is None or \
            not arch.of(features).iterator_kprobes:
        return []
    return list(raw_arguments(features, target.event).values())


def _ctype(v) -> str:
    """"char prev_comm[16]" -> "char[16]", "pid_t prev_pid" -> "pid_t"."""
    t = v.ctype.replace(f" {v.name}[", "[").replace(f"*{v.name}[", "*[")
    if t.endswith(f" {v.name}") or t.endswith(f"*{v.name}"):
        t = t[:-len(v.name)].rstrip()
    return t


def probe_types() -> list[str]:
    out = []
    for p in REGISTRY:
        out.extend(getattr(p, "patterns", ()))
    return out


def dump_functions(tapsets) -> list[str]:
    out = []
    names = {"long": "long", "string": "string", "void": "unknown"}
    for name, (params, ret) in sorted(BUILTINS.items()):
        args = ", ".join(f"arg{i + 1}:{t}" for i, t in enumerate(params))
        out.append(f"{name}:{names[ret]} ({args})")
    for t in tapsets:
        for f in t.items:
            if isinstance(f, A.Function) and not f.private:
                args = ", ".join(f"{p.name}:{p.type or 'unknown'}" for p in f.params)
                out.append(f"{f.name}:{f.rtype or 'unknown'} ({args})")
    return sorted(out)
