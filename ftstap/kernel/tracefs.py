"""tracefs: finding/mounting it, listing tracepoints, reading event formats.

Dynamic event creation (kprobe/uprobe definitions) lives in dynevents.py;
this file is the read side that everything else shares.
"""
from __future__ import annotations

import errno
import os
import re
from ..record import frozen

from ftstap.errors import KernelError

CANDIDATES = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")

# Entries of events/ that are control files, not systems.
_NOT_SYSTEMS = frozenset({"enable", "filter", "header_page", "header_event"})

# Tracepoints whose perf count grows by a value of the event, not by one
# (TP_ARGS(__perf_count(x)) in include/trace/events/sched.h: sched_stat_runtime
# adds nanoseconds).  Their format files do not say so.  Counted, they give
# that sum; sampled without PERF_SAMPLE_PERIOD, that many samples.
WEIGHTED_TRACEPOINTS = frozenset(f"sched:sched_stat_{e}" for e in ("runtime", "wait", "sleep", "iowait", "blocked"))

_found: str | None = None


def _is_mounted(path: str) -> bool:
    # An unmounted /sys/kernel/tracing is an empty directory; a mounted one
    # always has events/ (and README).
    return os.path.isdir(os.path.join(path, "events"))


def _in_mount_table(path: str) -> bool:
    """Is a tracefs (or debugfs holding tracing/) mounted at path?"""
    try:
        with open("/proc/self/mounts") as f:
            mounts = [line.split()[1:3] for line in f if len(line.split()) > 2]
    except OSError:
        return False
    return any(point == path and fs == "tracefs" for point, fs in mounts) or \
        any(fs == "debugfs" and os.path.join(point, "tracing") == path for point, fs in mounts)


def _mount_tracefs(target: str) -> None:
    """mount -t tracefs nodev TARGET, by the syscall (no mount(8) needed)."""
    import ctypes
    import ctypes.util
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_void_p]
    if libc.mount(b"nodev", target.encode(), b"tracefs", 0, None) != 0:
        e = ctypes.get_errno()
        raise KernelError(f"cannot mount tracefs on {target}: {os.strerror(e)}"
                          " (is CONFIG_TRACING enabled?)")


def find_tracefs(mount: bool = True) -> str:
    """Return the tracefs directory, mounting it on /sys/kernel/tracing when
    it is missing and we are root.  Raises KernelError otherwise."""
    global _found
    if _found is not None and _is_mounted(_found):
        return _found
    for path in CANDIDATES:
        if _is_mounted(path):
            _found = path
            return path
    target = CANDIDATES[0]
    for path in CANDIDATES:
        if not os.access(path, os.R_OK | os.X_OK) and _in_mount_table(path):
            raise KernelError(f"tracefs is mounted on {path} but only root may use it "
                              f"(mode {os.stat(path).st_mode & 0o777:o}): run ftstap as root")
    if not os.path.isdir(target):
        raise KernelError(f"{target} does not exist: this kernel has no tracefs "
                          "(CONFIG_TRACING / CONFIG_FTRACE is off)")
    if not mount:
        raise KernelError(f"tracefs is not mounted on {target}")
    if os.geteuid() != 0:
        raise KernelError(f"tracefs is not mounted on {target} and only root can "
                          f"mount it: run ftstap as root, or `mount -t tracefs nodev {target}`")
    _mount_tracefs(target)
    if not _is_mounted(target):
        raise KernelError(f"mounted tracefs on {target} but it has no events/ directory")
    _found = target
    return target


# --------------------------------------------------------------------------
# listing tracepoints

def list_systems(root: str | None = None) -> list[str]:
    """Tracepoint systems (subdirectories of events/), sorted."""
    root = root or find_tracefs()
    try:
        with os.scandir(os.path.join(root, "events")) as it:
            return sorted(e.name for e in it if e.is_dir() and e.name not in _NOT_SYSTEMS)
    except OSError as e:
        raise KernelError(f"cannot list {root}/events: {e.strerror}") from None


def list_events(system: str, root: str | None = None) -> list[str]:
    """Event names of one system, sorted; [] if the system does not exist."""
    root = root or find_tracefs()
    try:
        with os.scandir(os.path.join(root, "events", system)) as it:
            return sorted(e.name for e in it if e.is_dir())
    except FileNotFoundError:
        return []


def has_event(system: str, event: str, root: str | None = None) -> bool:
    root = root or find_tracefs()
    return os.path.isfile(os.path.join(root, "events", system, event, "format"))


def read_error_log(root: str | None = None) -> list[str]:
    """Lines of tracefs error_log (empty when missing or unreadable)."""
    root = root or find_tracefs()
    try:
        with open(os.path.join(root, "error_log")) as f:
            return f.read().splitlines()
    except OSError:
        return []


# --------------------------------------------------------------------------
# event format files

_CHAR_TYPES = frozenset({"char", "const char", "signed char", "unsigned char"})


@frozen
class Field:
    """One field of a tracepoint record, as the event's `format` file gives it.

    `ctype` is the element type with qualifiers but without the name, the
    __data_loc/__rel_loc marker or array dimensions ("const char *", "char",
    "u64").  `loc` is "data" or "rel" for dynamic arrays: the field then holds
    a u32 whose low 16 bits are the offset (from the record start for data,
    from the end of this field for rel) and high 16 bits the length."""
    name: str
    ctype: str
    offset: int
    size: int
    signed: bool
    loc: str | None = None
    dims: tuple[int | None, ...] = ()   # fixed array dims; None for "[]"
    decl: str = ""                      # the declaration as written

    @property
    def dynamic(self) -> bool:
        return self.loc is not None

    @property
    def is_array(self) -> bool:
        return bool(self.dims) or self.dynamic

    @property
    def is_string(self) -> bool:
        """A NUL-terminated string stored in the record (char arrays,
        __data_loc char[]); a `char *` is a pointer, not a string."""
        return self.ctype in _CHAR_TYPES and self.is_array

    @property
    def is_pointer(self) -> bool:
        return self.ctype.endswith("*") and not self.is_array


