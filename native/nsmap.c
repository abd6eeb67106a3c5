/* Target namespaces: ids as the pid and user namespaces of one process
 * see them (stap's --target-namespaces=PID and its ns_* functions).
 *
 * Python (runtime/namespaces.py) sets the target once, before the session
 * runs: the target's level in /proc's pid namespace hierarchy (how many
 * NSpid columns precede its own), its pid namespace (device and inode of
 * /proc/PID/ns/pid) and its uid_map/gid_map.  Without a target the
 * namespaces are ftstap's own and every ns_* function is its plain
 * counterpart.
 *
 * A task's pid and tid there are column `level` of the NStgid and NSpid
 * lines of its status file, if its pid namespace is the target's or one
 * below it (else 0, as the kernel's task_pid_nr_ns() answers for a task
 * the namespace cannot see).  They never change, so they are read once per
 * task (at the snapshot, an exec or first use) into the thread map's
 * entry.  A task that had exited before its first need cannot be read:
 * -1.  pgid and sid can change (setpgid, setsid) and are read at each call
 * from NSpgid/NSsid, as pgrp() and sid() read /proc.  uids and gids are
 * the thread map's, mapped through the target's uid_map/gid_map (65534,
 * the overflow id, when unmapped, as from_kuid_munged() gives). */
#define _GNU_SOURCE 1
#include "ftstap.h"
#include "vm.h"
#include "threads.h"
#include "nsmap.h"
#include "tapfuncs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef NS_GET_PARENT
#define NS_GET_PARENT _IO(0xb7, 0x2)
#endif
#define UNUSED (void)vm, (void)ia, (void)sa, (void)iret, (void)sret
#define MAXRANGES 340                /* the kernel's limit on uid_map lines */
#define NSCACHE 64
#define OVERFLOW_ID 65534

typedef struct { ft_i64 inside, outside, count; } idrange;

static struct {
    int on, level;
    uint64_t dev, ino;               /* the target's pid namespace */
    int nuid, ngid;
    idrange uid[MAXRANGES], gid[MAXRANGES];
    struct { uint64_t dev, ino; int member; } seen[NSCACHE];   /* pid namespaces judged */
    int nseen;
} N;

int ft_ns_target(int level, unsigned long long dev, unsigned long long ino, const ft_i64 *uidmap, int nuid,
                 const ft_i64 *gidmap, int ngid)
{
    if (level < 0 || nuid < 0 || ngid < 0 || nuid > MAXRANGES || ngid > MAXRANGES)
        return FT_EINVAL;
    memset(&N, 0, sizeof N);
    N.level = level, N.dev = dev, N.ino = ino;
    for (int k = 0; k < nuid; k++)
        N.uid[k] = (idrange){uidmap[3 * k], uidmap[3 * k + 1], uidmap[3 * k + 2]};
    for (int k = 0; k < ngid; k++)
        N.gid[k] = (idrange){gidmap[3 * k], gidmap[3 * k + 1], gidmap[3 * k + 2]};
    N.nuid = nuid, N.ngid = ngid;
    N.on = 1;
    return FT_OK;
}

/* Whether the pid namespace behind path is the target's or below it:
   1, 0, or -1 when the task is gone. */
static int member(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if ((uint64_t)st.st_dev == N.dev && (uint64_t)st.st_ino == N.ino)
        return 1;
    for (int k = 0; k < N.nseen && k < NSCACHE; k++)
        if (N.seen[k].dev == (uint64_t)st.st_dev && N.seen[k].ino == (uint64_t)st.st_ino)
            return N.seen[k].member;
    int fd = open(path, O_RDONLY | O_CLOEXEC), yes = 0;
    if (fd < 0)
        return -1;
    for (int depth = 0; depth < 40; depth++) {   /* the kernel nests at most 32 */
        int up = ioctl(fd, NS_GET_PARENT);       /* EPERM above ftstap's own: not below the target */
        close(fd);
        fd = up;
        if (fd < 0 || fstat(fd, &st) != 0)
            break;
        if ((uint64_t)st.st_dev == N.dev && (uint64_t)st.st_ino == N.ino) {
            yes = 1;
            break;
        }
    }
    if (fd >= 0)
        close(fd);
    int slot = N.nseen++ % NSCACHE;
    N.seen[slot].dev = (uint64_t)st.st_dev, N.seen[slot].ino = (uint64_t)st.st_ino;
    N.seen[slot].member = yes;
    return yes;
}

/* Column col of the status line key ("\nNSpid:"); 0 when found. */
static int column(const char *status, const char *key, int col, int32_t *out)
{
    const char *p = strstr(status, key);
    if (!p)
        return -1;
    p += strlen(key);
    for (int c = 0; c <= col; c++) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p < '0' || *p > '9')
            return -1;               /* fewer columns: a namespace above the target */
        char *e;
        long v = strtol(p, &e, 10);
        if (c == col) {
            *out = (int32_t)v;
            return 0;
        }
        p = e;
    }
    return -1;
}

