/* The one header cffi reads (see ftstap/_build.py): declarations only. */

const char *ft_version(void);

/* ==== runtime data: maps, statistics, printf, output sink ================
 * Owned by native/map.c, stat.c, fmt.c, out.c.  C files include this header
 * first; the internal headers (map.h, stat.h, fmt.h, out.h) test
 * FTSTAP_H_INCLUDED so they can be included in any order. */
#define FTSTAP_H_INCLUDED 1

/* Builtin types only: this header is read without <stdint.h> (cdef, and C
 * files that include it first).  long long is 64-bit on every Linux ABI. */
typedef long long ft_i64;

/* stap's default limits (each can be overridden with -D at run time) */
#define FT_MAXSTRINGLEN 512      /* bytes of a string buffer, NUL included */
#define FT_MAXMAPENTRIES 2048
#define FT_MAX_KEYS 9            /* key columns of an associative array */
#define FT_HIST_ELISION 2        /* zero buckets kept around non-zero ones */
#define FT_HIST_WIDTH 50         /* width of a histogram bar */
#define FT_HIST_LOG_BUCKETS 128  /* log2 buckets: -2^63 .. 2^62, 0 at 64 */
#define FT_HIST_LOG_BUCKET0 64
#define FT_MAX_BUCKETS 128       /* linear: (stop-start)/interval+3 <= this */

/* results: >= 0 success (or an entry id / a length), < 0 one of these */
#define FT_OK 0
#define FT_ENOENT -1           /* no such key / end of iteration */
#define FT_EOVERFLOW -2        /* array full: "Array overflow, check MAXMAPENTRIES" */
#define FT_EINVAL -3           /* bad argument (type signature, histogram bounds) */
#define FT_ENOMEM -4
#define FT_EEMPTY -5           /* "empty aggregate" */
#define FT_EZEROINT -6         /* histogram interval is zero */
#define FT_EBUCKETS -7         /* histogram bucket count out of range */
#define FT_EFMT -8             /* bad printf format */
#define FT_EIO -9              /* write to the output fd failed */

/* value types (also key column types) */
#define FT_T_INT 1
#define FT_T_STR 2
#define FT_T_STAT 3

/* histogram kinds of a statistic */
#define FT_HIST_NONE 0
#define FT_HIST_LOG 1
#define FT_HIST_LINEAR 2

/* aggregate extractors; also a sort criterion for stat-valued arrays */
#define FT_AGG_COUNT 1
#define FT_AGG_SUM 2
#define FT_AGG_MIN 3
#define FT_AGG_MAX 4
#define FT_AGG_AVG 5
#define FT_AGG_VARIANCE 6

/* One script value as passed between the VM and this layer: an integer, or
 * a string (s, n bytes; n < 0 means NUL-terminated).  Keys and printf
 * arguments are arrays of these; the consumer knows which member to read. */
typedef struct ft_val {
    ft_i64 i;
    const char *s;
    ft_i64 n;
} ft_val;

/* Histogram/variance configuration shared by every statistic of a global. */
typedef struct ft_stat_cfg {
    int hist_type;           /* FT_HIST_* */
    int nbuckets;            /* filled by ft_stat_cfg_init */
    ft_i64 start, stop, interval;  /* @hist_linear bounds */
    int shift;               /* @variance(x, shift): 0..62 */
} ft_stat_cfg;

typedef struct ft_stat ft_stat;  /* one statistics aggregate (stat.h) */
typedef struct ft_map ft_map;    /* one associative array (map.h) */
typedef struct ft_fmt ft_fmt;    /* a pre-parsed printf format (fmt.h) */
typedef struct ft_out ft_out;    /* a buffered output sink (out.h) */

