/* Live kernel events: perf_event_open and the per-CPU ring buffers.
 *
 * Shape (DESIGN.md, "The runtime model"):
 *   - one ring per CPU (or per task when events are opened per task), owned
 *     by a "tracking" event (PERF_COUNT_SW_DUMMY with comm/task records on)
 *     that does the mmap; every real event on that CPU redirects its output
 *     there with PERF_EVENT_IOC_SET_OUTPUT, so one poll and one read pointer
 *     serve all probes of a CPU, and COMM records arrive in order with the
 *     samples they precede;
 *   - records carry PERF_SAMPLE_IDENTIFIER first, so a sample is mapped to
 *     its probe by one hash lookup before the rest is parsed;
 *   - the rings wake the loop by watermark (a quarter of the ring), never
 *     by busy polling (measured: polling loses half the events), and a
 *     100 ms timer drains what a quiet ring holds below the watermark;
 *   - the reader owns data_tail: data_head is read with acquire ordering
 *     (records before it are complete), data_tail is written with release
 *     ordering after the records are consumed (the kernel may then reuse
 *     the space) -- the pairing perf_event_open(2) and the kernel's
 *     ring_buffer.h describe;
 *   - a record that wraps the ring's end is copied into a scratch buffer
 *     of the ring (64 KiB: a record's size is a u16), so handlers always
 *     see contiguous bytes;
 *   - PERF_RECORD_LOST counts records a full ring dropped; the kernel
 *     attributes them to whichever event writes the next record into that
 *     ring, so with several probes on one CPU the per-probe split is
 *     approximate (the total is exact); losses that surface on a tracking
 *     event are reported without a probe name;
 *   - nothing on the per-record path allocates.
 */
#define _GNU_SOURCE 1
#include "ftstap.h"
#include "vm.h"
#include "session.h"
#include "procfs.h"
#include "backtrace.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>

