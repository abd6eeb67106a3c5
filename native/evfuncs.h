/* Builtins of event probes (evfuncs.c): the probe point's names, the
 * event's task as the thread map had it at the event, user and kernel
 * memory.  The VM's side: they read the event through ft_ctx (and the
 * thread map, threads.h), never the event session. */
#ifndef FT_EVFUNCS_H
#define FT_EVFUNCS_H
#ifndef FTSTAP_H_INCLUDED
#include "ftstap.h"
#endif
#include "threads.h"

/* evfuncs.c: the command name of process pid into *sret ("" when gone). */
void ft_proc_comm(ft_vm *vm, ft_i64 pid, struct ft_str *sret);
/* evfuncs.c: fill vm->ctx.comm / uid on demand (execname(), uid() of an event). */
void ft_ctx_need_comm(ft_vm *vm);
void ft_ctx_need_uid(ft_vm *vm);

typedef struct ft_str ft_str;
#define FT_EVB(name) int ft_b_##name(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
FT_EVB(ppfunc);
FT_EVB(probefunc);
FT_EVB(probemod);
FT_EVB(pn);
FT_EVB(is_return);
FT_EVB(user_mode);
FT_EVB(raise);
FT_EVB(ppid);
FT_EVB(gid);
FT_EVB(egid);
FT_EVB(euid);
FT_EVB(pexecname);
FT_EVB(pid2execname);
FT_EVB(num_online_cpus);
FT_EVB(user_string);
FT_EVB(user_string_n);
FT_EVB(user_char_error);
FT_EVB(user_short_error);
FT_EVB(user_int_error);
FT_EVB(user_uint_error);
FT_EVB(user_long_error);
FT_EVB(user_ulong_error);
FT_EVB(kernel_string);
FT_EVB(kernel_string_n);
FT_EVB(kernel_string_quoted);
FT_EVB(kernel_int);
FT_EVB(kernel_long);
FT_EVB(kernel_short);
FT_EVB(kernel_char);
FT_EVB(kernel_pointer);
#define FT_EV_BUILTINS \
    {"ppfunc", "", 's', ft_b_ppfunc}, \
    {"probefunc", "", 's', ft_b_probefunc}, \
    {"probemod", "", 's', ft_b_probemod}, \
    {"pn", "", 's', ft_b_pn}, \
    {"is_return", "", 'i', ft_b_is_return}, \
    {"user_mode", "", 'i', ft_b_user_mode}, \
    {"raise", "i", 'v', ft_b_raise}, \
    {"ppid", "", 'i', ft_b_ppid}, \
    {"gid", "", 'i', ft_b_gid}, \
    {"egid", "", 'i', ft_b_egid}, \
    {"euid", "", 'i', ft_b_euid}, \
    {"pexecname", "", 's', ft_b_pexecname}, \
    {"pid2execname", "i", 's', ft_b_pid2execname}, \
    {"num_online_cpus", "", 'i', ft_b_num_online_cpus}, \
    {"user_string", "i", 's', ft_b_user_string}, \
    {"user_string_n", "ii", 's', ft_b_user_string_n}, \
    {"user_char_error", "i", 'i', ft_b_user_char_error}, \
    {"user_short_error", "i", 'i', ft_b_user_short_error}, \
    {"user_int_error", "i", 'i', ft_b_user_int_error}, \
    {"user_uint_error", "i", 'i', ft_b_user_uint_error}, \
    {"user_long_error", "i", 'i', ft_b_user_long_error}, \
    {"user_ulong_error", "i", 'i', ft_b_user_ulong_error}, \
    {"kernel_string", "i", 's', ft_b_kernel_string}, \
    {"kernel_string_n", "ii", 's', ft_b_kernel_string_n}, \
    {"kernel_string_quoted", "i", 's', ft_b_kernel_string_quoted}, \
    {"kernel_int", "i", 'i', ft_b_kernel_int}, \
    {"kernel_long", "i", 'i', ft_b_kernel_long}, \
    {"kernel_short", "i", 'i', ft_b_kernel_short}, \
    {"kernel_char", "i", 'i', ft_b_kernel_char}, \
    {"kernel_pointer", "i", 'i', ft_b_kernel_pointer},

#endif
