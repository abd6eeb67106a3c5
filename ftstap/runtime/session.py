"""Pass 5 with live kernel events: create, open, run, tear down.

A program image with event probes carries one EventSpec per event id (its
optional events section).  A live session:

  1. removes event groups left by dead sessions (SIGKILL) -- remove_stale_groups;
  2. forks the -c command, which waits on a pipe (it execs only after the
     begin probes have run, so no event of it is missed);
  3. writes every uprobe/kprobe definition in ONE EventGroup transaction
     (group ftstap_<pid>; a rejected definition rolls back the others);
  4. opens every event on every online CPU (ring.c shares one ring per CPU
     between all of them), then enables them all at once;
  5. runs the C loop (begin probes, events, timers, end probes);
  6. in `finally`, on every exit path (normal end, exit(), -T, a signal,
     the output's reader gone, a run-time error, a Python exception):
     closes the perf fds, then removes the group (dynamic events cannot be
     removed while a perf fd holds them), and reaps the -c command.

Signals (runtime/signals.py): every signal that would otherwise kill ftstap
ends the session; while events are being created it raises Interrupted so
that the `finally` runs; inside the loop it is read from a signalfd.  Only
SIGKILL skips teardown: the next session's step 1 cleans up after it, and
the -c command dies with ftstap (PR_SET_PDEATHSIG).
"""
from __future__ import annotations

import os
import signal
import sys
import time

from ..errors import FtstapError, KernelError
from ..image import isa
from ..image.events import PERF_TYPE_TRACEPOINT, EventSpec
from ..image.format import ImageInfo, read_image
from . import native, signals, syscall_dispatch


RING_BUDGET = 64 << 20        # bytes of rings per session when -s is not given
RING_MIN, RING_MAX = 4 << 20, 16 << 20


