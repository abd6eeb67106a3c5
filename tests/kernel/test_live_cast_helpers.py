"""Tapset helpers that read a kernel object through their pointer
argument (issue 15: inet_sock.stp, tcp.stp, ip.stp, tcpmib.stp, vfs.stp,
signal.stp, netdev.stp), inlined into kprobe-served probes, against what
the workload did: a TCP connection over loopback from 127.0.0.2 to
127.0.0.1 (ports known to the workload), the file it read (its inode from
stat), the handler and flags of its SIGUSR1 action (from sigaction()), the
signal it blocked before sleeping, the loopback device its packets left by.

This machine has no kprobe_events, so these skip here;
tests/qemu/test_qemu_kprobes.py runs this file inside a QEMU guest with
FTSTAP_EXPECT_KPROBES=1, which turns the skip into a failure."""
import os
import re
import subprocess
import sys

# The workload writes what it did to its own file (argv[2]), never to the
# stdout it shares with ftstap: there its lines could interleave with the
# tracer's (an unbuffered print is several writes).
WORKLOAD = r"""
import os, signal, socket, sys, time
facts = open(sys.argv[2], "w", buffering=1)
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
c = socket.socket(); c.bind(("127.0.0.2", 0)); c.connect(srv.getsockname())
a, _ = srv.accept()
print("ports", c.getsockname()[1], srv.getsockname()[1], file=facts)
time.sleep(0.2)
c.send(b"hello")
a.recv(5)
with open(sys.argv[1], "rb") as f:
    print("ino", os.fstat(f.fileno()).st_ino, file=facts)
    f.read()
signal.signal(signal.SIGUSR1, lambda s, f: None)
import ctypes, struct
act = ctypes.create_string_buffer(256)       # glibc's struct sigaction: handler, mask, flags
ctypes.CDLL(None, use_errno=True).sigaction(signal.SIGUSR1, None, act)
print("act %x %x" % (struct.unpack_from("Q", act, 0)[0], struct.unpack_from("i", act, 136)[0] & 0xffffffff),
      file=facts)
os.kill(os.getpid(), signal.SIGUSR1)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
time.sleep(0.2)
"""

SCRIPT = r"""
probe tcp.sendmsg {
  if (pid() != target()) next
  printf("tcp %d %d %s %s %d %d %d %d %d %d %d\n", inet_get_local_port(sock), inet_get_dest_port(sock),
         inet_get_ip_source(sock), inet_get_ip_dest(sock), tcp_ts_get_info_state(sock),
         tcpmib_local_port(sock), tcpmib_remote_port(sock), __ip_sock_family(sock),
         tcp_get_info_snd_cwnd(sock), tcp_get_info_rto(sock) > 0, tcp_ts_get_info_rcv_mss(sock) > 0)
  printf("addr %x %x %x %x\n", __ip_sock_saddr(sock), __ip_sock_daddr(sock),
         tcpmib_local_addr(sock), tcpmib_remote_addr(sock))
}
probe kernel.function("vfs_read") {
  if (pid() != target() || __file_filename($file) != "cast_helpers_data") next
  printf("file %d %s %d\n", __file_ino($file), __file_filename($file), __file_maxbytes($file) > 0)
}
probe kernel.trace("net:net_dev_xmit") {
  if (pid() == target()) printf("dev %s\n", get_netdev_name($dev))
}
probe kernel.trace("sched:sched_switch") {
  if ($prev->pid == target() && is_sig_blocked($prev, 12))
    printf("blocked %d %d %d\n", is_sig_blocked($prev, 12), is_sig_blocked($prev, 13), _stp_valid_task($prev))
}
probe kernel.trace("signal:signal_deliver") {
  if (pid() != target()) next
  printf("sig %x %x\n", get_sa_handler($ka), get_sa_flags($ka))
}
"""


def test_cast_helpers_read_what_the_workload_made(kp, tmp_path):
    subprocess.run(["ip", "link", "set", "lo", "up"], check=False)
    prog = tmp_path / "workload.py"
    prog.write_text(WORKLOAD)
    data = tmp_path / "cast_helpers_data"
    data.write_bytes(b"x" * 100)
    facts_path = tmp_path / "facts"
    p = subprocess.run([sys.executable, "-m", "ftstap", "-c", f"{sys.executable} {prog} {data} {facts_path}",
                        "-e", SCRIPT], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    out, facts = p.stdout, facts_path.read_text()
    m = re.search(r"^ports (\d+) (\d+)$", facts, re.M)
    assert m, facts + out
    cport, sport = m[1], m[2]
    # stap's inet_get_ip_source gives the destination, inet_get_ip_dest the source
    assert f"tcp {cport} {sport} 127.0.0.1 127.0.0.2 1 {cport} {sport} 2 10 1 1" in out.splitlines(), out
    # host byte order: 127.0.0.2 is 7f000002
    assert "addr 200007f 100007f 7f000002 7f000001" in out.splitlines(), out   # as stored; tcpmib_*: host order
    ino = re.search(r"^ino (\d+)$", facts, re.M)[1]
    assert f"file {ino} cast_helpers_data 1" in out.splitlines(), out
    assert "dev lo" in out.splitlines(), out
    assert "blocked 1 0 1" in out.splitlines(), out
    act = re.search(r"^act (\w+) (\w+)$", facts, re.M)
    assert act and f"sig {act[1]} {act[2]}" in out.splitlines(), out
    assert os.path.exists(data)
