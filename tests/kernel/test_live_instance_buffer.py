"""The session's tracefs instance (what eprobes write to) as a buffer:
its size, the events it loses, and who wrote them.

On this kernel (no eprobes) ordinary tracepoints are read through the
instance instead, as tests/kernel/test_live_runner_eprobes.py does: with
ftstap-run's code (tests/kernel/runner_ftrace_drive.c drives
native/runner/instance.c) and with ftstap's (kernel/instances.py Instance
handed to the C core as LiveSession._start_ftrace does).  Both read only
ftrace buffers, no perf event of a probe: an eprobe-only session.

  - the instance's buffer per CPU is the perf rings' size (-s MB);
  - a buffer too small for the workload loses events, and the warning says
    how many: handled + lost == the calls made (the kernel's page header
    says only that some were lost when the page had no room for the count;
    the CPU's stats file says how many);
  - a task that exited before its records were read has its name and
    parent (the perf side-band tracks tasks for ftrace-only sessions too).

The workload makes getcpu system calls with syscall(2): everyone else asks
the vDSO, so the tracepoint sees only the workload."""
import os
import re
import subprocess
import sys

import pytest

from test_live_runner_eprobes import ASAN_ENV, ROOT, compile_image, drive, in_tmp  # noqa: F401 (fixtures)
from ftstap.kernel.instances import Instance
from ftstap.runtime import native
from ftstap.runtime.session import image_events

WORK = r"""
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
/* n getcpu() system calls, then alive for argv[2] ms */
int main(int argc, char **argv)
{
    unsigned cpu;
    for (int i = atoi(argv[1]); i > 0; i--)
        syscall(SYS_getcpu, &cpu, NULL, NULL);
    usleep(atoi(argv[2]) * 1000);
    return 0;
}
"""
COUNT = ('global n, w probe begin { println("ready") } '
         'probe kernel.trace("syscalls:sys_enter_getcpu") { n++; if (execname() == "ftgetcpu") w++ } '
         'probe end { printf("all %d ftgetcpu %d\\n", n, w) }')
WHO = ('probe begin { println("ready") } '
       'probe kernel.trace("syscalls:sys_enter_getcpu") { printf("%s %d %d\\n", execname(), pid(), ppid()) }')
LOST = re.compile(r"WARNING: (\d+) events lost \(ftrace buffer full\): enlarge the buffers with -s MB\n")
N = 300000


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("getcpu")
    (d / "ftgetcpu.c").write_text(WORK)
    subprocess.run(["gcc", "-O1", "-o", str(d / "ftgetcpu"), str(d / "ftgetcpu.c")], check=True)
    return str(d / "ftgetcpu")


def _driven(drive, image, work, calls, linger_ms, *kb):
    """The driver on image (its buffer kb per CPU, else ftstap-run's size);
    once ready, the workload: (stdout after "ready", stderr)."""
    p = subprocess.Popen([drive[0], image, "4", *kb], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=ASAN_ENV)
    assert p.stdout.readline() == "ready\n"
    w = subprocess.run([work, str(calls), str(linger_ms)])
    out, err = p.communicate(timeout=120)
    assert (w.returncode, p.returncode) == (0, 0), err
    return out, err


def _losses(err: str) -> int:
    m = LOST.search(err)
    return int(m.group(1)) if m else 0


def test_runner_buffer_losses_counted(tfs, in_tmp, drive, work):
    """64 KB per CPU: most of N calls are lost, and handled + lost == N
    exactly; with ftstap-run's size (16 MB per CPU here, read as the
    records come) none is."""
    image = compile_image(in_tmp, "counted", COUNT)
    out, err = _driven(drive, image, work, N, 0, "64")
    handled = int(re.fullmatch(r"all (\d+) ftgetcpu (\d+)\n", out).group(2))
    lost = _losses(err)
    print(f"64 KB per CPU: {handled} handled + {lost} lost of {N}")
    assert lost > 0 and handled + lost == N, err
    assert err == LOST.search(err).group(0) + f"WARNING: Number of errors: 0, skipped probes: {lost}\n"
    out, err = _driven(drive, image, work, N, 0)
    assert (out, err) == (f"all {N} ftgetcpu {N}\n", "")