static int seterr(char *err, int errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#include <stdarg.h>
static int seterr(char *err, int errlen, int rc, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, (size_t)errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static int perf_open(struct perf_event_attr *a, int pid, int cpu)
{
    return (int)syscall(SYS_perf_event_open, a, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

ft_session *ft_session_of(ft_vm *vm)
{
    if (vm->session)
        return vm->session;
    ft_session *R = calloc(1, sizeof *R);
    if (!R)
        return NULL;
    R->lost = calloc(vm->prog->nprobes ? vm->prog->nprobes : 1, sizeof *R->lost);
    R->threads = ft_threads_new();
    R->ep = R->tfd = -1;
    R->child_fd = R->child_status = -1;
    if (!R->lost || !R->threads) {
        free(R->lost);
        ft_threads_free(R->threads);
        free(R);
        return NULL;
    }
    vm->session = R;
    vm->end_session = ft_session_free;
    return R;
}

int ft_grow(void **p, int *cap, int n, size_t each)
{
    if (n < *cap)
        return 0;
    int nc = *cap ? *cap * 2 : 16;
    void *q = realloc(*p, (size_t)nc * each);
    if (!q)
        return -1;
    *p = q;
    *cap = nc;
    return 0;
}

static uint64_t ring_pages(ft_i64 bytes)
{
    long page = sysconf(_SC_PAGESIZE);
    if (bytes <= 0)
        bytes = FT_RING_DEFAULT;
    uint64_t pages = 1;
    while (pages * (uint64_t)page < (uint64_t)bytes && pages < (1u << 20))
        pages <<= 1;
    return pages;
}

static void base_attr(struct perf_event_attr *a, uint64_t data_bytes)
{
    memset(a, 0, sizeof *a);
    a->size = sizeof *a;
    a->disabled = 1;
    a->sample_id_all = 1;            /* LOST/COMM records carry the identifier too */
    a->use_clockid = 1;              /* sample times on the clock ft_ctx.time_ns uses */
    a->clockid = CLOCK_MONOTONIC;
    a->watermark = 1;
    a->wakeup_watermark = (uint32_t)(data_bytes / 4);
}

/* The ring of (cpu, pid), made with its tracking event on first use. */
static int ring_for(ft_session *R, int cpu, int pid, ft_i64 ring_bytes, int inherit, char *err, int errlen)
{
    for (int i = 0; i < R->nring; i++)
        if (R->rings[i].cpu == cpu && (cpu >= 0 || R->rings[i].pid == pid))
            return i;
    if (ft_grow((void **)&R->rings, &R->ringcap, R->nring, sizeof(ft_ring)) ||
        ft_grow((void **)&R->ev, &R->evcap, R->nev, sizeof(ft_event)))
        return seterr(err, errlen, -ENOMEM, "out of memory");
    uint64_t pages = ring_pages(ring_bytes);
    long page = sysconf(_SC_PAGESIZE);
    struct perf_event_attr a;
    base_attr(&a, pages * (uint64_t)page);
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_DUMMY;
    a.sample_period = 1;
    a.sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU;
    a.comm = 1;                      /* the thread map (threads.c): renames and execs, */
    a.comm_exec = 1;
    a.task = 1;                      /* task starts (FORK) and ends (EXIT) */
    a.mmap = a.mmap2 = R->track_maps;   /* MMAP2: executable mappings, for user backtraces */
    a.inherit = inherit ? 1 : 0;
    int fd = perf_open(&a, pid, cpu);
    if (fd < 0)
        return seterr(err, errlen, -errno, "perf_event_open (tracking event, cpu %d, pid %d): %s", cpu,
                      pid, strerror(errno));
    size_t len = (size_t)(pages + 1) * (size_t)page;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        int e = errno;
        close(fd);
        return seterr(err, errlen, -e, "mmap of a %llu KiB perf ring (cpu %d): %s",
                      (unsigned long long)(len / 1024), cpu, strerror(e));
    }
    char *scratch = malloc(FT_RING_SCRATCH);
    if (!scratch) {
        munmap(m, len);
        close(fd);
        return seterr(err, errlen, -ENOMEM, "out of memory");
    }
    ft_ring *r = &R->rings[R->nring];
    r->fd = fd;
    r->cpu = cpu;
    r->pid = pid;
    r->meta = m;
    r->map_len = len;
    r->data = (const char *)m + page;
    r->size = pages * (uint64_t)page;
    r->mask = r->size - 1;
    r->scratch = scratch;
    ft_event *e = &R->ev[R->nev++];
    *e = (ft_event){fd, -1, 0, R->nring, 0, a.sample_type, NULL, 0};
    ioctl(fd, PERF_EVENT_IOC_ID, &e->id);
    return R->nring++;
}

int ft_event_open(ft_vm *vm, int probe, int type, ft_i64 config, ft_i64 period_or_freq, int flags,
                  int pid, int cpu, ft_i64 ring_bytes, char *err, int errlen)
{
    if (probe < 0 || (uint32_t)probe >= vm->prog->nprobes)
        return seterr(err, errlen, -EINVAL, "no probe %d", probe);
    ft_session *R = ft_session_of(vm);
    if (!R)
        return seterr(err, errlen, -ENOMEM, "out of memory");
    if (R->enabled)
        return seterr(err, errlen, -EBUSY, "events are already enabled");
    if (flags & FT_EV_COUNT)         /* counting mode: no ring (counters.c) */
        return ft_counter_open(vm, R, probe, type, config, flags, pid, cpu, err, errlen);
    R->track_maps = vm->bt && vm->bt->track_maps;
    int ri = ring_for(R, cpu, pid, ring_bytes, flags & FT_EV_INHERIT, err, errlen);
    if (ri < 0)
        return ri;
    if (ft_grow((void **)&R->ev, &R->evcap, R->nev, sizeof(ft_event)))
        return seterr(err, errlen, -ENOMEM, "out of memory");
    struct perf_event_attr a;
    base_attr(&a, R->rings[ri].size);
    a.type = (uint32_t)type;
    a.config = (uint64_t)config;
    if (flags & FT_EV_FREQ) {
        a.freq = 1;
        a.sample_freq = (uint64_t)(period_or_freq > 0 ? period_or_freq : 100);
    } else {
        a.sample_period = (uint64_t)(period_or_freq > 0 ? period_or_freq : 1);
    }
    /* the smallest sample that serves the handlers: TID (pid(), tid(),
       execname()); TIME (the records are handled in time order, and the
       time functions answer for the moment of the event: order.c); CPU only
       on per-task rings (a CPU's ring knows its CPU).  IDENTIFIER, TID and
       TIME come first in every sample (records.c relies on it). */
    a.sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
                    (cpu < 0 ? PERF_SAMPLE_CPU : 0);
    if (!(flags & FT_EV_NORAW))
        a.sample_type |= PERF_SAMPLE_RAW;
    /* A tracepoint that counts a value of the event (sched_stat_runtime adds
       nanoseconds) writes that many samples unless each sample carries its
       period: then it is one sample per event, as a probe hit should be. */
    if (flags & FT_EV_PERIOD)
        a.sample_type |= PERF_SAMPLE_PERIOD;
    if (flags & FT_EV_CALLCHAIN) {
        a.sample_type |= PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_STACK_USER;
        a.sample_max_stack = 127;
        a.sample_stack_user = 16;    /* the caller of a function stopped at its entry (backtrace.c) */
    }
    a.inherit = (flags & FT_EV_INHERIT) ? 1 : 0;
    int fd = perf_open(&a, pid, cpu);
    if (fd < 0) {
        int e = errno;
        return seterr(err, errlen, -e, "perf_event_open(type %d, config %lld, pid %d, cpu %d): %s%s", type,
                      (long long)config, pid, cpu, strerror(e),
                      e == EACCES || e == EPERM ? " (needs root or perf_event_paranoid <= -1)"
                      : e == ENOENT || e == ENODEV ? " (this kernel has no such event)" : "");
    }
    if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, R->rings[ri].fd) != 0) {
        int e = errno;
        close(fd);
        return seterr(err, errlen, -e, "PERF_EVENT_IOC_SET_OUTPUT (cpu %d): %s", cpu, strerror(e));
    }
    ft_event *ev = &R->ev[R->nev];
    *ev = (ft_event){fd, probe, flags, ri, 0, a.sample_type, NULL, 0};
    if (ioctl(fd, PERF_EVENT_IOC_ID, &ev->id) != 0) {
        int e = errno;
        close(fd);
        return seterr(err, errlen, -e, "PERF_EVENT_IOC_ID: %s", strerror(e));
    }
    return R->nev++;
}

int ft_event_set_filter(ft_vm *vm, int ev, const char *filter, char *err, int errlen)
{
    ft_session *R = vm->session;
    if (!R || ev < 0 || ev >= R->nev || R->ev[ev].probe < 0)
        return seterr(err, errlen, -EINVAL, "no event %d", ev);
    if (ioctl(R->ev[ev].fd, PERF_EVENT_IOC_SET_FILTER, filter) != 0)
        return seterr(err, errlen, -errno, "filter '%s' rejected: %s", filter, strerror(errno));
    return 0;
}

int ft_event_dispatch(ft_vm *vm, int ev, ft_i64 nr, int probe, int count, char *err, int errlen)
{
    ft_session *R = vm->session;
    if (!R || ev < 0 || ev >= R->nev || R->ev[ev].probe < 0 || R->enabled)
        return seterr(err, errlen, -EINVAL, "no event %d to dispatch", ev);
    if (nr < 0 || nr >= 4096 || probe < 0 || (uint32_t)probe >= vm->prog->nprobes)
        return seterr(err, errlen, -EINVAL, "bad syscall number %lld or probe %d", (long long)nr, probe);
    ft_event *e = &R->ev[ev];
    if (nr >= e->ndispatch) {
        int32_t n = (int32_t)(nr + 1 > 512 ? nr + 1 : 512);
        int32_t *d = realloc(e->dispatch, (size_t)n * sizeof *d);
        if (!d)
            return seterr(err, errlen, -ENOMEM, "out of memory");
        for (int32_t i = e->ndispatch; i < n; i++)
            d[i] = -1;
        e->dispatch = d;
        e->ndispatch = n;
    }
    if (count) {
        if (!R->tally && !(R->tally = calloc(vm->prog->nprobes, sizeof *R->tally)))
            return seterr(err, errlen, -ENOMEM, "out of memory");
        R->tally[probe].on = 1;
        R->tally[probe].flags = e->flags & FT_EV_RETURN;
    }
    e->dispatch[nr] = probe;
    return 0;
}

/* A session whose records all come from the ftrace buffer (eprobes) still
   needs the side-band: an ftrace record names only its thread, and a task
   that exited (or exec'd) before its records are read is known only from
   the COMM/FORK/EXIT records, merged in time order with the ftrace CPUs
   (order.c).  So each of their CPUs gets a tracking ring of its own, of
   FT_TRACK_RING bytes (records of task starts, renames and ends only).  A
   CPU the kernel does not have (the unit tests' pipes feign CPUs) has no
   tasks to track. */
#define FT_TRACK_RING (1 << 20)

static int track_ftrace_cpus(ft_vm *vm, ft_session *R, char *err, int errlen)
{
    if (R->nring)
        return 0;                    /* the perf rings' tracking events serve */
    R->track_maps = vm->bt && vm->bt->track_maps;
    long ncpus = sysconf(_SC_NPROCESSORS_CONF);
    for (int i = 0; i < ft_ftrace_fd_count(R); i++) {
        int cpu = ft_ftrace_cpu(R, i), rc = ring_for(R, cpu, -1, FT_TRACK_RING, 0, err, errlen);
        if (rc == -ENODEV || (rc == -EINVAL && cpu >= ncpus))
            continue;                /* offline, or no such CPU */
        if (rc < 0)
            return rc;
    }
    return 0;
}

int ft_events_enable(ft_vm *vm, char *err, int errlen)
{
    ft_session *R = vm->session;
    if (!R || (R->nev == 0 && ft_ftrace_fd_count(R) == 0))
        return 0;
    if (R->enabled)
        return seterr(err, errlen, -EBUSY, "events are already enabled");
    int rc = track_ftrace_cpus(vm, R, err, errlen);
    if (rc < 0)
        return rc;
    if (ft_session_build_ids(R))
        return seterr(err, errlen, -ENOMEM, "out of memory");
    R->ep = epoll_create1(EPOLL_CLOEXEC);
    R->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (R->ep < 0 || R->tfd < 0)
        return seterr(err, errlen, -errno, "epoll/timerfd: %s", strerror(errno));
    struct itimerspec its = {{0, FT_DRAIN_NS}, {0, FT_DRAIN_NS}};
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
    if (timerfd_settime(R->tfd, 0, &its, NULL) || epoll_ctl(R->ep, EPOLL_CTL_ADD, R->tfd, &ev))
        return seterr(err, errlen, -errno, "drain timer: %s", strerror(errno));
    for (int i = 0; i < R->nring; i++) {
        ev.data.u32 = (uint32_t)i;
        if (epoll_ctl(R->ep, EPOLL_CTL_ADD, R->rings[i].fd, &ev))
            return seterr(err, errlen, -errno, "epoll_ctl: %s", strerror(errno));
    }
    if (ft_loop_watch_fd(vm, R->ep, ft_session_on_ready, NULL) != FT_OK)
        return seterr(err, errlen, -EINVAL, "too many fds for the event loop");
    /* tracking events first, then the snapshot of every task, then the
       probes: a task started after the snapshot shows up in a FORK record,
       and every sample comes after both (threads.c) */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            ft_threads_snapshot(R->threads);
        for (int i = 0; i < R->nev; i++)
            if ((R->ev[i].probe < 0) == (pass == 0) && ioctl(R->ev[i].fd, PERF_EVENT_IOC_ENABLE, 0) != 0)
                return seterr(err, errlen, -errno, "PERF_EVENT_IOC_ENABLE: %s", strerror(errno));
    }
    R->enabled = 1;
    return 0;
}

