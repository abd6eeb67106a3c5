"""process.syscall and process.syscall.return: every system call of every
process, as stap's utrace-era probe points name them, with their context
variables: `$syscall` (the number), `$arg1`..`$arg6` on entry, `$return`
on return.  Served by the raw_syscalls:sys_enter/sys_exit tracepoints,
whose records carry the number and the six argument registers (or the
return value): each `$argN` is one 8-byte slot of the record's args[6]."""
from __future__ import annotations

from ..kernel.tracefs import Field
from .base import ContextVar, EventSource, Provider, Unservable
from .grammar import Grammar
from .tracepoint import tracepoint_source


def _renamed(var: ContextVar, name: str) -> ContextVar:
    """var as $name; its C type without the field's own name ("long id" -> "long")."""
    ctype = var.ctype
    if ctype.endswith(" " + var.name):
        ctype = ctype[:-len(var.name)].rstrip()
    return ContextVar(name, var.type, ctype, var.fetch)


def syscall_context(src: EventSource, is_return: bool) -> dict[str, ContextVar]:
    """$syscall, and $arg1..$arg6 or $return, of a raw_syscalls source
    (process("PATH").syscall shares them: probes/process_lifecycle.py)."""
    ctx = {"syscall": _renamed(src.context["id"], "syscall")}
    if is_return:
        ctx["return"] = _renamed(src.context["ret"], "return")
        return ctx
    args = src.context["args"].fetch
    width = args.size // args.dims[0]
    for i in range(args.dims[0]):
        slot = Field(f"arg{i + 1}", args.ctype, args.offset + i * width, width, args.signed,
                     decl=f"unsigned long arg{i + 1}")
        ctx[f"arg{i + 1}"] = ContextVar(f"arg{i + 1}", "long", "unsigned long", slot)
    return ctx


class ProcessSyscallProvider(Provider):
    grammar = Grammar(("process.syscall[.return]",))

    def resolve(self, comps, features):
        m = self.grammar.match(comps)
        if m is None or m.wrong:
            return None
        is_return = "return" in m
        event = "sys_exit" if is_return else "sys_enter"
        if features.events_root is None or not features.has_tracepoint("raw_syscalls", event):
            raise Unservable(f"process.syscall needs the raw_syscalls:{event} tracepoint "
                             "(CONFIG_FTRACE_SYSCALLS)")
        pp = "process.syscall" + (".return" if is_return else "")
        src = tracepoint_source(features, "raw_syscalls", event, pp)
        return [EventSource(src.target, pp, syscall_context(src, is_return))]

    def listing(self, features):
        return ["process.syscall", "process.syscall.return"]
