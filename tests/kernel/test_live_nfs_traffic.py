"""nfs.* and nfsd.* against NFS traffic a program makes: a tmpfs exported by
the kernel's NFS server and mounted over NFSv3 on loopback (nfs_loopback.py
stands in for the user-space tools).  The program writes a file through
the mount, then reads it back, and prints what it did: each read and
write's offset, size asked and size done, and the file's inode number.

The client's probes are kprobes on the nfs module's functions (their
$arguments typed by /sys/kernel/btf/nfs), nfs.proc.* and nfsd.read/write
are the modules' tracepoints, nfsd.dispatch a kprobe on nfsd's function.

FTSTAP_NFS_MODULES names a directory of the kernel's .ko files to insmod
first: the QEMU tier (tests/qemu/test_qemu_storage_rpc.py) sets it and
FTSTAP_EXPECT_NFS=1, which turns a skip into a failure.  This machine has
no NFS: skips."""
import os
import subprocess
import sys

import pytest

from kmods import insmod
from nfs_loopback import nfs_mount

ORDER = ("sunrpc", "grace", "lockd", "nfs_acl", "auth_rpcgss", "netfs", "fscache", "nfs", "nfsv3", "nfsd")
CHUNK, SIZE = 4000, 3 * 4096 + 100
NFS_PROGRAM, NFSPROC3_READ, NFSPROC3_WRITE = 100003, 6, 7

WORKLOAD = f"""
import os, sys
path = os.path.join(sys.argv[1], "data")
facts = open(sys.argv[2], "w")
data = bytes(i % 251 for i in range({SIZE}))
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
for pos in range(0, {SIZE}, {CHUNK}):
    print("write", pos, len(data[pos:pos + {CHUNK}]), os.pwrite(fd, data[pos:pos + {CHUNK}], pos), file=facts)
os.fsync(fd)
os.close(fd)
os.system("echo 3 > /proc/sys/vm/drop_caches")          # the read goes to the server
fd = os.open(path, os.O_RDONLY)
print("ino", os.fstat(fd).st_ino, os.fstat(fd).st_dev, file=facts)
pos = 0
while True:
    got = len(os.read(fd, {CHUNK}))
    print("read", pos, {CHUNK}, got, file=facts)
    pos += got
    if not got:
        break
os.close(fd)
"""

SCRIPT = """
probe nfs.fop.open { if (pid() == target()) printf("open %s %d %d\\n", file_name, ino, flag & 3) }
probe nfs.fop.write_iter { if (pid() == target()) printf("write %d %d\\n", pos, count) }
probe nfs.fop.write_iter.return { if (pid() == target()) printf("wrote %d\\n", size) }
probe nfs.fop.read_iter {
  if (pid() == target()) printf("read %d %d %d %d %s\\n", pos, count, ino, dev, file_name)
  if (pid() == target()) printf("attrs %d %d\\n", attr_time, HZ())
}
probe nfs.aop.writepages { printf("writepages %d %d\\n", ino, wsize) }
probe nfs.fop.read_iter.return { if (pid() == target()) printf("got %d\\n", size) }
probe nfs.proc.read_setup { printf("client-read %d %d\\n", offset, count) }
probe nfs.proc.write_setup { printf("client-write %d %d\\n", offset, count) }
probe nfsd.read { printf("server-read %d %d\\n", offset, count) }
probe nfsd.write { printf("server-write %d %d\\n", offset, count) }
probe nfsd.proc3.read { printf("proc3-read %d %d %s\\n", offset, count, client_ip) }
probe nfsd.proc3.write { printf("proc3-write %d %d %s\\n", offset, count, client_ip) }
probe nfsd.dispatch {
  if (prog == @PROG@ && (proc == @READ@ || proc == @WRITE@)) printf("dispatch %d %d %d %s\\n", version, proc, proto, client_ip)
}
""".replace("@PROG@", str(NFS_PROGRAM)).replace("@READ@", str(NFSPROC3_READ)).replace("@WRITE@", str(NFSPROC3_WRITE))


@pytest.fixture(scope="module")
def mount(tfs, tmp_path_factory):
    expect = os.environ.get("FTSTAP_EXPECT_NFS") == "1"
    mods = os.environ.get("FTSTAP_NFS_MODULES")
    if mods:
        insmod(mods, ORDER)
    if not (os.path.isdir("/sys/module/nfs") and os.path.isdir("/sys/module/nfsd")):
        (pytest.fail if expect else pytest.skip)("no NFS client and server in this kernel")
    with open("/proc/fs/nfsd/threads") if os.path.exists("/proc/fs/nfsd/threads") else open(os.devnull) as f:
        if f.read().strip() not in ("", "0"):
            pytest.skip("an NFS server is running here already")
    with nfs_mount(str(tmp_path_factory.mktemp("nfs"))) as m:
        yield m


