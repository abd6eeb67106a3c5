"""--target-namespaces=PID: the pid and user namespaces stap's ns_* functions
answer in (native/nsmap.c does the per-task work).

The target is described to the C core once, before the session runs: its
level in /proc's pid namespace tree (the NSpid line of /proc/PID/status
lists a task's pid in each namespace from /proc's own down to its own, so
a target with k columns sits at level k-1, and a task's pid there is its
column k-1), its pid namespace's identity (the nsfs inode behind
/proc/PID/ns/pid: a task is counted in only if its namespace is that one
or below it) and its uid_map/gid_map (ids outside mapped to ids inside).
Without the option the namespaces are ftstap's own and nothing is set.
"""
from __future__ import annotations

import os

from ..errors import UsageError


def _status_columns(pid: int, key: str) -> list[int]:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key):
                return [int(x) for x in line[len(key):].split()]
    return []


def _idmap(pid: int, name: str) -> list[int]:
    """uid_map/gid_map as flat (inside, outside, count) triples."""
    try:
        with open(f"/proc/{pid}/{name}") as f:
            return [int(x) for line in f for x in line.split()[:3]]
    except OSError:
        return [0, 0, 4294967295]        # no user namespaces: the identity


def describe(pid: int) -> tuple[int, int, int, list[int], list[int]]:
    """(level, dev, ino, uid triples, gid triples) of process pid's namespaces."""
    try:
        level = len(_status_columns(pid, "NSpid:")) - 1
        st = os.stat(f"/proc/{pid}/ns/pid")
    except (OSError, ValueError):
        raise UsageError(f"--target-namespaces: no process {pid}") from None
    if level < 0:
        raise UsageError(f"--target-namespaces: /proc/{pid}/status has no NSpid line (Linux 4.1 or later)")
    return level, st.st_dev, st.st_ino, _idmap(pid, "uid_map"), _idmap(pid, "gid_map")


def set_target(pid: int) -> None:
    """Make ns_pid() & co. answer in the namespaces of process pid."""
    from .native import set_target_namespaces
    if not set_target_namespaces(*describe(pid)):
        raise UsageError(f"--target-namespaces: cannot use the id maps of process {pid}")
