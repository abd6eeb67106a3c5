"""Live events on the real kernel: perf rings, record fields, comm, uprobes,
-c, lost records, two sessions at once.  Images are hand-assembled
(live_images.py), so these tests exercise the runtime without codegen."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import live_images as L                                   # noqa: E402
from ftstap.runtime import native, session as S          # noqa: E402

GETPPID_LOOP = r"""
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    return 0;
}
"""

ADD_PROG = r"""
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int __attribute__((noinline)) add(int a, const char *s) { __asm__ volatile(""); return a + (int)s[0]; }
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10, t = 0;
    static const char word[] = "hello-uprobe";
    for (int i = 1; i <= n; i++)
        t += add(i, word);
    printf("%d\n", t);
    fflush(stdout);
    usleep(300000);          /* user_string() reads our memory after the fact */
    return 0;
}
"""


@pytest.fixture
def tracepoints(tfs, need):
    need(os.path.isdir(os.path.join(tfs, "events", "syscalls", "sys_enter_getppid")),
         "syscalls:sys_enter_getppid tracepoint")
    need(os.path.isdir(os.path.join(tfs, "events", "sched", "sched_process_exec")),
         "sched:sched_process_exec tracepoint")
    return tfs


def run_image(image, tmp_path, **kw):
    """run_live with output captured: (status, stdout text, stderr text)."""
    out, err = tmp_path / "out", tmp_path / "err"
    with open(out, "wb") as o, open(err, "wb") as e:
        status = S.run_live(image, out_fd=o.fileno(), err_fd=e.fileno(), **kw)
    return status, out.read_text(), err.read_text()


def test_getppid_counted_exactly_nothing_lost(tracepoints, cc, tmp_path):
    """The issue's figure: -c ./getppid_loop calling getppid() 2,000,000 times
    as fast as it can, counted with pid() == target(), default settings."""
    prog = cc(GETPPID_LOOP, "getppid_loop")
    image = L.count_target()
    specs, probes = S.image_events(image)
    with native.Session(image, out_fd=os.open(os.devnull, os.O_WRONLY)) as s:
        with S.LiveSession(s, specs, probes, command=f"{prog} 2000000"):
            status = s.run(120)
            lost = s.lost()
        n = s.global_int(0)
        assert (status, n, lost) == (0, 2_000_000, 0)
        assert s.probe_hits(probes[0][0]) >= 2_000_000


def test_record_fields_ldfi(tracepoints, cc, tmp_path):
    prog = cc(GETPPID_LOOP, "getppid_loop")
    status, out, err = run_image(L.fields_of_getppid(), tmp_path, command=f"{prog} 1000")
    n, bad, nr = map(int, out.split())
    assert (status, n, bad) == (0, 1000, 0), err
    assert nr == 110                          # __NR_getppid on x86_64


def test_exec_filename_data_loc_and_comm(tracepoints, cc, tmp_path):
    """sched_process_exec: the __data_loc filename (LDFS mode 1), the $pid
    field, and execname() from PERF_RECORD_COMM (the new comm)."""
    prog = cc(GETPPID_LOOP, "exec_probe_me")
    status, out, err = run_image(L.exec_names(), tmp_path, command=f"{prog} 10")
    assert status == 0, err
    rows = [line.split("|") for line in out.splitlines()]
    mine = [r for r in rows if r[0] == prog]
    assert len(mine) == 1, out
    _, comm, pid, fpid, count = mine[0]
    assert comm == "exec_probe_me" and pid == fpid and int(count) == 1


def test_execname_of_events_from_comm_table(tracepoints, cc, tmp_path):
    """execname() == "getppid_comm" selects exactly the program's events."""
    prog = cc(GETPPID_LOOP, "getppid_comm")
    image = L.count_target(by="comm")
    specs, probes = S.image_events(image)
    with native.Session(image, out_fd=os.open(os.devnull, os.O_WRONLY)) as s:
        s.set_global(1, "getppid_comm")
        with S.LiveSession(s, specs, probes, command=f"{prog} 5000"):
            assert s.run(60) == 0
        assert s.global_int(0) == 5000


