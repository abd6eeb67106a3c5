/* The run-time state of a session (struct ft_vm) and what vm.c, builtins.c
 * and loop.c share.  Everything here is allocated once in ft_vm_new. */
#ifndef FT_VM_H
#define FT_VM_H
#ifndef FTSTAP_H_INCLUDED
#include "ftstap.h"
#endif
#include <stdint.h>
#include "program.h"
#include "map.h"
#include "stat.h"
#include "out.h"

#define FT_MAX_TRIES 256       /* nested try blocks across all frames */
#define FT_ERRMSG_MAX 1024

/* A string value: a slot of the string stack, a local, a global.  s is
   always NUL-terminated and len <= MAXSTRINGLEN - 1. */
struct ft_str {
    uint32_t len;
    char s[];
};

typedef struct ft_gval {
    ft_i64 i;                  /* integer scalar */
    ft_str *s;                 /* string scalar */
    ft_stat *st;               /* statistic scalar; for statistic arrays, an empty one */
    ft_map *m;                 /* array */
} ft_gval;

typedef struct ft_iter {       /* one foreach in progress */
    ft_map *m;                 /* NULL: not begun */
    ft_i64 cur;
    ft_i64 left;               /* iterations left when has_limit */
    int started, has_limit, sliced;
    uint32_t wild;
    ft_val key[FT_MAX_KEYS];   /* slice key; strings copied into sbuf */
    char *sbuf;
} ft_iter;

typedef struct ft_frame {
    const ft_func *fn;
    const uint8_t *ret_pc;     /* where this frame resumes after a call */
    ft_i64 *ibase;
    char *sbase;
    ft_iter *iters;
} ft_frame;

typedef struct ft_try {
    int depth;
    uint32_t pc;
    ft_i64 *isp;
    char *ssp;
} ft_try;

/* A fd watched by the event loop besides timers and signals (part 4: perf
   ring buffers).  on_ready runs probes through ft_vm_run_probe. */
typedef int (*ft_fd_handler)(ft_vm *vm, int fd, void *arg);
#define FT_WATCH_DONE 2        /* an on_ready's return: stop watching this fd (end of file) */

struct ft_vm {
    const ft_prog *prog;
    ft_limits lim;
    ft_i64 maxstr;             /* bytes of a string buffer, NUL included */
    size_t stride;             /* bytes of one string slot */
    ft_gval *g;
    ft_i64 *istack;
    char *sstack;
    ft_frame *frames;
    ft_iter *iters;
    char *iterbuf;
    ft_try tries[FT_MAX_TRIES];
    int ntries;
    ft_val *args;              /* printf arguments */
    ft_str *sres;              /* builtin / sprintf result */
    ft_str *tok;               /* tokenize() state */
    ft_i64 tokpos;
    char errmsg[FT_ERRMSG_MAX];
    char caught[FT_ERRMSG_MAX];
    uint32_t errloc;
    int err_catchable;
    ft_i64 actions;
    ft_i64 action_limit;          /* MAXACTION, or 10x for begin/end/error (stap's MAXACTION_INTERRUPTIBLE) */
    int exit_requested;
    int error_state;           /* errors passed MAXERRORS: end probes are skipped */
    ft_i64 nerrors, nskipped;
    ft_out *out;
    int err_fd;
    ft_ctx ctx;
    ft_ctx self;               /* this process, for begin/end/timer probes */
    uint64_t rng;
    /* the event session (session.h: events, rings, thread map, watched fds,
       -c command): NULL until first used.  It calls into the VM, never the
       reverse; the VM only drops it when it is freed, through end_session. */
    struct ft_session *session;
    void (*end_session)(ft_vm *vm);
    /* gettimeofday_*(): CLOCK_REALTIME - CLOCK_MONOTONIC, read for the event
       time rt_offset_for (builtins.c) */
    ft_i64 rt_offset, rt_offset_for;
    /* backtraces (backtrace.c): symbol tables, NULL until first needed */
    struct ft_bt *bt;
    /* -t: per probe hits, handler ns total/min/max (allocated in ft_vm_new) */
    ft_i64 *hits, *htime;
    int timing;
    /* the signal that ended the event loop (loop.c), else 0 */
    int stop_signal;
};

/* Raise a run-time error from a builtin (catchable). */
int ft_vm_fail(ft_vm *vm, const char *fmt, ...);
/* Store n bytes into a string, truncated to MAXSTRINGLEN - 1. */
void ft_str_set(const ft_vm *vm, ft_str *d, const char *s, ft_i64 n);
/* Write "ERROR: ..." or "WARNING: ..." to the error fd (output flushed first). */
void ft_vm_diag(ft_vm *vm, const char *kind, const char *msg);
/* Run-time limits of this session. */
const ft_limits *ft_vm_limits(const ft_vm *vm);
/* Watch fd in the event loop; on_ready is called when it is readable. */
int ft_loop_watch_fd(ft_vm *vm, int fd, ft_fd_handler on_ready, void *arg);
/* input.char/input.line: watch stdin when the program has procfs("__stdin").write
   (stdin.c); ft_stdin_restore puts a terminal back as it was. */
int ft_stdin_start(ft_vm *vm);
void ft_stdin_restore(void);
/* CLOCK_MONOTONIC ns of the running probe: its event's time, or now (builtins.c). */
ft_i64 ft_vm_mono_ns(const ft_vm *vm);
/* Print the autoprinted globals (loop.c). */
void ft_autoprint(ft_vm *vm);

#endif
