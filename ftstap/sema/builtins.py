"""Functions the runtime provides natively, with their stap signatures.

'l' is long, 's' string; the last letter of each entry is the return type
('v' for none).  Everything else in the library is written in the stap
language under tapsets/."""
from __future__ import annotations

_SIGS = """
pid:l tid:l ppid:l uid:l gid:l euid:l egid:l cpu:l execname:s target:l pexecname:s
pp:s pn:s ppfunc:s probefunc:s probemod:s is_return:l user_mode:l raise:lv
gettimeofday_s:l gettimeofday_ms:l gettimeofday_us:l gettimeofday_ns:l get_cycles:l jiffies:l
local_clock_ns:l local_clock_us:l local_clock_ms:l local_clock_s:l
backtrace:s print_backtrace:v sprint_backtrace:s ubacktrace:s print_ubacktrace:v sprint_ubacktrace:s
print_stack:sv sprint_stack:ss print_ustack:sv sprint_ustack:ss stack:ll ustack:ll caller:s caller_addr:l
user_string:ls user_string_n:lls
kernel_string:ls kernel_string_n:lls kernel_string_quoted:ls
user_int_error:ll user_long_error:ll user_short_error:ll user_char_error:ll user_uint_error:ll
user_ulong_error:ll
kernel_int:ll kernel_long:ll kernel_short:ll kernel_char:ll kernel_pointer:ll
register:sl u_register:sl int_arg:ll uint_arg:ll long_arg:ll ulong_arg:ll pointer_arg:ll
s32_arg:ll u32_arg:ll s64_arg:ll u64_arg:ll
errno_str:ls errno_p:ll
strlen:sl substr:slls isinstr:ssl str_replace:ssss tokenize:sss strtol:sll text_str:ss
text_strn:slls stringat:sll matched:ls matched_str:s ngroups:l string_quoted:ss
toupper:ss tolower:ss isdigit:sl strpos:ssl print_char:lv
exit:v error:sv warn:sv log:sv abort:v printk:lsv
randint:ll ctime:ls env_var:ss kernel_v:s num_online_cpus:l stp_pid:l
tz_gmtoff:l tz_name:s HZ:l pgrp:l sid:l _proc_statm:lll _proc_cputime:lll mem_page_size:l
usymname:ls symname:ls usymdata:ls symdata:ls umodname:ls addr:l uaddr:l
cmdline_args:llss syscall_name:ls pid2execname:ls pid2task:ll
task_current:l task_parent:ll task_pid:ll task_tid:ll task_uid:ll task_euid:ll task_gid:ll task_egid:ll
task_max_file_handles:ll task_prio:ll task_nice:ll task_cpu:ll task_execname:ls task_state:ll
task_open_file_handles:ll _task_rlimit:lll _blk_elevator:ls _loadavg_centi:ll ftrace:sv system:sv switch_file:v _usymline:lls
fp_add:lll fp_sub:lll fp_mul:lll fp_div:lll fp_rem:lll fp_sqrt:ll fp_eq:lll fp_lt:lll fp_le:lll
long_to_fp:ll fp32_to_fp64:ll fp_to_long:llll fp_to_string:lls string_to_fp:sl
set_kernel_long:llv set_kernel_int:llv set_kernel_short:llv set_kernel_char:llv
set_kernel_pointer:llv set_kernel_string:lsv set_kernel_string_n:llsv
_procfs_value:s _procfs_set_value:sv _procfs_append_value:sv _ns_id:ll _task_ns_id:lll
"""

# Functions that write kernel memory or the kernel log, or signal a traced thread: guru mode (-g) only.
GURU_ONLY = frozenset("""printk raise set_kernel_long set_kernel_int set_kernel_short set_kernel_char
set_kernel_pointer set_kernel_string set_kernel_string_n
task_ns_pid task_ns_tid task_ns_uid task_ns_euid task_ns_gid task_ns_egid""".split())
# (task_ns_*: tapset functions that stap's task_ns.stp marks /* guru */.)


def _parse() -> dict[str, tuple[tuple[str, ...], str]]:
    out = {}
    names = {"l": "long", "s": "string", "v": "void"}
    for item in _SIGS.split():
        name, _, sig = item.partition(":")
        out[name] = (tuple(names[c] for c in sig[:-1]), names[sig[-1]])
    return out


BUILTINS = _parse()
