/* The event session: everything between the kernel and the VM during a
 * run -- perf events and their rings (ring.c), record decoding
 * (records.c), the time-ordered merge (order.c), the ftrace ring of
 * eprobes (ftrace.c), counting-mode events (counters.c), the thread map
 * (threads.h, a leaf), the fds the loop watches and the -c command
 * (loop.c).  It calls down into the VM (ft_vm_run_probe, ft_vm_diag); the
 * VM never calls it -- event builtins read the event through ft_ctx and
 * the thread map (evfuncs.h) -- except to drop it when it is freed.
 * The public API is the "live events" section of ftstap.h. */
#ifndef FT_SESSION_H
#define FT_SESSION_H
#ifndef FTSTAP_H_INCLUDED
#include "ftstap.h"
#endif
#include <stdint.h>

typedef struct ft_session ft_session;

#include "threads.h"

/* -- ring.c / records.c: the session's events and rings (internal) -- */
#define FT_RING_SCRATCH 65536
#define FT_DRAIN_NS 100000000ll        /* quiet rings are drained every 100 ms */
#define FT_TAIL_BATCH (256 * 1024)      /* hand space back to the kernel this often */

typedef struct ft_ring {
    int fd;                          /* the tracking event that owns the mmap */
    int cpu, pid;
    struct perf_event_mmap_page *meta;
    size_t map_len;
    const char *data;
    uint64_t size, mask;
    char *scratch;
    /* order.c's cursor during a pass: records [pos, head) are readable */
    uint64_t pos, head, since;
    const char *next;                /* the record at pos, when ready */
    uint32_t next_size;
    int ready;
    uint64_t next_time;
} ft_ring;

typedef struct ft_event {
    int fd;
    int probe;                       /* -1: a tracking event */
    int flags;                       /* FT_EV_* */
    int ring;
    uint64_t id;
    uint64_t sample_type;
    int32_t *dispatch;               /* raw_syscalls: syscall number -> probe (-1 none); NULL: probe */
    int32_t ndispatch;
} ft_event;

/* A counting-mode probe served by a dispatched raw_syscalls event: its
   records are counted here instead of run (records.c, counters.c). */
typedef struct ft_tally {
    ft_i64 n;
    int on, flags;                   /* flags: FT_EV_RETURN of its event */
} ft_tally;

struct ft_session {
    ft_event *ev;
    int nev, evcap;
    ft_ring *rings;
    int nring, ringcap;
    uint64_t *hkey;                  /* id -> event index, open addressing */
    int32_t *hval;
    uint64_t hmask;
    ft_i64 *lost;                    /* per probe */
    ft_tally *tally;                 /* per probe: dispatched counting probes (counters.c), or NULL */
    ft_i64 lost_unknown, samples;
    uint64_t last_time;              /* of the newest record handled (order.c) */
    ft_i64 late;                     /* records handled after a newer one */
    ft_threads *threads;
    int ep, tfd;                     /* epoll over the rings, the drain timer */
    int enabled, stopped;
    int track_maps;                  /* tracking events report MMAP2 (backtrace.c) */
    struct ft_ftrace *ftrace;        /* ftrace-only events (ftrace.c), NULL if none */
    /* fds the event loop watches besides timers and signals (loop.c) */
    struct { int fd; ft_fd_handler fn; void *arg; } watch[64];
    int nwatch;
    /* -c CMD (loop.c): the command, its start pipe, its wait status */
    int child_pid, child_fd, child_status;
    struct ft_http *http;            /* procfs probes' HTTP server (http.c), NULL if none */
};

/* ring.c: the session, created on first use (NULL: no memory) */
ft_session *ft_session_of(ft_vm *vm);
/* ring.c: make room for element n of a growable array (*p, *cap): 0, or -1 */
int ft_grow(void **p, int *cap, int n, size_t each);

/* ftrace.c: events read from the ftrace ring buffer (eprobes) */
/* stream i (a CPU) of the ftrace ring, for order.c's merge: is an event
   ready (reading a page if needed), and its time; then handle it */
int ft_ftrace_peek(ft_session *R, int i, uint64_t *time);
void ft_ftrace_handle(ft_vm *vm, ft_session *R, int i, int run);
void ft_ftrace_close(ft_session *R);
/* The events the ftrace buffer lost (its stats, else the counts its pages
   stored); *uncounted: some were lost without a count.  Counted until the
   session stops; that answer is kept (for after ft_ftrace_close too). */
ft_i64 ft_ftrace_lost(ft_session *R, int *uncounted);
void ft_ftrace_free(ft_session *R);
int ft_ftrace_fd_count(const ft_session *R);
int ft_ftrace_cpu(const ft_session *R, int i);      /* the CPU of stream i */

/* counters.c: counting-mode events (FT_EV_COUNT) */
int ft_counter_open(ft_vm *vm, ft_session *R, int probe, int type, ft_i64 config, int flags, int pid, int cpu,
                    char *err, int errlen);
void ft_counters_apply(ft_vm *vm, ft_session *R);

/* records.c */
int ft_session_build_ids(ft_session *R);                 /* id -> event table, once all are open */
/* A record's time stamp (CLOCK_MONOTONIC ns); 0 when it has none. */
uint64_t ft_record_time(const ft_session *R, const char *rec, uint32_t size);
/* Handle one record: run a sample's probe, or update the thread map / losses. */
void ft_record_handle(ft_vm *vm, ft_session *R, const char *rec, uint32_t size);

/* order.c: the rings merged in time order */
#define FT_ORDER_SLACK_NS 2000000ll   /* a record is in its ring this long after its time stamp */
ft_i64 ft_mono_now(void);
/* loop.c: the context of a probe ftstap fires itself (begin, end, timer,
   procfs): its own process, now, on this CPU. */
ft_ctx ft_loop_here(const ft_vm *vm);
/* Handle, oldest first, every record of every ring stamped at or before limit. */
void ft_session_drain_until(ft_vm *vm, uint64_t limit);
/* The loop's handler for the rings' epoll fd: everything older than the slack. */
int ft_session_on_ready(ft_vm *vm, int fd, void *arg);

/* order.c: everything that happened up to now (CLOCK_MONOTONIC ns), in
   every ring and the ftrace ring, before a timer probe that fires now. */
void ft_session_drain(ft_vm *vm, ft_i64 now);

/* -- ring.c -- */
/* After the event wait ends: disable every event, then (unless exit() or
   an error stopped the session) run the handlers of what is still in the
   rings; report lost records. */
void ft_session_stop(ft_vm *vm);
/* Free everything (ft_vm_free). */
void ft_session_free(ft_vm *vm);

#endif