static void report_lost(ft_vm *vm, ft_session *R)
{
    const ft_prog *p = vm->prog;
    char msg[FT_ERRMSG_MAX];
    for (uint32_t i = 0; i < p->nprobes; i++) {
        if (!R->lost[i])
            continue;
        snprintf(msg, sizeof msg,
                 "%lld events lost (perf ring full) for probe %s: enlarge the rings with -s MB",
                 (long long)R->lost[i], p->strs[p->probes[i].name].s);
        ft_vm_diag(vm, "WARNING", msg);
        vm->nskipped += R->lost[i];
    }
    if (R->lost_unknown) {
        snprintf(msg, sizeof msg, "%lld events lost (perf ring full): enlarge the rings with -s MB",
                 (long long)R->lost_unknown);
        ft_vm_diag(vm, "WARNING", msg);
        vm->nskipped += R->lost_unknown;
    }
    int uncounted;
    ft_i64 n = ft_ftrace_lost(R, &uncounted);
    if (n || uncounted) {            /* ftrace.c: the kernel does not always say how many */
        if (uncounted && n)
            snprintf(msg, sizeof msg, "more than %lld events lost (ftrace buffer full; the kernel did not say "
                     "how many): enlarge the buffers with -s MB", (long long)n);
        else if (uncounted)
            snprintf(msg, sizeof msg, "events lost (ftrace buffer full; the kernel did not say how many): "
                     "enlarge the buffers with -s MB");
        else
            snprintf(msg, sizeof msg, "%lld events lost (ftrace buffer full): enlarge the buffers with -s MB",
                     (long long)n);
        ft_vm_diag(vm, "WARNING", msg);
        vm->nskipped += n;
    }
}

