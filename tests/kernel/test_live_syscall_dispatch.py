"""syscall.* on raw_syscalls with dispatch by number (runtime/syscall_dispatch.py):
the same results as one tracepoint per syscall, and no background closer."""
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PROG = r"""
#include <unistd.h>
#include <sys/syscall.h>
int main(void) {
    usleep(200000);
    for (int i = 0; i < 1000; i++) getppid();
    for (int i = 0; i < 700; i++) syscall(SYS_getuid);
    for (int i = 0; i < 300; i++) close(-1);
    return 0;
}
"""
# n[name, tid()]: a key of the event's, so the probes sample (a constant key
# would make them counters, which are never dispatched)
SCRIPT = ('global n, r; probe syscall.* { if (execname() == "sctest") n[name, tid()]++ } '
          'probe syscall.close.return, syscall.getuid.return { if (execname() == "sctest") r[name, retval]++ } '
          'probe end { foreach ([k, t] in n) if (k == "getppid" || k == "getuid" || k == "close") '
          'printf("%s %d\\n", k, n[k, t]); foreach ([k, v] in r) printf("ret %s %d %d\\n", k, v, r[k, v]) }')


def closers() -> set[int]:
    """Background closers of sessions running this test's script (a closer is a
    fork of ftstap: its command line is the session's); other sessions on the
    machine may have their own."""
    out = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() != "ftstap-close":
                    continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b'execname() == "sctest"' in f.read():
                    out.add(int(pid))
        except OSError:
            pass
    return out


def run(prog, env=None):
    r = subprocess.run([sys.executable, "-m", "ftstap", "-c", prog, "-e", SCRIPT], capture_output=True,
                       text=True, cwd=REPO, timeout=300, env=dict(os.environ, **(env or {})))
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    return sorted(r.stdout.splitlines())


def test_dispatched_counts_match_the_program_and_the_per_tracepoint_path(cc, tfs, need):
    need(os.path.isdir(os.path.join(tfs, "events", "raw_syscalls")), "no raw_syscalls tracepoints")
    prog = cc(PROG, "sctest")
    before = closers()
    got = run(prog)
    assert not closers() - before          # two events per CPU: closed at once, no background closer
    # getppid 1000, getuid 700, close 300 (+ the loader's own closes, on both paths alike)
    assert "getppid 1000" in got and "getuid 700" in got and "ret close -9 300" in got, got
    assert "ret getuid 0 700" in got, got
    assert got == run(prog, {"FTSTAP_NO_SYSCALL_DISPATCH": "1"})


# c[name]++ under a condition the kernel filter takes in full: counting mode
# (compile/counting.py).  Grouped, its records are tallied per number in C
# instead of ~720 counters (one per tracepoint and CPU) whose teardown took
# 15-20 s in a background closer.
COUNTING = ('global c, r; probe syscall.* { if (execname() == "sctest") c[name]++ } '
            'probe syscall.*.return { if (execname() == "sctest") r[name, is_return()]++ } '
            'probe end { foreach (k in c) if (k == "getppid" || k == "getuid" || k == "close") '
            'printf("%s %d\\n", k, c[k]); foreach ([k, x] in r) if (k == "getppid") '
            'printf("ret %s %d %d\\n", k, x, r[k, x]) }')


def test_counting_syscall_star_is_tallied_from_two_events_per_cpu(cc, tfs, need):
    need(os.path.isdir(os.path.join(tfs, "events", "raw_syscalls")), "no raw_syscalls tracepoints")
    prog = cc(PROG, "sctest")
    p3 = subprocess.run([sys.executable, "-m", "ftstap", "-p3", "-e", COUNTING], capture_output=True,
                        text=True, cwd=REPO, timeout=120)
    assert p3.returncode == 0 and "count" in p3.stdout.lower(), p3.stderr   # it is counting mode
    before = closers()
    r = subprocess.run([sys.executable, "-m", "ftstap", "-c", prog, "-e", COUNTING],
                       capture_output=True, text=True, cwd=REPO, timeout=300)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert not closers() - before
    got = sorted(r.stdout.splitlines())
    assert "getppid 1000" in got and "getuid 700" in got and "ret getppid 1 1000" in got, got
    assert any(line.startswith("close ") and int(line.split()[1]) >= 300 for line in got), got
    # the same totals from a counter per tracepoint (the path this replaces)
    old = subprocess.run([sys.executable, "-m", "ftstap", "-c", prog, "-e", COUNTING], capture_output=True,
                         text=True, cwd=REPO, timeout=300, env=dict(os.environ, FTSTAP_NO_SYSCALL_DISPATCH="1"))
    assert old.returncode == 0, old.stderr
    assert sorted(old.stdout.splitlines()) == got
