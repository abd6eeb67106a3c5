"""Tapset families only kprobes serve (tty.*, linuxmib.*), checked against
what a workload did: writes and window-size changes on a pty, and accept
queue overflows of a listener that never accepts, against the kernel's own
/proc/net/netstat counters.

This machine has no kprobe_events, so these skip here;
tests/qemu/test_qemu_kprobes.py runs this file inside a QEMU guest
with FTSTAP_EXPECT_KPROBES=1, which turns the skip into a failure."""
import subprocess
import sys

import pytest



def ftstap(*args, timeout=300):
    p = subprocess.run([sys.executable, "-m", "ftstap", *args], capture_output=True, text=True,
                       timeout=timeout)
    assert p.returncode == 0, p.stderr
    return p.stdout.splitlines()


PTY = """
import fcntl, os, pty, struct, sys, termios
m, s = pty.openpty()
open(sys.argv[1], "w").write(os.ttyname(s))
for chunk in (b"hello", b"abc"):
    os.write(s, chunk)
for rows, cols in ((24, 80), (30, 100)):
    fcntl.ioctl(s, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
"""


def test_tty_writes_and_resizes_on_a_pty(kp, tmp_path):
    prog = tmp_path / "ptywrites.py"     # not pty.py: that would shadow the module
    prog.write_text(PTY)
    errf = tmp_path / "ttyname"
    out = ftstap("-c", f"{sys.executable} {prog} {errf}", "-e",     # no shell: target() is python
                 'probe tty.write { if (pid() == target()) printf("write %d %s %s\\n", nr, buffer, driver_name) } '
                 'probe tty.resize { if (pid() == target()) printf("resize %s %dx%d -> %dx%d\\n", '
                 "name, old_row, old_col, new_row, new_col) } "
                 'probe tty.ioctl { if (pid() == target() && cmd == 0x5414) printf("ioctl %d\\n", arg != 0) }')
    index = errf.read_text().strip().rsplit("/", 1)[1]        # /dev/pts/N
    assert out == ["write 5 hello pty_slave", "write 3 abc pty_slave",
                   "ioctl 1", f"resize pts{index} 0x0 -> 24x80",
                   "ioctl 1", f"resize pts{index} 24x80 -> 30x100"]


LISTENER = """
import socket, time
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(0)
clients = []
for _ in range(3):        # the queue holds one: the others' SYNs overflow it
    c = socket.socket(); c.setblocking(False)
    c.connect_ex(srv.getsockname())
    clients.append(c)
time.sleep(0.5)
"""


def netstat(name):
    with open("/proc/net/netstat") as f:
        head, vals = f.readline().split(), f.readline().split()
    return int(vals[head.index(name)])


@pytest.fixture
def loopback():
    """lo up (a minimal guest boots with it down)."""
    with open("/sys/class/net/lo/flags") as f:
        if not int(f.read(), 16) & 1:
            subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


def test_linuxmib_counts_what_the_kernel_counts(kp, loopback, tmp_path):
    prog = tmp_path / "listen.py"
    prog.write_text(LISTENER)
    before = netstat("ListenOverflows"), netstat("ListenDrops")
    out = ftstap("-c", f"{sys.executable} {prog}", "-e",
                 "probe linuxmib.ListenOverflows, linuxmib.ListenDrops { } "
                 'probe end { printf("%d %d\\n", ListenOverflows[1], ListenDrops[1]) }')
    after = netstat("ListenOverflows"), netstat("ListenDrops")
    overflows, drops = (int(x) for x in out[0].split())
    assert overflows >= 2, out               # listen(0): the second client already overflows
    assert (overflows, drops) == (after[0] - before[0], after[1] - before[1])
