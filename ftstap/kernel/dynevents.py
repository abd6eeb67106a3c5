"""Dynamic tracefs events (kprobe_events / uprobe_events, and event probes
in dynamic_events), created per session.

Every event ftstap creates lives in the group `ftstap_<pid>`.  A batch of
definitions is written as one transaction: if the kernel rejects one, the
ones already written are removed before the error is raised.  Closing the
group removes everything it made; `remove_stale_groups()` removes groups of
sessions that died without closing (SIGKILL).

Kernel facts this relies on (measured on Linux 6.x): the *_events files must be
opened O_WRONLY|O_APPEND (Python's "a" mode seeks and gets EINVAL), each
definition must go in a single write() of less than 4 KiB, and a rejected
definition often leaves nothing in error_log.
"""
from __future__ import annotations

import errno
import json
import os
import re
import stat
import tempfile
from ..record import frozen

from ftstap.errors import KernelError
from ftstap.kernel.tracefs import find_tracefs, read_error_log, read_format, EventFormat

GROUP_PREFIX = "ftstap_"
MAX_WRITE = 4096
_GROUP_RE = re.compile(r"^ftstap_(\d+)$")
# "p:grp/ev PLACE ...", "r16:grp/ev PLACE", "e:grp/ev SYSTEM.EVENT ...", "-:grp/ev"
_HEAD_RE = re.compile(r"^(?P<type>[pre])(?P<maxactive>\d*):(?P<group>[^/\s]+)/(?P<event>\S+)"
                      r"\s+(?P<place>\S+)(?P<args>.*)$")

KPROBE_FILE = "kprobe_events"
UPROBE_FILE = "uprobe_events"
DYNAMIC_FILE = "dynamic_events"          # every kind; ftstap writes only eprobes here
_CONFIG = {KPROBE_FILE: "CONFIG_KPROBE_EVENTS (and CONFIG_KPROBES)",
           UPROBE_FILE: "CONFIG_UPROBE_EVENTS",
           DYNAMIC_FILE: "CONFIG_EPROBE_EVENTS"}
_FILES = {"kprobe": KPROBE_FILE, "uprobe": UPROBE_FILE, "eprobe": DYNAMIC_FILE}
# what a probe of each kind needs, said the same way at pass 2 and pass 5
NEEDS = {"kprobe": "kernel.function needs kprobe_events (CONFIG_KPROBE_EVENTS), which this kernel lacks",
         "uprobe": "process probes need uprobe_events (CONFIG_UPROBE_EVENTS), which this kernel lacks",
         "eprobe": "reading through a tracepoint's pointer fields needs event probes "
                   "(dynamic_events, CONFIG_EPROBE_EVENTS), which this kernel lacks"}


def refuse_unservable(specs, root: str | None = None) -> None:
    """Pass 5, before anything is created: refuse a program whose dynamic
    events (EventSpecs) this kernel cannot create.  Pass 2 binds kprobes
    from BTF and kallsyms whatever the kernel can run (as stap compiles
    with debuginfo), so a kernel without kprobe_events is found out here."""
    kinds = {s.kind for s in specs if s.kind in _FILES}
    if not kinds:
        return
    if root is None:
        root = find_tracefs()
    for spec in specs:
        if spec.kind in kinds and not os.path.exists(os.path.join(root, _FILES[spec.kind])):
            raise KernelError(f"probe point {spec.pp or spec.symbol or spec.path} cannot be served: "
                              f"{NEEDS[spec.kind]}")


@frozen
class DynamicEvent:
    """One definition written to kprobe_events, uprobe_events or dynamic_events."""
    kind: str          # "kprobe", "uprobe" or "eprobe"
    type: str          # "p" (entry), "r" (return) or "e" (event probe)
    group: str
    event: str
    place: str         # SYM[+OFF] / 0xADDR / MOD:SYM, /path:0xOFF[(REF)], or SYSTEM.EVENT
    definition: str
    file: str          # absolute path of the *_events file written

    @property
    def name(self) -> str:
        return f"{self.group}/{self.event}"


