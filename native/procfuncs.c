/* Facts about the event's process that stap reads from its task_struct and
 * mm, read here from /proc/PID after the fact (best effort, like the other
 * task facts in evfuncs.c: a process that has exited since the event gives
 * "" or 0): env_var, cmdline_args, pgrp, sid, the proc_mem_* page counts
 * (_proc_statm), task times (_proc_cputime), mem_page_size.
 *
 * In begin/end/timer probes the "current process" is ftstap itself, as it
 * is stapio for stap. */
#define _GNU_SOURCE 1
#include "ftstap.h"
#include "vm.h"
#include "evfuncs.h"
#include "tapfuncs.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UNUSED (void)vm, (void)ia, (void)sa, (void)iret, (void)sret
#define PROC_MAX (1 << 20)      /* bytes of cmdline/environ read at most */

/* /proc/PID/FILE whole, NUL-terminated, in a malloc'd buffer (caller frees);
   NULL when it cannot be read. */
static char *slurp(ft_i64 pid, const char *file, long *len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%lld/%s", (long long)pid, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    long cap = 4096, n = 0, k;
    char *buf = malloc((size_t)cap);
    while (buf && (k = (long)read(fd, buf + n, (size_t)(cap - 1 - n))) > 0) {
        n += k;
        if (n == cap - 1 && cap < PROC_MAX) {
            char *b = realloc(buf, (size_t)cap * 2);
            if (!b)
                break;
            buf = b;
            cap *= 2;
        } else if (n == cap - 1) {
            break;
        }
    }
    close(fd);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

/* env_var(name): the value of environment variable name in the current
   process ("" when it has none, or its environment cannot be read) */
int ft_b_env_var(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
{
    UNUSED;
    long n = 0;
    char *env = slurp(vm->ctx.pid, "environ", &n);
    const char *name = sa[0]->s;
    size_t nl = sa[0]->len;
    ft_str_set(vm, sret, "", 0);
    for (long i = 0; env && nl && i < n; i += (long)strlen(env + i) + 1) {
        if (strncmp(env + i, name, nl) == 0 && env[i + (long)nl] == '=') {
            ft_str_set(vm, sret, env + i + nl + 1, -1);
            break;
        }
    }
    free(env);
    return 0;
}

/* cmdline_args(n, m, delim): arguments n..m of the current process joined
   by delim (m < n: through the last); "" when there are fewer than n + 1
   arguments or they cannot be read.  Argument 0 is the command. */
int ft_b_cmdline_args(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
{
    UNUSED;
    ft_i64 first = ia[0], last = ia[1], cap = ft_vm_limits(vm)->maxstringlen - 1, out = 0, argi = 0;
    long n = 0;
    char *args = slurp(vm->ctx.pid, "cmdline", &n);
    sret->s[0] = '\0';
    sret->len = 0;
    if (!args || first < 0) {
        free(args);
        return 0;
    }
    for (long i = 0; i < n && out < cap; i += (long)strlen(args + i) + 1, argi++) {
        if (argi < first)
            continue;
        if (last >= first && argi > last)
            break;
        const char *parts[2] = {argi > first ? sa[0]->s : "", args + i};
        for (int p = 0; p < 2; p++) {
            ft_i64 k = (ft_i64)strlen(parts[p]);
            if (k > cap - out)
                k = cap - out;
            memcpy(sret->s + out, parts[p], (size_t)k);
            out += k;
        }
    }
    sret->s[out] = '\0';
    sret->len = (uint32_t)out;
    free(args);
    return 0;
}

/* Field col of /proc/PID/stat counted after the command (1 is the state,
   proc(5)'s field 3), or -1. */
ft_i64 ft_proc_stat(ft_i64 pid, int col)
{
    char buf[1024];
    if (ft_proc_read((long long)pid, (long long)pid, "stat", buf, sizeof buf) < 0)
        return -1;
    char *p = strrchr(buf, ')');      /* the command may hold spaces and parens */
    for (int c = 0; p && c < col; c++)
        p = strchr(p + 1, ' ');
    return p ? strtoll(p + 1, NULL, 10) : -1;
}

/* pgrp(), sid(): the process group and session of the current process */
int ft_b_pgrp(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
{
    UNUSED;
    *iret = ft_proc_stat(vm->ctx.pid, 3);
    return 0;
}

int ft_b_sid(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
{
    UNUSED;
    *iret = ft_proc_stat(vm->ctx.pid, 4);
    return 0;
}

/* _proc_statm(pid, field): column field of /proc/PID/statm (0 size, 1 rss,
   2 shared, 3 text, 5 data+stack), in pages; pid 0 is the current process;
   0 when the process is gone. */
int ft_b__proc_statm(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
{
    UNUSED;
    ft_i64 pid = ia[0] ? ia[0] : vm->ctx.pid;
    char buf[256];
    *iret = 0;
    if (ia[1] < 0 || ia[1] > 6 || ft_proc_read((long long)pid, (long long)pid, "statm", buf, sizeof buf) < 0)
        return 0;
    char *p = buf;
    for (int c = 0; c < ia[1] && p; c++)
        p = strchr(p + 1, ' ');
    *iret = p ? strtoll(p, NULL, 10) : 0;
    return 0;
}

/* _proc_cputime(tid, which): thread tid's user (0) or system (1) time, or
   its start time since boot (2), in nanoseconds (/proc counts clock ticks);
   tid 0 is the current thread; 0 when it is gone. */
int ft_b__proc_cputime(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
{
    UNUSED;
    static const int col[] = {12, 13, 20};     /* proc(5)'s fields 14, 15, 22 */
    ft_i64 tid = ia[0] ? ia[0] : (vm->ctx.tid ? vm->ctx.tid : vm->ctx.pid);
    ft_i64 ticks = ia[1] >= 0 && ia[1] <= 2 ? ft_proc_stat(tid, col[ia[1]]) : -1;
    long hz = sysconf(_SC_CLK_TCK);
    *iret = ticks > 0 && hz > 0 ? ticks * (1000000000 / hz) : 0;
    return 0;
}

int ft_b_mem_page_size(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
{
    UNUSED;
    *iret = sysconf(_SC_PAGESIZE);
    return 0;
}
