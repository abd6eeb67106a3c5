/* Live kernel events: what ring.c (perf events and their rings), threads.c
 * (the thread map), order.c (records in time order) and evfuncs.c (event builtins) share.
 * The public API is the "live events" section of ftstap.h. */
#ifndef FT_RING_H
#define FT_RING_H
#ifndef FTSTAP_H_INCLUDED
#include "ftstap.h"
#endif
#include <stdint.h>

typedef struct ft_rings ft_rings;

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
} ft_event;

struct ft_rings {
    ft_event *ev;
    int nev, evcap;
    ft_ring *rings;
    int nring, ringcap;
    uint64_t *hkey;                  /* id -> event index, open addressing */
    int32_t *hval;
    uint64_t hmask;
    ft_i64 *lost;                    /* per probe */
    ft_i64 lost_unknown, samples;
    uint64_t last_time;              /* of the newest record handled (order.c) */
    ft_i64 late;                     /* records handled after a newer one */
    ft_threads *threads;
    int ep, tfd;                     /* epoll over the rings, the drain timer */
    int enabled, stopped;
    int track_maps;                  /* tracking events report MMAP2 (backtrace.c) */
    struct ft_ftrace *ftrace;        /* ftrace-only events (ftrace.c), NULL if none */
};

/* ring.c: the session's event state, created on first use (NULL: no memory) */
ft_rings *ft_rings_of(ft_vm *vm);
/* ring.c: make room for element n of a growable array (*p, *cap): 0, or -1 */
int ft_grow(void **p, int *cap, int n, size_t each);

/* ftrace.c: events read from the ftrace ring buffer (eprobes) */
/* stream i (a CPU) of the ftrace ring, for order.c's merge: is an event
   ready (reading a page if needed), and its time; then handle it */
int ft_ftrace_peek(ft_rings *R, int i, uint64_t *time);
void ft_ftrace_handle(ft_vm *vm, ft_rings *R, int i, int run);
void ft_ftrace_close(ft_rings *R);
void ft_ftrace_free(ft_rings *R);
int ft_ftrace_fd_count(const ft_rings *R);

/* counters.c: counting-mode events (FT_EV_COUNT) */
int ft_counter_open(ft_vm *vm, ft_rings *R, int probe, int type, ft_i64 config, int flags, int pid, int cpu,
                    char *err, int errlen);
void ft_counters_apply(ft_vm *vm, ft_rings *R);

/* records.c */
int ft_rings_build_ids(ft_rings *R);                 /* id -> event table, once all are open */
/* A record's time stamp (CLOCK_MONOTONIC ns); 0 when it has none. */
uint64_t ft_record_time(const ft_rings *R, const char *rec, uint32_t size);
/* Handle one record: run a sample's probe, or update the thread map / losses. */
void ft_record_handle(ft_vm *vm, ft_rings *R, const char *rec, uint32_t size);

/* order.c: the rings merged in time order */
#define FT_ORDER_SLACK_NS 2000000ll   /* a record is in its ring this long after its time stamp */
ft_i64 ft_mono_now(void);
/* Handle, oldest first, every record of every ring stamped at or before limit. */
void ft_rings_drain_until(ft_vm *vm, uint64_t limit);
/* The loop's handler for the rings' epoll fd: everything older than the slack. */
int ft_rings_on_ready(ft_vm *vm, int fd, void *arg);

/* order.c: everything that happened up to now (CLOCK_MONOTONIC ns), in
   every ring and the ftrace ring, before a timer probe that fires now. */
void ft_rings_drain(ft_vm *vm, ft_i64 now);

/* -- ring.c -- */
/* After the event wait ends: disable every event, then (unless exit() or
   an error stopped the session) run the handlers of what is still in the
   rings; report lost records. */
void ft_rings_stop(ft_vm *vm);
/* Free everything (ft_vm_free). */
void ft_rings_free(ft_vm *vm);
/* evfuncs.c: the command name of process pid into *sret ("" when gone). */
void ft_proc_comm(ft_vm *vm, ft_i64 pid, struct ft_str *sret);
/* evfuncs.c: fill vm->ctx.comm / uid on demand (execname(), uid() of an event). */
void ft_ctx_need_comm(ft_vm *vm);
void ft_ctx_need_uid(ft_vm *vm);

/* -- evfuncs.c: builtins of event probes (entries in builtins.c's table) -- */
typedef struct ft_str ft_str;
#define FT_EVB(name) int ft_b_##name(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
FT_EVB(ppfunc);
FT_EVB(probefunc);
FT_EVB(probemod);
FT_EVB(pn);
FT_EVB(is_return);
FT_EVB(ppid);
FT_EVB(gid);
FT_EVB(egid);
FT_EVB(euid);
FT_EVB(pexecname);
FT_EVB(pid2execname);
FT_EVB(num_online_cpus);
FT_EVB(user_string);
FT_EVB(user_string_n);
FT_EVB(user_char_error);
FT_EVB(user_short_error);
FT_EVB(user_int_error);
FT_EVB(user_uint_error);
FT_EVB(user_long_error);
FT_EVB(user_ulong_error);
FT_EVB(kernel_string);
FT_EVB(kernel_string_n);
FT_EVB(kernel_string_quoted);
FT_EVB(kernel_int);
FT_EVB(kernel_long);
FT_EVB(kernel_short);
FT_EVB(kernel_char);
FT_EVB(kernel_pointer);
#define FT_EV_BUILTINS \
    {"ppfunc", "", 's', ft_b_ppfunc}, \
    {"probefunc", "", 's', ft_b_probefunc}, \
    {"probemod", "", 's', ft_b_probemod}, \
    {"pn", "", 's', ft_b_pn}, \
    {"is_return", "", 'i', ft_b_is_return}, \
    {"ppid", "", 'i', ft_b_ppid}, \
    {"gid", "", 'i', ft_b_gid}, \
    {"egid", "", 'i', ft_b_egid}, \
    {"euid", "", 'i', ft_b_euid}, \
    {"pexecname", "", 's', ft_b_pexecname}, \
    {"pid2execname", "i", 's', ft_b_pid2execname}, \
    {"num_online_cpus", "", 'i', ft_b_num_online_cpus}, \
    {"user_string", "i", 's', ft_b_user_string}, \
    {"user_string_n", "ii", 's', ft_b_user_string_n}, \
    {"user_char_error", "i", 'i', ft_b_user_char_error}, \
    {"user_short_error", "i", 'i', ft_b_user_short_error}, \
    {"user_int_error", "i", 'i', ft_b_user_int_error}, \
    {"user_uint_error", "i", 'i', ft_b_user_uint_error}, \
    {"user_long_error", "i", 'i', ft_b_user_long_error}, \
    {"user_ulong_error", "i", 'i', ft_b_user_ulong_error}, \
    {"kernel_string", "i", 's', ft_b_kernel_string}, \
    {"kernel_string_n", "ii", 's', ft_b_kernel_string_n}, \
    {"kernel_string_quoted", "i", 's', ft_b_kernel_string_quoted}, \
    {"kernel_int", "i", 'i', ft_b_kernel_int}, \
    {"kernel_long", "i", 'i', ft_b_kernel_long}, \
    {"kernel_short", "i", 'i', ft_b_kernel_short}, \
    {"kernel_char", "i", 'i', ft_b_kernel_char}, \
    {"kernel_pointer", "i", 'i', ft_b_kernel_pointer},

#endif