@frozen
class EventFormat:
    name: str
    id: int
    common_fields: tuple[Field, ...]
    fields: tuple[Field, ...]
    print_fmt: str = ""
    system: str = ""

    def field(self, name: str) -> Field | None:
        for f in self.fields + self.common_fields:
            if f.name == name:
                return f
        return None

    @property
    def all_fields(self) -> tuple[Field, ...]:
        return self.common_fields + self.fields

    @property
    def record_size(self) -> int:
        """Size of the fixed part of the record (dynamic data follows it)."""
        return max((f.offset + f.size for f in self.all_fields), default=0)


_FIELD_RE = re.compile(r"^\s*field:(?P<decl>[^;]*);\s*offset:(?P<off>\d+);\s*size:(?P<size>\d+);"
                       r"(?:\s*signed:(?P<signed>-?\d+);)?")
_DECL_RE = re.compile(r"^(?P<type>.*?)\s*(?<![\w$])(?P<name>[A-Za-z_$][\w$]*)\s*"
                      r"(?P<dims>(?:\[[^\]]*\]\s*)*)$")
_DIM_RE = re.compile(r"\[([^\]]*)\]")


def _parse_dims(text: str) -> tuple[int | None, ...]:
    out: list[int | None] = []
    for d in _DIM_RE.findall(text):
        d = d.strip()
        if not d:
            out.append(None)
        else:
            try:
                out.append(int(d, 0))
            except ValueError:
                out.append(None)   # a macro the kernel did not expand
    return tuple(out)


def _norm_ctype(t: str) -> str:
    """One spelling per type: single spaces, stars as "char **"."""
    t = re.sub(r"\s*\*\s*", "*", re.sub(r"\s+", " ", t.strip()))
    return re.sub(r"(?<![*\s])\*", " *", t)


def parse_field(line: str) -> Field | None:
    """Parse one `field:...;` line; None if the line is not a field."""
    m = _FIELD_RE.match(line)
    if not m:
        return None
    decl = m.group("decl").strip()
    d = _DECL_RE.match(decl)
    if not d:
        raise KernelError(f"cannot parse tracepoint field declaration {decl!r}")
    ctype = d.group("type").strip()
    dims = _parse_dims(d.group("dims"))
    loc = None
    for marker, kind in (("__data_loc", "data"), ("__rel_loc", "rel")):
        if ctype.startswith(marker + " "):
            loc = kind
            ctype = ctype[len(marker):].strip()
            # "__data_loc char[] name": the [] belongs to the dynamic array
            while ctype.endswith("]"):
                ctype = ctype[:ctype.rindex("[")].rstrip()
            break
    ctype = _norm_ctype(ctype)
    signed = m.group("signed")
    return Field(name=d.group("name"), ctype=ctype, offset=int(m.group("off")),
                 size=int(m.group("size")), signed=signed is not None and int(signed) != 0,
                 loc=loc, dims=dims, decl=decl)


def parse_format(text: str, system: str = "") -> EventFormat:
    """Parse the text of events/SYSTEM/EVENT/format."""
    name, ev_id, print_fmt = "", -1, ""
    common: list[Field] = []
    fields: list[Field] = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("name:"):
            name = s[5:].strip()
        elif s.startswith("ID:"):
            ev_id = int(s[3:].strip())
        elif s.startswith("print fmt:"):
            print_fmt = s[len("print fmt:"):].strip()
        elif s.startswith("field:"):
            f = parse_field(s)
            if f is None:
                raise KernelError(f"cannot parse tracepoint format line {s!r}")
            (common if f.name.startswith("common_") else fields).append(f)
    if not name or ev_id < 0:
        raise KernelError("not a tracepoint format file (no name: or ID: line)")
    return EventFormat(name=name, id=ev_id, common_fields=tuple(common),
                       fields=tuple(fields), print_fmt=print_fmt, system=system)


def read_format(system: str, event: str, root: str | None = None) -> EventFormat:
    """Read and parse events/SYSTEM/EVENT/format of the running kernel (or of
    a snapshot directory laid out the same way, given as `root`)."""
    root = root or find_tracefs()
    path = os.path.join(root, "events", system, event, "format")
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        raise KernelError(f"no tracepoint {system}:{event} on this kernel "
                          f"({path} does not exist)") from None
    except OSError as e:
        raise KernelError(f"cannot read {path}: {e.strerror}") from None
    return parse_format(text, system)


def event_id(system: str, event: str, root: str | None = None) -> int:
    """The perf tracepoint id of SYSTEM:EVENT (events/SYSTEM/EVENT/id)."""
    root = root or find_tracefs()
    path = os.path.join(root, "events", system, event, "id")
    try:
        with open(path) as f:
            return int(f.read())
    except FileNotFoundError:
        raise KernelError(f"no tracepoint {system}:{event} on this kernel") from None
    except OSError as e:
        if e.errno == errno.EACCES:
            raise KernelError(f"cannot read {path}: permission denied (run as root)") from None
        raise KernelError(f"cannot read {path}: {e.strerror}") from None
