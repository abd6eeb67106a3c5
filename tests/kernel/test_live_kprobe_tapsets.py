"""Tapset families only kprobes serve (tty.*, linuxmib.*, ipmib.*), checked
against what a workload did: writes and window-size changes on a pty,
accept queue overflows of a listener that never accepts, against the
kernel's own /proc/net/netstat counters, and UDP datagrams and packets of
an IP protocol nothing takes over loopback, against what was sent and
/proc/net/snmp.

This machine has no kprobe_events, so these skip here;
tests/qemu/test_qemu_kprobes.py runs this file inside a QEMU guest
with FTSTAP_EXPECT_KPROBES=1, which turns the skip into a failure."""
import random
import subprocess
import sys

import pytest

from leftovers import leftovers



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


IPTRAFFIC = """
import socket, struct, sys
n, m, port, sport = (int(a) for a in sys.argv[1:])
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(("127.0.0.1", port))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.2", sport))
for i in range(n):
    s.sendto(b"ipmib %d" % i, ("127.0.0.1", port))
for i in range(n):
    r.recv(100)
# IP protocol 253 (for experiments): no protocol handler and no raw socket
# takes it, so the kernel counts each in InUnknownProtos and answers it
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)    # IP_HDRINCL
for i in range(m):
    body = b"unknown protocol"
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 0, 0, 64, 253, 0,
                      socket.inet_aton("127.0.0.2"), socket.inet_aton("127.0.0.1"))
    raw.sendto(hdr + body, ("127.0.0.1", 0))
"""


def snmp_ip():
    with open("/proc/net/snmp") as f:
        head, vals = f.readline().split(), f.readline().split()
    return dict(zip(head[1:], (int(v) for v in vals[1:])))


def test_ipmib_counts_udp_and_unknown_protocols_over_loopback(kp, loopback, tmp_path):
    prog = tmp_path / "iptraffic.py"
    prog.write_text(IPTRAFFIC)
    n, m = 20, 5
    port = random.randrange(40000, 50000)
    sport = port + 1
    # key 1: the datagram's addresses and ports seen from the side counting
    # it (the sender's for OutRequests, the receiver's for InReceives);
    # 9: ours, but seen wrong; 2: protocol 253
    script = f"""
function ipmib_filter_key:long (skb:long, op:long, SourceIsLocal:long) {{
    proto = ipmib_get_proto(skb)
    if (proto == 253) return 2
    if (proto != 17) return 0
    if (SourceIsLocal) {{
        if (ipmib_tcp_remote_port(skb, 1) != {port}) return 0
        ok = ipmib_tcp_local_port(skb, 1) == {sport} && ipmib_local_addr(skb, 1) == 0x7f000002
             && ipmib_remote_addr(skb, 1) == 0x7f000001
    }} else {{
        if (ipmib_tcp_local_port(skb, 0) != {port}) return 0
        ok = ipmib_tcp_remote_port(skb, 0) == {sport} && ipmib_local_addr(skb, 0) == 0x7f000001
             && ipmib_remote_addr(skb, 0) == 0x7f000002
    }}
    return ok ? 1 : 9
}}
probe ipmib.InReceives, ipmib.OutRequests, ipmib.InUnknownProtos, ipmib.InDiscards {{ }}
probe end {{
    printf("%d %d %d %d\\n", OutRequests[1], InReceives[1], OutRequests[9], InReceives[9])
    printf("%d %d %d %d\\n", OutRequests[2], InReceives[2], InUnknownProtos[2], InDiscards[1])
}}"""
    before = snmp_ip()
    p = subprocess.Popen([sys.executable, "-m", "ftstap", "-c", f"{sys.executable} {prog} {n} {m} {port} {sport}",
                          "-e", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    after = snmp_ip()
    assert p.returncode == 0, err
    assert leftovers(kp, p.pid) == [], err
    lines = out.splitlines()
    assert lines[0].split() == [str(n), str(n), "0", "0"], out
    out253, in253, unknown, discards = (int(x) for x in lines[1].split())
    # the packets of protocol 253 sent and received, each answered
    assert (out253, in253, unknown, discards) == (m, m, m, 0), out
    assert unknown == after["InUnknownProtos"] - before["InUnknownProtos"]
    assert after["InReceives"] - before["InReceives"] >= n + m
    assert after["OutRequests"] - before["OutRequests"] >= n + m
