/* Events that reach only the ftrace ring buffer: event probes (eprobes),
 * which read kernel memory through a tracepoint's fields, write there and
 * never to perf (the kernel's eprobe_register ignores TRACE_REG_PERF_*).
 *
 * The session gives them a tracefs instance of their own (Python side,
 * runtime/ftrace_instance.py) and hands this file one
 * per_cpu/cpuN/trace_pipe_raw fd per CPU, opened O_NONBLOCK.  A read of
 * such a fd returns one whole ring-buffer page:
 *
 *   u64 timestamp; u64 commit (data bytes, low 27 bits; bit 31: events were
 *   missed before this page, bit 30: their count is stored after the data);
 *   then events, each a u32 header (type_len:5, time_delta:27):
 *     type_len 1..28  data of type_len * 4 bytes follows
 *     type_len 0      u32 len follows (its own 4 bytes included), then data
 *     29 padding (u32 len follows; time_delta 0: the rest of the page)
 *     30 time extend, 31 absolute time stamp: 8 bytes in all, no data
 *
 * The data is the event record as its format file lays it out (common
 * fields first), so handlers load fields exactly as from a perf sample.
 *
 * Each CPU is one more stream of order.c's merge: the instance's
 * trace_clock is "mono" (kernel/instances.py), the clock of the perf
 * samples, and an event's time is its page's time stamp plus the deltas
 * before it (time extends included; an absolute stamp resets it).  A page
 * is read when the previous one is used up and kept until every event in
 * it is handled: nothing here allocates per event.
 *
 * Lost events.  A full buffer overwrites its oldest page (the instance's
 * default, options/overwrite 1) and the next page read says so: bit 31 of
 * its commit.  The kernel stores how many were lost after the data (bit 30)
 * only when the page has 8 bytes to spare, so a page of equal-sized events
 * filled to the last byte carries the flag and no count (measured here:
 * every such page of sys_enter_getppid records).  The exact count is the
 * CPU's per_cpu/cpuN/stats (overrun: overwritten; dropped events: refused
 * when overwrite is off; commit overrun: refused under a nested writer),
 * which the buffer of an instance of our own counts from zero: read at the
 * end when it can be found next to trace_pipe_raw; otherwise the counts
 * the pages stored, and a loss without a count is reported as such. */
#define _GNU_SOURCE
#include <stddef.h>
#include <sys/types.h>
#include "ftstap.h"
#include "vm.h"
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE_BYTES 4096
#define HEADER_BYTES 16
#define COMMIT_MASK ((1u << 27) - 1)
#define MISSED_EVENTS (1ull << 31)
#define MISSED_STORED (1ull << 30)

/* One CPU's reader: the page being handled and the cursor in it. */
typedef struct ftrace_cpu {
    int fd, cpu;
    int stats;                       /* per_cpu/cpuN/stats beside fd, or -1 */
    ft_i64 missed;                   /* counts stored on pages flagged missed */
    ft_i64 uncounted;                /* pages flagged missed without a count */
    const char *p, *end;             /* events not handled yet */
    uint64_t stamp;                  /* time of the event before p */
    const char *data;                /* the next event, when ready */
    uint32_t len;
    uint64_t time;
    int ready;
    char page[PAGE_BYTES];
} ftrace_cpu;

typedef struct ft_ftrace {
    ftrace_cpu *c;
    int nfd, fdcap;
    struct { int type, probe, flags; } *map;
    int nmap, mapcap;
    ft_i64 lost;                     /* ft_ftrace_lost's answer, kept after close */
    int uncounted, final;            /* final: counted at the stop (later losses are not ours) */
} ft_ftrace;

static ft_ftrace *ftrace_of(ft_session *R)
{
    if (!R->ftrace)
        R->ftrace = calloc(1, sizeof(ft_ftrace));
    return R->ftrace;
}

/* The stats file in the directory of the trace_pipe_raw that fd reads
   (the path the kernel gives /proc/self/fd), opened; -1 when fd is not
   one (a pipe in the unit tests) or it cannot be opened. */
static int stats_beside(int fd)
{
    char link[64], path[1024];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 8);
    if (n <= 0 || (size_t)n >= sizeof path - 8)
        return -1;
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    if (!slash || strcmp(slash, "/trace_pipe_raw") != 0)
        return -1;
    strcpy(slash + 1, "stats");
    return open(path, O_RDONLY | O_CLOEXEC);
}

