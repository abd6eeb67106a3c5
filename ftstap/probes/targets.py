"""What a probe point is bound to: one typed target per kind of event.

A provider (probes/*.py) returns EventSources whose `target` says exactly
what fires the handler.  The target answers what later passes ask of it,
so they never compare kind strings: how it reads in -p2 (describe), what
the image calls its probe (probe_kind, timing), what its handler may read
(record_fields, fetch_args, first_fetch_offset), whether its events can be
counted or scoped to one task, and the EventSpec pass 3 writes for it
(spec).  ply's provider interface is the model.

Records, not dataclasses: see ftstap/record.py."""
from __future__ import annotations

from typing import Any

from ..record import frozen


class Target:
    """What every target answers; the defaults are those of a kernel event."""
    kind = ""
    probe_kind = "event"       # the image's probe kind: begin end error never timer event
    record_fields = False      # a format record (tracepoint): kernel filters, counting, eprobe reads
    fetch_args = False         # registers read by fetch-args (kprobe, uprobe)
    per_task = False           # may be opened on -c's process alone (compile/taskscope.py)
    once = False               # fired by the runtime outside the event stream (begin end error never)
    is_return = False
    priority = 0
    timing = (0, 0)            # (interval_ns, randomize_ns) of a timer

    def describe(self) -> str:
        """The event behind the probe, for -p2 comments."""
        return self.kind

    @property
    def first_fetch_offset(self) -> int:
        """Where the first fetch-arg lies in the event's record (after the
        common fields, and the return address of a return probe)."""
        return 24 if self.is_return else 16

    def spec(self, pp: str, fetched: bool = False, **common: Any):
        """The image.events.EventSpec of this event; fetched: pass 3 planned
        fetch-args for it.  common: pp's callchain, args and fields."""
        from ..errors import FtstapError
        raise FtstapError(f"{pp}: {self.kind} probes are not kernel events")

    def _spec(self, kind: str, pp: str, **kw: Any):
        from ..image.events import EventSpec      # pass 3 only: keeps pass 2's imports light
        return EventSpec(kind, pp=pp, is_return=bool(self.is_return), **kw)


@frozen
class SpecialTarget(Target):
    """begin, end, error, never: fired by the runtime itself."""
    kind: str
    priority: int = 0
    once = True

    @property
    def probe_kind(self) -> str:
        return self.kind


@frozen
class TimerTarget(Target):
    """timer.ms(N) and friends: a timerfd in the event loop."""
    interval_ns: int
    randomize_ns: int = 0
    kind = "timer"
    probe_kind = "timer"

    @property
    def timing(self) -> tuple[int, int]:
        return self.interval_ns, self.randomize_ns

    def describe(self) -> str:
        return f"timerfd every {self.interval_ns} ns" + (
            f" (+random {self.randomize_ns} ns)" if self.randomize_ns else "")


@frozen
class TracepointTarget(Target):
    """A static tracepoint; an eprobe on it when the handler reads through a pointer."""
    system: str
    event: str
    id: int = 0
    is_return: bool = False    # a syscall exit
    kind = "tracepoint"
    record_fields = True
    per_task = True
    first_fetch_offset = 8     # an eprobe: the common fields, then the args

    @property
    def name(self) -> str:
        return f"{self.system}:{self.event}"

    def describe(self) -> str:
        return f"tracepoint {self.name}"

    def spec(self, pp, fetched=False, **common):
        return self._spec("eprobe" if fetched else "tracepoint", pp, system=self.system, event=self.event,
                          **common)


@frozen
class KprobeTarget(Target):
    """kprobe_events p:/r: at symbol+offset; maxactive for a return probe."""
    symbol: str
    offset: int = 0
    maxactive: int = 0
    is_return: bool = False
    kind = "kprobe"
    fetch_args = True
    per_task = True

    def describe(self) -> str:
        return f"kprobe {'r' if self.is_return else 'p'}:{self.symbol}" + (f"+{self.offset}" if self.offset else "")

    def spec(self, pp, fetched=False, **common):
        return self._spec("kprobe", pp, symbol=self.symbol, offset=int(self.offset),
                          maxactive=int(self.maxactive), **common)


@frozen
class UprobeTarget(Target):
    """uprobe_events at a file offset of an ELF program (symbol, SDT note)."""
    path: str
    offset: int
    symbol: str = ""
    sdt: Any = None            # kernel.symbols' SDT note of a .mark probe
    is_return: bool = False
    kind = "uprobe"
    fetch_args = True
    per_task = True

    def describe(self) -> str:
        return f"uprobe {self.path}:0x{self.offset:x}" + (" (return)" if self.is_return else "")

    def spec(self, pp, fetched=False, **common):
        return self._spec("uprobe", pp, path=self.path, offset=int(self.offset), symbol=self.symbol, **common)


@frozen
class PerfTarget(Target):
    """A perf_event sampling event: every sample_period events or sample_freq per second."""
    type: int
    config: int
    sample_period: int = 0
    sample_freq: int = 0
    per_cpu: bool = False      # timer.profile: one per CPU, as stap's
    kind = "perf"

    def describe(self) -> str:
        return f"perf_event type {self.type} config {self.config}"

    def spec(self, pp, fetched=False, **common):
        return self._spec("perf", pp, type=int(self.type), config=int(self.config),
                          sample_period=int(self.sample_period), sample_freq=int(self.sample_freq), **common)


@frozen
class ProcfsTarget(Target):
    """procfs("NAME").read/.write: a file ftstap serves itself (native/http.c),
    the probe run on each read or write.  The image keeps the file name as
    the probe's event (a string id), maxsize and umask as its timing."""
    file: str
    write: bool = False
    maxsize: int = 0           # .maxsize(N): bytes a read may return (0: MAXSTRINGLEN)
    umask: int = -1            # .umask(M), -1 when not given (stap's 0400 / 0200)
    kind = "procfs"
    once = True

    @property
    def probe_kind(self) -> str:
        return "procfs_write" if self.write else "procfs_read"

    @property
    def timing(self) -> tuple[int, int]:
        return self.maxsize, self.umask

    def describe(self) -> str:
        return f"procfs file {self.file} ({'write' if self.write else 'read'}), served by ftstap"

    def rewrite_body(self, block):
        from .procfs_value import rewrite_value
        return rewrite_value(block, self.write)
