"""Tapset families beyond syscalls, each checked against what a workload
did: ioscheduler.* (O_DIRECT writes to a loop device), tcpmib.* (TCP
connections and resets over loopback), process.syscall (a program's
writes), task_rlimit_* (limits a shell set), timer.profile.freq.hz (its
sample rate)."""
import os
import subprocess
import sys

import pytest


def ftstap(*args, timeout=60):
    p = subprocess.run([sys.executable, "-m", "ftstap", *args], capture_output=True, text=True,
                       timeout=timeout)
    assert p.returncode == 0, p.stderr
    return p.stdout.splitlines()


def test_timer_profile_freq_hz_samples_each_cpu_at_its_rate():
    out = ftstap("-e", "global n; probe timer.profile.freq.hz(40) { n[cpu()]++ } "
                       'probe timer.ms(1000) { foreach (c in n) printf("%d\\n", n[c]); exit() }')
    counts = [int(x) for x in out]
    assert len(counts) == os.cpu_count(), counts
    assert all(30 <= c <= 50 for c in counts), counts


def test_task_rlimit_reads_the_limits_the_process_set():
    out = ftstap("-c", "sh -c 'ulimit -n 321; ulimit -s 4096; ulimit -t unlimited; exec sleep 2'", "-e",
                 'probe timer.ms(700) { t = pid2task(target()); '
                 'printf("%d %d %d %d\\n", task_rlimit_nofile(t), task_rlimit_stack(t), '
                 'task_rlimit_cpu(t), task_rlimit(t, "RLIMIT_NOFILE")); exit() }')
    assert out == [f"321 {4096 * 1024} -1 321"]


WRITES = """
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 4096)
buf.write(b"x" * 4096)
for i in range(5):
    os.pwrite(fd, buf, i * 65536)
os.close(fd)
"""


@pytest.fixture
def loop_device(tmp_path, need):
    """A loop device over a file, its I/O scheduler mq-deadline."""
    need(os.path.exists("/dev/loop-control"), "loop devices (CONFIG_BLK_DEV_LOOP)")
    img = tmp_path / "img"
    img.write_bytes(b"\0" * (1 << 20))
    r = subprocess.run(["losetup", "-f", "--show", str(img)], capture_output=True, text=True)
    need(r.returncode == 0, f"losetup: {r.stderr.strip()}")
    dev = r.stdout.strip()
    sched = f"/sys/block/{os.path.basename(dev)}/queue/scheduler"
    try:
        with open(sched, "w") as f:
            f.write("mq-deadline")
        yield dev
    finally:
        subprocess.run(["losetup", "-d", dev])


def test_ioscheduler_follows_direct_writes_to_a_loop_device(tracepoints, loop_device, tmp_path):
    tracepoints("block:block_rq_insert", "block:block_rq_issue", "block:block_rq_complete")
    prog = tmp_path / "w.py"
    prog.write_text(WRITES)
    st = os.stat(loop_device).st_rdev
    out = ftstap("-c", f"{sys.executable} {prog} {loop_device}", "-e",
                 f"probe ioscheduler.elv_add_request, ioscheduler_trace.elv_issue_request, "
                 f"ioscheduler.elv_completed_request {{ if (disk_major == {os.major(st)} && "
                 f"disk_minor == {os.minor(st)}) printf(\"%s %s %d\\n\", name, elevator_name, rq_flags) }}")
    assert out == ["elv_add_request mq-deadline 1", "elv_issue_request mq-deadline 1",
                   "elv_completed_request mq-deadline 1"] * 5


TCP = """
import socket, struct
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(8)
pairs = []
for _ in range(3):
    c = socket.create_connection(srv.getsockname())
    pairs.append((c, srv.accept()[0]))
for c, s in pairs:
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()           # a reset from an established socket
    s.close()
free = socket.socket(); free.bind(("127.0.0.1", 0)); port = free.getsockname()[1]; free.close()
try:
    socket.create_connection(("127.0.0.1", port))
except ConnectionRefusedError:
    pass
"""


def test_tcpmib_counts_connections_and_resets_over_loopback(tracepoints, tmp_path):
    tracepoints("sock:inet_sock_set_state", "tcp:tcp_send_reset")
    prog = tmp_path / "tcp.py"
    prog.write_text(TCP)
    # loopback runs both ends (and the softirqs) in the program's context
    out = ftstap("-c", f"{sys.executable} {prog}", "-e",
                 "function tcpmib_filter_key:long (sk:long, op:long) { return pid() == target() } "
                 "probe tcpmib.ActiveOpens, tcpmib.PassiveOpens, tcpmib.CurrEstab, tcpmib.EstabResets, "
                 "tcpmib.AttemptFails, tcpmib.OutRsts { } "
                 "probe tcpmib.CurrEstab { if (pid() == target()) up += op > 0 } "
                 'probe end { printf("%d %d %d %d %d %d %d\\n", ActiveOpens[1], PassiveOpens[1], '
                 "CurrEstab[1], up, EstabResets[1], AttemptFails[1], OutRsts[1]) } global up")
    # 4 connects (one refused), 3 accepted, 6 ends established and reset,
    # the refused one failed, 4 resets (3 from a socket, the refusal's from
    # none: sk 0, which this filter counts)
    assert out == ["4 3 0 6 6 1 4"]