/* The events the CPU's buffer lost, from its stats; -1 when unreadable. */
static ft_i64 stats_lost(int fd)
{
    char buf[1024];
    ssize_t n = fd >= 0 ? pread(fd, buf, sizeof buf - 1, 0) : -1;
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    static const char *const keys[] = {"overrun:", "commit overrun:", "dropped events:"};
    ft_i64 lost = 0;
    for (int k = 0; k < 3; k++) {
        const char *at = buf;
        size_t len = strlen(keys[k]);
        while (at && strncmp(at, keys[k], len) != 0) {      /* at the start of a line */
            at = strchr(at, '\n');
            at = at ? at + 1 : NULL;
        }
        if (!at)
            return -1;
        lost += strtoll(at + len, NULL, 10);
    }
    return lost;
}

int ft_ftrace_add(ft_vm *vm, int fd, int cpu)
{
    ft_session *R = ft_session_of(vm);
    ft_ftrace *F = R ? ftrace_of(R) : NULL;
    if (!F || ft_grow((void **)&F->c, &F->fdcap, F->nfd, sizeof *F->c))
        return FT_ENOMEM;
    ftrace_cpu *c = &F->c[F->nfd++];
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->cpu = cpu;
    c->stats = stats_beside(fd);
    return FT_OK;
}

int ft_ftrace_map(ft_vm *vm, int type, int probe, int flags)
{
    ft_session *R = ft_session_of(vm);
    ft_ftrace *F = R ? ftrace_of(R) : NULL;
    if (!F || ft_grow((void **)&F->map, &F->mapcap, F->nmap, sizeof *F->map))
        return FT_ENOMEM;
    F->map[F->nmap].type = type;
    F->map[F->nmap].probe = probe;
    F->map[F->nmap++].flags = flags;
    return FT_OK;
}

int ft_ftrace_fd_count(const ft_session *R) { return R->ftrace ? R->ftrace->nfd : 0; }

int ft_ftrace_cpu(const ft_session *R, int i) { return R->ftrace->c[i].cpu; }

/* The process of a thread: ftrace records carry only the thread
   (common_pid); the thread map knows it (threads.c). */
static int32_t tgid_of(ft_session *R, int32_t tid)
{
    const ft_thread *t = tid > 0 ? ft_threads_get(R->threads, 0, tid) : NULL;
    return t ? t->pid : tid;
}

static void dispatch(ft_vm *vm, ft_session *R, ft_ftrace *F, int cpu, const char *data, uint32_t len, int run)
{
    if (len < 8)
        return;
    uint16_t type;
    int32_t tid;
    memcpy(&type, data, 2);          /* common_type */
    memcpy(&tid, data + 4, 4);       /* common_pid: the thread */
    for (int i = 0; i < F->nmap; i++) {
        if (F->map[i].type != type)
            continue;
        if (!run)
            return;
        ft_ctx c;
        memset(&c, 0, sizeof c);
        c.pid = tgid_of(R, tid);
        c.tid = tid;
        c.cpu = cpu;
        c.raw = data;
        c.threads = R->threads;
        c.raw_len = len;
        c.probe = F->map[i].probe;
        c.flags = FT_CTX_EVENT | ((F->map[i].flags & FT_EV_RETURN) ? FT_CTX_RETURN : 0);
        R->samples++;
        ft_vm_run_probe(vm, c.probe, &c);
        return;
    }
}

/* A new page for c: its time stamp, its events, the events missed before it. */
static int read_page(ftrace_cpu *c)
{
    ssize_t got;
    do
        got = read(c->fd, c->page, PAGE_BYTES);
    while (got < 0 && errno == EINTR);
    if (got <= HEADER_BYTES)
        return 0;                    /* EAGAIN: nothing more on this CPU now */
    uint64_t commit;
    memcpy(&c->stamp, c->page, 8);
    memcpy(&commit, c->page + 8, 8);
    uint32_t size = (uint32_t)(commit & COMMIT_MASK);
    if (size > (uint32_t)(got - HEADER_BYTES))
        size = (uint32_t)(got - HEADER_BYTES);
    c->p = c->page + HEADER_BYTES;
    c->end = c->p + size;
    if (commit & MISSED_EVENTS) {
        uint64_t missed;
        if ((commit & MISSED_STORED) && c->end + 8 <= c->page + got) {
            memcpy(&missed, c->end, 8);
            c->missed += (ft_i64)missed;
        } else {
            c->uncounted++;          /* no room on the page for the count */
        }
    }
    return 1;
}

