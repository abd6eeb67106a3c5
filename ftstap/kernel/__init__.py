"""Everything that knows about the running kernel.

tracefs     find/mount tracefs, list tracepoints, parse event format files
dynevents   kprobe/uprobe events in a per-session group, stale-group cleanup,
            --list-active (built on tracefs, which never imports it)
features    KernelFeatures: what this kernel (or a snapshot of one) offers
support     the --probe-support table
btf         BTF reader: function parameters, struct member offsets
symbols     /proc/kallsyms, ELF function symbols and SDT notes of user programs

Submodules are not imported here: startup only pays for what it uses.
"""
