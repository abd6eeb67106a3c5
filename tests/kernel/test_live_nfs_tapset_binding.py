"""The tracepoint-served nfs.* and nfsd.* probes bind, with every variable
their tapsets set, where the NFS client and server are in the kernel: each
alias below must be served by the tracepoint named beside it (pass 2).  No
NFS traffic is made here: this checks the binding, and
test_live_nfs_traffic.py checks values over a loopback mount.

FTSTAP_NFS_MODULES names a directory of the kernel's .ko files (sunrpc,
grace, lockd, nfs_acl, auth_rpcgss, netfs, fscache, nfs, nfsv3, nfsd) to
insmod first: tests/qemu/test_qemu_storage_rpc.py sets it and
FTSTAP_EXPECT_NFS=1, which turns a skip into a failure.  This machine has
no NFS: skips."""
import os
import subprocess
import sys

import pytest

from kmods import insmod

ORDER = ("sunrpc", "grace", "lockd", "nfs_acl", "auth_rpcgss", "netfs", "fscache", "nfs", "nfsv3", "nfsd")
SERVED = {
    "nfs.fop.fsync": "nfs:nfs_fsync_enter", "nfs.fop.fsync.return": "nfs:nfs_fsync_exit",
    "nfs.aop.read_folio": "nfs:nfs_aop_readpage", "nfs.aop.readpage.return": "nfs:nfs_aop_readpage_done",
    "nfs.aop.readahead": "nfs:nfs_aop_readahead", "nfs.aop.readpages.return": "nfs:nfs_aop_readahead_done",
    "nfs.proc.read_setup": "nfs:nfs_initiate_read", "nfs.proc.read_done": "nfs:nfs_readpage_done",
    "nfs.proc.write_setup": "nfs:nfs_initiate_write", "nfs.proc.write_done": "nfs:nfs_writeback_done",
    "nfs.proc.commit_setup": "nfs:nfs_initiate_commit", "nfs.proc.commit_done": "nfs:nfs_commit_done",
    "nfs.proc.create": "nfs:nfs_create_enter", "nfs.proc.create.return": "nfs:nfs_create_exit",
    "nfs.proc.remove": "nfs:nfs_remove_enter", "nfs.proc.remove.return": "nfs:nfs_remove_exit",
    "nfs.proc.rename": "nfs:nfs_rename_enter", "nfs.proc.rename.return": "nfs:nfs_rename_exit",
    "nfsd.read": "nfsd:nfsd_read_start", "nfsd.read.return": "nfsd:nfsd_read_done",
    "nfsd.write": "nfsd:nfsd_write_start", "nfsd.write.return": "nfsd:nfsd_write_done",
}
# what each probe prints: every variable its alias sets (pass 2 type-checks them all)
PRINTS = {
    "nfs.fop.fsync": "name, argstr, dev, ino, s_id, devname, ndirty",
    "nfs.aop.read_folio": "name, argstr, dev, ino, __page, __inode, file, i_flag, i_size, sb_flag, size, units",
    "nfs.aop.readahead": "name, argstr, dev, ino, file, rpages, rsize, size, units",
    "nfs.proc.read_setup": "name, argstr, server_ip, prot, version, count, offset, size, units, status",
    "nfs.proc.create": "name, argstr, filename, filelen, flag, mode, version",
    "nfs.proc.remove": "name, argstr, filename, filelen, version",
    "nfs.proc.rename": "name, argstr, old_name, new_name, old_filelen, new_filelen",
    "nfsd.read": "name, argstr, fh, offset, count, size, units",
    "nfsd.write": "name, argstr, fh, offset, count, vec, vlen, size, units",
}


@pytest.fixture(scope="module")
def nfs(tfs):
    expect = os.environ.get("FTSTAP_EXPECT_NFS") == "1"
    mods = os.environ.get("FTSTAP_NFS_MODULES")
    if mods:
        insmod(mods, ORDER)
    events = "/sys/kernel/tracing/events"
    if not (os.path.isdir(f"{events}/nfs") and os.path.isdir(f"{events}/nfsd")):
        (pytest.fail if expect else pytest.skip)("no nfs: and nfsd: tracepoints in this kernel")


def _script() -> str:
    out = []
    for point in SERVED:
        names = PRINTS.get(point, "name, retstr")
        fmt = " ".join("%s" if n in ("name", "argstr", "retstr", "devname", "units", "server_ip", "filename",
                                     "old_name", "new_name") else "%d" for n in names.split(", "))
        out.append(f'probe {point} {{ printf("{fmt}\\n", {names}) }}')
    return "\n".join(out)


def test_tracepoint_served_aliases_bind_with_their_variables(nfs):
    p = subprocess.run([sys.executable, "-m", "ftstap", "-p2", "-e", _script()], capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    for point, tp in SERVED.items():
        assert any(l.startswith(f'kernel.trace("{tp}") /* <- {point};') for l in lines), \
            f"{point} is not served by {tp}:\n{p.stdout}"
