/* Reading the rings: every record from data_tail to data_head, in order.
 *
 *   - data_head is read with acquire ordering (the records before it are
 *     complete), data_tail is written with release ordering once they are
 *     consumed, every 256 KiB and at the end of a batch (the kernel may then
 *     reuse the space) -- the pairing perf_event_open(2) and the kernel's
 *     ring_buffer.h describe; only this reader writes data_tail;
 *   - a record that wraps the ring's end is copied into the ring's scratch
 *     buffer (64 KiB: a record's size is a u16), so handlers always see
 *     contiguous bytes; the 8-byte header never wraps (records are 8-byte
 *     aligned in a power-of-two ring);
 *   - SAMPLE: PERF_SAMPLE_IDENTIFIER comes first, so one hash lookup finds
 *     the probe before anything else is parsed; then TID, TIME, CPU,
 *     [CALLCHAIN], RAW fill the ft_ctx the handler runs with -- the raw
 *     record starts with the tracepoint's common fields, so format-file
 *     offsets apply as they are (LDFI/LDFS);
 *   - LOST counts per probe, COMM/FORK feed the pid -> comm table;
 *   - nothing here allocates. */
#define _GNU_SOURCE 1
#include "ftstap.h"
#include "vm.h"
#include "ring.h"
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

int ft_rings_build_ids(ft_rings *R)
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

static inline const ft_event *find_event(const ft_rings *R, uint64_t id)
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

static void on_sample(ft_vm *vm, ft_rings *R, const char *rec, uint32_t size)
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
    if (p + 8 > end)
        return;
    memcpy(pt, p, 8);                /* PERF_SAMPLE_TID */
    p += 8;
    if (st & PERF_SAMPLE_TIME) {     /* ring.c asks for TIME and CPU only where needed */
        if (p + 8 > end)
            return;
        memcpy(&t, p, 8);
        p += 8;
    }
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
    c.pid = pt[0];
    c.tid = pt[1];
    c.cpu = cpu[0];
    c.uid = 0;
    c.time_ns = (ft_i64)t;
    c.comm[0] = '\0';
    c.probe = e->probe;
    c.flags = FT_CTX_EVENT | ((e->flags & FT_EV_RETURN) ? FT_CTX_RETURN : 0) |
              ((st & PERF_SAMPLE_CALLCHAIN) ? FT_CTX_CHAIN : 0);
    R->samples++;
    ft_vm_run_probe(vm, e->probe, &c);
}

static void on_record(ft_vm *vm, ft_rings *R, const char *rec, uint32_t size)
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
        ft_comms_set(R->comms, (int)pt[1], body + 8, n > 16 ? 16 : n);
        if ((h->misc & PERF_RECORD_MISC_COMM_EXEC) && vm->bt)
            ft_bt_task_changed(vm, (int)pt[0]);   /* new mappings: backtrace.c rereads them */
        break;
    }
    case PERF_RECORD_MMAP2:          /* executable mappings for user backtraces (backtrace.c) */
        ft_bt_mmap2(vm, body, size - sizeof *h);
        break;
    case PERF_RECORD_FORK: {         /* u32 pid, ppid, tid, ptid; u64 time */
        uint32_t f[4];
        if (size < sizeof *h + 16)
            break;
        memcpy(f, body, 16);
        ft_comms_fork(R->comms, (int)f[3], (int)f[2]);
        if (f[0] == f[2] && vm->bt)
            ft_bt_task_changed(vm, (int)f[0]);    /* a new process: its pid may be reused */
        break;
    }
    default:
        break;
    }
}

/* Handle every complete record in one ring.  Returns records handled. */
ft_i64 ft_ring_drain_one(ft_vm *vm, ft_rings *R, ft_ring *r, int run)
{
    ft_i64 n = 0;
    uint64_t tail = r->meta->data_tail;     /* only this reader writes it */
    uint64_t since = 0;
    for (;;) {
        uint64_t head = __atomic_load_n(&r->meta->data_head, __ATOMIC_ACQUIRE);
        if (head == tail)
            break;
        while (tail < head) {
            uint64_t off = tail & r->mask;
            struct perf_event_header h;
            /* records are 8-byte aligned and the ring is a power of two:
               the 8-byte header itself never wraps */
            memcpy(&h, r->data + off, sizeof h);
            if (h.size < sizeof h || h.size > head - tail) {
                tail = head;         /* corrupt: give up on this batch */
                break;
            }
            const char *rec = r->data + off;
            if (off + h.size > r->size) {
                uint64_t first = r->size - off;
                memcpy(r->scratch, r->data + off, first);
                memcpy(r->scratch + first, r->data, h.size - first);
                rec = r->scratch;
            }
            if (run || h.type != PERF_RECORD_SAMPLE)
                on_record(vm, R, rec, h.size);
            tail += h.size;
            since += h.size;
            n++;
            if (since >= FT_TAIL_BATCH) {
                __atomic_store_n(&r->meta->data_tail, tail, __ATOMIC_RELEASE);
                since = 0;
            }
            if (run && (vm->exit_requested || vm->error_state))
                run = 0;             /* exit(): later records are dropped, as stap stops probes */
        }
        __atomic_store_n(&r->meta->data_tail, tail, __ATOMIC_RELEASE);
    }
    return n;
}

int ft_rings_on_ready(ft_vm *vm, int fd, void *arg)
{
    (void)arg;
    ft_rings *R = vm->rings;
    struct epoll_event evs[64];
    int n = epoll_wait(fd, evs, 64, 0);
    for (int k = 0; k < n; k++) {
        if (evs[k].data.u32 == UINT32_MAX) {
            uint64_t x;
            if (read(R->tfd, &x, sizeof x) < 0)
                continue;
            ft_rings_drain(vm);
            continue;
        }
        ft_ring_drain_one(vm, R, &R->rings[evs[k].data.u32], !vm->exit_requested && !vm->error_state);
    }
    return 0;
}

void ft_rings_drain(ft_vm *vm)
{
    ft_rings *R = vm->rings;
    if (!R || !R->enabled)
        return;
    for (int i = 0; i < R->nring; i++)
        ft_ring_drain_one(vm, R, &R->rings[i], !vm->exit_requested && !vm->error_state);
    ft_ftrace_drain(vm, R, !vm->exit_requested && !vm->error_state);
}

/* ---- lazily filled context ---- */

void ft_ctx_need_comm(ft_vm *vm)
{
    ft_ctx *c = &vm->ctx;
    if (!(c->flags & FT_CTX_EVENT) || (c->flags & FT_CTX_COMM))
        return;
    if (!vm->rings || ft_comms_get(vm->rings->comms, (int)c->pid, (int)c->tid, c->comm) != 0)
        c->comm[0] = '\0';
    c->flags |= FT_CTX_COMM;
}

void ft_ctx_need_uid(ft_vm *vm)
{
    ft_ctx *c = &vm->ctx;
    if (!(c->flags & FT_CTX_EVENT) || (c->flags & FT_CTX_UID))
        return;
    c->uid = vm->rings ? ft_comms_uid(vm->rings->comms, (int)c->pid, (int)c->tid) : -1;
    c->flags |= FT_CTX_UID;
}
