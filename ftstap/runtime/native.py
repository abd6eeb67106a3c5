"""The only runtime module that touches the C core (ffi and lib, imported
once by ftstap/image/isa.py, which also answers what the instruction set,
builtin table and header constants are).

It loads program images, applies stap's -D limits, and runs sessions.
"""
from __future__ import annotations

import os

from ..errors import FtstapError, KernelError
from ..image.format import ImageLoadError
from ..image.isa import cstr as _s, ffi, lib

__all__ = ["ImageLoadError", "Program", "Session", "check_image", "make_limits", "run_image", "ffi", "lib"]


# stap's -D names for the fields of ft_limits
LIMIT_FIELDS = {"MAXACTION": "maxaction", "MAXNESTING": "maxnesting", "MAXSTRINGLEN": "maxstringlen",
                "MAXMAPENTRIES": "maxmapentries", "MAXERRORS": "maxerrors", "MAXSKIPPED": "maxskipped",
                "HIST_ELISION": "hist_elision", "MAXBACKTRACE": "maxbacktrace"}


def make_limits(defines: dict | None = None, suppress_handler_errors: bool = False, target_pid: int = 0):
    """An ft_limits with stap's defaults, overridden by -D NAME=VALUE (other names are ignored)."""
    lim = ffi.new("ft_limits *")
    lib.ft_limits_default(lim)
    for name, value in (defines or {}).items():
        field = LIMIT_FIELDS.get(name)
        if field is not None:
            setattr(lim, field, int(value, 0) if isinstance(value, str) else int(value))
    lim.suppress_handler_errors = int(bool(suppress_handler_errors))
    lim.target_pid = int(target_pid or 0)
    return lim


RING_DEFAULT = lib.FT_RING_DEFAULT