/* -- statistics (stat.c) -- */
/* Validate and fill cfg; returns FT_OK, FT_EZEROINT, FT_EBUCKETS or FT_EINVAL. */
int ft_stat_cfg_init(ft_stat_cfg *cfg, int hist_type, ft_i64 start, ft_i64 stop, ft_i64 interval, int shift);
/* Allocate a standalone statistic (a scalar global); NULL if cfg is invalid. */
ft_stat *ft_stat_new(const ft_stat_cfg *cfg);
/* Free a statistic made by ft_stat_new. */
void ft_stat_free(ft_stat *st);
/* Forget every value (`delete x`). */
void ft_stat_clear(ft_stat *st);
/* x <<< v: allocation-free. */
void ft_stat_add(ft_stat *st, ft_i64 v);
/* n copies of v (n <= 0: none), as n calls of ft_stat_add give, in O(1) when v is all it holds. */
void ft_stat_add_n(ft_stat *st, ft_i64 v, ft_i64 n);
/* Number of values added (@count). */
ft_i64 ft_stat_count(const ft_stat *st);
/* @count/@sum/@min/@max/@avg/@variance into *out; FT_EEMPTY when count is 0 (except count, sum). */
int ft_stat_get(const ft_stat *st, int agg, ft_i64 *out);
/* Number of histogram buckets (0 when the statistic has no histogram). */
int ft_stat_hist_nbuckets(const ft_stat *st);
/* @hist_*(x)[i]: count of bucket i, 0 when out of range. */
ft_i64 ft_stat_hist_bucket(const ft_stat *st, ft_i64 i);
/* Print @hist_log/@hist_linear exactly like stap into buf (NUL-terminated, truncated to cap); returns the full length. */
ft_i64 ft_stat_hist_sprint(const ft_stat *st, int elision, char *buf, ft_i64 cap);

/* -- associative arrays (map.c) -- */
/* New array: key_types is 1..9 chars of 'i'/'s', value_type FT_T_*, cfg used for FT_T_STAT;
   wrap != 0 for `global a%`; maxstrlen is MAXSTRINGLEN.  NULL on bad arguments/no memory. */
ft_map *ft_map_new(const char *key_types, int value_type, ft_i64 max_entries, int wrap, ft_i64 maxstrlen, const ft_stat_cfg *cfg);
/* Free an array and everything in it. */
void ft_map_free(ft_map *m);
/* Number of entries. */
ft_i64 ft_map_size(const ft_map *m);
/* Maximum number of entries. */
ft_i64 ft_map_capacity(const ft_map *m);
/* delete a (whole array). */
void ft_map_clear(ft_map *m);
/* Entry id of key (array of nkeys values), or FT_ENOENT. */
ft_i64 ft_map_find(ft_map *m, const ft_val *key);
/* Entry id of key, inserting a zero value at the end of the order if absent; FT_EOVERFLOW when full (non-wrap). */
ft_i64 ft_map_insert(ft_map *m, const ft_val *key);
/* delete a[key]; FT_OK or FT_ENOENT. */
int ft_map_delete(ft_map *m, const ft_val *key);
/* Delete one entry by id. */
int ft_map_delete_entry(ft_map *m, ft_i64 id);
/* Integer value of an entry. */
ft_i64 ft_map_get_int(const ft_map *m, ft_i64 id);
/* Set the integer value of an entry. */
void ft_map_set_int(ft_map *m, ft_i64 id, ft_i64 v);
/* String value of an entry (NUL-terminated, owned by the map). */
const char *ft_map_get_str(const ft_map *m, ft_i64 id);
/* Set the string value of an entry (s of n bytes, n < 0: NUL-terminated; truncated to maxstrlen-1). */
void ft_map_set_str(ft_map *m, ft_i64 id, const char *s, ft_i64 n);
/* Statistic value of an entry (FT_T_STAT arrays). */
ft_stat *ft_map_get_stat(ft_map *m, ft_i64 id);
/* Integer key column col (0-based) of an entry. */
ft_i64 ft_map_key_int(const ft_map *m, ft_i64 id, int col);
/* String key column col (0-based) of an entry. */
const char *ft_map_key_str(const ft_map *m, ft_i64 id, int col);
/* Number of key columns. */
int ft_map_nkeys(const ft_map *m);
/* Type (FT_T_INT/FT_T_STR) of key column col. */
int ft_map_key_type(const ft_map *m, int col);
/* Value type FT_T_*. */
int ft_map_value_type(const ft_map *m);
/* First entry in iteration order, or FT_ENOENT. */
ft_i64 ft_map_first(const ft_map *m);
/* Entry after id in iteration order, or FT_ENOENT. */
ft_i64 ft_map_next(const ft_map *m, ft_i64 id);
/* Reorder the iteration order, stably: column 0 = value, 1..nkeys = key column; dir > 0 ascending,
   < 0 descending; agg = FT_AGG_* for stat values.  Only the first `limit` positions are guaranteed
   sorted when limit > 0.  Allocation-free. */
