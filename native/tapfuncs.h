/* Builtins behind stap's tapset library that need C but not the VM's
 * internals: the kernel ABI's name tables (abinames.c), wall-clock text and
 * kernel clocks (timefuncs.c), and facts about processes and the system
 * read from /proc and uname (procfuncs.c).  builtins.c lists them in
 * ft_builtins[] through the FT_TAP_BUILTINS macro; what the stap language
 * can do on top of them lives in tapsets/ (errno.stp, ctime.stp,
 * context.stp, proc_mem.stp...). */
#ifndef FT_TAPFUNCS_H
#define FT_TAPFUNCS_H

#define TFB(name) int ft_b_##name(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
/* abinames.c */
TFB(errno_str); TFB(errno_p); TFB(syscall_name);
/* timefuncs.c */
TFB(ctime); TFB(tz_gmtoff); TFB(tz_name); TFB(HZ); TFB(jiffies);
/* procfuncs.c */
TFB(env_var); TFB(cmdline_args); TFB(pgrp); TFB(sid); TFB(_proc_statm); TFB(mem_page_size);
#undef TFB

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
    {"mem_page_size", "", 'i', ft_b_mem_page_size},


#endif