/* The kernel writes a ring's LOST record only when it next has room for a
   record, so losses just before the end would never be reported.  Make
   every CPU ring write one more record -- a COMM record of this thread,
   renamed to its own name while running on that CPU -- so the pending
   LOST record comes out first (carrying the tracking event's id). */
static void flush_lost(ft_session *R)
{
    cpu_set_t old, one;
    char name[17] = {0};
    if (sched_getaffinity(0, sizeof old, &old) != 0 || prctl(PR_GET_NAME, name, 0, 0, 0) != 0)
        return;
    for (int i = 0; i < R->nring; i++) {
        if (R->rings[i].cpu < 0)
            continue;
        CPU_ZERO(&one);
        CPU_SET(R->rings[i].cpu, &one);
        if (sched_setaffinity(0, sizeof one, &one) == 0)
            prctl(PR_SET_NAME, name, 0, 0, 0);
    }
    sched_setaffinity(0, sizeof old, &old);
}

void ft_session_stop(ft_vm *vm)
{
    ft_session *R = vm->session;
    if (!R || !R->enabled || R->stopped)
        return;
    R->stopped = 1;
    for (int i = 0; i < R->nev; i++)
        if (R->ev[i].probe >= 0)
            ioctl(R->ev[i].fd, PERF_EVENT_IOC_DISABLE, 0);
    /* what happened before the stop still runs (a -c command's last
       events, the records behind a Ctrl-C); after exit() it does not
       (order.c) */
    ft_session_drain_until(vm, UINT64_MAX);
    flush_lost(R);
    ft_session_drain_until(vm, UINT64_MAX);
    for (int i = 0; i < R->nev; i++)
        if (R->ev[i].probe < 0)
            ioctl(R->ev[i].fd, PERF_EVENT_IOC_DISABLE, 0);
    ft_counters_apply(vm, R);        /* counting-mode probes, before timers/end see the globals */
    report_lost(vm, R);
    if (R->late) {
        char msg[160];
        snprintf(msg, sizeof msg, "%lld events reached ftstap after newer ones had been handled: "
                 "they were handled out of time order", (long long)R->late);
        ft_vm_diag(vm, "WARNING", msg);
    }
}

