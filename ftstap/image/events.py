"""The kernel events of a program image: one EventSpec per event id, what
pass 3 plans and pass 5 creates and opens.

An EventSpec knows how it is defined in tracefs and opened: `definition()`
is the ONE writer of kprobe/uprobe/eprobe lines (`-p3` prints what pass 5
writes, byte for byte), `perf_open()` the perf_event_open arguments.  It is
JSON in the image (to_dict/from_dict), checked field by field by
image/eventcheck.py when an image is read.
"""
from __future__ import annotations

from ..record import mutable

from . import isa

PERF_TYPE_HARDWARE, PERF_TYPE_SOFTWARE, PERF_TYPE_TRACEPOINT = 0, 1, 2


@mutable
class EventSpec:
    """One kernel event an event probe fires on.  kind: "tracepoint"
    (system, event), "eprobe" (an event probe on that tracepoint), "uprobe"
    (path, offset), "kprobe" (symbol, offset, maxactive), "perf" (type,
    config, sample_period | sample_freq).  args are fetch-args
    "NAME=FETCH[:TYPE]" of uprobes/kprobes/eprobes; fields optionally maps a
    fetch-arg name to the record offset codegen assumed, checked against the
    created event's format file before anything runs."""
    kind: str
    pp: str = ""
    system: str = ""
    event: str = ""
    path: str = ""
    offset: int = 0
    symbol: str = ""
    args: list = []
    is_return: bool = False
    maxactive: int = 0
    type: int = 0
    config: int = 0
    sample_period: int = 0
    sample_freq: int = 0
    callchain: bool = False
    ksyms: bool = False       # its backtraces are printed with kernel symbols (compile/needs.py)
    filter: str = ""
    counting: bool = False    # a counter, no samples: the probe runs once at stop (compile/counting.py)
    task: bool = False        # the handler acts only for target(): may be opened on -c's process (taskscope.py)
    fields: dict = {}

    def to_dict(self) -> dict:
        return {k: v for k in self._fields if (v := getattr(self, k)) not in ("", 0, False, [], {}) or k == "kind"}

    @classmethod
    def from_dict(cls, d: dict) -> "EventSpec":
        return cls(**{k: v for k, v in d.items() if k in cls._fields})

    # -- how it is created ------------------------------------------------------
    @property
    def dynamic(self) -> bool:
        """Created by a definition line in the session's event group."""
        return self.kind in ("uprobe", "kprobe", "eprobe")

    @property
    def tracepoint(self) -> str:
        """"system:event" of a static tracepoint opened as it is, else ""."""
        return f"{self.system}:{self.event}" if self.kind == "tracepoint" else ""

    @property
    def via_ftrace(self) -> bool:
        """Read from an ftrace instance (eprobes never reach perf), not opened with perf."""
        return self.kind == "eprobe"

    @property
    def has_tracefs_id(self) -> bool:
        """Opened as a PERF_TYPE_TRACEPOINT by the id tracefs gives it."""
        return self.kind != "perf"

    def definition(self, group: str, name: str) -> str:
        """The dynamic_events line that creates it as GROUP/NAME (-p3 prints
        it with GROUP for the session's group)."""
        args = "".join(" " + a for a in self.args)
        if self.kind == "eprobe":
            return f"e:{group}/{name} {self.system}.{self.event}{args}"
        if self.kind == "uprobe":
            return f"{'r' if self.is_return else 'p'}:{group}/{name} {self.path}:{self.offset:#x}{args}"
        if self.kind == "kprobe":
            place = self.symbol + (f"+{self.offset}" if self.offset else "")
            head = ("r" + (str(self.maxactive) if self.maxactive else "")) if self.is_return else "p"
            return f"{head}:{group}/{name} {place}{args}"
        raise ValueError(f"a {self.kind} event has no tracefs definition")

    # -- how it is opened ------------------------------------------------------
    def perf_open(self, event_id: int | None) -> tuple[int, int, int, int]:
        """(perf type, config, period or frequency, isa.EV_* flags) of its
        perf_event_open; event_id is its tracefs id (has_tracefs_id)."""
        flags = (isa.EV_RETURN if self.is_return else 0) | (isa.EV_CALLCHAIN if self.callchain else 0)
        if self.kind == "perf":
            flags |= isa.EV_NORAW
            if self.sample_freq:
                return self.type, self.config, self.sample_freq, flags | isa.EV_FREQ
            return self.type, self.config, self.sample_period or 1, flags
        if self.kind == "tracepoint":
            flags |= isa.EV_DEFER_CLOSE       # nothing to remove after it: close in the background
        if self.counting:
            flags |= isa.EV_COUNT
        return PERF_TYPE_TRACEPOINT, event_id, 1, flags

    def describe(self) -> str:
        """Where it is, for error messages."""
        return self.pp or self.tracepoint or self.kind
