"""kernel.function("f")[.call|.return], kprobe.function("f")[.return],
module("m").function("f"), kernel.statement("f+0x10"): kprobe_events.

Function parameters become `$name` (BTF names and types; x86-64 argument
registers); `$return` in .return probes.  On a kernel without
kprobe_events, syscall entry points are served by the syscalls tracepoints
with a warning; anything else fails naming CONFIG_KPROBE_EVENTS."""
from __future__ import annotations

import re

from ..errors import KernelError
from .base import ContextVar, EventSource, Provider, Unservable, arg_of, has_wildcard
from .tracepoint import tracepoint_source

ARG_REGS = ("%di", "%si", "%dx", "%cx", "%r8", "%r9")
_SYSCALL_ENTRY = re.compile(r"^(?:__x64_sys_|__ia32_sys_|__se_sys_|__do_sys_|ksys_|sys_)(\w+)$")
RENAMED = {"do_fork": "kernel_clone (renamed in Linux 5.10)",
           "_do_fork": "kernel_clone (renamed in Linux 5.10)",
           "do_sys_open": "do_sys_openat2 (Linux 5.6)"}
SUFFIXES = ("call", "return", "inline", "exported")


def _shape(comps):
    """(family, pattern, is_return, module) or None."""
    n = [c.name for c in comps]
    if n[0] == "kernel" and len(n) >= 2 and n[1] in ("function", "statement") and comps[0].arg is None:
        pattern, rest = comps[1], comps[2:]
        family, module = "kernel", None
    elif n[0] == "kprobe" and len(n) >= 2 and n[1] == "function":
        pattern, rest = comps[1], comps[2:]
        family, module = "kprobe", None
    elif n[0] == "module" and len(n) >= 3 and n[2] == "function":
        pattern, rest = comps[2], comps[3:]
        family, module = "module", arg_of(comps[0])
    else:
        return None
    if not isinstance(arg_of(pattern), str):
        return None
    suffix = [c.name for c in rest]
    if any(s not in SUFFIXES + ("maxactive",) for s in suffix):
        return None
    return family, arg_of(pattern), "return" in suffix, module, pattern.name == "statement"


def _btf_context(features, func: str, is_return: bool) -> dict[str, ContextVar]:
    ctx: dict[str, ContextVar] = {}
    try:
        btf = features.btf_reader()
        params = btf.func_params(func)
    except (KernelError, KeyError, LookupError):
        return ctx
    for i, p in enumerate(params[:len(ARG_REGS)]):
        ctype = btf.describe(p.type) if hasattr(p, "type") else "long"
        ctx[p.name] = ContextVar(p.name, "long", ctype, ("reg", ARG_REGS[i]), btf_type=p.type)
    if is_return:
        ctx["return"] = ContextVar("return", "long", "long", ("retval",))
    return ctx


class KprobeProvider(Provider):
    families = ("kernel", "kprobe", "module")
    patterns = ("kernel.function(string)[.call|.return]", "kernel.statement(string)", "kprobe.function(string)[.return]", "module(string).function(string)[.call|.return]")

    def resolve(self, comps, features):
        shape = _shape(comps)
        if shape is None:
            return None
        family, pattern, is_return, module, statement = shape
        if features.kprobe_events:
            return self._kprobes(features, family, pattern, is_return, module)
        return self._fallback(features, pattern, is_return)

    def _kprobes(self, features, family, pattern, is_return, module):
        syms = features.kallsyms()
        base = pattern.split("@")[0]
        found = syms.glob(base, module) if has_wildcard(base) else syms.lookup_all(base)
        out = []
        seen = set()
        for s in found:
            if s.name in seen or s.type not in "tT":
                continue
            seen.add(s.name)
            pp = f'{family}.function("{s.name}")' + (".return" if is_return else "")
            out.append(EventSource("kprobe", pp, {"symbol": s.name}, _btf_context(features, s.name, is_return),
                                   is_return=is_return))
        return out

    def _fallback(self, features, pattern, is_return):
        m = _SYSCALL_ENTRY.match(pattern)
        missing = "kernel.function needs kprobe_events (CONFIG_KPROBE_EVENTS), which this kernel lacks"
        if m and not has_wildcard(pattern) and features.events_root:
            event = ("sys_exit_" if is_return else "sys_enter_") + m.group(1)
            if features.has_tracepoint("syscalls", event):
                src = tracepoint_source(features, "syscalls", event,
                                        f'kernel.function("{pattern}")' + (".return" if is_return else ""))
                src.is_return = is_return
                if is_return and "ret" in src.context:
                    src.context["return"] = src.context["ret"]
                src.warning = (f"WARNING: kernel.function(\"{pattern}\") is served by the tracepoint "
                               f"syscalls:{event}: {missing}")
                return [src]
        hint = RENAMED.get(pattern)
        alt = f"; did you mean {hint}?" if hint else ""
        if features.events_root and not has_wildcard(pattern):
            tps = [f"{s}:{pattern}" for s in ("sched", "syscalls", "net", "signal", "block", "irq")
                   if s in features.tracepoint_systems() and features.has_tracepoint(s, pattern)]
            if tps:
                alt += f"; a tracepoint exists: kernel.trace(\"{tps[0]}\")"
        raise Unservable(missing + alt)