def parse_definition(text: str) -> tuple[str, str, str, str, str]:
    """Split a definition into (type, group, event, place, kind).

    kind is "eprobe" for `e:`, "uprobe" when PLACE is a path (/bin/x:0x10),
    else "kprobe"."""
    m = _HEAD_RE.match(text.strip())
    if not m:
        raise KernelError(f"malformed dynamic event definition {text!r}: expected "
                          "'p|r[N]|e:GROUP/EVENT PLACE [ARGS]'")
    place = m.group("place")
    kind = "eprobe" if m.group("type") == "e" else "uprobe" if place.startswith("/") else "kprobe"
    return m.group("type"), m.group("group"), m.group("event"), place, kind


def _write_line(path: str, line: str) -> None:
    data = (line.rstrip("\n") + "\n").encode()
    if len(data) >= MAX_WRITE:
        raise KernelError(f"dynamic event definition is {len(data)} bytes; the kernel "
                          f"parses at most {MAX_WRITE - 1} per write: {line[:200]!r}...")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _new_log_lines(before: list[str], after: list[str]) -> list[str]:
    """error_log lines added since `before` (the log is a small ring)."""
    if not before:
        return after
    last = before[-1]
    for i in range(len(after) - 1, -1, -1):
        if after[i] == last:
            return after[i + 1:]
    return after


def _disable(root: str, group: str, event: str) -> None:
    # A definition cannot be removed while its tracefs `enable` is set.
    path = os.path.join(root, "events", group, event, "enable")
    try:
        with open(path) as f:
            on = f.read().strip() not in ("0", "")
        if on:
            fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
            try:
                os.write(fd, b"0")
            finally:
                os.close(fd)
    except OSError:
        pass


def _remove(root: str, file: str, group: str, event: str) -> str | None:
    """Remove one event; None on success (or already gone), else the reason."""
    _disable(root, group, event)
    try:
        _write_line(file, f"-:{group}/{event}")
    except OSError as e:
        if e.errno == errno.ENOENT:
            return None
        if e.errno == errno.EBUSY:
            return f"{group}/{event}: busy (a perf event is still open on it)"
        return f"{group}/{event}: {e.strerror}"
    return None


def registry_dir() -> str | None:
    """Where sessions note the tracepoints they use, for --list-active
    (tracepoints opened through perf leave no trace in tracefs): /run/ftstap,
    else a directory of this user's in /tmp; never one another user owns or
    may write (None: no registry)."""
    from ..safefs import others_can_write
    for d in ("/run/ftstap", os.path.join(tempfile.gettempdir(), f"ftstap-run-{os.geteuid()}")):
        try:
            try:
                os.mkdir(d, 0o755)
            except FileExistsError:
                pass
            st = os.lstat(d)
            if stat.S_ISDIR(st.st_mode) and not others_can_write(st):
                return d
        except OSError:
            continue
    return None


def _registry_names(reg: str | None) -> list[str]:
    try:
        return sorted(os.listdir(reg)) if reg else []
    except OSError:
        return []


