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
        task_dentry_path fullpath_struct_path fullpath_struct_file fullpath_struct_nameidata d_path d_name
        inode_name inode_path real_mount reverse_path_walk""",
    "a kernel buffer or string": """kernel_buffer_quoted kernel_buffer_quoted_error kernel_string_utf16
        kernel_string_utf32 kernel_string_quoted_utf16 kernel_string_quoted_utf32 kernel_or_user_string_quoted
        atomic_read atomic_long_read""",
    "a task_struct's kernel stack": "task_backtrace",
    "this module's layout": "module_size",
    "a struct pt_regs (the registers saved at a kernel entry)": "__is_user_regs",
}

REASONS: dict[str, str] = {}
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