int ft_map_sort(ft_map *m, int column, int dir, int agg, ft_i64 limit);
/* Does entry id match key on every column whose bit is clear in wildmask (bit c = column c is `*`)? */
int ft_map_match(const ft_map *m, ft_i64 id, const ft_val *key, unsigned int wildmask);
/* First entry at or after id (in iteration order) matching the slice, or FT_ENOENT. */
ft_i64 ft_map_slice_next(const ft_map *m, ft_i64 id, const ft_val *key, unsigned int wildmask);
/* [k1, *, ...] in a: 1 or 0. */
int ft_map_slice_exists(const ft_map *m, const ft_val *key, unsigned int wildmask);
/* delete a[k1, *, ...]; returns the number of entries deleted. */
ft_i64 ft_map_slice_delete(ft_map *m, const ft_val *key, unsigned int wildmask);

/* -- printf (fmt.c) -- */
/* Parse a format once; NULL on error, with *err_off (if not NULL) at the offending byte. */
ft_fmt *ft_fmt_parse(const char *fmt, ft_i64 *err_off);
/* Free a parsed format. */
void ft_fmt_free(ft_fmt *f);
/* Number of argument values the format consumes (`*` widths/precisions included). */
int ft_fmt_nargs(const ft_fmt *f);
/* Expected type (FT_T_INT or FT_T_STR) of argument i. */
int ft_fmt_argtype(const ft_fmt *f, int i);
/* sprintf: format into buf (NUL-terminated, at most cap-1 bytes kept); returns the bytes kept. */
ft_i64 ft_fmt_sprint(const ft_fmt *f, const ft_val *args, int nargs, char *buf, ft_i64 cap);
/* printf into an output sink; FT_OK or FT_EIO. */
int ft_fmt_print(const ft_fmt *f, const ft_val *args, int nargs, ft_out *o);
/* stap's sprint() of an integer: decimal into buf (>= 21 bytes); returns the length. */
int ft_fmt_int(ft_i64 v, char *buf);

/* -- output sink (out.c) -- */
/* Buffered writer to fd (stdout or the -o file); bufsize bytes preallocated. */
ft_out *ft_out_new(int fd, ft_i64 bufsize);
/* Flush and free (the fd is not closed). */
int ft_out_free(ft_out *o);
/* Append n bytes, flushing when the buffer fills; FT_OK or FT_EIO. */
int ft_out_write(ft_out *o, const char *p, ft_i64 n);
/* Write everything buffered to the fd; FT_OK or FT_EIO. */
int ft_out_flush(ft_out *o);
/* Bytes currently buffered. */
ft_i64 ft_out_pending(const ft_out *o);
/* print(@hist_*(x)) into the sink. */
int ft_out_hist(ft_out *o, const ft_stat *st, int elision);
/* -b: from now on, output goes to fds[cpu] (n entries, -1 where none) framed
   as staprun writes bulk files for stap-merge; *cpu_of is the CPU the
   output being written is for (read at each write).  The fds stay open. */
int ft_out_set_bulk(ft_out *o, const int *fds, int n, const ft_i64 *cpu_of);
/* ==== end of runtime data section ======================================== */

/* ==== VM, program image, event loop =====================================
 * Owned by native/program.c (image loader), verify.c (verifier), vm.c (interpreter),
 * builtins.c (builtin function table), loop.c (begin/timers/end). */

/* probe kinds in the image */
#define FT_PROBE_BEGIN 1
#define FT_PROBE_END 2
#define FT_PROBE_ERROR 3
#define FT_PROBE_TIMER 4
#define FT_PROBE_NEVER 5
#define FT_PROBE_EVENT 6
#define FT_PROBE_PROCFS_READ 7   /* procfs("NAME").read: run on each read of NAME (http.c) */
#define FT_PROBE_PROCFS_WRITE 8  /* procfs("NAME").write: run on each write, $value the text */

