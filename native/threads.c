/* The thread map: each task's identity as it was at the event being handled.
 *
 * perf's way (tools/perf/util/thread.c, machine.c): the map starts from a
 * snapshot of /proc taken after the tracking events are enabled and before
 * any probe is, and is then changed only by the side-band records of the
 * rings -- FORK (a task starts: its process, parent, name and credentials
 * are its creator's), COMM (a rename or, with comm_exec, an exec), EXIT --
 * which order.c hands over in time order with the samples.  So a sample
 * sees execname() before or after an exec exactly as the kernel had it,
 * and a task that exited long before its records are handled keeps its
 * name and parent.
 *
 * Credentials (uid, gid and the effective ones) come from /proc at the
 * snapshot, are inherited at FORK and read again at an exec (a setuid
 * program changes them there) if the task still exists then; a setuid()
 * call inside a task is not seen (no record reports it).
 *
 * A task the map does not hold (the table overflowed, or it never showed
 * up in a record) is read from /proc once, as it is when first needed.
 *
 * Fixed size, allocated once: open addressing on the tid with a short
 * chain; a full chain reuses an exited task's slot, else the slot the tid
 * hashes to. */
#define _GNU_SOURCE 1
#include "ftstap.h"
#include "threads.h"
#include "nsmap.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NSLOTS 65536                 /* power of two */
#define CHAIN 8

struct ft_threads {
    ft_thread s[NSLOTS];
    ft_i64 from_proc;                /* tasks read from /proc after the snapshot */
};

ft_threads *ft_threads_new(void) { return calloc(1, sizeof(ft_threads)); }
void ft_threads_free(ft_threads *T) { free(T); }
ft_i64 ft_threads_from_proc(const ft_threads *T) { return T ? T->from_proc : 0; }

static inline uint32_t h32(int tid) { return ((uint32_t)tid * 2654435761u) & (NSLOTS - 1); }

static ft_thread *find(ft_threads *T, int tid)
{
    uint32_t h = h32(tid);
    for (int k = 0; k < CHAIN; k++) {
        ft_thread *t = &T->s[(h + (uint32_t)k) & (NSLOTS - 1)];
        if (t->state == FT_TASK_EMPTY)
            return NULL;
        if (t->tid == tid)
            return t;
    }
    return NULL;
}

/* The slot for tid, emptied of any older task with that tid. */
static ft_thread *claim(ft_threads *T, int tid)
{
    uint32_t h = h32(tid);
    ft_thread *exited = NULL;
    for (int k = 0; k < CHAIN; k++) {
        ft_thread *t = &T->s[(h + (uint32_t)k) & (NSLOTS - 1)];
        if (t->state == FT_TASK_EMPTY || t->tid == tid) {
            exited = t;
            break;
        }
        if (!exited && t->state == FT_TASK_EXITED)
            exited = t;
    }
    ft_thread *t = exited ? exited : &T->s[h];
    memset(t, 0, sizeof *t);
    t->tid = tid;
    t->pid = t->ppid = -1;
    t->uid = t->euid = t->gid = t->egid = -1;
    t->ns_pid = t->ns_tid = FT_NS_UNREAD;
    return t;
}

static void set_comm(ft_thread *t, const char *comm, int n)
{
    int k = 0;
    for (; k < n && k < 15 && comm[k]; k++)
        t->comm[k] = comm[k];
    t->comm[k] = '\0';
}

int ft_proc_read(long long pid, long long tid, const char *file, char *buf, int cap)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%lld/task/%lld/%s", pid, tid, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, (size_t)cap - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return (int)n;
}

/* Field `key` (e.g. "PPid:") of /proc/PID/task/TID/status, column col. */
int ft_proc_status(ft_i64 pid, ft_i64 tid, const char *key, int col, ft_i64 *out)
{
    char buf[4096];
    if (ft_proc_read((long long)pid, (long long)tid, "status", buf, sizeof buf) < 0)
        return -1;
    size_t kl = strlen(key);
    for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, key, kl) != 0)
            continue;
        char *p = l + kl;
        for (int c = 0; c <= col; c++) {
            char *e;
            long long v = strtoll(p, &e, 10);
            if (e == p)
                return -1;
            if (c == col) {
                *out = v;
                return 0;
            }
            p = e;
        }
    }
    return -1;
}