class EventGroup:
    """The dynamic events of one session, in group `ftstap_<pid>`.

    Usage:
        with EventGroup() as g:
            g.add([f"p:{g.name}/f1 /bin/true:0x1139 x=%di:s32"])
            ids = g.event_id("f1")
            ...
    """

    def __init__(self, root: str | None = None, pid: int | None = None,
                 name: str | None = None):
        self.root = root or find_tracefs()
        self.pid = os.getpid() if pid is None else pid
        self.name = name or f"{GROUP_PREFIX}{self.pid}"
        self.events: list[DynamicEvent] = []
        self._tracepoints: list[str] = []
        self._closed = False

    # -- creation -------------------------------------------------------
    def _file_for(self, kind: str) -> str:
        fname = _FILES[kind]
        path = os.path.join(self.root, fname)
        if os.path.exists(path):
            return path
        raise KernelError(f"this kernel has no {fname} (needs {_CONFIG[fname]}): "
                          f"cannot create {kind}s")

    def add(self, definitions: str | list[str]) -> list[DynamicEvent]:
        """Write definitions as one transaction; return the created events.

        Each definition must name this group (`p:{self.name}/EVENT ...`).
        On a rejection every definition written by this call is removed and
        KernelError is raised quoting the definition and error_log."""
        if self._closed:
            raise KernelError(f"event group {self.name} is closed")
        if isinstance(definitions, str):
            definitions = [definitions]
        planned: list[DynamicEvent] = []
        for text in definitions:
            text = text.strip()
            typ, group, event, place, kind = parse_definition(text)
            if group != self.name:
                raise KernelError(f"definition {text!r} is not in this session's group {self.name}")
            if kind == "uprobe" and typ == "r" and _HEAD_RE.match(text).group("maxactive"):
                raise KernelError(f"uprobe return probes take no MAXACTIVE: {text!r}")
            if len(text) + 1 >= MAX_WRITE:
                raise KernelError(f"dynamic event definition longer than {MAX_WRITE - 1} "
                                  f"bytes: {text[:200]!r}...")
            # the kernel answers a duplicate name with a bare EINVAL: say it here
            if (os.path.isdir(os.path.join(self.root, "events", group, event))
                    or any(p.event == event for p in planned)):
                raise KernelError(f"an event named {group}/{event} already exists: {text!r}")
            planned.append(DynamicEvent(kind, typ, group, event, place, text, self._file_for(kind)))
        done: list[DynamicEvent] = []
        for ev in planned:
            before = read_error_log(self.root)
            try:
                _write_line(ev.file, ev.definition)
            except OSError as e:
                log = _new_log_lines(before, read_error_log(self.root))
                for d in reversed(done):
                    _remove(self.root, d.file, d.group, d.event)
                msg = (f"the kernel rejected the {ev.kind} definition\n    {ev.definition}\n"
                       f"  ({os.path.basename(ev.file)}: {e.strerror})")
                if done:
                    msg += f"\n  rolled back the {len(done)} event(s) written before it"
                if e.errno in (errno.EACCES, errno.EPERM):
                    msg += "\n  writing dynamic events needs root (CAP_SYS_ADMIN)"
                if log:
                    msg += "\n  error_log:\n" + "\n".join("    " + l for l in log[-6:])
                raise KernelError(msg) from None
            done.append(ev)
        self.events.extend(done)
        return done

    # -- what the runtime needs ------------------------------------------
    def _event(self, event: str) -> DynamicEvent:
        for ev in self.events:
            if ev.event == event:
                return ev
        raise KernelError(f"no event {event} in group {self.name}")

    def event_id(self, event: str) -> int:
        """Tracepoint id (perf attr.config) of one of this group's events."""
        self._event(event)
        with open(os.path.join(self.root, "events", self.name, event, "id")) as f:
            return int(f.read())

    def format(self, event: str) -> EventFormat:
        """The record layout of one of this group's events (its fetch-args)."""
        self._event(event)
        return read_format(self.name, event, self.root)

    def note_tracepoints(self, names: list[str]) -> None:
        """Record "system:event" tracepoints this session opens, so that
        `list_active()` can show them; forgotten on close()."""
        from ..safefs import write_new
        self._tracepoints.extend(names)
        reg = registry_dir()
        if reg is not None:
            data = json.dumps({"pid": self.pid, "tracepoints": self._tracepoints}).encode()
            write_new(os.path.join(reg, f"{self.name}.json"), data, 0o644)

    # -- teardown ----------------------------------------------------------
    def close(self) -> None:
        """Remove every event of this group.  Idempotent; removes what it can
        and raises KernelError naming the ones still in use, so that a later
        close() (after their perf fds are closed) finishes the job."""
        failures = []
        for ev in reversed(list(self.events)):
            why = _remove(self.root, ev.file, ev.group, ev.event)
            if why is None:
                self.events.remove(ev)
            else:
                failures.append(why)
        if self._tracepoints:
            reg = registry_dir()
            try:
                if reg is not None:
                    os.unlink(os.path.join(reg, f"{self.name}.json"))
            except OSError:
                pass
            self._tracepoints = []
        self._closed = not failures
        if failures:
            raise KernelError("could not remove dynamic events: " + "; ".join(failures))

    def __enter__(self) -> "EventGroup":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.close()
        except KernelError:
            if exc_type is None:
                raise   # do not hide the exception already propagating


# ----------------------------------------------------------------------------
# sessions that died, and what is active

def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_definitions(root: str) -> list[tuple[str, str]]:
    """(file, line) for every kprobe, uprobe and eprobe currently defined
    (dynamic_events lists all kinds: only its eprobes are taken from it)."""
    out = []
    for fname in (KPROBE_FILE, UPROBE_FILE, DYNAMIC_FILE):
        path = os.path.join(root, fname)
        try:
            with open(path) as f:
                out.extend((path, line.strip()) for line in f
                           if line.strip() and (fname != DYNAMIC_FILE or line.startswith("e")))
        except OSError:
            continue
    return out


