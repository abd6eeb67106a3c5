"""The scsi.*, nfs.*, nfsd.* and sunrpc.* tapsets (tapsets/scsi.stp, nfs*.stp,
rpc*.stp) against synthetic kernels: where their modules are missing, pass 2
names the kernel feature (CONFIG_SCSI, CONFIG_NFS_FS, ...), not "no match";
where the scsi: tracepoints exist they serve scsi.iodispatching/iodone, and
-L lists those with their variables; --probe-support says which."""
import os

import pytest

from ftstap.kernel.support import probe_support
from ftstap.sema.probelist import list_probes
from sema_support import EVENTS, elaborate, error_of, make_snapshot

SCSI_FIELDS = ["unsigned int host_no;8;4;0", "unsigned int channel;12;4;0", "unsigned int id;16;4;0",
               "unsigned int lun;20;4;0", "unsigned int opcode;24;4;0", "unsigned int cmd_len;28;4;0",
               "int driver_tag;32;4;1", "int scheduler_tag;36;4;1", "unsigned int data_sglen;40;4;0",
               "unsigned int prot_sglen;44;4;0", "unsigned char prot_op;48;1;0",
               "__data_loc unsigned char[] cmnd;52;4;0"]
SCSI_EVENTS = {("scsi", "scsi_dispatch_cmd_start"): SCSI_FIELDS,
               ("scsi", "scsi_dispatch_cmd_done"): SCSI_FIELDS[:4] + ["int result;24;4;1"]
               + [f.replace(f";{o};", f";{o + 4};") for f, o in zip(SCSI_FIELDS[4:], range(24, 56, 4))]}


def snapshot(tmp_path, config: str, events=None, kallsyms: str | None = None):
    f = make_snapshot(tmp_path / "snap", events={**EVENTS, **(events or {})})
    with open(os.path.join(f.snapshot, "config"), "w") as out:
        out.write(config)
    if kallsyms is not None:
        with open(os.path.join(f.snapshot, "kallsyms"), "w") as out:
            out.write(kallsyms)
    return type(f).from_snapshot(f.snapshot)


NOTHING = "# CONFIG_MODULES is not set\n# CONFIG_SCSI is not set\n"
KALLSYMS = "ffffffff81000000 T _stext\nffffffff81001000 T vfs_read\n"


@pytest.mark.parametrize("point, option, what", [
    ("scsi.iodone", "CONFIG_SCSI", "SCSI mid-layer"),
    ("scsi.*", "CONFIG_SCSI", "SCSI mid-layer"),
    ("nfs.fop.read", "CONFIG_NFS_FS", "NFS client"),
    ("nfs.aop.write_begin", "CONFIG_NFS_FS", "NFS client"),
    ("nfs.proc.lookup", "CONFIG_NFS_FS", "NFS client"),          # nfsv3 is part of the client
    ("nfs.proc.read_setup", "CONFIG_NFS_FS", "NFS client"),
    ("nfsd.dispatch", "CONFIG_NFSD", "NFS server"),
    ("nfsd.proc.write", "CONFIG_NFSD", "NFS server"),
    ("sunrpc.clnt.call_sync", "CONFIG_SUNRPC", "SUN RPC"),
    ("sunrpc.sched.execute", "CONFIG_SUNRPC", "SUN RPC"),
])
def test_missing_kernel_feature_is_named(tmp_path, point, option, what):
    f = snapshot(tmp_path, NOTHING, kallsyms=KALLSYMS)
    e = error_of(f"probe {point} {{ }}", f)
    assert "cannot be served" in str(e) and "no match" not in str(e)
    assert f"no {what}" in str(e) and f"{option} is not set" in str(e)
    assert "loads no modules (CONFIG_MODULES is off)" in str(e)


def test_a_module_kernel_says_load_it(tmp_path):
    f = snapshot(tmp_path, "CONFIG_MODULES=y\nCONFIG_NFS_FS=m\nCONFIG_NFSD=m\n",
                 kallsyms=KALLSYMS + "ffffffffc0000000 t virtio_dev_probe\t[virtio]\n")
    e = error_of("probe nfs.fop.open { }", f)
    assert "has not loaded module nfs (modprobe nfs)" in str(e) and "CONFIG_NFS_FS=m" in str(e)


def test_scsi_tracepoints_serve_dispatch_and_done(tmp_path):
    f = snapshot(tmp_path, NOTHING, events=SCSI_EVENTS, kallsyms=KALLSYMS)
    prog = elaborate("probe scsi.iodispatching, scsi.iodone { printf(\"%d %d %s\\n\", host_no, "
                     "data_direction, data_direction_str) }", f)
    pps = sorted(p.source.pp for p in prog.probes)
    assert pps == ['kernel.trace("scsi:scsi_dispatch_cmd_done")', 'kernel.trace("scsi:scsi_dispatch_cmd_start")']
    # the kprobe-only members of the family still say what is missing
    assert "CONFIG_SCSI is not set" in str(error_of("probe scsi.iocompleted { }", f))


def test_listing_shows_the_variables(tmp_path):
    f = snapshot(tmp_path, NOTHING, events=SCSI_EVENTS, kallsyms=KALLSYMS)
    lines = list_probes("scsi.*", f, True)
    disp = next(l for l in lines if l.startswith("scsi.iodispatching "))
    done = next(l for l in lines if l.startswith("scsi.iodone "))
    for var in ("host_no:long", "channel:long", "lun:long", "dev_id:long", "device_state:long",
                "device_state_str:string", "data_direction:long", "data_direction_str:string",
                "request_bufflen:long", "req_addr:long"):
        assert var in disp.split(), disp
    assert "scsi_timer_pending:long" in done.split()
    assert not any(l.startswith("__scsi") for l in lines)      # the per-provider halves are private
    assert not any(l.startswith("scsi.ioentry") for l in lines)  # unservable here: not listed


def test_probe_support_rows(tmp_path):
    f = snapshot(tmp_path, NOTHING, kallsyms=KALLSYMS)
    rows = {r.family: r for r in probe_support(f)}
    nfs = rows["nfs.fop.*, nfs.aop.*"]
    assert nfs.status == "no" and "CONFIG_NFS_FS is not set" in nfs.missing
    assert "CONFIG_MODULES is off" in rows["sunrpc.clnt.*, sunrpc.svc.*, sunrpc.sched.*, sunrpc.entry/return"].missing
    g = snapshot(tmp_path / "b", "CONFIG_MODULES=y\nCONFIG_SCSI=m\n", events=SCSI_EVENTS,
                 kallsyms=KALLSYMS + "ffffffffc0001000 t scsi_done\t[scsi_mod]\n")
    rows = {r.family: r for r in probe_support(g)}
    tp = rows["scsi.iodispatching, scsi.iodone"]
    assert tp.provider.startswith("tracepoints scsi:scsi_dispatch_cmd_start, scsi:scsi_dispatch_cmd_done")
    kp = rows["scsi.ioentry, scsi.iocompleted, scsi.ioexecute, scsi.set_state"]
    assert kp.status == "no" and "CONFIG_KPROBE_EVENTS" in kp.missing     # the snapshot has no kprobes
    assert rows["nfsd.*, nfsd.proc.*, nfsd.proc2/3/4.*"].missing == "CONFIG_NFSD is not set: no NFS server, " \
                                                                   "built in or as a module"
