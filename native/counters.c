/* Counting-mode events: probes that need no samples (issue 6).
 *
 * A handler whose only effect is adding one to a counter keyed by values
 * fixed per probe (`n++`, `calls[name]++` on syscall.*) is compiled by
 * pass 3 (compile/counting.py) into an "apply" handler that adds the
 * count it finds in its context's raw record (8 bytes, LDFI 0 8) instead
 * of one.  Its events are opened with FT_EV_COUNT: a plain perf counter
 * (sample_period 0: no ring, no record per event: ~25 ns per event in the
 * kernel instead of ~170 ns for a sample, as measured).  At stop, after the
 * rings are drained and before the end probes, each such probe's counters
 * are read (read(2) of a counter gives its u64 value), summed over CPUs,
 * and the probe runs once with that sum -- only when it is not zero, so an
 * array never gains a key no event made.  Its context is the probe's own
 * (pp(), probefunc(), is_return() as for a sample); it has no task or CPU.
 *
 * A counting probe among many syscall probes has no counter of its own:
 * its records come through the group's raw_syscalls event
 * (runtime/syscall_dispatch.py) and are tallied in user space (records.c,
 * R->tally), because closing a counter per syscall tracepoint costs the
 * kernel an RCU grace period each (15-20 s for syscall.*).
 */
#define _GNU_SOURCE 1
#include "ftstap.h"
#include "vm.h"
#include "session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

int ft_counter_open(ft_vm *vm, ft_session *R, int probe, int type, ft_i64 config, int flags, int pid, int cpu,
                    char *err, int errlen)
{
    if (R->nev >= R->evcap) {
        int nc = R->evcap ? R->evcap * 2 : 16;
        ft_event *q = realloc(R->ev, (size_t)nc * sizeof *q);
        if (!q) {
            snprintf(err, (size_t)errlen, "out of memory");
            return -ENOMEM;
        }
        R->ev = q;
        R->evcap = nc;
    }
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = (uint32_t)type;
    a.config = (uint64_t)config;
    a.disabled = 1;
    a.inherit = (flags & FT_EV_INHERIT) ? 1 : 0;
    int fd = (int)syscall(SYS_perf_event_open, &a, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, (size_t)errlen, "perf_event_open(counter, type %d, config %lld, pid %d, cpu %d): %s", type,
                 (long long)config, pid, cpu, strerror(e));
        return -e;
    }
    ft_event *ev = &R->ev[R->nev];
    *ev = (ft_event){fd, probe, flags, -1, 0, 0, NULL, 0};
    if (ioctl(fd, PERF_EVENT_IOC_ID, &ev->id) != 0) {
        int e = errno;
        close(fd);
        snprintf(err, (size_t)errlen, "PERF_EVENT_IOC_ID: %s", strerror(e));
        return -e;
    }
    (void)vm;
    return R->nev++;
}

ft_i64 ft_counter_total(const ft_vm *vm, int probe)
{
    const ft_session *R = vm->session;
    ft_i64 sum = 0;
    if (R && R->tally && probe >= 0 && (uint32_t)probe < vm->prog->nprobes)
        sum += R->tally[probe].n;
    for (int i = 0; R && i < R->nev; i++) {
        const ft_event *e = &R->ev[i];
        uint64_t v;
        if (e->probe == probe && (e->flags & FT_EV_COUNT) && e->fd >= 0 &&
            read(e->fd, &v, sizeof v) == (ssize_t)sizeof v)
            sum += (ft_i64)v;
    }
    return sum;
}

/* Run counting probe p once with its total n (when not zero, so an array
   never gains a key no event made).  flags: FT_EV_RETURN of its events. */
static void apply(ft_vm *vm, int p, ft_i64 n, int flags)
{
    if (n <= 0)
        return;
    ft_ctx c;
    memset(&c, 0, sizeof c);
    c.raw = (const char *)&n;
    c.raw_len = sizeof n;
    c.probe = p;
    c.cpu = -1;
    c.flags = FT_CTX_EVENT | ((flags & FT_EV_RETURN) ? FT_CTX_RETURN : 0);   /* is_return() */
    ft_vm_run_probe(vm, p, &c);
    vm->hits[p] += n - 1;         /* -t counts the events, as for samples */
}

void ft_counters_apply(ft_vm *vm, ft_session *R)
{
    uint32_t np = vm->prog->nprobes;
    unsigned char *seen = calloc(np ? np : 1, 1);
    if (!seen)
        return;
    for (int i = 0; i < R->nev && !vm->error_state; i++) {
        int p = R->ev[i].probe;
        if (p < 0 || !(R->ev[i].flags & FT_EV_COUNT) || seen[p])
            continue;
        seen[p] = 1;
        apply(vm, p, ft_counter_total(vm, p), R->ev[i].flags);
    }
    for (uint32_t p = 0; R->tally && p < np && !vm->error_state; p++)
        if (R->tally[p].on && !seen[p])
            apply(vm, (int)p, R->tally[p].n, R->tally[p].flags);
    free(seen);
}
