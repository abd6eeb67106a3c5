/* Builtins that belong to event probes: the probe point's names (ppfunc,
 * probefunc, probemod, pn, is_return), task facts (ppid, gid, euid, egid,
 * pexecname: from the thread map, as the task was at the event; from /proc
 * in begin/end/timer probes and for pid2execname) and user memory read with
 * process_vm_readv (user_string*, user_int...).
 *
 * User memory is read after the fact, from the process that caused the
 * event, when its record is handled: best effort.  A process that has
 * exited (or exec'd, or changed that memory) since the event is gone, and
 * the read fails with stap's "user string copy fault" error (catchable with
 * try/catch; user_string(addr, err_msg) returns err_msg instead).  A kernel
 * with kprobe_events fetches strings in the kernel at event time through
 * fetch-args planned at pass 3 instead.
 *
 * Kernel memory cannot be read from user space at all: kernel_string and
 * friends fail with a message naming the missing feature, unless pass 3
 * planned a fetch-arg for them. */
#define _GNU_SOURCE 1
#include "ftstap.h"
#include "vm.h"
#include "evfuncs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#define EB(name) int ft_b_##name(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
#define UNUSED (void)vm, (void)ia, (void)sa, (void)iret, (void)sret

/* ---- the probe point ---- */

/* The argument of the first component among function/statement/trace/mark
   (and the tracepoint's event name for "system:event"), without @file. */
static void point_arg(const char *pp, const char **s, ft_i64 *n)
{
    static const char *const keys[] = {".function(\"", ".statement(\"", ".trace(\"", ".mark(\"", "kprobe.function(\""};
    *s = "";
    *n = 0;
    for (unsigned k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const char *p = strstr(pp, keys[k]);
        if (!p)
            continue;
        p += strlen(keys[k]);
        const char *e = strchr(p, '"');
        if (!e)
            return;
        const char *at = memchr(p, '@', (size_t)(e - p));
        if (at)
            e = at;
        if (k == 2) {                    /* kernel.trace("sched:sched_switch") -> sched_switch */
            const char *c = memchr(p, ':', (size_t)(e - p));
            if (c)
                p = c + 1;
        }
        const char *plus = k == 1 ? memchr(p, '+', (size_t)(e - p)) : NULL;
        if (plus)
            e = plus;
        *s = p;
        *n = e - p;
        return;
    }
}

static const char *pp_text(ft_vm *vm)
{
    const ft_prog *p = vm->prog;
    return p->strs[p->probes[vm->ctx.probe].name].s;
}

EB(ppfunc) { UNUSED; const char *s; ft_i64 n; point_arg(pp_text(vm), &s, &n); ft_str_set(vm, sret, s, n); return 0; }
EB(probefunc) { return ft_b_ppfunc(vm, ia, sa, iret, sret); }

/* probemod: process("PATH") -> basename of PATH; module("m") -> m; else "kernel" */
EB(probemod)
{
    UNUSED;
    const char *pp = pp_text(vm), *p;
    if ((p = strstr(pp, "process(\"")) || (p = strstr(pp, "module(\""))) {
        p = strchr(p, '"') + 1;
        const char *e = strchr(p, '"');
        if (e) {
            const char *b = p;
            for (const char *q = p; q < e; q++)
                if (*q == '/')
                    b = q + 1;
            ft_str_set(vm, sret, b, e - b);
            return 0;
        }
    }
    ft_str_set(vm, sret, "kernel", 6);
    return 0;
}

/* pn: the probe point as written; the image keeps only the resolved one */
EB(pn) { UNUSED; ft_str_set(vm, sret, pp_text(vm), -1); return 0; }
EB(is_return) { UNUSED; *iret = (vm->ctx.flags & FT_CTX_RETURN) != 0; return 0; }
/* user_mode: the sample interrupted user space (its header's cpumode); 0 in begin/end/timers */
EB(user_mode) { UNUSED; *iret = (vm->ctx.flags & FT_CTX_USER) != 0; return 0; }

/* raise(signo) (guru): the signal to the thread of the event.  stap's
   send_sig acts before the thread runs on; this one arrives when the
   record is handled, a little after the event. */