/* the image's events section (program.c): event kinds, and flag bits */
#define FT_EVK_TRACEPOINT 1
#define FT_EVK_EPROBE 2
#define FT_EVK_UPROBE 3
#define FT_EVK_KPROBE 4
#define FT_EVK_PERF 5
#define FT_EVF_RETURN 1        /* a return probe */
#define FT_EVF_CALLCHAIN 2     /* its handler wants a backtrace */
#define FT_EVF_KSYMS 4         /* its backtraces need the kernel's symbols */
#define FT_EVF_COUNTING 8      /* counting mode: a counter, the probe runs once at stop */
#define FT_EVF_TASK 16         /* acts only for target(): may be opened on -c's process */
#define FT_EVF_ALL 31

/* function return types / local types in the image */
#define FT_RET_VOID 0

/* global flags in the image */
#define FT_G_WRAP 1            /* global a%: evict the oldest entry when full */
#define FT_G_AUTOPRINT 2       /* written, never read: printed at exit like stap */

#define FT_NOLOC 4294967295    /* location id meaning "no location" */

typedef struct ft_prog ft_prog;  /* a loaded, verified program image (program.c) */
typedef struct ft_vm ft_vm;      /* a running session: globals, stacks, output (vm.c) */

/* stap's run-time limits (-D NAME=VALUE) and run options */
typedef struct ft_limits {
    ft_i64 maxaction;          /* statements per handler run (1000) */
    ft_i64 maxnesting;         /* nested function calls (10) */
    ft_i64 maxstringlen;       /* string buffer bytes, NUL included (512) */
    ft_i64 maxmapentries;      /* default array size (2048) */
    ft_i64 maxerrors;          /* errors tolerated before the session ends (0) */
    ft_i64 maxskipped;         /* skipped probes tolerated (100) */
    ft_i64 hist_elision;       /* zero buckets kept around non-zero ones (2) */
    int suppress_handler_errors;  /* --suppress-handler-errors */
    ft_i64 target_pid;         /* -x PID: target() */
    ft_i64 maxbacktrace;       /* frames of each part of a backtrace (20) */
} ft_limits;

/* The event context that context builtins read (pid(), execname(), ...).
 * begin/end/timer probes see ftstap's own process. */
typedef struct ft_ctx {
    ft_i64 pid, tid, cpu, uid;
    ft_i64 time_ns;            /* CLOCK_MONOTONIC of the event */
    char comm[16];
    const char *raw;           /* raw event record (part 4), may be NULL */
    ft_i64 raw_len;
    int probe;                 /* index of the running probe */
    int flags;                 /* FT_CTX_*: what is known about this context */
    const void *chain;         /* FT_CTX_CHAIN: the sample's callchain, nchain u64s (backtrace.c) */
    ft_i64 nchain;
    const char *ustack;        /* FT_CTX_CHAIN: the top nustack bytes of the user stack */
    ft_i64 nustack;
    void *threads;             /* the session's thread map (threads.c) for execname(), ppid()...;
                                  NULL: the task is read from /proc */
    void *procfs;              /* a procfs probe's $value: its ft_procfs_io (procfs.c), else NULL */
} ft_ctx;

/* -- instruction set / builtin introspection (Python reads opcode numbers here) -- */
int ft_opcode_count(void);
const char *ft_opcode_name(int op);
const char *ft_opcode_operands(int op);   /* operand kind letters, see opcodes.def */
const char *ft_opcode_doc(int op);
int ft_opcode_effect(int op, int which);  /* which: 0 int pop, 1 int push, 2 str pop, 3 str push; -1 variable */
int ft_operand_size(int kind);            /* bytes of an operand kind letter, 0 if unknown */
int ft_builtin_count(void);
const char *ft_builtin_name(int b);
const char *ft_builtin_args(int b);       /* "is..." argument types */
int ft_builtin_ret(int b);                /* 'i', 's' or 'v' */

/* -- program image (program.c) -- */
/* Load and verify an image; NULL with a message in err on any defect. */
ft_prog *ft_prog_load(const char *image, ft_i64 len, char *err, int errlen);
void ft_prog_free(ft_prog *p);
int ft_prog_nglobals(const ft_prog *p);
int ft_prog_nprobes(const ft_prog *p);
int ft_prog_nfuncs(const ft_prog *p);

/* -- session (vm.c) -- */
/* Default stap limits into *lim. */
void ft_limits_default(ft_limits *lim);
/* New session over a loaded program: allocates every global, stack and
   string slot now.  out_fd gets script output, err_fd gets ERROR/WARNING
   lines.  NULL with a message in err on failure. */
