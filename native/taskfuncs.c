/* stap's task tapset without kernel memory.
 *
 * In stap a task is a task_struct pointer: task_current(), pid2task(pid)
 * and task_parent(task) return one, and task_pid(task), task_execname(task)
 * and friends read its fields.  ftstap cannot read kernel memory, so its
 * "task" is a handle naming a thread: TASK_TAG | tid.  The tag makes it a
 * non-canonical x86_64 address, so it is never a real kernel pointer, and
 * it is never 0.  The task_* functions answer from /proc/TID (best effort,
 * like the other task facts: a thread that has exited gives -1 or "");
 * given anything else (say a pointer read from a tracepoint) they fail
 * with an error that says so. */
#include "ftstap.h"
#include "vm.h"
#include "evfuncs.h"
#include "tapfuncs.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#define UNUSED (void)vm, (void)ia, (void)sa, (void)iret, (void)sret
#define TASK_TAG 0xfff0000000000000ULL
#define TASK_MASK 0x0000ffffffffffffULL

static ft_i64 handle(ft_i64 tid) { return tid > 0 ? (ft_i64)(TASK_TAG | (uint64_t)tid) : 0; }

/* The thread a handle names into *tid; an error for anything else. */
static int task_tid(ft_vm *vm, const char *fn, ft_i64 task, ft_i64 *tid)
{
    *tid = 0;
    if (((uint64_t)task & ~TASK_MASK) != TASK_TAG)
        return ft_vm_fail(vm, "%s(0x%llx): not a task from task_current(), pid2task() or task_parent(); "
                              "ftstap cannot read a task_struct from kernel memory",
                          fn, (unsigned long long)task);
    *tid = (ft_i64)((uint64_t)task & TASK_MASK);
    return 0;
}

/* The thread a handle names, for the task functions in other files
 * (rlimits.c): tapfuncs.h */
int ft_task_handle_tid(ft_vm *vm, const char *fn, ft_i64 task, ft_i64 *tid)
{
    return task_tid(vm, fn, task, tid);
}

/* Column col of the status line key of the thread behind a handle. */
static int status_of(ft_vm *vm, const char *fn, ft_i64 task, const char *key, int col, ft_i64 *iret)
{
    ft_i64 tid;
    if (task_tid(vm, fn, task, &tid) != 0)
        return -1;
    if (ft_proc_status(tid, tid, key, col, iret) != 0)
        *iret = -1;
    return 0;
}

/* Field col of the thread's /proc stat (see ft_proc_stat). */
static int stat_of(ft_vm *vm, const char *fn, ft_i64 task, int col, ft_i64 *iret)
{
    ft_i64 tid;
    if (task_tid(vm, fn, task, &tid) != 0)
        return -1;
    *iret = ft_proc_stat(tid, col);
    return 0;
}

TFB(task_current) { UNUSED; *iret = handle(vm->ctx.tid ? vm->ctx.tid : vm->ctx.pid); return 0; }

/* pid2task(pid): 0 when there is no such process */
TFB(pid2task)
{
    UNUSED;
    ft_i64 tgid;
    *iret = ia[0] > 0 && ft_proc_status(ia[0], ia[0], "Tgid:", 0, &tgid) == 0 ? handle(ia[0]) : 0;
    return 0;
}

/* task_parent(task): the parent process's main thread (0 once gone) */
TFB(task_parent)
{
    UNUSED;
    ft_i64 ppid;
    if (status_of(vm, "task_parent", ia[0], "PPid:", 0, &ppid) != 0)
        return -1;
    *iret = handle(ppid);
    return 0;
}

TFB(task_pid) { UNUSED; return status_of(vm, "task_pid", ia[0], "Tgid:", 0, iret); }
TFB(task_tid) { UNUSED; return status_of(vm, "task_tid", ia[0], "Pid:", 0, iret); }
TFB(task_uid) { UNUSED; return status_of(vm, "task_uid", ia[0], "Uid:", 0, iret); }
TFB(task_euid) { UNUSED; return status_of(vm, "task_euid", ia[0], "Uid:", 1, iret); }
TFB(task_gid) { UNUSED; return status_of(vm, "task_gid", ia[0], "Gid:", 0, iret); }
TFB(task_egid) { UNUSED; return status_of(vm, "task_egid", ia[0], "Gid:", 1, iret); }
/* the size of the file descriptor table (fdt->max_fds) */
TFB(task_max_file_handles) { UNUSED; return status_of(vm, "task_max_file_handles", ia[0], "FDSize:", 0, iret); }
/* /proc's priority is stap's prio - MAX_RT_PRIO; nice; the CPU it last ran on */
TFB(task_prio) { UNUSED; return stat_of(vm, "task_prio", ia[0], 16, iret); }
TFB(task_nice) { UNUSED; return stat_of(vm, "task_nice", ia[0], 17, iret); }
TFB(task_cpu) { UNUSED; return stat_of(vm, "task_cpu", ia[0], 37, iret); }

TFB(task_execname)
{
    UNUSED;
    ft_i64 tid;
    if (task_tid(vm, "task_execname", ia[0], &tid) != 0)
        return -1;
    ft_proc_comm(vm, tid, sret);
    return 0;
}

/* task_state(task): the kernel's state bits for /proc's state letter */
TFB(task_state)
{
    UNUSED;
    static const struct { char c; int bits; } states[] = {
        {'R', 0}, {'S', 1}, {'D', 2}, {'T', 4}, {'t', 8}, {'X', 128}, {'Z', 128}, {'P', 64}, {'I', 1026},
    };
    ft_i64 tid;
    char buf[2048];
    if (task_tid(vm, "task_state", ia[0], &tid) != 0)
        return -1;
    *iret = -1;
    const char *p = ft_proc_read(tid, tid, "status", buf, sizeof buf) < 0 ? NULL : strstr(buf, "\nState:");
    char c = p ? p[7 + strspn(p + 7, " \t")] : 0;
    for (unsigned i = 0; c && i < sizeof states / sizeof states[0]; i++)
        if (c == states[i].c)
            *iret = states[i].bits;
    return 0;
}

/* task_open_file_handles(task): how many descriptors the process has open */
TFB(task_open_file_handles)
{
    UNUSED;
    ft_i64 tid, n = -1;
    if (task_tid(vm, "task_open_file_handles", ia[0], &tid) != 0)
        return -1;
    char path[64];
    snprintf(path, sizeof path, "/proc/%lld/fd", (long long)tid);
    DIR *d = opendir(path);
    if (d) {
        n = 0;
        for (struct dirent *e; (e = readdir(d));)
            n += e->d_name[0] != '.';
        closedir(d);
    }
    *iret = n;
    return 0;
}
