/* Decoding one ring record (order.c decides which and when):
 *
 *   - SAMPLE: PERF_SAMPLE_IDENTIFIER comes first, so one hash lookup finds
 *     the probe before anything else is parsed; then TID, TIME, [CPU],
 *     [CALLCHAIN], RAW fill the ft_ctx the handler runs with -- the raw
 *     record starts with the tracepoint's common fields, so format-file
 *     offsets apply as they are (LDFI/LDFS);
 *   - every record's time: a sample's TIME is at a fixed offset (every
 *     event asks for IDENTIFIER, TID, TIME first); other records carry it
 *     in their trailing sample_id (sample_id_all), laid out by the
 *     sample_type of the event whose identifier ends the record;
 *   - LOST counts per probe; COMM/FORK/EXIT change the thread map;
 *   - nothing here allocates. */
#define _GNU_SOURCE 1
#include "ftstap.h"
#include "vm.h"
#include "session.h"
#include "backtrace.h"

#include <stdlib.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/epoll.h>

/* ---- id -> event ---- */

static uint64_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

int ft_session_build_ids(ft_session *R)
{
    uint64_t cap = 16;
    while (cap < (uint64_t)R->nev * 2)
        cap <<= 1;
    R->hkey = calloc(cap, sizeof *R->hkey);
    R->hval = malloc(cap * sizeof *R->hval);
    if (!R->hkey || !R->hval)
        return -1;
    R->hmask = cap - 1;
    for (uint64_t i = 0; i < cap; i++)
        R->hval[i] = -1;
    for (int i = 0; i < R->nev; i++) {
        uint64_t h = hash64(R->ev[i].id) & R->hmask;
        while (R->hval[h] >= 0)
            h = (h + 1) & R->hmask;
        R->hkey[h] = R->ev[i].id;
        R->hval[h] = i;
    }
    return 0;
}

static inline const ft_event *find_event(const ft_session *R, uint64_t id)
{
    for (uint64_t h = hash64(id) & R->hmask;; h = (h + 1) & R->hmask) {
        int32_t v = R->hval[h];
        if (v < 0)
            return NULL;
        if (R->hkey[h] == id)
            return &R->ev[v];
    }
}

/* ---- records ---- */

/* The probe of a raw_syscalls record (ft_event_dispatch): by its syscall
   number (the id at offset 8), none for a 32-bit task (its numbers mean
   other calls; syscalls:* tracepoints ignore them too). */
static int dispatch(ft_session *R, const ft_event *e, const char *raw, ft_i64 len, int pid)
{
    int64_t nr;
    if (!raw || len < 16)
        return -1;
    memcpy(&nr, raw + 8, 8);
    if (nr < 0 || nr >= e->ndispatch || e->dispatch[nr] < 0)
        return -1;
    return ft_threads_compat(R->threads, pid) ? -1 : e->dispatch[nr];
}

/* user_mode(): the sample interrupted user space.  A static tracepoint is
   kernel code whatever its header says (syscalls:* record the user's
   registers, so their cpumode reads "user"); uprobes and sampling events
   (timer.profile, perf.*) carry the mode they caught. */
static int user_mode_sample(const ft_event *e, const char *rec)
{
    const struct perf_event_header *h = (const void *)rec;
    return !(e->flags & FT_EV_DEFER_CLOSE) &&
           (h->misc & PERF_RECORD_MISC_CPUMODE_MASK) == PERF_RECORD_MISC_USER;
}