EB(raise)
{
    UNUSED;
    if (!(vm->ctx.flags & FT_CTX_EVENT) || vm->ctx.tid <= 0)
        return ft_vm_fail(vm, "raise(): this probe has no traced thread to signal");
    if (ia[0] <= 0 || ia[0] >= 65)
        return ft_vm_fail(vm, "raise(): invalid signal number %lld", (long long)ia[0]);
    if (syscall(SYS_tgkill, (pid_t)vm->ctx.pid, (pid_t)vm->ctx.tid, (int)ia[0]) < 0)
        return ft_vm_fail(vm, "raise(): cannot send signal %lld to thread %lld: %s", (long long)ia[0],
                          (long long)vm->ctx.tid, strerror(errno));
    return 0;
}

/* ---- task facts from /proc ---- */

static int task_field(ft_vm *vm, const char *key, int col, ft_i64 *iret)
{
    ft_i64 v = -1;
    if (ft_proc_status(vm->ctx.pid, vm->ctx.tid ? vm->ctx.tid : vm->ctx.pid, key, col, &v) != 0)
        v = -1;                          /* the task is gone (best effort) */
    *iret = v;
    return 0;
}

/* The event's task in the thread map (as it was at the event), or NULL in
   begin/end/timer probes (ftstap's own process: read from /proc). */
static const ft_thread *event_task(ft_vm *vm)
{
    if (!(vm->ctx.flags & FT_CTX_EVENT))
        return NULL;
    return ft_threads_get(vm->ctx.threads, (int)vm->ctx.pid, (int)vm->ctx.tid);
}

/* execname() and uid() of an event, filled in on first use */
void ft_ctx_need_comm(ft_vm *vm)
{
    ft_ctx *c = &vm->ctx;
    if (!(c->flags & FT_CTX_EVENT) || (c->flags & FT_CTX_COMM))
        return;
    const ft_thread *t = event_task(vm);
    if (t)
        memcpy(c->comm, t->comm, sizeof c->comm);
    else
        c->comm[0] = '\0';
    c->flags |= FT_CTX_COMM;
}

void ft_ctx_need_uid(ft_vm *vm)
{
    ft_ctx *c = &vm->ctx;
    if (!(c->flags & FT_CTX_EVENT) || (c->flags & FT_CTX_UID))
        return;
    const ft_thread *t = event_task(vm);
    c->uid = t ? t->uid : -1;
    c->flags |= FT_CTX_UID;
}

/* A field of the event's task; -1 when the map does not know it. */
#define TASK_FIELD(name, field, key, col) \
    EB(name) \
    { \
        UNUSED; \
        if (!(vm->ctx.flags & FT_CTX_EVENT)) \
            return task_field(vm, key, col, iret); \
        const ft_thread *t = event_task(vm); \
        *iret = t ? t->field : -1; \
        return 0; \
    }
TASK_FIELD(ppid, ppid, "PPid:", 0)
TASK_FIELD(gid, gid, "Gid:", 0)
TASK_FIELD(egid, egid, "Gid:", 1)
TASK_FIELD(euid, euid, "Uid:", 1)