/* Closing the last perf event of a tracepoint unregisters the kernel's
   probe and waits for RCU grace periods under a kernel mutex (~20 ms per
   tracepoint here, serialized: closing syscall.*'s 1400 events took 16 s,
   and closing from parallel threads did not help).  Events opened with
   FT_EV_DEFER_CLOSE (static tracepoints: nothing to remove after them) are
   disabled here, then handed to a detached grandchild that holds nothing
   else and closes them in the background; this process's copies close at
   once.  uprobe/kprobe events close here: their group is removed next. */
static void close_deferred(ft_session *R)
{
    int n = 0, maxfd = 0;
    for (int i = 0; i < R->nev; i++)
        if (R->ev[i].probe >= 0 && R->ev[i].fd >= 0 && (R->ev[i].flags & FT_EV_DEFER_CLOSE)) {
            n++;
            maxfd = R->ev[i].fd > maxfd ? R->ev[i].fd : maxfd;
        }
    if (n < 32)
        return;                          /* a few: close them synchronously */
    struct rlimit rl;
    long lim = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (1u << 20) ? (long)rl.rlim_cur : 1 << 20;
    unsigned char *keep = calloc((size_t)lim / 8 + 1, 1);
    if (!keep || maxfd >= lim) {
        free(keep);
        return;
    }
    for (int i = 0; i < R->nev; i++)
        if (R->ev[i].probe >= 0 && R->ev[i].fd >= 0 && (R->ev[i].flags & FT_EV_DEFER_CLOSE))
            keep[R->ev[i].fd / 8] |= (unsigned char)(1u << (R->ev[i].fd % 8));
    pid_t pid = fork();
    if (pid == 0) {
        if (fork() != 0)
            _exit(0);                    /* the grandchild is adopted by init: no zombie */
        signal(SIGINT, SIG_IGN);
        prctl(PR_SET_NAME, "ftstap-close", 0, 0, 0);
        for (long fd = 0; fd < lim; fd++)   /* drop pipes, files, rings: hold only the events */
            if (!(keep[fd / 8] & (1u << (fd % 8))))
                close((int)fd);
        for (long fd = 0; fd <= maxfd; fd++)
            if (keep[fd / 8] & (1u << (fd % 8)))
                close((int)fd);
        _exit(0);
    }
    free(keep);
    if (pid > 0) {
        waitpid(pid, NULL, 0);
        for (int i = 0; i < R->nev; i++)   /* the grandchild holds them now: cheap here */
            if (R->ev[i].probe >= 0 && R->ev[i].fd >= 0 && (R->ev[i].flags & FT_EV_DEFER_CLOSE)) {
                close(R->ev[i].fd);
                R->ev[i].fd = -1;
            }
    }
}