/* Two numbers after key ("Uid:" -> real, effective) in a status text. */
static void status_pair(const char *status, const char *key, int32_t *real, int32_t *eff)
{
    const char *p = strstr(status, key);
    if (!p)
        return;
    char *e;
    long r = strtol(p + strlen(key), &e, 10);
    long f = strtol(e, NULL, 10);
    *real = (int32_t)r;
    *eff = (int32_t)f;
}

static void read_creds(ft_thread *t, int pid, int tid)
{
    char buf[2048];
    if (ft_proc_read(pid, tid, "status", buf, sizeof buf) < 0)
        return;
    status_pair(buf, "\nUid:", &t->uid, &t->euid);
    status_pair(buf, "\nGid:", &t->gid, &t->egid);
    ft_ns_from_status(t, pid, tid, buf);
}

/* comm and parent of (pid, tid) from its stat line: "TID (COMM) S PPID ..."
   (the name may hold spaces and parentheses: it ends at the last ')'). */
static int read_stat(ft_thread *t, int pid, int tid)
{
    char buf[512];
    if (ft_proc_read(pid, tid, "stat", buf, sizeof buf) < 0)
        return -1;
    char *open_ = strchr(buf, '('), *close_ = strrchr(buf, ')');
    if (!open_ || !close_ || close_ < open_ || close_[1] != ' ')
        return -1;
    set_comm(t, open_ + 1, (int)(close_ - open_ - 1));
    t->ppid = (int32_t)strtol(close_ + 4, NULL, 10);   /* ") S PPID" */
    return 0;
}

/* Read one task from /proc into the map; NULL when it is gone. */
static ft_thread *from_proc(ft_threads *T, int pid, int tid, const ft_thread *creds)
{
    ft_thread tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.uid = tmp.euid = tmp.gid = tmp.egid = -1;
    tmp.ns_pid = tmp.ns_tid = FT_NS_UNREAD;
    if (read_stat(&tmp, pid, tid) != 0)
        return NULL;
    if (creds) {
        tmp.uid = creds->uid, tmp.euid = creds->euid, tmp.gid = creds->gid, tmp.egid = creds->egid;
    } else {
        read_creds(&tmp, pid, tid);
    }
    ft_thread *t = claim(T, tid);
    memcpy(t->comm, tmp.comm, sizeof t->comm);
    t->pid = pid;
    t->ppid = tmp.ppid;
    t->uid = tmp.uid, t->euid = tmp.euid, t->gid = tmp.gid, t->egid = tmp.egid;
    t->ns_pid = tmp.ns_pid, t->ns_tid = tmp.ns_tid;
    t->state = FT_TASK_ALIVE;
    return t;
}

