"""Many syscall probes on one raw_syscalls event instead of a tracepoint each.

`syscall.*` binds ~360 syscalls:sys_enter_NAME tracepoints: one perf event
per CPU each.  Closing the last perf event of a tracepoint unregisters the
kernel's probe and waits for an RCU grace period under the kernel's event
mutex (~20-45 ms each, one after the other): tearing `syscall.*` down took
15-20 s in a background closer holding ~700 fds, and a session starting
meanwhile waited behind it.  So a group of syscall probes is opened as ONE
raw_syscalls:sys_enter (or sys_exit) event per CPU, and native/records.c
hands each record to the probe of its syscall number (ft_event_dispatch).
The records are laid out alike (the number at 8, the arguments or the
return value from 16), so the handlers are the ones pass 3 compiled for
the syscalls:* tracepoints.  Records of 32-bit tasks run nothing: their
numbers mean other calls, and syscalls:* never reports them either.

Grouped: syscalls:sys_enter_NAME / sys_exit_NAME events whose number this
machine knows, when at least MIN_GROUP probes share the direction, the perf
flags and the kernel filter (pushdown), and that filter tests only the
fields every tracepoint has (COMM, common_pid, ...: the arguments are named
differently in raw_syscalls).  Probes that print a backtrace always go
through raw_syscalls, one alone too: syscalls:* hand perf the task's user
registers, so their samples carry no kernel stack; raw_syscalls's do.  A
filter of theirs on named fields is dropped (their handler still tests the
condition, compile/kfilter.py).  Counting-mode
probes (`n[name]++` on syscall.*) are grouped too, apart from sampled ones:
a counter cannot tell the numbers apart, so their records are tallied per
number in native/records.c and each probe runs once at stop with its total
(native/counters.c) -- ~170 ns per event in the kernel instead of ~25 ns
for a counter, but 2 perf events instead of ~720, and no 15-20 s teardown.
FTSTAP_NO_SYSCALL_DISPATCH=1 opens every other tracepoint as before (to compare).
"""
from __future__ import annotations

import os
import re

from ..image import isa
from ..image.events import EventSpec

MIN_GROUP = 8          # fewer: their own tracepoints filter in the kernel, and close quickly
MAX_FILTERED = 100     # up to this many numbers, the kernel filters on them (id == a || ...)
COMMON_FIELDS = {"COMM", "comm", "CPU", "cpu", "common_pid", "common_type", "common_flags",
                 "common_preempt_count"}


def _common_only(filter_: str) -> bool:
    """Does a tracepoint filter test only fields every tracepoint has?"""
    words = re.findall(r"[A-Za-z_]\w*", re.sub(r'"(?:[^"\\]|\\.)*"', "", filter_))
    return all(w in COMMON_FIELDS for w in words)


def _syscall(spec: EventSpec) -> tuple[str, int] | None:
    """("enter"|"exit", number) of a groupable syscalls:* event, else None."""
    if spec.kind != "tracepoint" or spec.system != "syscalls" or \
            not (_common_only(spec.filter) or spec.callchain):
        return None
    which, _, name = spec.event.partition("_")[2].partition("_")      # sys_enter_NAME
    if which not in ("enter", "exit") or not name:
        return None
    nr = isa.syscall_nr(name)
    return (which, nr) if nr >= 0 else None


def plan(probes: list[tuple[int, int]], specs: list[EventSpec]):
    """(groups, rest): groups maps (direction, flags, filter, layer) to
    [(probe, nr)] (one raw_syscalls event per CPU each), rest the (probe,
    event) pairs opened one by one."""
    disabled = os.environ.get("FTSTAP_NO_SYSCALL_DISPATCH") == "1"
    candidates: dict[tuple[str, int], list[tuple[int, int, int]]] = {}
    rest = []
    for probe, e in probes:
        got = _syscall(specs[e])
        if got is None or (disabled and not specs[e].callchain):
            rest.append((probe, e))
            continue
        flags = specs[e].perf_open(0)[3]
        filter_ = specs[e].filter if _common_only(specs[e].filter) else ""   # callchain: handler tests it
        candidates.setdefault((got[0], flags, filter_), []).append((probe, e, got[1]))
    groups = {}
    for key, members in candidates.items():
        # one probe per number and event: two probes on one call keep their
        # own events -- their own tracepoints, or (backtraces) a raw_syscalls
        # event each: layer n holds each number's n-th probe
        seen: dict[int, int] = {}
        layers: list[list[tuple[int, int, int]]] = []
        for m in members:
            n = seen[m[2]] = seen.get(m[2], -1) + 1
            if n == len(layers):
                layers.append([])
            layers[n].append(m)
        single = [m for m in layers[0] if seen[m[2]] == 0]
        callchain = bool(key[1] & isa.EV_CALLCHAIN)
        if callchain:
            for n, layer in enumerate(layers):
                groups[key + (n,)] = [(probe, nr) for probe, _, nr in layer]
            continue
        rest.extend((probe, e) for probe, e, nr in members if seen[nr] > 0)
        if len(single) < MIN_GROUP:
            rest.extend((probe, e) for probe, e, _ in single)
        else:
            groups[key + (0,)] = [(probe, nr) for probe, _, nr in single]
    return groups, rest


def kernel_filter(members: list[tuple[int, int]], common: str = "") -> str:
    """The tracepoint filter of a group: its probes' own (common) filter, and
    only the group's numbers when they are few ("" when neither)."""
    numbers = sorted({nr for _, nr in members})
    ids = " || ".join(f"id == {nr}" for nr in numbers) if len(numbers) <= MAX_FILTERED else ""
    if common and ids:
        return f"({common}) && ({ids})"
    return common or ids
