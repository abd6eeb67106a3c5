"""--target-namespaces and ns_pid() & co. against a real pid namespace:
a process in `unshare --pid --fork --mount-proc` prints the ids it sees
itself, and ftstap, given its host pid, must answer the same."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

FTSTAP = [sys.executable, "-m", "ftstap"]

# pid 1 of the new namespace forks a child; the child's main thread and
# another call getppid() every 10 ms until stdin closes, after printing ids.
WORKLOAD = r'''
import os, sys, threading, time
if os.fork() == 0:
    stop = threading.Event()
    def loop():
        while not stop.is_set():
            os.getppid(); time.sleep(0.01)
    t = threading.Thread(target=loop); t.start()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    print(os.getpid(), os.getppid(), os.getpgid(0), os.getsid(0), threading.get_native_id(), t.native_id,
          os.getuid(), os.getgid(), flush=True)
    loop(); t.join(); os._exit(0)
os.wait()
'''

SCRIPT = r'''
global seen, n
probe syscall.getppid {
    if (pid() == target() && !seen[tid()]++) {
        n++
        printf("%d %d %d %d %d %d %d %d %d %d\n", tid() == pid(), ns_pid(), ns_tid(), ns_ppid(), ns_pgid(),
               ns_sid(), ns_uid(), ns_gid(), pid(), tid())
    }
    if (n == 2) exit()
}
probe begin { printf("begin %d %d\n", ns_pid(), stp_pid()) }
'''


def host_pid_of(root: int, ns_pid: int) -> int:
    """The descendant of root whose innermost pid is ns_pid."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as f:
                status = dict(l.split(":", 1) for l in f if ":" in l)
        except OSError:
            continue
        cols = status.get("NSpid", "").split()
        if len(cols) == 2 and int(cols[-1]) == ns_pid and name != str(root):
            p = int(status["PPid"])
            while p > 1:                  # must descend from root
                if p == root:
                    return int(name)
                with open(f"/proc/{p}/status") as f:
                    p = int(next(l for l in f if l.startswith("PPid:")).split()[1])
    raise AssertionError(f"no process with namespace pid {ns_pid} under {root}")


@pytest.fixture
def contained(need):
    need(shutil.which("unshare"), "unshare (util-linux) is missing")
    proc = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c", WORKLOAD],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ids = [int(x) for x in proc.stdout.readline().split()]
        assert len(ids) == 8, ids
        yield proc, ids, host_pid_of(proc.pid, ids[0])
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


def run(*args: str) -> list[str]:
    r = subprocess.run(FTSTAP + list(args), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def test_ns_ids_equal_what_the_process_sees(contained):
    proc, (pid, ppid, pgid, sid, tid_main, tid_thread, uid, gid), host = contained
    assert pid != host                   # really in another namespace
    lines = run(f"--target-namespaces={host}", "-x", str(host), "-e", SCRIPT)
    begin = lines[0].split()
    assert begin[0] == "begin" and begin[1] == "0"   # ftstap itself is outside: 0, as stap's
    rows = sorted([int(x) for x in l.split()] for l in lines[1:])
    assert len(rows) == 2, lines
    thread, main = rows                  # is-main flag 0 sorts first
    for row, tid in ((main, tid_main), (thread, tid_thread)):
        assert row[1:8] == [pid, tid, ppid, pgid, sid, uid, gid], (row, tid)
        assert row[8] == host            # pid() stays the host's


def test_without_target_ns_ids_are_ftstap_own(contained):
    _, _, host = contained
    lines = run("-x", str(host), "-e", SCRIPT)
    begin = lines[0].split()
    assert begin[1] == begin[2]          # ns_pid() == stp_pid()
    for l in lines[1:]:
        row = [int(x) for x in l.split()]
        assert row[1] == row[8] == host and row[2] == row[9]


def test_unknown_target_is_refused():
    r = subprocess.run(FTSTAP + ["--target-namespaces=999999999", "-e", "probe begin { exit() }"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "no process 999999999" in r.stderr, r.stderr


def test_task_ns_functions_answer_in_the_target_namespaces(contained):
    """task_ns_pid(task) & co.: the ids of the thread a handle names (here
    pid2task of the contained process, and task_current() in its probe), as
    that process sees them."""
    proc, (pid, ppid, pgid, sid, tid_main, tid_thread, uid, gid), host = contained
    script = ('probe syscall.getppid { if (tid() == target()) { t = task_current(); '
              'printf("%d %d %d %d\\n", task_ns_pid(t), task_ns_tid(t), task_ns_uid(t), task_ns_gid(t)); '
              'p = pid2task(target()); printf("%d %d\\n", task_ns_pid(p), task_pid(p)); exit() } }')
    cur, other = run("-g", f"--target-namespaces={host}", "-x", str(host), "-e", script)   # guru: as stap
    assert [int(x) for x in cur.split()] == [pid, tid_main, uid, gid]
    assert [int(x) for x in other.split()] == [pid, host]      # task_pid() stays the host's
    plain = run("-g", "-x", str(host), "-e", script)            # no target: ftstap's own namespaces
    assert [int(x) for x in plain[0].split()][:2] == [host, host]