def test_uprobe_args_return_and_user_string(tfs, need, cc, tmp_path):
    need(os.path.exists(os.path.join(tfs, "uprobe_events")), "uprobe_events (CONFIG_UPROBE_EVENTS)")
    from ftstap.kernel.symbols import ElfFile
    prog = cc(ADD_PROG, "add_prog")
    add = ElfFile(prog).function("add")
    image = L.uprobe_image(prog, add.offset, ret_offset=add.offset)
    status, out, err = run_image(image, tmp_path, command=f"{prog} 10")
    assert status == 0, err
    lines = out.splitlines()
    calls, total, rets, retsum, isret, text = lines[-1].split()
    # add(i, "hello-uprobe") for i = 1..10: sum of a 55, each returns i + 'h' (104)
    assert (int(calls), int(total), int(rets), int(retsum), int(isret)) == (10, 55, 10, 55 + 1040, 1)
    assert text == "hello-uprobe"
    assert lines[0] == "ready"


def test_lost_records_reported_and_W_status(tracepoints, cc, tmp_path):
    """A ring of two pages cannot hold a burst: PERF_RECORD_LOST is counted,
    warned about, counted as skipped, and -W fails the run."""
    prog = cc(GETPPID_LOOP, "getppid_loop")
    image = L.count_target()
    specs, probes = S.image_events(image)
    err = tmp_path / "err"
    with open(err, "wb") as e, native.Session(image, out_fd=os.open(os.devnull, os.O_WRONLY),
                                              err_fd=e.fileno()) as s:
        with S.LiveSession(s, specs, probes, ring_bytes=8192, command=f"{prog} 300000"):
            assert s.run(60) == 0
        lost, n = s.lost(), s.global_int(0)
        assert s.lost(probes[0][0]) > 0
        # every event is counted or reported lost (the others are other processes' getppid calls)
        assert 300_000 <= n + lost <= 300_000 + 1000
    text = err.read_text()
    assert "events lost (perf ring full) for probe kernel.trace(\"syscalls:sys_enter_getppid\")" in text
    assert "skipped probes: " in text
    status, out, errtext = run_image(image, tmp_path, command=f"{prog} 300000", ring_bytes=8192,
                                     warnings_errors=True)
    assert status == 1 and "events lost" in errtext


def test_two_sessions_same_tracepoint_both_see_everything(tracepoints, cc, tmp_path):
    prog = cc(GETPPID_LOOP, "getppid_two")
    cmd = [sys.executable, os.path.join(HERE, "live_images.py"), "count", '{"by": "comm"}',
           '{"comm": "getppid_two", "timeout_s": 60}']
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        for p in procs:
            assert p.stdout.readline() == "ready\n"
        subprocess.run([prog, "200000"], check=True)
        for p in procs:
            p.send_signal(2)
        outs = [p.communicate(timeout=60) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for (out, err), p in zip(outs, procs):
        assert p.returncode == 0, err
        assert out.split() == ["200000"], err


def test_list_active_shows_tracepoints_of_a_live_session(tracepoints, tmp_path):
    from ftstap.kernel.dynevents import list_active
    cmd = [sys.executable, os.path.join(HERE, "live_images.py"), "count", '{"by": "all"}', '{"timeout_s": 30}']
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        rows = [r for r in list_active() if r.pid == p.pid]
        assert [(r.type, r.target) for r in rows] == [("t", "syscalls:sys_enter_getppid")]
        cli = subprocess.run([sys.executable, "-m", "ftstap", "--list-active"], capture_output=True, text=True)
        assert cli.returncode == 0, cli.stderr
        line = [l for l in cli.stdout.splitlines() if l.endswith(f" {p.pid}")]
        assert len(line) == 1 and line[0].split()[:3] == ["-", "t", "syscalls:sys_enter_getppid"], cli.stdout
    finally:
        p.send_signal(2)
        p.communicate(timeout=30)
    assert not [r for r in list_active() if r.pid == p.pid]


def test_c_command_starts_after_begin_and_ends_session(tracepoints, tmp_path):
    """-c: target() is the command's pid (exec'd directly), its output comes
    after the begin probe's, and its exit ends the session."""
    image = L.count_target()
    status, out, err = run_image(image, tmp_path, command="echo from-command")
    assert status == 0, err
    assert out.splitlines()[0] == "ready"
    assert S.command_argv("echo a") == ["echo", "a"]
    assert S.command_argv("echo a | cat") == ["/bin/sh", "-c", "echo a | cat"]