ft_vm *ft_vm_new(const ft_prog *p, const ft_limits *lim, int out_fd, int err_fd, char *err, int errlen);
void ft_vm_free(ft_vm *vm);
/* -G NAME=VALUE and tests: scalar globals. */
int ft_vm_set_global_int(ft_vm *vm, int g, ft_i64 v);
int ft_vm_set_global_str(ft_vm *vm, int g, const char *s);
ft_i64 ft_vm_global_int(ft_vm *vm, int g);
const char *ft_vm_global_str(ft_vm *vm, int g);
/* Run one probe handler now with the given context (NULL: this process).
   Returns FT_OK, or 1 when the handler ended with an (uncaught) error. */
int ft_vm_run_probe(ft_vm *vm, int probe, const ft_ctx *ctx);
ft_i64 ft_vm_error_count(const ft_vm *vm);
int ft_vm_exit_requested(const ft_vm *vm);
/* Flush script output. */
int ft_vm_flush(ft_vm *vm);
/* -b: script output to fds[cpu] (n entries, -1 where none), each handler's
   to the file of the CPU it ran for (ctx.cpu); see ft_out_set_bulk. */
int ft_vm_set_bulk(ft_vm *vm, const int *fds, int n);
/* -S SIZE[,N] and switch_file() with -o FILE (pattern: FILE before strftime).
   limit > 0 (-S, in bytes) opens FILE.0 now and goes on to FILE.1, ... before
   a file would exceed limit, and keep > 0 removes all but the last keep files;
   limit 0 keeps the fd the VM has as the first file, for switch_file() alone.
   FT_OK, or an error with err filled (see ft_out_set_rotation, out.c). */
int ft_vm_set_rotation(ft_vm *vm, const char *pattern, ft_i64 limit, int keep, char *err, int errlen);

/* -- event loop (loop.c) -- */
/* The whole session: begin probes by priority, then timers/events until
   exit(), -T timeout_ns (0: none), SIGINT/SIGTERM or nothing left to fire;
   then end (or error) probes and autoprinted globals.  Returns the exit
   status (0 ok, 1 errors). */
int ft_run(ft_vm *vm, ft_i64 timeout_ns);
/* Text for the script's output written as a handler running now would
   write it (on this CPU's file under -b), then flushed: -t's report. */
int ft_vm_write_output(ft_vm *vm, const char *s, ft_i64 n);
/* ==== end of VM section ================================================= */

/* ==== live events: perf events, rings, event context ====================
 * Owned by the event session (native/session.h: ring.c perf_event_open
 * and per-CPU rings, records.c, order.c records in time order, ftrace.c,
 * counters.c, threads.c the thread map, loop.c); the builtins of event
 * probes are the VM's (evfuncs.c).
 * Python drives it through ftstap/runtime/native.py (EventRuntime) and
 * ftstap/runtime/session.py. */

/* ft_event_open flags */
#define FT_EV_FREQ 1           /* period_or_freq is a frequency in Hz (perf .hz, timer.profile) */
#define FT_EV_CALLCHAIN 2      /* PERF_SAMPLE_CALLCHAIN: the handler wants a backtrace */
#define FT_EV_RETURN 4         /* a return probe: is_return() is 1 */
#define FT_EV_NORAW 8          /* no PERF_SAMPLE_RAW (sampling events have no record) */
#define FT_EV_INHERIT 16       /* per-task events follow the task's children */
#define FT_EV_DEFER_CLOSE 32   /* a static tracepoint: may be closed in the background at teardown */
#define FT_EV_COUNT 64         /* counting mode: a counter, no samples; the probe runs once at stop (counters.c) */
#define FT_EV_PERIOD 128       /* PERF_SAMPLE_PERIOD: one sample per event of a weighted tracepoint (__perf_count) */

#define FT_RING_DEFAULT 4194304   /* bytes of one ring: measured lossless at full rate on an idle machine */

