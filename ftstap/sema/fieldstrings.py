"""Strings that a tracepoint's pointer fields point to (the syscalls'
filename, pathname, ...): when they are read.

A syscall entry probe reading them is served by a kprobe where the kernel
has kprobes, which reads them at the event (sema/syscall_strings.py).
Elsewhere the only way is reading the process's memory when ftstap handles
the record, milliseconds later: by then the process may have reused the
buffer (a wrong string) or exited (the address is shown).  Pass 2 and -L
say so once, with the probes it concerns."""
from __future__ import annotations

from ..lang import ast as A

# stap's functions that read a user string through a pointer argument
USER_STRING_READERS = frozenset({
    "user_string", "user_string_quoted", "user_string_n", "user_string_n_quoted", "user_string_n2",
    "user_string2", "user_string_warn", "user_string2_warn", "user_string_n_warn", "user_string_n2_quoted",
    "kernel_string", "kernel_string_quoted"})


def reads_field_strings(inst, names=USER_STRING_READERS) -> list[str]:
    """The record fields whose pointed-to strings this handler reads with
    one of names (`user_string($filename)`), in order, each once."""
    out: list[str] = []
    if not inst.source.target.record_fields:
        return out
    for n in A.walk(inst.body):
        if not (isinstance(n, A.Call) and n.name in names and n.args):
            continue
        t = n.args[0]
        if not (isinstance(t, A.Target) and isinstance(t.base, str) and not t.members and not t.addr
                and not t.suffix and not t.base.startswith("$$")) or t.base[1:] in out:
            continue
        f = getattr(inst.source.context.get(t.base[1:]), "fetch", None)
        if f is not None and hasattr(f, "offset") and not f.is_array and not f.loc:
            out.append(t.base[1:])
    return out


def late_string_warnings(insts, features) -> list[str]:
    """One warning naming the probes whose strings are read after the event
    (the tracepoint probes still reading them once sema/syscall_strings.py
    has moved what it can to kprobes)."""
    late = [inst for inst in insts if reads_field_strings(inst)]
    if features is None or not late:
        return []
    pps = sorted({str(inst.pp) for inst in late})
    fields = sorted({"$" + f for inst in late for f in reads_field_strings(inst)})
    shown = ", ".join(pps[:3]) + (f" and {len(pps) - 3} more" if len(pps) > 3 else "")
    why = ("this kernel lacks kprobes, CONFIG_KPROBE_EVENTS, which read them at syscall entries"
           if not features.has_kprobes else "only syscall entry probes read them at the event, by kprobes")
    return [f"WARNING: {shown}: the strings at {', '.join(fields[:4])} are read from the process's memory "
            f"when ftstap handles the event, not at the event ({why}): memory the process reused shows "
            "its later contents, and a process that has exited shows the address"]
