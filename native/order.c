/* Records in the order they happened, across every ring.
 *
 * Each perf ring holds one CPU's records (or one task's) in the order they
 * were written, which is their time order up to a nested interrupt.  The
 * rings are merged by time stamp (PERF_SAMPLE_TIME on CLOCK_MONOTONIC,
 * every event and every side-band record carries one): the ring whose next
 * record is oldest goes first, and keeps going while it stays older than
 * every other ring's next record.  The records are read in place, so the
 * merge needs no queue, no copy and no allocation (the role of perf's
 * ordered-events queue, tools/perf/util/ordered-events.c).  The ftrace
 * ring's CPUs (eprobes, ftrace.c) are streams of the same merge.
 *
 * A record is only handled once no older record can still arrive: every
 * ring is read up to its head after the moment `limit` (a record is stamped
 * before it is written, and the kernel writes it with preemption off, so
 * one stamped before limit - FT_ORDER_SLACK_NS has been written by the
 * time limit has passed).  Younger records stay in their ring, unconsumed,
 * for the next pass.  A record that still comes in older than one already
 * handled is handled at once and counted (ft_session.late).
 *
 * Ring protocol: data_head is read with acquire ordering (the records
 * before it are complete); data_tail, which only this reader writes, is
 * released every FT_TAIL_BATCH bytes and at the end of a pass so the kernel
 * may reuse the space -- the pairing perf_event_open(2) and the kernel's
 * ring_buffer.h describe.  A record that wraps the ring's end is copied
 * into the ring's scratch buffer (a record's size is a u16), so handlers
 * always see contiguous bytes; the 8-byte header never wraps (records are
 * 8-byte aligned in a power-of-two ring). */
#define _GNU_SOURCE 1
#include "ftstap.h"
#include "vm.h"
#include "session.h"

#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/epoll.h>

ft_i64 ft_mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ft_i64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Point the ring's cursor at the record at r->pos; 0 when it has none. */
static int load_next(const ft_session *R, ft_ring *r)
{
    if (r->pos >= r->head)
        return 0;
    uint64_t off = r->pos & r->mask;
    struct perf_event_header h;
    memcpy(&h, r->data + off, sizeof h);
    if (h.size < sizeof h || h.size > r->head - r->pos) {
        r->pos = r->head;            /* corrupt: give up on what is there now */
        return 0;
    }
    const char *rec = r->data + off;
    if (off + h.size > r->size) {
        uint64_t first = r->size - off;
        memcpy(r->scratch, r->data + off, first);
        memcpy(r->scratch + first, r->data, h.size - first);
        rec = r->scratch;
    }
    r->next = rec;
    r->next_size = h.size;
    r->next_time = ft_record_time(R, rec, h.size);
    return 1;
}

/* Records handled after a newer one: counted, reported at the end. */
static inline void note_time(ft_session *R, uint64_t t)
{
    if (t < R->last_time)
        R->late++;
    else
        R->last_time = t;
}

static void release(ft_ring *r)
{
    __atomic_store_n(&r->meta->data_tail, r->pos, __ATOMIC_RELEASE);
    r->since = 0;
}

void ft_session_drain_until(ft_vm *vm, uint64_t limit)
{
    ft_session *R = vm->session;
    if (!R || !R->enabled)
        return;
    int run = !vm->exit_requested && !vm->error_state;
    for (int i = 0; i < R->nring; i++) {
        ft_ring *r = &R->rings[i];
        r->head = __atomic_load_n(&r->meta->data_head, __ATOMIC_ACQUIRE);
        r->pos = r->meta->data_tail;
        r->since = 0;
        r->ready = load_next(R, r);
    }
    int nftrace = ft_ftrace_fd_count(R);
    for (;;) {
        ft_ring *best = NULL;
        int best_ftrace = -1;
        uint64_t first = UINT64_MAX, second = UINT64_MAX, t;
        for (int i = 0; i < R->nring; i++) {
            ft_ring *r = &R->rings[i];
            if (!r->ready)
                continue;
            if (r->next_time < first) {
                second = first;
                first = r->next_time;
                best = r;
            } else if (r->next_time < second) {
                second = r->next_time;
            }
        }
        for (int i = 0; i < nftrace; i++) {      /* the ftrace ring's CPUs (eprobes) */
            if (!ft_ftrace_peek(R, i, &t))
                continue;
            if (t < first) {
                second = first;
                first = t;
                best = NULL;
                best_ftrace = i;
            } else if (t < second) {
                second = t;
            }
        }
        if ((!best && best_ftrace < 0) || first > limit)
            break;
        uint64_t bound = second < limit ? second : limit;
        if (!best) {
            note_time(R, first);
            ft_ftrace_handle(vm, R, best_ftrace, run);
            if (run && (vm->exit_requested || vm->error_state))
                run = 0;
            continue;
        }
        do {                         /* this ring, while it holds the oldest record */
            note_time(R, first);
            const struct perf_event_header *h = (const void *)best->next;
            if (run || h->type != PERF_RECORD_SAMPLE)
                ft_record_handle(vm, R, best->next, best->next_size);
            best->pos += best->next_size;
            best->since += best->next_size;
            if (best->since >= FT_TAIL_BATCH)
                release(best);
            if (run && (vm->exit_requested || vm->error_state))
                run = 0;             /* exit(): later records are dropped, as stap stops probes */
            best->ready = load_next(R, best);
            first = best->next_time;
        } while (best->ready && first <= bound);
    }
    for (int i = 0; i < R->nring; i++)
        release(&R->rings[i]);
}

void ft_session_drain(ft_vm *vm, ft_i64 now)
{
    ft_session_drain_until(vm, now > 0 ? (uint64_t)now : 0);
}

int ft_session_on_ready(ft_vm *vm, int fd, void *arg)
{
    (void)arg;
    ft_session *R = vm->session;
    struct epoll_event evs[64];
    int n = epoll_wait(fd, evs, 64, 0);
    for (int k = 0; k < n; k++) {
        if (evs[k].data.u32 == UINT32_MAX) {     /* the drain timer: quiet rings, the ftrace ring */
            uint64_t x;
            if (read(R->tfd, &x, sizeof x) < 0)
                continue;
        }
    }
    ft_i64 limit = ft_mono_now() - FT_ORDER_SLACK_NS;
    ft_session_drain_until(vm, limit > 0 ? (uint64_t)limit : 0);
    return 0;
}
