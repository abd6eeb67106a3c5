"""tracefs on the real kernel: mounting, listing, real format files."""
import os
import shutil
import subprocess
import sys

import pytest

from ftstap.errors import KernelError
from ftstap.kernel import tracefs


def test_found_and_listed(tfs, need):
    assert tfs in tracefs.CANDIDATES
    assert os.path.isfile(os.path.join(tfs, "README"))
    systems = tracefs.list_systems(tfs)
    for s in ("syscalls", "raw_syscalls", "sched", "signal"):
        need(s in systems, f"tracepoint system {s}")
    assert "enable" not in systems and "header_page" not in systems
    enters = [e for e in tracefs.list_events("syscalls") if e.startswith("sys_enter_")]
    assert len(enters) > 250
    assert tracefs.list_events("no_such_system") == []
    assert tracefs.has_event("sched", "sched_switch") and not tracefs.has_event("sched", "nope")


def test_sys_enter_openat(tfs, need):
    need(tracefs.has_event("syscalls", "sys_enter_openat"), "syscalls:sys_enter_openat")
    f = tracefs.read_format("syscalls", "sys_enter_openat")
    with open(os.path.join(tfs, "events/syscalls/sys_enter_openat/id")) as fh:
        assert f.id == int(fh.read()) == tracefs.event_id("syscalls", "sys_enter_openat")
    assert [x.name for x in f.common_fields][:4] == ["common_type", "common_flags",
                                                    "common_preempt_count", "common_pid"]
    assert [x.name for x in f.fields] == ["__syscall_nr", "dfd", "filename", "flags", "mode"]
    fn = f.field("filename")
    assert (fn.ctype, fn.size, fn.is_pointer, fn.is_string) == ("const char *", 8, True, False)
    # syscall arguments are stored as 8-byte slots after __syscall_nr
    assert [f.field(n).offset for n in ("dfd", "filename", "flags", "mode")] == [16, 24, 32, 40]


def test_sched_switch_and_exec(tfs):
    f = tracefs.read_format("sched", "sched_switch")
    comm = f.field("prev_comm")
    assert (comm.dims, comm.size, comm.is_string) == ((16,), 16, True)
    pid = f.field("prev_pid")
    assert (pid.size, pid.signed) == (4, True)
    assert f.field("next_comm").offset > comm.offset
    e = tracefs.read_format("sched", "sched_process_exec")
    fn = e.field("filename")
    assert (fn.loc, fn.size, fn.is_string) == ("data", 4, True)


def test_every_format_parses(tfs):
    n = 0
    for s in tracefs.list_systems(tfs):
        for ev in tracefs.list_events(s, tfs):
            f = tracefs.read_format(s, ev, tfs)
            assert f.name == ev and f.id > 0
            assert f.field("common_pid") is not None
            n += 1
    assert n > 1000


def test_error_for_missing_tracepoint(tfs):
    with pytest.raises(KernelError, match="no tracepoint sched:nope"):
        tracefs.read_format("sched", "nope")
    with pytest.raises(KernelError, match="no tracepoint sched:nope"):
        tracefs.event_id("sched", "nope")


_PROBE = """
import os, sys
from ftstap.errors import KernelError
from ftstap.kernel import tracefs
before = os.path.isdir("/sys/kernel/tracing/events")
if sys.argv[1:] == ["drop"]:
    os.setgid(65534); os.setuid(65534)
try:
    print(before, tracefs.find_tracefs(), os.path.isdir("/sys/kernel/tracing/events"))
except KernelError as e:
    print("ERROR", e)
"""


def _in_private_mount_ns(need, *args):
    """Run _PROBE with tracefs (and debugfs) unmounted in a private mount
    namespace, so the machine's own mounts are untouched."""
    need(shutil.which("unshare"), "unshare(1) (util-linux)")
    script = ("umount /sys/kernel/debug/tracing 2>/dev/null; umount /sys/kernel/debug 2>/dev/null;"
              "umount /sys/kernel/tracing 2>/dev/null; exec \"$0\" -c \"$1\" \"$2\"")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                        sys.executable, _PROBE, *args], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_mounts_tracefs_when_missing(need):
    assert _in_private_mount_ns(need) == "False /sys/kernel/tracing True"


def test_non_root_gets_a_clear_error(need):
    out = _in_private_mount_ns(need, "drop")
    assert out.startswith("ERROR tracefs is not mounted on /sys/kernel/tracing and only root")
    assert "mount -t tracefs nodev /sys/kernel/tracing" in out