def _pairs(lines, tag):
    return [tuple(int(v) for v in x.split()[1:3]) for x in lines if x.startswith(tag + " ")]


def test_reads_and_writes_match_the_program_and_the_server(mount, tmp_path):
    export, mnt = mount
    prog = tmp_path / "workload.py"
    prog.write_text(WORKLOAD)
    out = tmp_path / "workload.out"
    p = subprocess.run([sys.executable, "-m", "ftstap", "-e", SCRIPT,
                        "-c", f"{sys.executable} {prog} {mnt} {out}"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    did = out.read_text().split("\n")
    lines = p.stdout.splitlines()
    trace = f"{p.stdout}\nworkload:\n{out.read_text()}"
    with open(os.path.join(export, "data"), "rb") as f:
        assert f.read() == bytes(i % 251 for i in range(SIZE)), "the file did not reach the server"

    # the client's file operations: what the program asked, at its offsets
    ino, dev = map(int, next(x for x in did if x.startswith("ino ")).split()[1:])
    writes = [tuple(map(int, x.split()[1:])) for x in did if x.startswith("write ")]
    reads = [tuple(map(int, x.split()[1:])) for x in did if x.startswith("read ")]
    assert _pairs(lines, "write") == [(pos, n) for pos, n, _done in writes], trace
    assert [int(x.split()[1]) for x in lines if x.startswith("wrote ")] == [d for _p, _n, d in writes], trace
    assert [x.split()[1:] for x in lines if x.startswith("read ")] == \
        [[str(pos), str(n), str(ino), str(dev), "data"] for pos, n, _got in reads], trace
    assert [int(x.split()[1]) for x in lines if x.startswith("got ")] == [g for _p, _n, g in reads], trace
    # the mount's own figures, read from its struct nfs_server and nfs_inode
    options = dict(o.partition("=")[::2] for line in open("/proc/mounts") if line.split()[1] == mnt
                   for o in line.split()[3].split(","))
    assert {x for x in lines if x.startswith("writepages ") and x.split()[1] == str(ino)} == \
        {f"writepages {ino} {options['wsize']}"}, trace
    attrs = [x for x in lines if x.startswith("attrs ")]
    assert len(attrs) == len(reads), trace
    # attributes are trusted acregmin..acregmax seconds (/proc/mounts names them only when
    # they are not the defaults, 3 and 60)
    acregmin, acregmax = int(options.get("acregmin", 3)), int(options.get("acregmax", 60))
    for x in attrs:
        attr_time, hz = map(int, x.split()[1:])
        assert acregmin * hz <= attr_time <= acregmax * hz, trace
    opens = [x for x in lines if x.startswith("open ")]
    assert opens == [f"open data {ino} 1", f"open data {ino} 0"], trace      # O_WRONLY, then O_RDONLY

    # each READ and WRITE the client sent is one the server did, same offset and size
    client_w, server_w = sorted(_pairs(lines, "client-write")), sorted(_pairs(lines, "server-write"))
    client_r, server_r = sorted(_pairs(lines, "client-read")), sorted(_pairs(lines, "server-read"))
    assert client_w and client_w == server_w, trace
    assert sum(n for _o, n in server_w) == SIZE, trace
    assert client_r and client_r == server_r, trace
    assert min(o for o, _n in server_r) == 0 and max(o + n for o, n in server_r) >= SIZE, trace
    # the NFSv3 procedures decoded the same offsets and sizes, from the client at 127.0.0.1
    assert sorted(_pairs(lines, "proc3-write")) == server_w, trace
    assert sorted(_pairs(lines, "proc3-read")) == server_r, trace
    assert {x.split()[3] for x in lines if x.startswith("proc3-")} == {"127.0.0.1"}, trace
    # nfsd dispatched one v3 READ or WRITE call per server read or write, over TCP (6)
    dispatched = [x for x in lines if x.startswith("dispatch ")]
    assert dispatched.count(f"dispatch 3 {NFSPROC3_WRITE} 6 127.0.0.1") == len(server_w), trace
    assert dispatched.count(f"dispatch 3 {NFSPROC3_READ} 6 127.0.0.1") == len(server_r), trace
    assert len(dispatched) == len(server_w) + len(server_r), trace
