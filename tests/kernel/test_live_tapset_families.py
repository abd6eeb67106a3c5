"""The tapset families served by tracepoints on this kernel, checked
against what the traced command did: signal.syskill/signal.send (a shell
signals its own child), udp.sendmsg.return/udp.recvmsg.return (datagrams
over loopback), vm.mmap/vm.pagefault (a mapping written page by page)."""
import os
import subprocess
import sys

import pytest


def ftstap(script, cmd, timeout=60):
    p = subprocess.run([sys.executable, "-m", "ftstap", "-c", cmd, "-e", script],
                       capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, p.stderr
    return p.stdout.splitlines()


def test_signals_between_two_processes(tracepoints, tmp_path):
    tracepoints("syscalls:sys_enter_kill", "signal:signal_generate")
    victim = tmp_path / "victim"
    out = ftstap('probe signal.syskill { if (pid() == target()) printf("kill %d %s %d\\n", sig_pid, sig_name, sig) } '
                 'probe signal.send { if (sig == 10 && pid() == target()) printf("send %d %s %s\\n", sig_pid, sig_name, si_code) }',
                 f"sh -c 'sleep 5 & echo $! > {victim}; kill -USR1 $!; wait'")
    pid = int(victim.read_text())
    assert f"kill {pid} SIGUSR1 10" in out
    assert f"send {pid} SIGUSR1 SI_USER" in out


UDP = """
import socket
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(("127.0.0.1", 0))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for n in (100, 200, 300):
    s.sendto(b"x" * n, r.getsockname())
    r.recv(1000)
"""


def test_udp_over_loopback(tracepoints, tmp_path):
    tracepoints("sock:sock_send_length", "sock:sock_recv_length")
    prog = tmp_path / "udp.py"
    prog.write_text(UDP)
    out = ftstap('probe udp.sendmsg.return, udp.recvmsg.return { if (pid() == target()) '
                 'printf("%s %d %d\\n", name, size, family) }', f"{sys.executable} {prog}")
    assert out == ["udp.sendmsg 100 2", "udp.recvmsg 100 2", "udp.sendmsg 200 2", "udp.recvmsg 200 2",
                   "udp.sendmsg 300 2", "udp.recvmsg 300 2"]


VM = """
import mmap, os
m = mmap.mmap(-1, 64 * 4096)
for i in range(64):
    m[i * 4096] = 1
"""


def test_mmap_and_write_faults(tracepoints, tmp_path):
    tracepoints("syscalls:sys_enter_mmap", "exceptions:page_fault_user")
    prog = tmp_path / "vm.py"
    prog.write_text(VM)
    out = ftstap('global len, writes; '
                 'probe vm.mmap { if (pid() == target() && length == 64 * 4096) len = length } '
                 'probe vm.pagefault { if (pid() == target() && write_access) writes++ } '
                 'probe end { printf("%d %d\\n", len, writes >= 64) }', f"{sys.executable} {prog}")
    assert out == [f"{64 * 4096} 1"]