void ft_proc_comm(ft_vm *vm, ft_i64 pid, ft_str *sret)
{
    char path[64], buf[32];
    snprintf(path, sizeof path, "/proc/%lld/comm", (long long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
    if (fd >= 0)
        close(fd);
    while (n > 0 && buf[n - 1] == '\n')
        n--;
    ft_str_set(vm, sret, buf, n > 0 ? n : 0);
}

/* pexecname(): the parent process's name, at the event's time */
EB(pexecname)
{
    UNUSED;
    ft_i64 pp = -1;
    if (vm->ctx.flags & FT_CTX_EVENT) {
        const ft_thread *t = event_task(vm), *p = t && t->ppid > 0 ?
            ft_threads_get(vm->ctx.threads, t->ppid, t->ppid) : NULL;
        if (p)
            ft_str_set(vm, sret, p->comm, (ft_i64)strnlen(p->comm, sizeof p->comm));
        return 0;
    }
    if (ft_proc_status(vm->ctx.pid, vm->ctx.pid, "PPid:", 0, &pp) == 0 && pp > 0)
        ft_proc_comm(vm, pp, sret);
    return 0;
}
EB(pid2execname) { UNUSED; ft_proc_comm(vm, ia[0], sret); return 0; }
EB(num_online_cpus) { UNUSED; *iret = sysconf(_SC_NPROCESSORS_ONLN); return 0; }

/* ---- user memory ---- */

/* Read up to n bytes at addr of the event's process, page by page (a
   string may end just before an unmapped page).  Returns bytes read, -1
   when the first byte cannot be read. */
static ft_i64 read_user(ft_vm *vm, uint64_t addr, char *dst, ft_i64 n, int stop_at_nul)
{
    pid_t pid = (pid_t)vm->ctx.pid;
    ft_i64 got = 0;
    while (got < n) {
        uint64_t a = addr + (uint64_t)got;
        ft_i64 chunk = (ft_i64)(4096 - (a & 4095));
        if (chunk > n - got)
            chunk = n - got;
        struct iovec l = {dst + got, (size_t)chunk}, r = {(void *)(uintptr_t)a, (size_t)chunk};
        ssize_t k = process_vm_readv(pid, &l, 1, &r, 1, 0);
        if (k <= 0)
            break;
        if (stop_at_nul) {
            char *z = memchr(dst + got, '\0', (size_t)k);
            if (z)
                return got + (z - (dst + got));
        }
        got += k;
    }
    return got > 0 || n == 0 ? got : -1;
}

static int user_str(ft_vm *vm, ft_i64 addr, ft_i64 max, ft_str *sret)
{
    ft_i64 cap = ft_vm_limits(vm)->maxstringlen - 1;
    if (max < 0 || max > cap)
        max = cap;
    ft_i64 n = addr ? read_user(vm, (uint64_t)addr, sret->s, max, 1) : -1;
    if (n < 0)
        return ft_vm_fail(vm, "user string copy fault %d at 0x%llx [man error::fault]", -14,
                          (unsigned long long)addr);
    sret->s[n] = '\0';
    sret->len = (uint32_t)strlen(sret->s);
    return 0;
}

EB(user_string) { UNUSED; return user_str(vm, ia[0], -1, sret); }
EB(user_string_n) { UNUSED; return user_str(vm, ia[0], ia[1], sret); }

static int user_num(ft_vm *vm, ft_i64 addr, int size, int sgn, ft_i64 *iret)
{
    unsigned char b[8] = {0};
    if (read_user(vm, (uint64_t)addr, (char *)b, size, 0) != size)
        return ft_vm_fail(vm, "user %s copy fault %d at 0x%llx [man error::fault]",
                          size == 1 ? "char" : size == 2 ? "short" : size == 4 ? "int" : "long", -14,
                          (unsigned long long)addr);
    uint64_t v = 0;
    memcpy(&v, b, (size_t)size);
    if (sgn && size < 8 && (v >> (size * 8 - 1)) & 1)
        v |= ~0ull << (size * 8);
    *iret = (ft_i64)v;
    return 0;
}
EB(user_char_error) { UNUSED; return user_num(vm, ia[0], 1, 1, iret); }
EB(user_short_error) { UNUSED; return user_num(vm, ia[0], 2, 1, iret); }
EB(user_int_error) { UNUSED; return user_num(vm, ia[0], 4, 1, iret); }
EB(user_uint_error) { UNUSED; return user_num(vm, ia[0], 4, 0, iret); }
EB(user_long_error) { UNUSED; return user_num(vm, ia[0], 8, 1, iret); }
EB(user_ulong_error) { UNUSED; return user_num(vm, ia[0], 8, 0, iret); }

/* ---- kernel memory: not readable from user space ---- */

static int no_kernel(ft_vm *vm, const char *fn, ft_i64 addr)
{
    return ft_vm_fail(vm, "%s(0x%llx): reading kernel memory needs a kprobe fetch-arg planned at pass 3 "
                          "(kprobe_events, CONFIG_KPROBE_EVENTS); this probe has none",
                      fn, (unsigned long long)addr);
}
EB(kernel_string) { UNUSED; return no_kernel(vm, "kernel_string", ia[0]); }
EB(kernel_string_n) { UNUSED; return no_kernel(vm, "kernel_string_n", ia[0]); }
EB(kernel_string_quoted) { UNUSED; return no_kernel(vm, "kernel_string_quoted", ia[0]); }
EB(kernel_int) { UNUSED; return no_kernel(vm, "kernel_int", ia[0]); }
EB(kernel_long) { UNUSED; return no_kernel(vm, "kernel_long", ia[0]); }
EB(kernel_short) { UNUSED; return no_kernel(vm, "kernel_short", ia[0]); }
EB(kernel_char) { UNUSED; return no_kernel(vm, "kernel_char", ia[0]); }
EB(kernel_pointer) { UNUSED; return no_kernel(vm, "kernel_pointer", ia[0]); }