static int numeric(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

int ft_threads_snapshot(ft_threads *T)
{
    DIR *proc = opendir("/proc");
    if (!proc)
        return -1;
    int n = 0;
    struct dirent *d;
    while ((d = readdir(proc))) {
        if (!numeric(d->d_name))
            continue;
        int pid = atoi(d->d_name);
        ft_thread *leader = from_proc(T, pid, pid, NULL);
        if (!leader)
            continue;
        n++;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/task", pid);
        DIR *tasks = opendir(path);
        if (!tasks)
            continue;
        ft_thread creds = *leader;   /* threads share the process's credentials */
        struct dirent *e;
        while ((e = readdir(tasks))) {
            int tid = numeric(e->d_name) ? atoi(e->d_name) : 0;
            if (tid > 0 && tid != pid && from_proc(T, pid, tid, &creds))
                n++;
        }
        closedir(tasks);
    }
    closedir(proc);
    return n;
}

void ft_threads_fork(ft_threads *T, int pid, int ppid, int tid, int ptid)
{
    if (!T)
        return;
    ft_thread parent;
    memset(&parent, 0, sizeof parent);
    const ft_thread *p = find(T, ptid);
    if (p && p->state != FT_TASK_EMPTY)
        parent = *p;                 /* copy: claim() may reuse its slot */
    ft_thread *t = claim(T, tid);
    t->pid = pid;
    t->state = FT_TASK_ALIVE;
    if (p) {
        memcpy(t->comm, parent.comm, sizeof t->comm);
        t->uid = parent.uid, t->euid = parent.euid, t->gid = parent.gid, t->egid = parent.egid;
        t->abi = parent.abi;
        /* a new process's parent is the creating process; a new thread shares its process's */
        t->ppid = pid == tid ? ppid : parent.ppid;
        if (pid != tid && parent.pid == pid)   /* a new thread: its process's pid in every namespace */
            t->ns_pid = parent.ns_pid;
    } else {
        t->ppid = pid == tid ? ppid : -1;
        t->flags |= FT_TASK_UNSEEN;  /* its name: from /proc when first needed */
    }
}

void ft_threads_comm(ft_threads *T, int pid, int tid, const char *comm, int n, int exec)
{
    if (!T)
        return;
    ft_thread *t = find(T, tid);
    if (!t) {
        t = claim(T, tid);
        t->pid = pid;
        t->state = FT_TASK_ALIVE;
        exec = 1;                    /* nothing known: read what can still be read */
        ft_thread tmp;
        if (read_stat(&tmp, pid, tid) == 0)
            t->ppid = tmp.ppid;
    }
    set_comm(t, comm, n);
    t->flags &= ~FT_TASK_UNSEEN;
    if (exec) {                      /* a setuid program changes credentials at exec */
        read_creds(t, pid, tid);
        t->abi = FT_ABI_UNKNOWN;     /* and a new program may be 32-bit */
    }
}

int ft_threads_compat(ft_threads *T, int pid)
{
    ft_thread *t = T ? find(T, pid) : NULL;
    if (t && t->abi != FT_ABI_UNKNOWN)
        return t->abi == FT_ABI_COMPAT;
    char path[64], ident[5] = {0};
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int got = fd >= 0 ? (int)read(fd, ident, sizeof ident) : -1;
    if (fd >= 0)
        close(fd);
    /* ELF class 1: 32-bit (i386, x32 has its own numbers above 2^30) */
    int abi = got == 5 && !memcmp(ident, "\177ELF", 4) && ident[4] == 1 ? FT_ABI_COMPAT : FT_ABI_NATIVE;
    if (t)
        t->abi = (uint8_t)abi;
    return abi == FT_ABI_COMPAT;
}

void ft_threads_exit(ft_threads *T, int pid, int tid)
{
    (void)pid;
    ft_thread *t = T ? find(T, tid) : NULL;
    if (t)
        t->state = FT_TASK_EXITED;
}

const ft_thread *ft_threads_get(ft_threads *T, int pid, int tid)
{
    static ft_thread scratch;        /* no map: /proc, each time */
    if (!T) {
        memset(&scratch, 0, sizeof scratch);
        scratch.uid = scratch.euid = scratch.gid = scratch.egid = -1;
        scratch.ns_pid = scratch.ns_tid = FT_NS_UNREAD;
        scratch.tid = tid > 0 ? tid : pid, scratch.pid = pid;
        if (pid <= 0 || read_stat(&scratch, pid, scratch.tid) != 0)
            return NULL;
        read_creds(&scratch, pid, scratch.tid);
        return &scratch;
    }
    if (tid <= 0)
        tid = pid;
    ft_thread *t = find(T, tid);
    if (t && (pid <= 0 || t->pid == pid || t->pid < 0)) {
        if (t->pid < 0 && pid > 0)
            t->pid = pid;
        if (t->flags & FT_TASK_UNSEEN) {   /* forked from a task the map never held */
            ft_thread tmp;
            tmp.ppid = t->ppid;
            if (read_stat(&tmp, t->pid, tid) == 0)
                memcpy(t->comm, tmp.comm, sizeof t->comm);
            if (t->uid < 0)
                read_creds(t, t->pid, tid);
            t->flags &= ~FT_TASK_UNSEEN;
        }
        return t;
    }
    if (pid <= 0) {                  /* ftrace records name only the thread */
        ft_i64 tgid;
        if (ft_proc_status(tid, tid, "Tgid:", 0, &tgid) != 0)
            return NULL;
        pid = (int)tgid;
    }
    T->from_proc++;
    return from_proc(T, pid, tid, NULL);
}