def test_runner_names_exited_tasks(tfs, in_tmp, drive, work):
    """A workload gone long before its records are read (the driver reads
    every 100 ms): its name, pid and parent (this process), from the FORK,
    COMM and EXIT records the session now tracks with no perf probe."""
    image = compile_image(in_tmp, "who", WHO)
    p = subprocess.Popen([drive[0], image, "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=ASAN_ENV)
    assert p.stdout.readline() == "ready\n"
    w = subprocess.Popen([work, "5", "0"])
    w.wait()
    out, err = p.communicate(timeout=120)
    assert (p.returncode, err) == (0, "")
    assert out == f"ftgetcpu {w.pid} {os.getpid()}\n" * 5


def _python_session(tfs, in_tmp, work, script, ring_bytes, calls):
    """ftstap's side: an Instance of ring_bytes per CPU, the tracepoint
    enabled in it and its CPUs handed to the C core (as _start_ftrace
    does for eprobes); the workload runs to its end before anything is
    read.  (buffer_size_kb, workload pid, stdout, stderr)."""
    name = "py_" + str(abs(hash(script)) % 10000)
    image = open(compile_image(in_tmp, name, script), "rb").read()
    (probe, _), = image_events(image)[1]
    with open(os.path.join(tfs, "events", "syscalls", "sys_enter_getcpu", "id")) as f:
        type_id = int(f.read())
    inst = Instance(tfs, ring_bytes=ring_bytes)
    try:
        with open(os.path.join(inst.path, "buffer_size_kb")) as f:
            kb = int(f.read().split()[0])
        inst.enable("syscalls", "sys_enter_getcpu")
        out, err = in_tmp / "out", in_tmp / "err"
        with open(out, "wb") as o, open(err, "wb") as e, native.Session(image, out_fd=o.fileno(),
                                                                         err_fd=e.fileno()) as s:
            s.ftrace_map(type_id, probe)
            for cpu in range(os.cpu_count()):
                s.ftrace_add(inst.open_cpu(cpu), cpu)
            s.enable_events()
            w = subprocess.Popen([work, str(calls), "0"])
            assert w.wait(timeout=60) == 0
            s.run(0.5)
            s.close_events()
    finally:
        inst.close()
    return kb, w, out.read_text(), err.read_text()


def test_python_instance_sized_and_losses_counted(tfs, in_tmp, work):
    """Instance(ring_bytes=...) sizes the buffer per CPU; nothing is read
    while the workload runs, so 64 KB keeps a few hundred records and the
    rest are counted lost; 16 MB keeps all."""
    kb, _, out, err = _python_session(tfs, in_tmp, work, COUNT, 64 << 10, N)
    handled = int(re.fullmatch(r"ready\nall (\d+) ftgetcpu (\d+)\n", out).group(2))
    lost = _losses(err)
    print(f"64 KB per CPU, unread: {handled} handled + {lost} lost of {N}")
    assert 64 <= kb < 72 and lost > 0 and handled + lost == N, (kb, err)   # the kernel rounds to its pages
    kb, _, out, err = _python_session(tfs, in_tmp, work, COUNT, 16 << 20, N)
    assert 16384 <= kb < 16384 * 1.05 and (out, err) == (f"ready\nall {N} ftgetcpu {N}\n", ""), kb


def test_python_names_exited_tasks(tfs, in_tmp, work):
    """The workload has exited before the session reads a record: its name,
    pid and parent all the same."""
    _, w, out, err = _python_session(tfs, in_tmp, work, WHO, 1 << 20, 5)
    assert err == ""
    assert out == "ready\n" + f"ftgetcpu {w.pid} {os.getpid()}\n" * 5