static void on_sample(ft_vm *vm, ft_session *R, const char *rec, uint32_t size)
{
    const char *p = rec + sizeof(struct perf_event_header), *end = rec + size;
    uint64_t id;
    if (p + 8 > end)
        return;
    memcpy(&id, p, 8);
    const ft_event *e = find_event(R, id);
    if (!e || e->probe < 0)
        return;
    p += 8;
    uint64_t st = e->sample_type;
    uint32_t pt[2] = {0, 0};
    uint64_t t = 0;
    uint32_t cpu[2] = {0, 0};
    if (p + 16 > end)
        return;
    memcpy(pt, p, 8);                /* PERF_SAMPLE_TID */
    memcpy(&t, p + 8, 8);            /* PERF_SAMPLE_TIME: every event has it (order.c) */
    p += 16;
    if (st & PERF_SAMPLE_CPU) {
        if (p + 8 > end)
            return;
        memcpy(cpu, p, 8);
        p += 8;
    } else {
        cpu[0] = (uint32_t)R->rings[e->ring].cpu;
    }
    if (st & PERF_SAMPLE_PERIOD) {   /* weighted tracepoints (FT_EV_PERIOD): skipped */
        if (p + 8 > end)
            return;
        p += 8;
    }
    ft_ctx c;
    c.chain = c.ustack = NULL;
    c.nchain = c.nustack = 0;
    if (st & PERF_SAMPLE_CALLCHAIN) {    /* u64 nr, ips[nr]: backtrace.c reads them in place */
        uint64_t nr;
        if (p + 8 > end)
            return;
        memcpy(&nr, p, 8);
        p += 8;
        if (nr > (uint64_t)(end - p) / 8)
            return;
        c.chain = p;
        c.nchain = (ft_i64)nr;
        p += nr * 8;
    }
    c.raw = NULL;
    c.raw_len = 0;
    if (st & PERF_SAMPLE_RAW) {
        uint32_t n;
        if (p + 4 > end)
            return;
        memcpy(&n, p, 4);
        if (n > (uint64_t)(end - p - 4))
            return;
        c.raw = p + 4;
        c.raw_len = n;
        p += 4 + n;
    }
    if (st & PERF_SAMPLE_STACK_USER) {   /* u64 size, data[size], u64 dyn_size (if size) */
        uint64_t n, dyn = 0;
        if (p + 8 <= end) {
            memcpy(&n, p, 8);
            if (n && n <= (uint64_t)(end - p - 8) && p + 16 + n <= end)
                memcpy(&dyn, p + 8 + n, 8);
            c.ustack = p + 8;
            c.nustack = (ft_i64)(dyn < n ? dyn : n);
        }
    }
    int probe = e->probe;
    if (e->dispatch && (probe = dispatch(R, e, c.raw, c.raw_len, (int)pt[0])) < 0)
        return;
    if (R->tally && R->tally[probe].on) {    /* a counting probe: run once at stop (counters.c) */
        R->tally[probe].n++;
        return;
    }
    c.pid = pt[0];
    c.tid = pt[1];
    c.cpu = cpu[0];
    c.uid = 0;
    c.time_ns = (ft_i64)t;
    c.comm[0] = '\0';
    c.probe = probe;
    c.threads = R->threads;
    c.flags = FT_CTX_EVENT | ((e->flags & FT_EV_RETURN) ? FT_CTX_RETURN : 0) |
              ((st & PERF_SAMPLE_CALLCHAIN) ? FT_CTX_CHAIN : 0) |
              (user_mode_sample(e, rec) ? FT_CTX_USER : 0);
    R->samples++;
    ft_vm_run_probe(vm, probe, &c);
}

uint64_t ft_record_time(const ft_session *R, const char *rec, uint32_t size)
{
    const struct perf_event_header *h = (const void *)rec;
    uint64_t t = 0, id;
    if (h->type == PERF_RECORD_SAMPLE) {     /* header, IDENTIFIER, TID, TIME */
        if (size >= sizeof *h + 24)
            memcpy(&t, rec + sizeof *h + 16, 8);
        return t;
    }
    if (size < sizeof *h + 8)
        return 0;
    memcpy(&id, rec + size - 8, 8);          /* sample_id ends with IDENTIFIER */
    const ft_event *e = find_event(R, id);
    if (!e)
        return 0;                            /* unknown: handled at once */
    /* sample_id: TID, TIME, [CPU], IDENTIFIER (every event has TID and TIME) */
    uint32_t back = 16 + ((e->sample_type & PERF_SAMPLE_CPU) ? 8 : 0);
    if (size < sizeof *h + back + 8)
        return 0;
    memcpy(&t, rec + size - back, 8);
    return t;
}

void ft_record_handle(ft_vm *vm, ft_session *R, const char *rec, uint32_t size)
{
    const struct perf_event_header *h = (const void *)rec;
    const char *body = rec + sizeof *h;
    switch (h->type) {
    case PERF_RECORD_SAMPLE:
        on_sample(vm, R, rec, size);
        break;
    case PERF_RECORD_LOST: {         /* u64 id, u64 lost */
        uint64_t id, n;
        if (size < sizeof *h + 16)
            break;
        memcpy(&id, body, 8);
        memcpy(&n, body + 8, 8);
        const ft_event *e = find_event(R, id);
        if (e && e->probe >= 0)
            R->lost[e->probe] += (ft_i64)n;
        else
            R->lost_unknown += (ft_i64)n;
        break;
    }
    case PERF_RECORD_COMM: {         /* u32 pid, tid; char comm[]; sample_id */
        uint32_t pt[2];
        if (size < sizeof *h + 9)
            break;
        memcpy(pt, body, 8);
        int n = (int)(size - sizeof *h - 8);
        int exec = (h->misc & PERF_RECORD_MISC_COMM_EXEC) != 0;
        ft_threads_comm(R->threads, (int)pt[0], (int)pt[1], body + 8, n > 16 ? 16 : n, exec);
        if (exec && vm->bt)
            ft_bt_task_changed(vm, (int)pt[0]);   /* new mappings: backtrace.c rereads them */
        break;
    }
    case PERF_RECORD_MMAP2:          /* executable mappings for user backtraces (backtrace.c) */
        ft_bt_mmap2(vm, body, size - sizeof *h);
        break;
    case PERF_RECORD_FORK:           /* u32 pid, ppid, tid, ptid; u64 time */
    case PERF_RECORD_EXIT: {
        uint32_t f[4];
        if (size < sizeof *h + 16)
            break;
        memcpy(f, body, 16);
        if (h->type == PERF_RECORD_EXIT) {
            ft_threads_exit(R->threads, (int)f[0], (int)f[2]);
            break;
        }
        ft_threads_fork(R->threads, (int)f[0], (int)f[1], (int)f[2], (int)f[3]);
        if (f[0] == f[2] && vm->bt)
            ft_bt_task_changed(vm, (int)f[0]);    /* a new process: its pid may be reused */
        break;
    }
    default:
        break;
    }
}