def remove_stale_groups(root: str | None = None) -> list[str]:
    """Remove `ftstap_<pid>` events whose pid is dead; return the groups."""
    root = root or find_tracefs()
    removed: set[str] = set()
    failures = []
    for path, line in _read_definitions(root):
        m = _HEAD_RE.match(line)
        if not m:
            continue
        g = _GROUP_RE.match(m.group("group"))
        if not g or _pid_alive(int(g.group(1))):
            continue
        why = _remove(root, path, m.group("group"), m.group("event"))
        if why:
            failures.append(why)
        else:
            removed.add(m.group("group"))
    reg = registry_dir()
    for name in _registry_names(reg):
        g = _GROUP_RE.match(name[:-5]) if name.endswith(".json") else None
        if g and not _pid_alive(int(g.group(1))):
            try:
                os.unlink(os.path.join(reg, name))
            except OSError:
                pass
    if failures:
        raise KernelError("could not remove stale dynamic events: " + "; ".join(failures))
    return sorted(removed)


@frozen
class ActiveProbe:
    """One row of `ftstap --list-active`."""
    address: str       # hex address, or "-" when it cannot be known
    type: str          # k kprobe, r return probe, u uprobe, t tracepoint, e eprobe on a tracepoint
    target: str        # symbol+offset, /path:offset, or system:event
    pid: int           # owning session
    group: str
    event: str

    def row(self) -> str:
        return f"{self.address:<18} {self.type} {self.target:<48} {self.pid}"


def _kprobe_address(place: str, kallsyms) -> str:
    if place.startswith("0x"):
        return place
    if kallsyms is None:
        return "-"
    sym, _, off = place.partition("+")
    addr = kallsyms.address_of(sym.split(":")[-1])
    if addr is None:
        return "-"
    return f"{addr + (int(off, 0) if off else 0):016x}"


def list_active(root: str | None = None, kallsyms=None) -> list[ActiveProbe]:
    """Probes owned by ftstap sessions that are alive, sorted by pid.

    `kallsyms` (a symbols.Kallsyms) turns kprobe symbols into addresses; it
    is loaded on demand when a kprobe exists.  uprobes show their file offset
    as address, tracepoints show '-'."""
    root = root or find_tracefs()
    rows: list[ActiveProbe] = []
    for _path, line in _read_definitions(root):
        m = _HEAD_RE.match(line)
        if not m:
            continue
        g = _GROUP_RE.match(m.group("group"))
        if not g or not _pid_alive(int(g.group(1))):
            continue
        place, ret = m.group("place"), m.group("type") == "r"
        if m.group("type") == "e":             # an event probe on a tracepoint
            addr, target, typ = "-", place.replace(".", ":", 1), "e"
        elif place.startswith("/"):
            path, _, off = place.rpartition(":")
            off = off.split("(")[0]
            try:
                off = hex(int(off, 0))
            except ValueError:
                pass
            addr, target, typ = "-", f"{path}:{off}", "r" if ret else "u"
        else:
            if kallsyms is None:
                try:
                    from ftstap.kernel.symbols import Kallsyms
                    kallsyms = Kallsyms.load()
                except KernelError:
                    kallsyms = False
            addr = _kprobe_address(place, kallsyms or None)
            target, typ = place, "r" if ret else "k"
        rows.append(ActiveProbe(addr, typ, target, int(g.group(1)), m.group("group"), m.group("event")))
    reg = registry_dir()
    for name in _registry_names(reg):
        g = _GROUP_RE.match(name[:-5]) if name.endswith(".json") else None
        if not g or not _pid_alive(int(g.group(1))):
            continue
        try:
            fd = os.open(os.path.join(reg, name), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            with open(fd) as f:
                tps = json.load(f).get("tracepoints", [])
            tps = [tp for tp in tps if isinstance(tp, str)]
        except (OSError, ValueError, AttributeError):
            continue
        for tp in tps:
            system, _, event = tp.partition(":")
            rows.append(ActiveProbe("-", "t", tp, int(g.group(1)), system, event))
    rows.sort(key=lambda r: (r.pid, r.type, r.target))
    return rows