/* Move c's cursor to its next data event (reading pages as needed). */
static int load_next(ftrace_cpu *c)
{
    for (;;) {
        while (c->p && c->p + 4 <= c->end) {
            uint32_t h, ext;
            memcpy(&h, c->p, 4);
            uint32_t type_len = h & 31, delta = h >> 5;
            if (type_len >= 1 && type_len <= 28) {
                uint32_t len = type_len * 4;
                if (c->p + 4 + len > c->end)
                    break;
                c->stamp += delta;
                c->data = c->p + 4, c->len = len, c->time = c->stamp;
                c->p += 4 + len;
                return 1;
            }
            if (type_len == 0 || type_len == 29) {
                uint32_t len;
                if (c->p + 8 > c->end)
                    break;
                memcpy(&len, c->p + 4, 4);
                if ((type_len == 29 && delta == 0) || len < 4 || c->p + 4 + len > c->end)
                    break;           /* padding to the end of the page, or damage */
                const char *ev = c->p + 8;
                c->p += 4 + len;
                if (type_len == 0) {
                    c->stamp += delta;
                    c->data = ev, c->len = len - 4, c->time = c->stamp;
                    return 1;
                }
                continue;            /* a discarded event: no time of its own */
            }
            if (c->p + 8 > c->end)
                break;
            memcpy(&ext, c->p + 4, 4);
            uint64_t t = ((uint64_t)ext << 27) + delta;
            if (type_len == 30)      /* time extend */
                c->stamp += t;
            else                     /* absolute time stamp: its low 59 bits */
                c->stamp = (c->stamp & ~((1ull << 59) - 1)) | (t & ((1ull << 59) - 1));
            c->p += 8;
        }
        c->p = c->end = NULL;
        if (!read_page(c))
            return 0;
    }
}

ft_i64 ft_ftrace_lost(ft_session *R, int *uncounted)
{
    ft_ftrace *F = R->ftrace;
    *uncounted = 0;
    if (!F)
        return 0;
    int count = F->nfd && !F->final;
    if (count) {
        F->lost = 0;
        F->uncounted = 0;
        F->final = R->stopped;
    }
    for (int i = 0; count && i < F->nfd; i++) {
        const ftrace_cpu *c = &F->c[i];
        ft_i64 n = stats_lost(c->stats);
        if (n >= c->missed && (n > 0 || !c->uncounted)) {
            F->lost += n;            /* exact, stored counts or not */
        } else {
            F->lost += c->missed;
            F->uncounted |= c->uncounted > 0;
        }
    }
    *uncounted = F->uncounted;
    return F->lost;
}

int ft_ftrace_peek(ft_session *R, int i, uint64_t *time)
{
    ftrace_cpu *c = &R->ftrace->c[i];
    if (!c->ready && c->fd >= 0)
        c->ready = load_next(c);
    *time = c->time;
    return c->ready;
}

void ft_ftrace_handle(ft_vm *vm, ft_session *R, int i, int run)
{
    ftrace_cpu *c = &R->ftrace->c[i];
    dispatch(vm, R, R->ftrace, c->cpu, c->data, c->len, run);
    c->ready = 0;
}

void ft_ftrace_close(ft_session *R)
{
    ft_ftrace *F = R->ftrace;
    if (!F)
        return;
    for (int i = 0; i < F->nfd; i++) {
        if (F->c[i].fd >= 0)
            close(F->c[i].fd);
        if (F->c[i].stats >= 0)
            close(F->c[i].stats);
    }
    F->nfd = 0;
    F->nmap = 0;
}

void ft_ftrace_free(ft_session *R)
{
    ft_ftrace *F = R->ftrace;
    if (!F)
        return;
    ft_ftrace_close(R);
    free(F->c);
    free(F->map);
    free(F);
    R->ftrace = NULL;
}
