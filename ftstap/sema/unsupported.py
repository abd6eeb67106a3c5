"""stap tapset functions ftstap cannot serve, and why.

Pass 2 reports a call to one of these with its reason instead of
"unresolved function": the script is valid stap, but what the function
reads exists only inside the kernel (a task_struct, a dentry, the probe's
saved registers, the kernel stack of a handler running in a module).
Functions that ftstap simply has not written yet stay unresolved."""
from __future__ import annotations

_KERNEL_OBJECT = ("it reads {what} in kernel memory, and ftstap runs without a kernel module "
                  "(kernel memory is reachable only through kprobe fetch-args of $variables)")
_REGISTERS = ("it reads the probe's saved registers, which ftstap's events do not carry; "
              "use $return (or retval in syscall.*.return probes)")
_KSTACK = "it measures the kernel stack a stap probe handler runs on; ftstap's handlers run in user space"

_TABLE = {
    "a file or path through a task's files": """task_fd_lookup task_cwd_path task_exe_file current_exe_file
        task_dentry_path fullpath_struct_path fullpath_struct_file fullpath_struct_nameidata d_path
        inode_name inode_path real_mount reverse_path_walk""",
    "a kernel buffer or string": """kernel_buffer_quoted kernel_buffer_quoted_error kernel_string_utf16
        kernel_string_utf32 kernel_string_quoted_utf16 kernel_string_quoted_utf32 kernel_or_user_string_quoted
        atomic_read atomic_long_read""",
    "a task_struct's kernel stack": "task_backtrace",
    "this module's layout": "module_size",
    "a struct pt_regs (the registers saved at a kernel entry)": "__is_user_regs",
}

# What fetch-args cannot do: they follow a fixed chain of constant offsets
# from the event's registers, so a loop over a list or an array, a test
# before a read, or an address computed from two kernel values is beyond them.
_FETCH = "it {what}, which an event's fetch-args (a fixed chain of reads at constant offsets) cannot do"
_FETCH_TABLE = {
    "sums the lengths of nr_segs iovecs in kernel memory, a loop": "_get_sock_size _get_fopv_size",
    "walks a superblock's list of mounts": "__inode_vfsmount",
    "tests a page's type (slab, swap cache, anonymous) before following its mapping": "__bio_ino",
    "reads the TCP header at skb->head + skb->network_header, two kernel values added": "_is_reset",
    "maps a kernel address to its NUMA node through the kernel's page frame and node tables":
        "addr_to_node",
    "compares with the struct page of the kernel's zero page, whose address only kernel code "
    "computes": "_IS_ZERO_PAGE",
}
# Guru functions that act inside the kernel.
_IN_KERNEL = {
    "mdelay": "it busy-waits in the kernel while the probed code waits; ftstap's handlers run in user "
              "space after the event, so nothing in the kernel would be delayed",
    "udelay": "it busy-waits in the kernel while the probed code waits; ftstap's handlers run in user "
              "space after the event, so nothing in the kernel would be delayed",
    "panic": "it panics the kernel, which needs code running in the kernel (a module)",
}

REASONS: dict[str, str] = dict(_IN_KERNEL)
for _what, _names in _FETCH_TABLE.items():
    for _name in _names.split():
        REASONS[_name] = _FETCH.format(what=_what)
for _what, _names in _TABLE.items():
    for _name in _names.split():
        REASONS[_name] = _KERNEL_OBJECT.format(what=_what)
for _name in "returnval returnstr print_regs".split():
    REASONS[_name] = _REGISTERS
for _name in "stack_size stack_used stack_unused".split():
    REASONS[_name] = _KSTACK
REASONS["_stp_syscall_nr"] = ("it reads the syscall number from the current task's saved registers, which "
                              "ftstap's events do not carry; syscall_any probes set syscall_nr")


def reason(name: str) -> str | None:
    """Why ftstap cannot serve stap function `name`, or None."""
    return REASONS.get(name)
