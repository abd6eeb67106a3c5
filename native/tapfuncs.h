/* Builtins behind stap's tapset library that need C but not the VM's
 * internals: the kernel ABI's name tables (abinames.c), wall-clock text and
 * kernel clocks (timefuncs.c), facts about processes read from /proc
 * (procfuncs.c), stap's task_* functions over thread handles (taskfuncs.c)
 * system() (spawn.c) and switch_file() (outfile.c).  builtins.c lists them in
 * ft_builtins[] through the FT_TAP_BUILTINS and FT_OUTFILE_BUILTINS macros; what the stap language can do on top of them lives
 * in tapsets/ (errno.stp, ctime.stp, context.stp, proc_mem.stp, task.stp...). */
#ifndef FT_TAPFUNCS_H
#define FT_TAPFUNCS_H

#define TFB(name) int ft_b_##name(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
/* abinames.c */
TFB(errno_str); TFB(errno_p); TFB(syscall_name);
/* timefuncs.c */
TFB(ctime); TFB(tz_gmtoff); TFB(tz_name); TFB(HZ); TFB(jiffies);
/* procfuncs.c */
TFB(env_var); TFB(cmdline_args); TFB(pgrp); TFB(sid); TFB(_proc_statm); TFB(_proc_cputime);
TFB(mem_page_size);
/* taskfuncs.c */
TFB(task_current); TFB(pid2task); TFB(task_parent); TFB(task_pid); TFB(task_tid); TFB(task_uid);
TFB(task_euid); TFB(task_gid); TFB(task_egid); TFB(task_max_file_handles); TFB(task_prio);
TFB(task_nice); TFB(task_cpu); TFB(task_execname); TFB(task_state); TFB(task_open_file_handles);
/* rlimits.c, blkfuncs.c, loadavg.c, tracemarker.c, kmsg.c */
TFB(_task_rlimit); TFB(_blk_elevator); TFB(_loadavg_centi); TFB(ftrace); TFB(printk);
/* fpfuncs.c */
TFB(fp_add); TFB(fp_sub); TFB(fp_mul); TFB(fp_div); TFB(fp_rem); TFB(fp_sqrt); TFB(fp_eq); TFB(fp_lt);
TFB(fp_le); TFB(long_to_fp); TFB(fp32_to_fp64); TFB(fp_to_long); TFB(fp_to_string); TFB(string_to_fp);
/* spawn.c, outfile.c */
TFB(system); TFB(switch_file);

/* procfuncs.c: field col of /proc/PID/stat counted after the command (1 is
   the state letter, proc(5)'s field 3), or -1 when it cannot be read */
ft_i64 ft_proc_stat(ft_i64 pid, int col);
/* taskfuncs.c: the thread a task handle names into *tid, else a VM error
   naming fn (a real task_struct pointer, or 0) */
int ft_task_handle_tid(ft_vm *vm, const char *fn, ft_i64 task, ft_i64 *tid);

#define FT_TAP_BUILTINS \
    {"errno_str", "i", 's', ft_b_errno_str}, \
    {"errno_p", "i", 'i', ft_b_errno_p}, \
    {"syscall_name", "i", 's', ft_b_syscall_name}, \
    {"ctime", "i", 's', ft_b_ctime}, \
    {"tz_gmtoff", "", 'i', ft_b_tz_gmtoff}, \
    {"tz_name", "", 's', ft_b_tz_name}, \
    {"HZ", "", 'i', ft_b_HZ}, \
    {"jiffies", "", 'i', ft_b_jiffies}, \
    {"env_var", "s", 's', ft_b_env_var}, \
    {"cmdline_args", "iis", 's', ft_b_cmdline_args}, \
    {"pgrp", "", 'i', ft_b_pgrp}, \
    {"sid", "", 'i', ft_b_sid}, \
    {"_proc_statm", "ii", 'i', ft_b__proc_statm}, \
    {"_proc_cputime", "ii", 'i', ft_b__proc_cputime}, \
    {"mem_page_size", "", 'i', ft_b_mem_page_size}, \
    {"task_current", "", 'i', ft_b_task_current}, \
    {"pid2task", "i", 'i', ft_b_pid2task}, \
    {"task_parent", "i", 'i', ft_b_task_parent}, \
    {"task_pid", "i", 'i', ft_b_task_pid}, \
    {"task_tid", "i", 'i', ft_b_task_tid}, \
    {"task_uid", "i", 'i', ft_b_task_uid}, \
    {"task_euid", "i", 'i', ft_b_task_euid}, \
    {"task_gid", "i", 'i', ft_b_task_gid}, \
    {"task_egid", "i", 'i', ft_b_task_egid}, \
    {"task_max_file_handles", "i", 'i', ft_b_task_max_file_handles}, \
    {"task_prio", "i", 'i', ft_b_task_prio}, \
    {"task_nice", "i", 'i', ft_b_task_nice}, \
    {"task_cpu", "i", 'i', ft_b_task_cpu}, \
    {"task_execname", "i", 's', ft_b_task_execname}, \
    {"task_state", "i", 'i', ft_b_task_state}, \
    {"task_open_file_handles", "i", 'i', ft_b_task_open_file_handles}, \
    {"_task_rlimit", "ii", 'i', ft_b__task_rlimit}, \
    {"_blk_elevator", "i", 's', ft_b__blk_elevator}, \
    {"_loadavg_centi", "i", 'i', ft_b__loadavg_centi}, \
    {"ftrace", "s", 'v', ft_b_ftrace}, \
    {"printk", "is", 'v', ft_b_printk}, \
    {"fp_add", "ii", 'i', ft_b_fp_add}, \
    {"fp_sub", "ii", 'i', ft_b_fp_sub}, \
    {"fp_mul", "ii", 'i', ft_b_fp_mul}, \
    {"fp_div", "ii", 'i', ft_b_fp_div}, \
    {"fp_rem", "ii", 'i', ft_b_fp_rem}, \
    {"fp_sqrt", "i", 'i', ft_b_fp_sqrt}, \
    {"fp_eq", "ii", 'i', ft_b_fp_eq}, \
    {"fp_lt", "ii", 'i', ft_b_fp_lt}, \
    {"fp_le", "ii", 'i', ft_b_fp_le}, \
    {"long_to_fp", "i", 'i', ft_b_long_to_fp}, \
    {"fp32_to_fp64", "i", 'i', ft_b_fp32_to_fp64}, \
    {"fp_to_long", "iii", 'i', ft_b_fp_to_long}, \
    {"fp_to_string", "ii", 's', ft_b_fp_to_string}, \
    {"string_to_fp", "s", 'i', ft_b_string_to_fp}, \
    {"system", "s", 'v', ft_b_system},

/* added after the others (builtins.c), so images keep their builtin numbers */
#define FT_OUTFILE_BUILTINS \
    {"switch_file", "", 'v', ft_b_switch_file},


#endif
