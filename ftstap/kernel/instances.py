"""tracefs instances: an ftrace ring buffer of a session's own.

Event probes (eprobes, compile/kread.py) write only to ftrace ring
buffers, never to perf.  A session that has any creates the instance
`instances/ftstap_<pid>`, enables its eprobes there (not in the global
buffer other tools read), and native/ftrace.c reads each CPU's
trace_pipe_raw.  Its buffer is as large per CPU as the session's perf rings
(-s MB, else runtime/session.py default_ring_bytes): the kernel's default,
1.4 MB, lost half of 1 M getppid records read as fast as they came, 16 MB
none.  Closing disables them and removes the instance; instances
of sessions that died (SIGKILL) are removed at the next start, before
their eprobes, which the kernel keeps busy while enabled.
"""
from __future__ import annotations

import errno
import os
import re
import time

from ftstap.errors import KernelError

_NAME_RE = re.compile(r"^ftstap_(\d+)$")


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


class Instance:
    def __init__(self, root: str, pid: int | None = None, ring_bytes: int = 0):
        self.name = f"ftstap_{os.getpid() if pid is None else pid}"
        self.path = os.path.join(root, "instances", self.name)
        self.enabled: list[str] = []
        try:
            os.mkdir(self.path)
        except OSError as e:
            why = "it already exists" if e.errno == errno.EEXIST else e.strerror
            raise KernelError(f"cannot create tracefs instance {self.path}: {why}") from None
        try:   # wake a reader as soon as there is data (the default waits for half a buffer)
            _write(os.path.join(self.path, "buffer_percent"), "0")
        except OSError:
            pass
        try:   # the perf samples' clock (CLOCK_MONOTONIC): one time order for both (native/order.c)
            _write(os.path.join(self.path, "trace_clock"), "mono")
        except OSError as e:
            _remove(self.path)
            raise KernelError(f"cannot set trace_clock of {self.path} to mono: {e.strerror}") from None
        if ring_bytes > 0:     # per CPU, as the perf rings
            kb = (ring_bytes + 1023) // 1024
            try:
                _write(os.path.join(self.path, "buffer_size_kb"), str(kb))
            except OSError as e:
                _remove(self.path)
                raise KernelError(f"cannot set buffer_size_kb of {self.path} to {kb}: {e.strerror}") from None

    def enable(self, group: str, event: str) -> None:
        path = os.path.join(self.path, "events", group, event, "enable")
        try:
            _write(path, "1")
        except OSError as e:
            raise KernelError(f"cannot enable {group}/{event} in {self.path}: {e.strerror}") from None
        self.enabled.append(path)

    def open_cpu(self, cpu: int) -> int:
        path = os.path.join(self.path, "per_cpu", f"cpu{cpu}", "trace_pipe_raw")
        try:
            return os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as e:
            raise KernelError(f"cannot open {path}: {e.strerror}") from None

    def close(self) -> None:
        """Disable what was enabled and remove the instance (its readers must
        be closed already).  Idempotent."""
        for path in self.enabled:
            try:
                _write(path, "0")
            except OSError:
                pass
        self.enabled = []
        _remove(self.path)


def _remove(path: str) -> None:
    for _ in range(50):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError as e:
            if e.errno != errno.EBUSY:
                raise KernelError(f"cannot remove tracefs instance {path}: {e.strerror}") from None
            time.sleep(0.02)            # a reader's close may still be in flight
    raise KernelError(f"cannot remove tracefs instance {path}: still busy")


def remove_stale_instances(root: str) -> list[str]:
    """Remove `instances/ftstap_<pid>` of sessions that are gone."""
    from .dynevents import _pid_alive
    base = os.path.join(root, "instances")
    removed = []
    try:
        names = os.listdir(base)
    except OSError:
        return removed
    for name in names:
        m = _NAME_RE.match(name)
        if m and not _pid_alive(int(m.group(1))):
            _remove(os.path.join(base, name))
            removed.append(name)
    return removed