void ft_events_close(ft_vm *vm)
{
    ft_session *R = vm->session;
    if (!R)
        return;
    for (int i = 0; i < R->nev; i++)
        if (R->ev[i].probe >= 0 && R->ev[i].fd >= 0)
            ioctl(R->ev[i].fd, PERF_EVENT_IOC_DISABLE, 0);
    close_deferred(R);
    ft_ftrace_close(R);
    for (int i = 0; i < R->nev; i++)
        if (R->ev[i].probe >= 0 && R->ev[i].fd >= 0) {
            close(R->ev[i].fd);
            R->ev[i].fd = -1;
        }
    for (int i = 0; i < R->nring; i++) {
        ft_ring *r = &R->rings[i];
        if (r->meta) {
            munmap(r->meta, r->map_len);
            r->meta = NULL;
        }
        free(r->scratch);
        r->scratch = NULL;
        if (r->fd >= 0)
            close(r->fd);
        r->fd = -1;
    }
    for (int i = 0; i < R->nev; i++) {
        R->ev[i].fd = -1;
        free(R->ev[i].dispatch);
        R->ev[i].dispatch = NULL;
    }
    /* the loop may still list R->ep: it is only read while the loop runs */
    if (R->ep >= 0)
        close(R->ep);
    if (R->tfd >= 0)
        close(R->tfd);
    R->ep = R->tfd = -1;
    R->nring = 0;
    R->nev = 0;
    R->enabled = 0;
}

void ft_session_free(ft_vm *vm)
{
    ft_stdin_restore();              /* a terminal input.char put in non-canonical mode */
    ft_session *R = vm->session;
    if (!R)
        return;
    ft_events_close(vm);
    ft_http_free(R->http);
    ft_ftrace_free(R);
    free(R->ev);
    free(R->rings);
    free(R->hkey);
    free(R->hval);
    free(R->lost);
    free(R->tally);
    ft_threads_free(R->threads);
    if (R->child_fd >= 0)
        close(R->child_fd);
    free(R);
    vm->session = NULL;
}

int ft_events_count(const ft_vm *vm)
{
    const ft_session *R = vm->session;
    int n = 0;
    for (int i = 0; R && i < R->nev; i++)
        n += R->ev[i].probe >= 0;
    return n;
}

ft_i64 ft_event_lost(const ft_vm *vm, int probe)
{
    ft_session *R = vm->session;
    if (!R)
        return 0;
    if (probe >= 0)
        return (uint32_t)probe < vm->prog->nprobes ? R->lost[probe] : 0;
    int uncounted;
    ft_i64 n = R->lost_unknown + ft_ftrace_lost(R, &uncounted);
    for (uint32_t i = 0; i < vm->prog->nprobes; i++)
        n += R->lost[i];
    return n ? n : uncounted;        /* a loss without a count is still one (-W) */
}

ft_i64 ft_events_samples(const ft_vm *vm) { return vm->session ? vm->session->samples : 0; }
