"""A tracepoint's own arguments (`$next` of kernel.trace("sched:sched_switch")),
lowered before type checking.

stap's kernel.trace() offers the tracepoint's C arguments (TP_PROTO:
`$prev`, `$next`, pointers to task_struct), read from debuginfo.  The
event's record holds only the fields its format file lists (`$next_comm`,
`$next_pid`), and no eprobe can reach an argument the record does not
keep.  Where the kernel has kprobes the arguments can still be read at the
tracepoint's iterator `__traceiter_EVENT(void *__data, ARGS...)`, whose
parameters BTF names and types: a probe whose handler reads an argument
that is not a field becomes a kprobe there (`$next->comm` by BTF offsets,
as in any kprobe).  The perf and ftrace handlers (perf_trace_CLASS,
trace_event_raw_event_CLASS) are notrace, which kprobes refuse.

The iterator runs only while the tracepoint has callbacks, and (static
calls) only when it has two or more: with one, the call site jumps to that
callback directly.  So the probe brings two enablers that register one
each: the tracepoint opened as a perf counter (it writes no record) and an
eprobe with no fetch-args in the session's ftrace instance (its records run
an empty handler).  Reading fields and arguments in one handler is refused:
the kprobe has no record fields.  Binding needs BTF and kallsyms only; a
kernel without kprobe_events or eprobes refuses them at pass 5, as for
kernel.function."""
from __future__ import annotations

from ..errors import KernelError, SemanticError
from ..lang import ast as A
from ..probes.base import EventSource
from ..probes.targets import KprobeTarget, TracepointTarget
from ..record import frozen
from .program import ProbeInst

ITERATOR = "__traceiter_"


@frozen
class EnablerTarget(TracepointTarget):
    """The tracepoint opened as a perf counter (no samples), only so that it
    has a callback (perf_trace_CLASS) and runs its iterator."""
    only_enables = True

    def describe(self) -> str:
        return f"tracepoint {self.name}, counted only (a callback, so that __traceiter_{self.event} runs)"


@frozen
class EprobeEnablerTarget(TracepointTarget):
    """An eprobe with no fetch-args on the tracepoint: its second callback."""

    def describe(self) -> str:
        return f"eprobe on {self.name} (a second callback, so that __traceiter_{self.event} runs)"

    def spec(self, pp, fetched=False, **common):
        return self._spec("eprobe", pp, system=self.system, event=self.event, **common)


def _used(body) -> list[tuple[str, object]]:
    """($name, loc) of every context variable the body names."""
    out = []
    for n in A.walk(body):
        if isinstance(n, A.Target) and isinstance(n.base, str) and n.base.startswith("$") \
                and not n.base.startswith("$$"):
            out.append((n.base[1:].rstrip("$"), n.loc))
    return out


def raw_arguments(features, event: str) -> dict:
    """The tracepoint's arguments as kprobe context variables of its
    iterator (without `__data`); {} when BTF or kallsyms do not describe one."""
    from ..probes.kprobe import _btf_context
    handler = ITERATOR + event
    try:
        if not features.kallsyms().lookup_all(handler):
            return {}
    except KernelError:
        return {}
    ctx = _btf_context(features, handler, False)
    ctx.pop("__data", None)
    return ctx


def lower_raw_arguments(insts: list[ProbeInst], features) -> list[ProbeInst]:
    """insts with each tracepoint probe that reads an argument rebound to the
    kprobe on its perf handler; one enabler per tracepoint appended."""
    out = list(insts)
    enabled: set[str] = set()
    for inst in insts:
        target = inst.source.target
        if type(target) is not TracepointTarget or target.is_return:
            continue
        used = _used(inst.body)
        if not any(name not in inst.source.context for name, _ in used):
            continue
        args = raw_arguments(features, target.event)
        wanted = [(n, loc) for n, loc in used if n not in inst.source.context and n in args]
        if not wanted:
            continue
        from ..kernel import arch
        a = arch.of(features)
        if not a.iterator_kprobes:
            name, loc = wanted[0]
            raise SemanticError(f"'${name}' is an argument of tracepoint {target.system}:{target.event}, not a field "
                                f"of its record; ftstap reads such arguments with a kprobe on {ITERATOR}"
                                f"{target.event}, which does not fire on {a.name} kernels (seen on Debian's "
                                "6.1): read the record's fields instead", loc)
        fields = [(n, loc) for n, loc in used if n in inst.source.context and n not in args]
        if fields:
            name, loc = fields[0]
            raise SemanticError(f"'${name}' is a field of the tracepoint's record and '${wanted[0][0]}' one of "
                                f"its arguments, read by a kprobe on {ITERATOR}{target.event}, which has no "
                                f"record fields: one probe cannot read both (use two probes)", loc)
        inst.source = EventSource(KprobeTarget(ITERATOR + target.event), inst.source.pp, args,
                                  warning=inst.source.warning, note=inst.source.note)
        if target.name not in enabled:
            enabled.add(target.name)
            for kind in (EnablerTarget, EprobeEnablerTarget):
                src = EventSource(kind(target.system, target.event, target.id), inst.pp, {})
                out.append(ProbeInst(source=src, body=A.Block(()), point=inst.point, user_probe=inst.user_probe,
                                     index=len(out)))
    return out
