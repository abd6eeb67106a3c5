"""What a kernel module stap's tapsets probe is, for module("M").function(...)
errors: which config option builds it and what it provides, so a kernel
that has neither the module loaded nor its code built in is refused with
the feature it lacks ("no NFS client: CONFIG_NFS_FS"), not with a symbol
table fact."""
from __future__ import annotations

# module name -> (config option, what it is)
KNOWN = {
    "nfs": ("CONFIG_NFS_FS", "NFS client"),
    "nfsv2": ("CONFIG_NFS_V2", "NFSv2 client"),
    "nfsv3": ("CONFIG_NFS_V3", "NFSv3 client"),
    "nfsv4": ("CONFIG_NFS_V4", "NFSv4 client"),
    "nfsd": ("CONFIG_NFSD", "NFS server"),
    "sunrpc": ("CONFIG_SUNRPC", "SUN RPC layer (NFS's transport)"),
    "lockd": ("CONFIG_LOCKD", "NFS lock manager"),
    "scsi_mod": ("CONFIG_SCSI", "SCSI mid-layer"),
    "sd_mod": ("CONFIG_BLK_DEV_SD", "SCSI disk driver"),
}
# a module that is part of another: without that one, name it instead
PART_OF = {"nfsv2": "nfs", "nfsv3": "nfs", "nfsv4": "nfs", "lockd": "sunrpc", "sd_mod": "scsi_mod"}


def missing(features, module: str, function: str, loaded: set[str]) -> str | None:
    """The error for module(M).function(F) when no loaded module M has F,
    for a module of KNOWN; None for any other module."""
    if module not in KNOWN:
        return None
    whole = PART_OF.get(module)
    if whole and whole not in loaded and features.config_known and features.config(KNOWN[whole][0]) is None:
        module = whole
    option, what = KNOWN[module]
    value = features.config(option) if features.config_known else None
    mods = "loads no modules (CONFIG_MODULES is off)" if not loaded else \
        f"has not loaded module {module} (modprobe {module})"
    if value == "y":
        return (f'{function} is not a function of this kernel\'s {what} ({option}=y, built in): '
                f"no kernel.function(\"{function}\") in the kernel's symbol table (renamed or inlined "
                "in this kernel version?)")
    if value == "m":
        return f'this kernel {mods}: its {what} is module {module} ({option}=m), not built in'
    if not features.config_known:
        return (f"no {what} in this kernel: it is not built in (no {function} in the symbol table) "
                f"and this kernel {mods} (its config is unreadable, so whether it has {option} is unknown)")
    return (f"this kernel has no {what}: {option} is not set (not built in), and it {mods}")
