"""kernel.trace("system:event") and kernel.trace("event"), with wildcards:
static tracepoints, their fields as `$name` from the event's format file."""
from __future__ import annotations

from ..errors import KernelError
from .base import ContextVar, EventSource, Provider, Unservable, has_wildcard, match, quote
from .grammar import Grammar
from .targets import TracepointTarget


def field_var(f) -> ContextVar:
    """A tracepoint field as a context variable: char arrays and __data_loc
    char strings are strings, everything else a number."""
    is_char = f.ctype.replace("const ", "").replace("unsigned ", "").strip() == "char"
    if f.is_array and is_char:
        return ContextVar(f.name, "string", f.decl or f"char {f.name}[]", f)
    return ContextVar(f.name, "long", f.decl or f.ctype, f)


def tracepoint_source(features, system: str, event: str, pp: str | None = None,
                      is_return: bool = False) -> EventSource:
    fmt = features.tracepoint_format(system, event)
    ctx = {f.name: field_var(f) for f in fmt.fields}
    return EventSource(TracepointTarget(system, event, fmt.id, is_return), pp or f'kernel.trace("{system}:{event}")',
                       ctx)


class TracepointProvider(Provider):
    grammar = Grammar(("kernel.trace(string)",))

    def resolve(self, comps, features):
        m = self.grammar.match(comps)
        if m is None or m.wrong:
            return None
        pattern = m["trace"]
        if features.events_root is None:
            raise Unservable(f"tracepoints need tracefs: {features.tracefs_error or 'not mounted'}")
        sys_pat, _, ev_pat = pattern.rpartition(":")
        systems = features.tracepoint_systems()
        if sys_pat and not has_wildcard(sys_pat):
            systems = [sys_pat] if sys_pat in systems else []
        elif sys_pat:
            systems = [s for s in systems if match(sys_pat, s)]
        out = []
        for system in systems:
            events = features.tracepoint_events(system)
            if not has_wildcard(ev_pat):
                events = [ev_pat] if ev_pat in events else []
            for event in events:
                if match(ev_pat, event):
                    try:
                        out.append(tracepoint_source(features, system, event))
                    except (KernelError, OSError):
                        continue
        return out

    def listing(self, features):
        if features.events_root is None:
            return []
        return [f"kernel.trace({quote(s + ':' + e)})" for s in features.tracepoint_systems()
                for e in features.tracepoint_events(s)]