/* ft_ctx.flags */
#define FT_CTX_EVENT 1         /* a kernel event: pid/tid/cpu/time from the sample */
#define FT_CTX_RETURN 2        /* from a return probe */
#define FT_CTX_COMM 4          /* comm is filled in */
#define FT_CTX_UID 8           /* uid is filled in */
#define FT_CTX_CHAIN 16        /* chain/ustack are set (an event opened with FT_EV_CALLCHAIN) */
#define FT_CTX_USER 32         /* the sample was taken in user mode (header misc cpumode): user_mode() */

/* Open one perf event for probe `probe` on (pid, cpu) as perf_event_open(2)
   takes them (pid -1: every task on cpu; cpu -1: task pid on any cpu).
   type/config: PERF_TYPE_TRACEPOINT and the tracefs event id for
   tracepoints, uprobes and kprobes; PERF_TYPE_SOFTWARE etc. for perf.*.
   Events on one cpu (or one task) share a ring of ring_bytes (rounded up to
   a power of two pages; <= 0: FT_RING_DEFAULT).  The event stays disabled
   until ft_events_enable.  Returns the event index, or < 0 (-errno) with a
   message in err. */
int ft_event_open(ft_vm *vm, int probe, int type, ft_i64 config, ft_i64 period_or_freq, int flags,
                  int pid, int cpu, ft_i64 ring_bytes, char *err, int errlen);
/* PERF_EVENT_IOC_SET_FILTER on an event (a tracepoint filter expression). */
int ft_event_set_filter(ft_vm *vm, int ev, const char *filter, char *err, int errlen);
/* A raw_syscalls:sys_enter/sys_exit event serving many syscall probes at
   once: its records whose syscall number (the id at offset 8) is nr run
   probe; records of other numbers, and of 32-bit (compat) tasks, whose
   numbers mean other calls and which syscalls:* never reports, run nothing.
   count: probe is a counting-mode probe (compile/counting.py): its records
   are only counted here, and it runs once at stop with the total, as for a
   counter (native/counters.c).  0, or < 0 with a message. */
int ft_event_dispatch(ft_vm *vm, int ev, ft_i64 nr, int probe, int count, char *err, int errlen);
/* This machine's system call number of name ("openat", or a tracepoint's "newfstat"), -1 if unknown;
   the same for another machine (ELF e_machine: 62 x86_64, 183 aarch64), and a number's name or NULL
   (syscall_tables.c). */
int ft_syscall_nr(const char *name);
int ft_syscall_nr_for(int machine, const char *name);
const char *ft_syscall_name_for(int machine, long nr);
/* Write this kernel's description ("kinfo": describe.c, ftstap/kernel/kinfo.py)
   to fd, for compiling on another machine.  0, or -1 with a message. */
int ft_describe(int fd, char *err, int errlen);
/* Events that reach only the ftrace ring buffer (eprobes, native/ftrace.c):
   hand over one O_NONBLOCK per_cpu/cpuN/trace_pipe_raw fd per CPU (closed
   with the events), and map each event's type id (its format's ID) to the
   probe it fires.  Read by the drain timer, before timer/end probes and at
   stop.  FT_OK or FT_ENOMEM. */
int ft_ftrace_add(ft_vm *vm, int fd, int cpu);
int ft_ftrace_map(ft_vm *vm, int type, int probe, int flags);
/* Enable every event at once (after all are open) and watch the rings in
   the event loop.  0, or < 0 with a message. */
int ft_events_enable(ft_vm *vm, char *err, int errlen);
/* Disable, unmap and close every event (idempotent; ft_vm_free does it too). */
void ft_events_close(ft_vm *vm);
int ft_events_count(const ft_vm *vm);
/* Records lost (PERF_RECORD_LOST) on events of probe; probe -1: all, the
   ftrace buffer's too (1 when it lost some without saying how many). */
ft_i64 ft_event_lost(const ft_vm *vm, int probe);
/* Samples handled so far (all probes). */
ft_i64 ft_events_samples(const ft_vm *vm);
ft_i64 ft_counter_total(const ft_vm *vm, int probe);   /* counting-mode events of probe, summed now */

/* -t: per-probe hit counts and handler time (ns) */
void ft_vm_set_timing(ft_vm *vm, int on);
ft_i64 ft_vm_probe_hits(const ft_vm *vm, int probe);
/* which: 0 total ns, 1 min ns, 2 max ns (0 unless timing is on) */
ft_i64 ft_vm_probe_time(const ft_vm *vm, int probe, int which);