static int task_member(int pid, int tid)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/ns/pid", pid, tid);
    return member(path);
}

void ft_ns_from_status(ft_thread *t, int pid, int tid, const char *status)
{
    if (!N.on)
        return;
    int32_t p, k;
    if (column(status, "\nNStgid:", N.level, &p) != 0 || column(status, "\nNSpid:", N.level, &k) != 0) {
        t->ns_pid = t->ns_tid = 0;   /* above the target's namespace */
        return;
    }
    int m = task_member(pid, tid);
    if (m < 0)
        return;                      /* gone: unknown */
    t->ns_pid = m ? p : 0;
    t->ns_tid = m ? k : 0;
}

/* The task's ids read now if they were not (NULL when it cannot be). */
static const ft_thread *with_ns(const ft_thread *c)
{
    ft_thread *t = (ft_thread *)c;   /* the map's entry: ns_pid/ns_tid are its cache */
    if (t && t->ns_pid == FT_NS_UNREAD && t->state != FT_TASK_EXITED && t->pid > 0) {
        char buf[2048];
        if (ft_proc_read(t->pid, t->tid, "status", buf, sizeof buf) >= 0)
            ft_ns_from_status(t, t->pid, t->tid, buf);
    }
    return t && t->ns_pid != FT_NS_UNREAD ? t : NULL;
}

static ft_i64 map_id(const idrange *r, int n, ft_i64 id)
{
    if (id < 0)
        return -1;
    for (int k = 0; k < n; k++)
        if (id >= r[k].outside && id - r[k].outside < r[k].count)
            return r[k].inside + (id - r[k].outside);
    return OVERFLOW_ID;
}

/* pgid (which 3) or sid (4) of the task, read now */
static ft_i64 live_group(const ft_thread *t, int which)
{
    char buf[2048];
    int32_t v;
    if (ft_proc_read(t->pid, t->tid, "status", buf, sizeof buf) < 0)
        return -1;
    if (column(buf, which == 3 ? "\nNSpgid:" : "\nNSsid:", N.level, &v) != 0)
        return 0;
    return t->ns_pid == 0 ? 0 : v;   /* a task the namespace cannot see */
}

/* Id `which` of task t (pid, tid in ftstap's namespace; T the thread map
   its parent is looked up in, NULL: /proc) in the target namespaces. */
static ft_i64 ns_id(const ft_thread *t, ft_i64 pid, ft_i64 tid, int which, ft_threads *T)
{
    ft_i64 v = -1;
    if (!N.on) {                     /* ftstap's own namespaces */
        ft_i64 host[] = {pid, tid ? tid : pid};
        if (which < 2)
            v = host[which];
        else if (which == 3 || which == 4)
            v = ft_proc_stat(pid, which);
        else if (t)
            v = which == 2 ? t->ppid : which == 5 ? t->uid : which == 6 ? t->euid : which == 7 ? t->gid : t->egid;
        return v;
    }
    if (which >= 5) {
        if (t)
            v = which <= 6 ? map_id(N.uid, N.nuid, which == 5 ? t->uid : t->euid)
                           : map_id(N.gid, N.ngid, which == 7 ? t->gid : t->egid);
    } else if (which == 2) {
        const ft_thread *p = t && t->ppid > 0 ? with_ns(ft_threads_get(T, t->ppid, t->ppid)) : NULL;
        v = p ? p->ns_pid : (t && t->ppid == 0 ? 0 : -1);
    } else if ((t = with_ns(t)) != NULL) {
        v = which == 0 ? t->ns_pid : which == 1 ? t->ns_tid : live_group(t, which);
    }
    return v;
}

FT_NSB(_ns_id)
{
    UNUSED;
    ft_ctx *c = &vm->ctx;
    ft_threads *T = (c->flags & FT_CTX_EVENT) ? c->threads : NULL;
    const ft_thread *t = ft_threads_get(T, (int)c->pid, (int)(T ? c->tid : c->pid));
    *iret = ns_id(t, c->pid, c->tid, (int)ia[0], T);
    return 0;
}

/* task_ns_pid(task) & co.: the same ids of the thread a task handle names */
FT_NSB(_task_ns_id)
{
    UNUSED;
    ft_i64 tid;
    if (ft_task_handle_tid(vm, "task_ns_*", ia[0], &tid) != 0)
        return -1;
    ft_threads *T = (vm->ctx.flags & FT_CTX_EVENT) ? vm->ctx.threads : NULL;
    const ft_thread *t = ft_threads_get(T, 0, (int)tid);
    *iret = t ? ns_id(t, t->pid, tid, (int)ia[1], T) : -1;
    return 0;
}