WRITER = r"""
#include <fcntl.h>
#include <unistd.h>
int main(void)
{
    int fd = open("/dev/null", O_WRONLY);
    write(fd, "abc", 3); write(fd, "defgh", 5); write(fd, "", 0);
    return 0;
}
"""


def test_process_syscall_sees_a_programs_writes(cc, tracepoints):
    tracepoints("raw_syscalls:sys_enter", "raw_syscalls:sys_exit")
    prog = cc(WRITER, "writer")
    out = ftstap("-c", prog, "-e",
                 "probe process.syscall { if (pid() == target() && $syscall == 1) "
                 'printf("write(%d, %d)\\n", $arg1, $arg3) } '
                 "probe process.syscall.return { if (pid() == target() && $syscall == 1) "
                 'printf("= %d\\n", $return) }')
    assert out == ["write(3, 3)", "= 3", "write(3, 5)", "= 5", "write(3, 0)", "= 0"]


def test_loadavg_and_ftrace_and_binary_output(tfs):
    with open("/proc/loadavg") as f:
        before = f.read().split()[:3]
    mark = f"ftstap-ftrace-{os.getpid()}"
    p = subprocess.run([sys.executable, "-m", "ftstap", "-g", "-e",
                        'probe begin { printf("%d|%s", get_loadavg_index(0), sprint_loadavg()); '
                        f'ftrace("{mark}"); stp_print_binary(2, 0x41, -1, 7, 7); exit() }}'],
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    with open("/proc/loadavg") as f:
        after = f.read().split()[:3]
    text, _, binary = p.stdout.partition(b"\n")
    whole, _, avgs = text.decode().partition("|")
    assert avgs.split() in (before, after), (avgs, before, after)
    assert int(whole) == int(float(avgs.split()[0]))
    assert binary == (0x41).to_bytes(8, "little") + b"\xff" * 8     # two values, this machine's order
    with open(os.path.join(tfs, "tracing_on")) as f:
        if f.read().strip() == "1":
            with open(os.path.join(tfs, "trace"), errors="replace") as t:
                assert f"tracing_mark_write: {mark}" in t.read()


MAIN = r"""
#include <unistd.h>
int main(void) { return getppid() == 0; }
"""


def test_umodname_names_the_file_mapped_at_an_address(cc):
    prog = cc(MAIN, "modprog")
    out = ftstap("-c", prog, "-e", f'probe process("{prog}").function("main") {{ println(umodname(uaddr())) }} '
                                   'probe syscall.getppid { if (pid() == target()) println(umodname(uaddr())) }')
    # main runs in the program; getppid's user address is in libc
    assert out[0] == "modprog" and out[1].startswith("libc"), out


PTY_WRITES = """
import os, pty, time
m, s = pty.openpty()
for i in range(4):
    os.write(s, b"x")       # the pty queues flush_to_ldisc to hand it to the master
    time.sleep(0.05)        # ... and has run it before the next write
"""


def kallsyms_address(name):
    with open("/proc/kallsyms") as f:
        for line in f:
            addr, _, sym = line.split()[:3]
            if sym == name:
                return int(addr, 16)
    pytest.skip(f"no {name} in /proc/kallsyms")


def test_workqueue_insert_and_execute_follow_a_ptys_work(tracepoints, tmp_path):
    tracepoints("workqueue:workqueue_queue_work", "workqueue:workqueue_execute_start")
    flush = kallsyms_address("flush_to_ldisc")
    prog = tmp_path / "ptyw.py"
    prog.write_text(PTY_WRITES)
    out = ftstap("-c", f"{sys.executable} {prog}", "-e",
                 f"global w; probe workqueue.insert {{ if (pid() == target() && work_func == {flush}) "
                 '{ w[work] = 1; printf("insert %s\\n", wq_name) } } '
                 f"probe workqueue.execute {{ if (work in w && work_func == {flush}) "
                 'printf("execute %d\\n", wq_thread != target()) }')
    # each write queued the work once, and a kworker ran it
    assert out == ["insert events_unbound", "execute 1"] * 4


def test_ioblock_trace_follows_direct_writes_to_a_loop_device(tracepoints, loop_device, tmp_path):
    tracepoints("block:block_bio_queue", "block:block_bio_complete")
    prog = tmp_path / "w.py"
    prog.write_text(WRITES)
    st = os.stat(loop_device).st_rdev
    dev = f"{os.major(st)},{os.minor(st)}"
    out = ftstap("-c", f"{sys.executable} {prog} {loop_device}", "-e",
                 f'probe ioblock_trace.request {{ if (devname == "{dev}") '
                 'printf("%s %d %s %d %d\\n", name, sector, bio_rw_str(rw), size, q) }')
    # the writes were 4096 bytes at every 64 KiB: sector 128 * i (a blk-mq
    # device completes requests, not bios: ioblock_trace.end stays silent)
    assert out == [f"ioblock_trace.request {128 * i} W 4096 0" for i in range(5)]
