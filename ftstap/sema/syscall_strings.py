"""Syscall string arguments read by the kernel at the event, where it has
kprobes (lowered before type checking, like sema/rawtp.py).

A syscalls:sys_enter_NAME record holds `filename` as a user pointer; the
string is in the process's memory, which may change or vanish before
ftstap handles the record.  stap reads it at the event.  Where the kernel
has kprobes, a syscall entry probe whose handler reads such a string
(`filename`, `argstr` of syscall.openat: user_string_quoted($filename)) is
served instead by a kprobe on the syscall's wrapper `__x64_sys_NAME(struct
pt_regs *)`, its $params read from the saved user registers
(probes/kprobe.py _syscall_context) and each string fetched by the kernel
with a `ustring` fetch-arg (compile/kread.py).

Not eprobes on the tracepoint: up to at least Linux 6.1 an eprobe reads a
`char *` syscall field (FILTER_PTR_STRING) as one char, so
`+0($filename):ustring` faults (seen in the QEMU guest).  Kernels without
kprobes keep the tracepoint and read the strings after the event, with
pass 2's warning (sema/fieldstrings.py)."""
from __future__ import annotations

from ..errors import KernelError
from ..probes.base import EventSource
from ..probes.targets import KprobeTarget, TracepointTarget
from .fieldstrings import reads_field_strings
from .program import ProbeInst

ENTRY = "sys_enter_"


def _wrapper(features, name: str) -> str | None:
    from ..kernel import arch
    sym = arch.of(features).syscall_wrapper + name
    try:
        return sym if features.kallsyms().lookup_all(sym) else None
    except KernelError:
        return None


def lower_syscall_strings(insts: list[ProbeInst], features) -> list[ProbeInst]:
    """insts, each syscall entry probe that reads a string argument rebound
    to a kprobe on the syscall's wrapper (when the kernel has kprobes and
    the wrapper names every argument the handler reads)."""
    if features is None or not features.has_kprobes:
        return insts
    from ..lang import ast as A
    from ..probes.kprobe import _syscall_context
    from ..probes.syscall import strings_at_event
    from .argfuncs import WIDTH as ARG_FUNCTIONS
    for inst in insts:
        target = inst.source.target
        if type(target) is not TracepointTarget or target.system != "syscalls" or target.is_return \
                or not target.event.startswith(ENTRY) or not reads_field_strings(inst):
            continue
        name = target.event[len(ENTRY):]
        sym = _wrapper(features, name)
        if sym is None:
            continue
        ctx = _syscall_context(features, name, False)
        used = {n.base[1:] for n in A.walk(inst.body)
                if isinstance(n, A.Target) and isinstance(n.base, str) and n.base.startswith("$")}
        if not used <= set(ctx) or any(isinstance(n, A.Call) and n.name in ARG_FUNCTIONS for n in A.walk(inst.body)):
            continue                     # what the wrapper does not name, int_arg(): keep the tracepoint
        inst.source = EventSource(KprobeTarget(sym), inst.source.pp, ctx, warning=inst.source.warning, note=inst.source.note)
        inst.body = strings_at_event(inst.body)
    return insts
