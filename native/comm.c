/* Thread id -> comm (and uid), for execname() and uid() of event probes.
 *
 * Tracepoint records do not carry the task's name, so the tracking event
 * of each ring asks for PERF_RECORD_COMM (every exec and rename) and
 * PERF_RECORD_FORK (a child starts with its parent's name); threads that
 * existed before the session are read once from /proc/PID/task/TID/comm
 * and cached.  A thread that exited before its first event was handled and
 * was never seen is gone: its name is unknown ("" -- best effort, as
 * documented).
 *
 * The table is a fixed array (allocated once; no allocation per event):
 * open addressing on the tid with a short probe chain; when the chain is
 * full the slot the tid hashes to is overwritten, so a long session with
 * many short-lived threads forgets old ones instead of growing. */
#define _GNU_SOURCE 1
#include "ftstap.h"
#include "vm.h"
#include "ring.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define NSLOTS 65536                 /* power of two */
#define CHAIN 8

enum { S_EMPTY = 0, S_KNOWN = 1, S_GONE = 2 };

typedef struct slot {
    int32_t tid;
    uint8_t state;
    int32_t uid;                     /* -1: not read yet */
    char comm[16];
} slot;

struct ft_comms {
    slot s[NSLOTS];
};

ft_comms *ft_comms_new(void) { return calloc(1, sizeof(ft_comms)); }
void ft_comms_free(ft_comms *c) { free(c); }

static inline uint32_t h32(int tid) { return ((uint32_t)tid * 2654435761u) & (NSLOTS - 1); }

static slot *find(ft_comms *c, int tid)
{
    uint32_t h = h32(tid);
    for (int k = 0; k < CHAIN; k++) {
        slot *s = &c->s[(h + (uint32_t)k) & (NSLOTS - 1)];
        if (s->state == S_EMPTY)
            return NULL;
        if (s->tid == tid)
            return s;
    }
    return NULL;
}

static slot *claim(ft_comms *c, int tid)
{
    uint32_t h = h32(tid);
    for (int k = 0; k < CHAIN; k++) {
        slot *s = &c->s[(h + (uint32_t)k) & (NSLOTS - 1)];
        if (s->state == S_EMPTY || s->tid == tid)
            return s;
    }
    return &c->s[h];                 /* full chain: forget the oldest-placed entry */
}

static void put(ft_comms *c, int tid, const char *comm, int n, int state)
{
    slot *s = claim(c, tid);
    if (s->tid != tid || s->state == S_EMPTY)
        s->uid = -1;
    s->tid = tid;
    s->state = (uint8_t)state;
    int k = 0;
    for (; k < n && k < 15 && comm[k]; k++)
        s->comm[k] = comm[k];
    s->comm[k] = '\0';
}

void ft_comms_set(ft_comms *c, int tid, const char *comm, int n)
{
    if (c)
        put(c, tid, comm, n, S_KNOWN);
}

void ft_comms_fork(ft_comms *c, int ptid, int tid)
{
    if (!c)
        return;
    slot *p = find(c, ptid);
    if (p && p->state == S_KNOWN) {
        char name[16];
        memcpy(name, p->comm, sizeof name);
        int32_t uid = p->uid;
        put(c, tid, name, 16, S_KNOWN);
        slot *s = find(c, tid);
        if (s)
            s->uid = uid;
    } else {
        slot *s = find(c, tid);      /* a reused tid must not keep an old name */
        if (s) {
            s->state = S_GONE;       /* keeps the chain intact; /proc decides later */
            s->tid = -1;
        }
    }
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

static int read_proc_comm(int pid, int tid, char out[16])
{
    char buf[32];
    int n = ft_proc_read(pid, tid, "comm", buf, sizeof buf);
    if (n < 0)
        return -1;
    while (n > 0 && buf[n - 1] == '\n')
        n--;
    if (n > 15)
        n = 15;
    memcpy(out, buf, (size_t)n);
    out[n] = '\0';
    return 0;
}

int ft_comms_get(ft_comms *c, int pid, int tid, char out[16])
{
    slot *s = find(c, tid);
    if (s && s->state == S_KNOWN) {
        memcpy(out, s->comm, 16);
        return 0;
    }
    if (s && s->state == S_GONE) {
        out[0] = '\0';
        return -1;
    }
    char name[16];
    if (read_proc_comm(pid, tid, name) != 0) {
        put(c, tid, "", 0, S_GONE);  /* read /proc once, not once per event */
        out[0] = '\0';
        return -1;
    }
    put(c, tid, name, 16, S_KNOWN);
    memcpy(out, name, 16);
    return 0;
}

/* uid(): the real uid ("Uid:" of /proc/PID/task/TID/status), read once
   per thread and cached next to its comm.  -1 when the thread is gone. */
static int read_proc_uid(int pid, int tid)
{
    char buf[2048];
    if (ft_proc_read(pid, tid, "status", buf, sizeof buf) < 0)
        return -1;
    const char *u = strstr(buf, "\nUid:");
    return u ? atoi(u + 5) : -1;
}

int ft_comms_uid(ft_comms *c, int pid, int tid)
{
    slot *s = find(c, tid);
    if (s && s->uid >= 0)
        return s->uid;
    if (s && s->state == S_GONE)
        return -1;
    int uid = read_proc_uid(pid, tid);
    if (uid < 0)
        return -1;
    if (!s) {
        char name[16];
        if (ft_comms_get(c, pid, tid, name) != 0 || !(s = find(c, tid)))
            return uid;
    }
    s->uid = uid;
    return uid;
}
