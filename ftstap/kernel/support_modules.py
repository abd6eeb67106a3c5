"""--probe-support rows of the families a kernel may build as modules
(scsi.*, nfs.*, nfsd.*, sunrpc.*): their tracepoints where the code is in
the kernel (built in, or its module loaded), kprobes on its functions
(tapsets/scsi.stp, nfs*.stp, rpc*.stp), else what is missing: the config
option, and that the module is not loaded or cannot be.  Rows are
(family, provider or None, missing or None), as support.Support takes them
(support.py imports this module, not the reverse)."""
from __future__ import annotations

# (family, module, config option, what it is, tracepoints that serve part of it)
FAMILIES = (
    ("scsi.iodispatching, scsi.iodone", "scsi_mod", "CONFIG_SCSI", "SCSI",
     ("scsi:scsi_dispatch_cmd_start", "scsi:scsi_dispatch_cmd_done")),
    ("scsi.ioentry, scsi.iocompleted, scsi.ioexecute, scsi.set_state", "scsi_mod", "CONFIG_SCSI", "SCSI", ()),
    ("nfs.fop.*, nfs.aop.*", "nfs", "CONFIG_NFS_FS", "NFS client",
     ("nfs:nfs_fsync_enter", "nfs:nfs_aop_readpage", "nfs:nfs_aop_readahead")),
    ("nfs.proc.*, nfs.proc2/3/4.*", "nfs", "CONFIG_NFS_FS", "NFS client",
     ("nfs:nfs_initiate_read", "nfs:nfs_initiate_write", "nfs:nfs_initiate_commit", "nfs:nfs_create_enter")),
    ("nfsd.*, nfsd.proc.*, nfsd.proc2/3/4.*", "nfsd", "CONFIG_NFSD", "NFS server",
     ("nfsd:nfsd_read_start", "nfsd:nfsd_write_start")),
    ("sunrpc.clnt.*, sunrpc.svc.*, sunrpc.sched.*, sunrpc.entry/return", "sunrpc", "CONFIG_SUNRPC", "SUN RPC",
     ("sunrpc:rpc_clnt_new", "sunrpc:rpc_task_begin")),
)


def _loaded(f) -> set[str] | None:
    try:
        return f.kallsyms().modules()
    except Exception:                   # no readable kallsyms: unknown
        return None


def module_family_support(f, kprobe) -> list[tuple]:
    """kprobe(f, family, what): support.py's row for a kprobe family."""
    loaded = _loaded(f)
    rows = []
    for family, module, option, what, events in FAMILIES:
        value = f.config(option) if f.config_known else None
        present = value == "y" or (loaded is not None and module in loaded)
        tps = [e for e in events if f.events_root and f.has_tracepoint(*e.split(":"))]
        where = "the kernel's functions" if value == "y" else f"module {module}'s functions"
        if present:
            kp = kprobe(f, family, f"on {where}")
            if tps:
                rest = f" (the rest: {kp.provider})" if kp.provider else \
                    f" (the rest needs kprobes: {kp.missing})"
                rows.append((family, "tracepoints " + ", ".join(tps) + rest,
                             None if kp.provider else kp.missing))
            else:
                rows.append((family, kp.provider, kp.missing))
            continue
        if not f.config_known:
            missing = f"{what}: not loaded, and the config is unknown ({option})"
        elif value == "m":
            missing = (f"{what} is module {module} ({option}=m), not loaded"
                       + ("" if loaded else ": this kernel lists no modules"))
        else:
            missing = (f"{option} is not set: no {what} built in, and no modules (CONFIG_MODULES is off)"
                       if f.config("CONFIG_MODULES") is None else
                       f"{option} is not set: no {what}, built in or as a module")
        rows.append((family, None, missing))
    return rows