def default_ring_bytes(ncpus: int) -> int:
    """Per-CPU ring size without -s.  4 MiB measured lossless at full
    rate with a C reader on an idle 2-core machine; with other load
    on the machine the reader is scheduled later, and 4 MiB lost 0.2-20% of
    2 M getppid events where 8-16 MiB lost none.  So: 16 MiB per CPU, down
    to 4 MiB as the CPU count grows (64 MiB in all)."""
    return max(RING_MIN, min(RING_MAX, RING_BUDGET // max(ncpus, 1)))


def online_cpus() -> list[int]:
    from ..kernel.features import parse_cpu_list
    try:
        with open("/sys/devices/system/cpu/online") as f:
            return list(parse_cpu_list(f.read()))
    except OSError:
        return list(range(os.cpu_count() or 1))


def image_events(image: bytes | ImageInfo) -> tuple[list[EventSpec], list[tuple[int, int]]]:
    """(event specs by id, [(probe index, event id)] of the event probes)."""
    info = image if isinstance(image, ImageInfo) else read_image(image)
    return info.specs(), info.event_probes()


def command_argv(cmd: str) -> list[str]:
    """How -c runs CMD: split as staprun splits it (runtime/command.py)."""
    from .command import command_argv as split
    return split(cmd)


def _fork_command(cmd: str) -> tuple[int, int]:
    """-c CMD: a child that execs CMD (see command_argv) once it reads a
    byte from the pipe (EOF: the session ended first; it exits unrun).  It
    is killed when ftstap dies, even by SIGKILL."""
    argv = command_argv(cmd)
    r, w = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:                                   # pragma: no cover - child
        try:
            os.close(w)
            signals.restore_for_command()
            if native.Session.child_die_with(parent) and os.read(r, 1):
                os.close(r)
                try:
                    os.execvp(argv[0], argv)
                except OSError as e:
                    os.write(2, f"ftstap: cannot run {argv[0]}: {e.strerror}\n".encode())
        except BaseException:
            pass
        finally:
            os._exit(127)
    os.close(r)
    os.set_inheritable(w, False)
    return pid, w


def _reap(pid: int, status_from_loop: int) -> int | None:
    """Wait for the -c command; one still running when the session ends is
    sent SIGTERM (then SIGKILL after 2 s), as the session that started it
    ends.  Its wait status if it ended by itself, else None."""
    if status_from_loop >= 0:
        return status_from_loop
    try:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            return st
        os.kill(pid, signal.SIGTERM)
        for _ in range(200):
            if os.waitpid(pid, os.WNOHANG)[0]:
                return None
            time.sleep(0.01)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    return None


def command_failure(status: int | None) -> str | None:
    """stap's warning when the -c command failed (then stap exits 1)."""
    if status is None or status == 0:
        return None
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return f"WARNING: Child process exited with signal {sig} ({signal.strsignal(sig)})"
    if os.WIFEXITED(status):
        return f"WARNING: Child process exited with status {os.WEXITSTATUS(status)}"
    return None


class LiveSession:
    """The kernel side of one run: its EventGroup, perf events and -c command.

    with LiveSession(session, specs, probes, ring_bytes=..., command=...) as live:
        status = session.run(timeout)
    """

    def __init__(self, session: native.Session, specs: list[EventSpec], probes: list[tuple[int, int]],
                 ring_bytes: int = 0, command: str | None = None, cpus: list[int] | None = None):
        self.session, self.specs, self.probes = session, specs, probes
        self.command = command
        self.cpus = cpus if cpus is not None else online_cpus()
        self.ring_bytes = ring_bytes or default_ring_bytes(len(self.cpus))
        self.group = None
        self.instance = None                # tracefs instance of the session's eprobes
        self.child_pid: int | None = None
        self.child_status: int | None = None
        self.filters_rejected = 0           # events opened without their kernel filter (EINVAL)
        self.task_pid = -1                  # > 0: events opened on this process only

    # -- setup ---------------------------------------------------------------
    def start(self) -> "LiveSession":
        from ..kernel.dynevents import EventGroup, remove_stale_groups
        from ..kernel.tracefs import find_tracefs
        signals.install()
        used = sorted({e for _, e in self.probes})
        for e in used:
            if e >= len(self.specs):
                raise FtstapError(f"the image has no event {e}")
        if not used:                   # -c or -t without kernel events
            if self.command is not None:
                self.child_pid, fd = _fork_command(self.command)
                self.session.set_child(self.child_pid, fd)
            return self
        root = find_tracefs()
        from ..kernel.instances import remove_stale_instances
        remove_stale_instances(root)        # before the groups: their eprobes are busy while enabled
        remove_stale_groups(root)
        self.group = EventGroup(root)
        dyn = [e for e in used if self.specs[e].dynamic]
        groups, singles = syscall_dispatch.plan(self.probes, self.specs)
        tps = sorted({self.specs[e].tracepoint for _, e in singles} - {""} |
                     {f"raw_syscalls:sys_{key[0]}" for key in groups})
        with signals.critical():          # made and recorded, or neither
            if dyn:
                self.group.add([self.specs[e].definition(self.group.name, f"e{e}") for e in dyn])
            if tps:
                self.group.note_tracepoints(tps)
        if self.command is not None:
            self.child_pid, fd = _fork_command(self.command)
            self.session.set_child(self.child_pid, fd)      # also sets target()
        if any(self.specs[e].ksyms for e in used):
            self._load_kallsyms()
        if any(self.specs[e].callchain for e in used):
            self.session.track_maps()         # user stacks of processes gone by the time we read them
        ids = {e: self._event_id(root, e) for e in sorted({e for _, e in singles})}
        # every handler acts only for target(): open on -c's process (and what it
        # starts), not system-wide (compile/taskscope.py)
        self.task_pid = self.child_pid if self.child_pid and all(self.specs[e].task for e in used) else -1
        for probe, e in singles:
            self._open(probe, self.specs[e], ids[e])
        for (which, flags, common, _), members in groups.items():
            self._open_dispatched(root, which, flags, common, members)
        self._start_ftrace(root, ids)
        self.session.enable_events()
        return self

    def _start_ftrace(self, root: str, ids: dict) -> None:
        """eprobes write only to an ftrace ring buffer: enable them in an
        instance of this session's own and hand its per-CPU readers to
        native/ftrace.c."""
        eprobes = [(probe, e) for probe, e in self.probes if self.specs[e].via_ftrace]
        if not eprobes:
            return
        from ..kernel.instances import Instance
        with signals.critical():
            self.instance = Instance(root, ring_bytes=self.ring_bytes)
        for probe, e in eprobes:
            self.session.ftrace_map(ids[e], probe, isa.EV_RETURN if self.specs[e].is_return else 0)
        for e in sorted({e for _, e in eprobes}):
            with signals.critical():
                self.instance.enable(self.group.name, f"e{e}")
        for cpu in self.cpus:
            self.session.ftrace_add(self.instance.open_cpu(cpu), cpu)

    def _load_kallsyms(self) -> None:
        """The kernel's text symbols for print_backtrace & co. (native/ksyms.c)."""
        from ..kernel.symbols import Kallsyms
        self.session.load_kallsyms(Kallsyms.load().text.encode())

    def _event_id(self, root: str, e: int) -> int | None:
        spec = self.specs[e]
        if spec.tracepoint:
            path = os.path.join(root, "events", spec.system, spec.event, "id")
            try:
                with open(path) as f:
                    return int(f.read())
            except OSError as ex:
                raise KernelError(f"{spec.describe()}: no tracepoint "
                                  f"{spec.tracepoint} on this kernel ({ex.strerror})") from None
        if spec.dynamic:
            name = f"e{e}"
            if spec.fields:
                fmt = self.group.format(name)
                for fname, off in spec.fields.items():
                    got = fmt.field(fname)
                    if got is None or got.offset != off:
                        raise KernelError(f"{spec.pp}: the kernel laid out fetch-arg {fname} at offset "
                                          f"{getattr(got, 'offset', None)}, pass 3 planned {off}")
            return self.group.event_id(name)
        return None

    def _open(self, probe: int, spec: EventSpec, event_id: int | None) -> None:
        if spec.via_ftrace:
            return                            # read from the ftrace instance (_start_ftrace)
        typ, config, period, flags = spec.perf_open(event_id)
        if spec.tracepoint:
            from ..kernel.tracefs import WEIGHTED_TRACEPOINTS
            if spec.tracepoint in WEIGHTED_TRACEPOINTS:
                flags |= isa.EV_PERIOD          # one sample per event (native/ring.c)
        pid = self.task_pid
        if pid > 0:
            flags |= isa.EV_INHERIT
        for cpu in self.cpus:
            try:
                ev = self.session.open_event(probe, typ, config, period, flags, pid, cpu, self.ring_bytes)
            except KernelError as ex:
                raise KernelError(f"{spec.pp or spec.kind}: {ex}") from None
            if spec.filter:
                try:
                    self.session.set_event_filter(ev, spec.filter)
                except KernelError as ex:
                    if spec.counting:    # a counter counts what the filter lets through: no fallback
                        raise KernelError(f"{spec.pp}: {ex} (counting mode needs it; "
                                          f"FTSTAP_NO_PUSHDOWN=1 runs the handler instead)") from None
                    # the handler still tests the condition (compile/kfilter.py):
                    # an unfiltered event gives the same results, only slower
                    self.filters_rejected += 1

    def _open_dispatched(self, root: str, which: str, flags: int, common: str,
                         members: list[tuple[int, int]]) -> None:
        """One raw_syscalls:sys_<which> event per CPU for many syscall probes,
        each record run by the probe of its number (runtime/syscall_dispatch.py)."""
        path = os.path.join(root, "events", "raw_syscalls", f"sys_{which}", "id")
        try:
            with open(path) as f:
                event_id = int(f.read())
        except (OSError, ValueError) as ex:
            raise KernelError(f"no tracepoint raw_syscalls:sys_{which} on this kernel "
                              f"({getattr(ex, 'strerror', ex)})") from None
        filter_ = syscall_dispatch.kernel_filter(members, common)
        pid = self.task_pid
        if pid > 0:
            flags |= isa.EV_INHERIT
        count = bool(flags & isa.EV_COUNT)    # counting probes: tallied per record (native/counters.c)
        flags &= ~isa.EV_COUNT
        for cpu in self.cpus:
            ev = self.session.open_event(members[0][0], PERF_TYPE_TRACEPOINT, event_id, 1, flags, pid, cpu,
                                         self.ring_bytes)
            for probe, nr in members:
                self.session.dispatch_event(ev, nr, probe, count)
            if filter_:
                try:
                    self.session.set_event_filter(ev, filter_)
                except KernelError as ex:
                    if count and common:    # a tally counts what the filter lets through: no fallback
                        raise KernelError(f"raw_syscalls:sys_{which}: {ex} (counting mode needs it; "
                                          f"FTSTAP_NO_PUSHDOWN=1 runs the handlers instead)") from None
                    self.filters_rejected += 1    # the dispatch picks the numbers, the handlers test the rest

    # -- teardown ------------------------------------------------------------
    def close(self) -> None:
        """Every exit path: close perf fds, remove the group, reap -c.  A
        signal meanwhile is noted (runtime/signals.py), never raised."""
        with signals.deferred():
            self.session.close_events()
            if self.instance is not None:
                try:
                    self.instance.close()
                except KernelError as ex:
                    print(f"WARNING: {ex}", file=sys.stderr)
                self.instance = None
            if self.group is not None:
                try:
                    self.group.close()
                except KernelError as ex:
                    print(f"WARNING: {ex}", file=sys.stderr)
            if self.child_pid is not None and self.child_status is None:
                self.child_status = _reap(self.child_pid, self.session.child_status)
                self.child_pid = None

    def __enter__(self) -> "LiveSession":
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:
        self.close()


def hit_report(session: native.Session, names: list[str]) -> str:
    """-t: stap's probe hit report, with handler time in ns."""
    lines = ["----- probe hit report: "]
    for i, name in enumerate(names):
        hits = session.probe_hits(i)
        if not hits:
            continue
        total, lo, hi = session.probe_time(i)
        lines.append(f"{name}, hits: {hits}, ns: {lo}min/{total // hits}avg/{hi}max, index: {i}")
    return "\n".join(lines) + "\n"


def run_live(image: bytes, globals_: dict | None = None, *, defines: dict | None = None, out_fd: int = 1,
             err_fd: int = 2, timeout_s: float | None = None, suppress_handler_errors: bool = False,
             target_pid: int = 0, command: str | None = None, buffer_mb: int | None = None,
             timing: bool = False, warnings_errors: bool = False, ring_bytes: int = 0,
             specs: list[EventSpec] | None = None, outputs=None,
             info: ImageInfo | None = None, http: str | None = None) -> int:
    """Run an image whose probes include kernel events; returns the exit status
    (1 on errors, and under -W when records were lost).  info: the image as
    read_image() parsed it (parsed here if not given: read once per run);
    specs: the events by id, when the image does not carry them; outputs:
    -b's per-CPU files and -o's rotation (runtime/outputs.py); http: --http, for procfs probes (runtime/sidecar.py)."""
    info = read_image(image) if info is None else info
    specs = info.specs() if specs is None else specs
    probes = info.event_probes()
    with native.Session(image, defines, out_fd, err_fd, suppress_handler_errors, target_pid) as s:
        if outputs:
            outputs.attach(s)
        for index, value in (globals_ or {}).items():
            s.set_global(index, value)
        if timing:
            s.set_timing(True)
        ring = ring_bytes or (buffer_mb or 0) * 1024 * 1024
        from .sidecar import serve
        with LiveSession(s, specs, probes, ring_bytes=ring, command=command) as live, serve(s, info, http):
            status = s.run(timeout_s)
            lost = s.lost()
        failed = command_failure(live.child_status)
        if failed:
            os.write(err_fd, (failed + "\n").encode())
            status = status or 1
        status = signals.status_after(status, s.stop_signal)
        if timing:
            s.write_output(hit_report(s, [p.name for p in info.probes]))
        if warnings_errors and lost:
            status = status or 1
        return status
