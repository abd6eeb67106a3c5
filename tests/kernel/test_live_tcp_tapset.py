"""tcp.* over loopback, checked against what the traced program did: the
bytes of each send and receive (tcp.sendmsg.return / tcp.recvmsg.return,
from sock:sock_send_length / sock_recv_length) and the addresses and ports
of the segments the server took in (tcp.receive, from tcp:tcp_probe)."""
import os
import socket
import subprocess
import sys

import pytest

TCP = """
import socket, sys
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1]))); srv.listen(1)
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s, _ = srv.accept()
open(sys.argv[2], "w").write(str(c.getsockname()[1]))
for n in (100, 200, 300):
    c.sendall(b"x" * n)
    got = 0
    while got < n:
        got += len(s.recv(n - got))
c.close(); s.close(); srv.close()
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_tcp_over_loopback(tfs, need, tmp_path):
    for tp in ("sock/sock_send_length", "sock/sock_recv_length", "tcp/tcp_probe"):
        need(os.path.isdir(os.path.join(tfs, "events", tp)), f"the {tp} tracepoint")
    prog, portfile, port = tmp_path / "tcp.py", tmp_path / "port", free_port()
    prog.write_text(TCP)
    script = ('global sent, rcvd, seen; '
              'probe tcp.sendmsg.return { if (pid() == target() && size > 0) { sent[size]++; '
              'printf("send %d %d\\n", size, family) } } '
              'probe tcp.recvmsg.return { if (pid() == target() && size > 0) rcvd += size } '
              f'probe tcp.receive {{ if (dport == {port} && !seen[saddr, sport, daddr, dport]++) '
              'printf("receive %s %d %s %d %d %d\\n", saddr, sport, daddr, dport, family, protocol) } '
              'probe end { printf("received %d\\n", rcvd) }')
    p = subprocess.run([sys.executable, "-m", "ftstap", "-c", f"{sys.executable} {prog} {port} {portfile}",
                        "-e", script], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    client = int(portfile.read_text())
    assert [l for l in out if l.startswith("send")] == ["send 100 2", "send 200 2", "send 300 2"]
    assert "received 600" in out
    assert f"receive 127.0.0.1 {client} 127.0.0.1 {port} 2 2048" in out
