"""sunrpc.clnt.create_client/shutdown_client and sunrpc.sched.execute/
release_task against what starting the kernel's NFS server does: with no
rpcbind running, nfsd (writing /proc/fs/nfsd/threads) makes RPC clients to
rpcbind on localhost to register its services, runs tasks on them that
fail, and shuts each client down again.

Needs the sunrpc: tracepoints and nfsd. FTSTAP_RPC_MODULES names a
directory of the kernel's .ko files (sunrpc, grace, lockd, nfs_acl,
auth_rpcgss, nfsd) to insmod first: the QEMU tier
(tests/qemu/test_qemu_storage_rpc.py) sets it and FTSTAP_EXPECT_RPC=1,
which turns a skip into a failure.  This machine has neither: skips."""
import os
import subprocess
import sys

import pytest

from kmods import insmod

ORDER = ("sunrpc", "grace", "lockd", "nfs_acl", "auth_rpcgss", "nfsd")
NFSD = "/proc/fs/nfsd"
SCRIPT = """
probe sunrpc.clnt.create_client { printf("create %s %s\\n", progname, servername) }
probe sunrpc.clnt.shutdown_client { printf("shutdown\\n") }
probe sunrpc.sched.execute { printf("exec %d\\n", tk_pid) }
probe sunrpc.sched.release_task { printf("release %d\\n", tk_pid) }
"""
# start one nfsd thread (its rpcbind registration fails: no rpcbind), stop it
START_STOP = ("import os\n"
              "for n in (b'1', b'0'):\n"
              "    try: fd = os.open('/proc/fs/nfsd/threads', os.O_WRONLY); os.write(fd, n); os.close(fd)\n"
              "    except OSError: pass\n")


@pytest.fixture(scope="module")
def nfsd(tfs):
    expect = os.environ.get("FTSTAP_EXPECT_RPC") == "1"
    mods = os.environ.get("FTSTAP_RPC_MODULES")
    if mods:
        insmod(mods, ORDER)
        subprocess.run(["busybox", "ip", "link", "set", "lo", "up"], check=False)
    if not os.path.isdir("/sys/kernel/tracing/events/sunrpc") or not os.path.isdir("/sys/module/nfsd"):
        (pytest.fail if expect else pytest.skip)("no sunrpc: tracepoints or no nfsd in this kernel")
    if not os.path.exists(os.path.join(NFSD, "threads")):
        os.makedirs(NFSD, exist_ok=True)
        subprocess.run(["mount", "-t", "nfsd", "nfsd", NFSD], check=True)
    with open(os.path.join(NFSD, "threads")) as f:
        if f.read().strip() != "0":
            pytest.skip("an NFS server is running here already")


def test_nfsd_start_makes_and_ends_rpcbind_clients(nfsd, tmp_path):
    prog = tmp_path / "startstop.py"
    prog.write_text(START_STOP)
    p = subprocess.run([sys.executable, "-m", "ftstap", "-e", SCRIPT, "-c", f"{sys.executable} {prog}"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    creates = [x for x in lines if x.startswith("create ")]
    assert creates and set(creates) == {"create rpcbind localhost"}, p.stdout
    assert lines.count("shutdown") == len(creates), p.stdout
    # every task that ran was released, and only those (task ids count per
    # client, so they repeat: compared in order, these tasks run one at a time)
    ran = [x.split()[1] for x in lines if x.startswith("exec ")]
    ended = [x.split()[1] for x in lines if x.startswith("release ")]
    assert ran and ran == ended, p.stdout
