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
 * The fds are read when the drain timer fires, before timer and end
 * probes, and at stop: nothing here allocates per event. */
#define _GNU_SOURCE
#include <stddef.h>
#include <sys/types.h>
#include "ftstap.h"
#include "vm.h"
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE_BYTES 4096
#define HEADER_BYTES 16
#define COMMIT_MASK ((1u << 27) - 1)
#define MISSED_EVENTS (1ull << 31)
#define MISSED_STORED (1ull << 30)

typedef struct ft_ftrace {
    int *fd, *cpu, nfd, fdcap;
    struct { int type, probe, flags; } *map;
    int nmap, mapcap;
    char page[PAGE_BYTES];
} ft_ftrace;

static ft_ftrace *ftrace_of(ft_rings *R)
{
    if (!R->ftrace)
        R->ftrace = calloc(1, sizeof(ft_ftrace));
    return R->ftrace;
}

int ft_ftrace_add(ft_vm *vm, int fd, int cpu)
{
    ft_rings *R = ft_rings_of(vm);
    ft_ftrace *F = R ? ftrace_of(R) : NULL;
    if (!F || ft_grow((void **)&F->fd, &F->fdcap, F->nfd, sizeof *F->fd))
        return FT_ENOMEM;
    int cap = F->fdcap;           /* fd and cpu grow together */
    int *c = realloc(F->cpu, (size_t)cap * sizeof *c);
    if (!c)
        return FT_ENOMEM;
    F->cpu = c;
    F->fd[F->nfd] = fd;
    F->cpu[F->nfd++] = cpu;
    return FT_OK;
}

int ft_ftrace_map(ft_vm *vm, int type, int probe, int flags)
{
    ft_rings *R = ft_rings_of(vm);
    ft_ftrace *F = R ? ftrace_of(R) : NULL;
    if (!F || ft_grow((void **)&F->map, &F->mapcap, F->nmap, sizeof *F->map))
        return FT_ENOMEM;
    F->map[F->nmap].type = type;
    F->map[F->nmap].probe = probe;
    F->map[F->nmap++].flags = flags;
    return FT_OK;
}

int ft_ftrace_fd_count(const ft_rings *R) { return R->ftrace ? R->ftrace->nfd : 0; }

/* The process of a thread: ftrace records carry only the thread
   (common_pid); the thread map knows it (threads.c). */
static int32_t tgid_of(ft_rings *R, int32_t tid)
{
    const ft_thread *t = tid > 0 ? ft_threads_get(R->threads, 0, tid) : NULL;
    return t ? t->pid : tid;
}

static void dispatch(ft_vm *vm, ft_rings *R, ft_ftrace *F, int cpu, const char *data, uint32_t len, int run)
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

/* One page: every event in it; the number of events missed before it. */
static void on_page(ft_vm *vm, ft_rings *R, ft_ftrace *F, int cpu, ssize_t got, int run)
{
    uint64_t commit;
    memcpy(&commit, F->page + 8, 8);
    uint32_t size = (uint32_t)(commit & COMMIT_MASK);
    if (size > (uint32_t)(got - HEADER_BYTES))
        size = (uint32_t)(got - HEADER_BYTES);
    const char *p = F->page + HEADER_BYTES, *end = p + size;
    if (commit & MISSED_EVENTS) {
        uint64_t missed = 1;
        if ((commit & MISSED_STORED) && end + 8 <= F->page + got)
            memcpy(&missed, end, 8);
        R->lost_unknown += (ft_i64)missed;
    }
    while (p + 4 <= end) {
        uint32_t h;
        memcpy(&h, p, 4);
        uint32_t type_len = h & 31, delta = h >> 5;
        if (type_len >= 1 && type_len <= 28) {
            uint32_t len = type_len * 4;
            if (p + 4 + len > end)
                break;
            dispatch(vm, R, F, cpu, p + 4, len, run);
            p += 4 + len;
        } else if (type_len == 0 || type_len == 29) {
            uint32_t len;
            if (p + 8 > end)
                break;
            memcpy(&len, p + 4, 4);
            if (type_len == 29 && delta == 0)
                break;               /* padding to the end of the page */
            if (len < 4 || p + 4 + len > end)
                break;
            if (type_len == 0)
                dispatch(vm, R, F, cpu, p + 8, len - 4, run);
            p += 4 + len;
        } else {
            p += 8;                  /* time extend / absolute time stamp */
        }
    }
}

void ft_ftrace_drain(ft_vm *vm, ft_rings *R, int run)
{
    ft_ftrace *F = R->ftrace;
    if (!F)
        return;
    for (int i = 0; i < F->nfd; i++) {
        if (F->fd[i] < 0)
            continue;
        for (;;) {
            ssize_t got = read(F->fd[i], F->page, PAGE_BYTES);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= HEADER_BYTES)
                break;               /* EAGAIN: nothing more on this CPU now */
            on_page(vm, R, F, F->cpu[i], got, run);
        }
    }
}

void ft_ftrace_close(ft_rings *R)
{
    ft_ftrace *F = R->ftrace;
    if (!F)
        return;
    for (int i = 0; i < F->nfd; i++)
        if (F->fd[i] >= 0)
            close(F->fd[i]);
    F->nfd = 0;
    F->nmap = 0;
}

void ft_ftrace_free(ft_rings *R)
{
    ft_ftrace *F = R->ftrace;
    if (!F)
        return;
    ft_ftrace_close(R);
    free(F->fd);
    free(F->cpu);
    free(F->map);
    free(F);
    R->ftrace = NULL;
}