/* -c CMD: pid is the forked command, blocked reading start_fd until the
   begin probes have run (one byte written, then closed; closed without a
   byte when the session ends first).  SIGCHLD from pid ends the session. */
int ft_vm_set_child(ft_vm *vm, int pid, int start_fd);
/* The command's wait status once reaped, else -1. */
int ft_vm_child_status(const ft_vm *vm);
/* In the forked command, before it execs: die with SIGKILL when the process
   parent ends; -1 when parent already ended (then the command must not run). */
int ft_child_die_with(int parent);
/* Signals that end a session (loop.c): 1 for staprun's (SIGINT, SIGTERM,
   SIGHUP, SIGQUIT: the session ends as for Ctrl-C, exit status 0), 2 for the
   others whose default action would kill ftstap (it ends the session the
   same way, then exits 128 + signo), 0 for the rest. */
int ft_stop_signal_kind(int sig);
/* The signal that ended the event loop, else 0. */
int ft_vm_stop_signal(const ft_vm *vm);
/* ==== end of live events section ======================================= */

/* ==== procfs probes over HTTP (native/http.c, procfs.c) ==================
 * Serve the procfs probes from the event loop's own thread: a TCP listener
 * (host NULL: none; port 0: any free port) and/or a Unix socket at
 * unix_path (NULL: none), both speaking HTTP/1.1.  Returns the TCP port
 * bound (0 with no TCP listener), or < 0 with a message in err.  Call
 * before ft_run; ft_http_close (idempotent; ft_vm_free does it too) closes
 * every socket and unlinks unix_path. */
int ft_http_serve(ft_vm *vm, const char *host, int port, const char *unix_path, char *err, int errlen);
void ft_http_close(ft_vm *vm);
/* Requests answered so far, by status class (which: 2, 4 or 5). */
ft_i64 ft_http_count(const ft_vm *vm, int which);
/* Run a procfs read probe (write: 0) or write probe (write: 1) of file
   `name` as a request would, outside the loop (tests): the content read
   goes to out (NUL-terminated, at most cap - 1 bytes); returns its length,
   or < 0 (FT_EINVAL: no such probe). */
ft_i64 ft_procfs_call(ft_vm *vm, const char *name, int write, const char *text, ft_i64 len, char *out,
                      ft_i64 cap);
/* ==== end of procfs section ============================================= */

/* ==== target namespaces (native/nsmap.c; runtime/namespaces.py) ==========
 * --target-namespaces=PID: the target's level in /proc's pid namespace
 * tree (0: /proc's own), its pid namespace (st_dev, st_ino of
 * /proc/PID/ns/pid) and its uid_map/gid_map as n triples (inside, outside,
 * count).  Process-wide; set before running.  FT_OK or FT_EINVAL. */
int ft_ns_target(int level, unsigned long long dev, unsigned long long ino, const ft_i64 *uidmap, int nuid,
                 const ft_i64 *gidmap, int ngid);

/* ==== backtraces ==========================================================
 * Owned by native/backtrace.c (the builtins), ksyms.c, usyms.c. */
/* The kernel's text symbols for print_backtrace & co., from the text of
   /proc/kallsyms (or a snapshot of it).  Returns the number of symbols, or
   < 0 (FT_ENOMEM). */
int ft_bt_load_kallsyms(ft_vm *vm, const char *text, ft_i64 len);
/* The same from /proc/kallsyms (ftstap-run, and symname() on first use):
   0, or -1 (unreadable) / FT_ENOMEM. */
int ft_bt_load_proc_kallsyms(ft_vm *vm);
/* One address as print_backtrace / print_ubacktrace (of process pid) write
   it, into buf (NUL-terminated); returns the full length.  For tests. */
ft_i64 ft_bt_kernel_line(ft_vm *vm, ft_i64 addr, char *buf, ft_i64 cap);
ft_i64 ft_bt_user_line(ft_vm *vm, ft_i64 pid, ft_i64 addr, char *buf, ft_i64 cap);
/* Before the first ft_event_open: the rings also report executable mmaps
   (PERF_RECORD_MMAP2), so user stacks of processes that have exited by the
   time their records are read still get symbols. */
int ft_bt_track_maps(ft_vm *vm);
/* ==== end of backtraces section ========================================= */
