"""tests/kernel/test_live_scsi_tapset.py, test_live_rpc_tapset.py and
test_live_nfs_tapset_binding.py inside the Debian guest, whose kernel
builds SCSI, SUN RPC and NFS as modules: the guest insmods scsi_mod, sg,
scsi_debug, sunrpc, nfsd, nfs and their dependencies from the same kernel
package vmrun.sh boots (fetched once with apt-get download, the .ko files
kept in MODDIR), so scsi.*, sunrpc.*, nfs.* and nfsd.* are served by the
tracepoints those modules bring and by kprobes on their functions, typed
by the modules' BTF.  The NFS test mounts an export of the guest's own
NFS server over loopback (tests/kernel/nfs_loopback.py)."""
import glob
import os
import subprocess
import tempfile

import pytest

from qemutier import _unavailable, boot_pytest, guest_test_names

GUEST_TESTS = ("tests/kernel/test_live_scsi_tapset.py", "tests/kernel/test_live_rpc_tapset.py",
               "tests/kernel/test_live_nfs_tapset_binding.py", "tests/kernel/test_live_nfs_traffic.py")
VMDIR = os.environ.get("FTSTAP_VM_DIR", "/tmp/ftstap-vm")
MODDIR = os.path.join(VMDIR, "storage-rpc-modules")
WANTED = ("drivers/scsi/scsi_common.ko", "drivers/scsi/scsi_mod.ko", "drivers/scsi/sg.ko",
          "drivers/scsi/scsi_debug.ko", "crypto/crct10dif_common.ko", "crypto/crct10dif_generic.ko",
          "lib/crc-t10dif.ko", "net/sunrpc/sunrpc.ko", "fs/nfs_common/grace.ko", "fs/lockd/lockd.ko",
          "fs/nfs_common/nfs_acl.ko", "net/sunrpc/auth_gss/auth_rpcgss.ko", "fs/nfsd/nfsd.ko",
          "fs/netfs/netfs.ko", "fs/fscache/fscache.ko", "fs/nfs/nfs.ko", "fs/nfs/nfsv3.ko")


def _modules() -> str:
    """MODDIR, filled from the guest kernel's package on first use."""
    if all(glob.glob(os.path.join(MODDIR, "lib", "modules", "*", "kernel", w)) for w in WANTED):
        return MODDIR
    boots = glob.glob(os.path.join(VMDIR, "kernel", "boot", "vmlinuz-*"))
    if not boots:
        _unavailable(f"no guest kernel in {VMDIR} yet (vmrun.sh fetches it on its first run)")
    pkg = "linux-image-" + os.path.basename(boots[0])[len("vmlinuz-"):]
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(["apt-get", "-q", "-o", "APT::Sandbox::User=root", "download", pkg],
                           cwd=tmp, capture_output=True, text=True, timeout=600)
        if r.returncode:
            _unavailable(f"apt-get download {pkg} failed: {r.stderr[-500:]}")
        deb = glob.glob(os.path.join(tmp, "*.deb"))[0]
        os.makedirs(MODDIR, exist_ok=True)
        tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", MODDIR, "--wildcards",
                        *(f"./lib/modules/*/kernel/{w}" for w in WANTED)], stdin=tar.stdout, check=True)
        tar.wait()
    return MODDIR


@pytest.fixture(scope="module")
def guest():
    mods = _modules()
    return boot_pytest(*GUEST_TESTS, env={"FTSTAP_SCSI_MODULES": mods, "FTSTAP_EXPECT_SCSI": "1",
                                          "FTSTAP_RPC_MODULES": mods, "FTSTAP_EXPECT_RPC": "1",
                                          "FTSTAP_NFS_MODULES": mods, "FTSTAP_EXPECT_NFS": "1"}, timeout=900)


@pytest.mark.parametrize("name", [n for path in GUEST_TESTS for n in guest_test_names(path)])
def test_in_guest(guest, name):
    guest.assert_passed(name)
