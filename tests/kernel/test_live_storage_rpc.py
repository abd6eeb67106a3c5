"""scsi.*, nfs.*, nfsd.* and sunrpc.* on the running kernel: where it has
neither the code built in nor the module loaded (this machine: no SCSI,
NFS or SUN RPC, no modules), pass 2 refuses each family naming the config
option it lacks, and --probe-support says the same.  A kernel that has
them is covered by tests/qemu/test_qemu_storage_rpc.py."""
import subprocess
import sys

import pytest

from ftstap.kernel.features import KernelFeatures

CASES = [("scsi.iodone", "CONFIG_SCSI", "scsi_mod", "scsi"),
         ("nfs.fop.read", "CONFIG_NFS_FS", "nfs", "nfs"),
         ("nfs.proc.lookup", "CONFIG_NFS_FS", "nfs", "nfs"),
         ("nfsd.proc.read", "CONFIG_NFSD", "nfsd", "nfsd"),
         ("sunrpc.clnt.call_sync", "CONFIG_SUNRPC", "sunrpc", "sunrpc")]


@pytest.fixture(scope="module")
def features(tfs):
    return KernelFeatures.detect()


def _absent(f, option: str, module: str, system: str) -> bool:
    return (f.config_known and f.config(option) is None and module not in f.kallsyms().modules()
            and system not in f.tracepoint_systems())


@pytest.mark.parametrize("point, option, module, system", CASES)
def test_pass2_names_the_missing_feature(features, point, option, module, system):
    if not _absent(features, option, module, system):
        pytest.skip(f"this kernel has {option} or module {module}")
    r = subprocess.run([sys.executable, "-m", "ftstap", "-p2", "-e", f"probe {point} {{ println(1) }}"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode != 0
    first = r.stderr.splitlines()[0]
    assert first.startswith(f"semantic error: probe point {point} cannot be served: this kernel has no ")
    assert f"{option} is not set" in first, first
    if features.config("CONFIG_MODULES") is None:
        assert "loads no modules (CONFIG_MODULES is off)" in first


def test_listing_lists_nothing_it_cannot_serve(features):
    if not _absent(features, "CONFIG_SCSI", "scsi_mod", "scsi"):
        pytest.skip("this kernel has SCSI")
    r = subprocess.run([sys.executable, "-m", "ftstap", "-L", "scsi.*"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0 and r.stdout == "", r.stdout + r.stderr


def test_probe_support_rows(features):
    r = subprocess.run([sys.executable, "-m", "ftstap", "--probe-support"], capture_output=True, text=True,
                       timeout=300)
    rows = {line.split("  ")[0]: line for line in r.stdout.splitlines()}
    for family, option, module, system in [("scsi.iodispatching, scsi.iodone", "CONFIG_SCSI", "scsi_mod", "scsi"),
                                           ("nfs.fop.*, nfs.aop.*", "CONFIG_NFS_FS", "nfs", "nfs"),
                                           ("nfsd.*, nfsd.proc.*, nfsd.proc2/3/4.*", "CONFIG_NFSD", "nfsd",
                                            "nfsd")]:
        line = rows[family]
        if _absent(features, option, module, system):
            assert "  no  " in line and f"missing: {option} is not set" in line, line