def set_target_namespaces(level: int, dev: int, ino: int, uids: list[int], gids: list[int]) -> bool:
    """ns_pid() & co. answer in this pid namespace and these id maps
    (runtime/namespaces.py describes them); False if the maps are refused."""
    rc = lib.ft_ns_target(level, dev, ino, ffi.new("ft_i64[]", uids or [0]), len(uids) // 3,
                          ffi.new("ft_i64[]", gids or [0]), len(gids) // 3)
    return rc == lib.FT_OK


def check_image(image: bytes) -> None:
    """Load and verify an image without running it; ImageLoadError if it is bad."""
    Program(image)


class Program:
    """A loaded, verified image."""

    def __init__(self, image: bytes):
        err = ffi.new("char[]", 512)
        self._buf = bytes(image)
        p = lib.ft_prog_load(self._buf, len(self._buf), err, 512)
        if p == ffi.NULL:
            raise ImageLoadError(f"bad program image: {_s(err)}")
        self.ptr = ffi.gc(p, lib.ft_prog_free)


class Session:
    """One run of a program: globals, stacks and output, allocated up front.

    out_fd receives the script's output, err_fd the ERROR/WARNING lines."""

    def __init__(self, image: bytes | Program, defines: dict | None = None, out_fd: int = 1, err_fd: int = 2,
                 suppress_handler_errors: bool = False, target_pid: int = 0):
        self.vm = None
        self.program = image if isinstance(image, Program) else Program(image)
        self.limits = make_limits(defines, suppress_handler_errors, target_pid)
        err = ffi.new("char[]", 512)
        vm = lib.ft_vm_new(self.program.ptr, self.limits, out_fd, err_fd, err, 512)
        if vm == ffi.NULL:
            raise ImageLoadError(_s(err))
        self.vm = vm

    def set_bulk(self, fds: list[int]) -> None:
        """-b: output to fds[cpu] (-1 where none), each handler's to the file
        of the CPU it ran for, framed for stap-merge (native/out.c)."""
        if lib.ft_vm_set_bulk(self.vm, ffi.new("int[]", fds), len(fds)) != lib.FT_OK:
            raise FtstapError("-b: no per-CPU output file to write to")

    def set_rotation(self, pattern: str, limit: int, keep: int) -> None:
        """-o FILE's rotation: -S (limit bytes per file, keep files) and
        switch_file(); with limit > 0 the runtime opens FILE.0 now."""
        err = ffi.new("char[]", 512)
        if lib.ft_vm_set_rotation(self.vm, pattern.encode("utf-8", "surrogateescape"), limit, keep,
                                  err, 512) != lib.FT_OK:
            raise FtstapError(_s(err))

    def write_output(self, text: str) -> None:
        """Text into the script's output, as a handler running now writes it."""
        data = text.encode()
        lib.ft_vm_write_output(self.vm, data, len(data))

    def set_global(self, index: int, value) -> None:
        """-G NAME=VALUE (scalar globals only)."""
        if isinstance(value, str):
            rc = lib.ft_vm_set_global_str(self.vm, index, value.encode())
        else:
            rc = lib.ft_vm_set_global_int(self.vm, index, int(value))
        if rc != lib.FT_OK:
            raise FtstapError(f"global {index} is not a scalar of that type")

    def global_int(self, index: int) -> int:
        return lib.ft_vm_global_int(self.vm, index)

    def global_str(self, index: int) -> str:
        return _s(lib.ft_vm_global_str(self.vm, index))

    def run(self, timeout_s: float | None = None) -> int:
        """The whole session (begin, timers/events, end); returns the exit status.
        The signals that end a session are read by the C loop meanwhile
        (runtime/signals.py); stop_signal says which one ended it."""
        from .signals import held, noted
        with held():
            status = lib.ft_run(self.vm, int((timeout_s or 0) * 1e9))
        self.late_signal = noted()
        return status

    @property
    def stop_signal(self) -> int:
        """The signal that ended the session (0: none), read by the loop or
        pending when it returned (it came while begin or end probes ran)."""
        return lib.ft_vm_stop_signal(self.vm) or getattr(self, "late_signal", 0)

    def run_probe(self, index: int) -> int:
        """Run one probe handler now: 0, or 1 if it ended with an error."""
        return lib.ft_vm_run_probe(self.vm, index, ffi.NULL)

    @property
    def error_count(self) -> int:
        return lib.ft_vm_error_count(self.vm)

    # ---- live events (native/ring.c); runtime/session.py drives these ----
    def open_event(self, probe: int, type_: int, config: int, period_or_freq: int = 1, flags: int = 0,
                   pid: int = -1, cpu: int = 0, ring_bytes: int = 0) -> int:
        """perf_event_open for probe on (pid, cpu); returns the event index.
        flags: image.isa.EV_* (EventSpec.perf_open)."""
        err = ffi.new("char[]", 512)
        rc = lib.ft_event_open(self.vm, probe, type_, config, period_or_freq, flags, pid, cpu, ring_bytes,
                               err, 512)
        if rc < 0:
            raise KernelError(_s(err))
        return rc

    def set_event_filter(self, ev: int, text: str) -> None:
        err = ffi.new("char[]", 512)
        if lib.ft_event_set_filter(self.vm, ev, text.encode(), err, 512) < 0:
            raise KernelError(_s(err))

    def dispatch_event(self, ev: int, nr: int, probe: int, count: bool = False) -> None:
        """Records of raw_syscalls event ev with syscall number nr run probe
        (count: are only counted, and the counting probe runs at stop)."""
        err = ffi.new("char[]", 512)
        if lib.ft_event_dispatch(self.vm, ev, nr, probe, int(count), err, 512) < 0:
            raise KernelError(_s(err))

    def ftrace_add(self, fd: int, cpu: int) -> None:
        """A trace_pipe_raw fd of CPU cpu (eprobes, native/ftrace.c); closed with the events."""
        if lib.ft_ftrace_add(self.vm, fd, cpu) != lib.FT_OK:
            os.close(fd)
            raise FtstapError("out of memory")

    def ftrace_map(self, type_id: int, probe: int, flags: int = 0) -> None:
        """Records of ftrace event type_id fire probe."""
        if lib.ft_ftrace_map(self.vm, type_id, probe, flags) != lib.FT_OK:
            raise FtstapError("out of memory")

    def enable_events(self) -> None:
        """Enable every opened event at once; the loop then reads their rings."""
        err = ffi.new("char[]", 512)
        if lib.ft_events_enable(self.vm, err, 512) < 0:
            raise KernelError(_s(err))

    def close_events(self) -> None:
        """Disable and close every perf event (idempotent)."""
        if self.vm is not None:
            lib.ft_events_close(self.vm)

    @property
    def event_count(self) -> int:
        return lib.ft_events_count(self.vm)

    def lost(self, probe: int = -1) -> int:
        """Records lost on probe's events (-1: all probes)."""
        return lib.ft_event_lost(self.vm, probe)

    def counter_total(self, probe: int) -> int:
        """The counting-mode events of probe, summed over CPUs, read now."""
        return lib.ft_counter_total(self.vm, probe)

    @property
    def samples(self) -> int:
        """Event samples handled so far."""
        return lib.ft_events_samples(self.vm)

    def load_kallsyms(self, text: bytes) -> int:
        """Kernel text symbols for print_backtrace & co. (native/ksyms.c), from
        the text of /proc/kallsyms; returns how many."""
        n = lib.ft_bt_load_kallsyms(self.vm, text, len(text))
        if n < 0:
            raise FtstapError("out of memory for the kernel symbol table")
        return n

    def track_maps(self) -> None:
        """Before opening events: report executable mmaps for user backtraces."""
        if lib.ft_bt_track_maps(self.vm) != lib.FT_OK:
            raise FtstapError("out of memory")

    def backtrace_line(self, addr: int, pid: int | None = None) -> str:
        """One address as print_backtrace (pid None) or print_ubacktrace of pid writes it."""
        buf = ffi.new("char[]", 1024)
        addr = (addr + (1 << 63)) % (1 << 64) - (1 << 63)      # the same bits as a signed ft_i64
        if pid is None:
            lib.ft_bt_kernel_line(self.vm, addr, buf, 1024)
        else:
            lib.ft_bt_user_line(self.vm, pid, addr, buf, 1024)
        return _s(buf)

    def set_timing(self, on: bool = True) -> None:
        lib.ft_vm_set_timing(self.vm, int(bool(on)))

    def probe_hits(self, probe: int) -> int:
        return lib.ft_vm_probe_hits(self.vm, probe)

    def probe_time(self, probe: int) -> tuple[int, int, int]:
        """(total, min, max) handler ns of probe (with set_timing on)."""
        return tuple(lib.ft_vm_probe_time(self.vm, probe, k) for k in range(3))

    @property
    def nprobes(self) -> int:
        return lib.ft_prog_nprobes(self.program.ptr)

    def set_child(self, pid: int, start_fd: int) -> None:
        """-c: the command (blocked reading start_fd until the begin probes ran)."""
        if lib.ft_vm_set_child(self.vm, pid, start_fd) != lib.FT_OK:
            raise FtstapError(f"bad -c child pid {pid}")

    @staticmethod
    def child_die_with(parent: int) -> bool:
        """In the forked -c command: be killed when parent ends; False if it
        already has."""
        return lib.ft_child_die_with(parent) == 0

    @property
    def child_status(self) -> int:
        """The -c command's wait status once the loop reaped it, else -1."""
        return lib.ft_vm_child_status(self.vm)

    def flush(self) -> None:
        lib.ft_vm_flush(self.vm)

    def close(self) -> None:
        if self.vm is not None:
            lib.ft_vm_free(self.vm)
            self.vm = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()


def run_image(image: bytes, defines: dict | None = None, globals_: dict | None = None,
              out_fd: int | None = None, err_fd: int | None = None, timeout_s: float | None = None,
              suppress_handler_errors: bool = False, target_pid: int = 0,
              outputs=None) -> int:
    """Run an image to the end, as pass 5 does; returns the exit status.
    globals_ maps global index to a -G value; outputs: -b's per-CPU files and
    -o's rotation (runtime/outputs.py)."""
    out_fd = 1 if out_fd is None else out_fd
    err_fd = 2 if err_fd is None else err_fd
    with Session(image, defines, out_fd, err_fd, suppress_handler_errors, target_pid) as s:
        if outputs:
            outputs.attach(s)
        for index, value in (globals_ or {}).items():
            s.set_global(index, value)
        from .signals import status_after
        return status_after(s.run(timeout_s), s.stop_signal)
