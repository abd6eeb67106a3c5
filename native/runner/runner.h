/* ftstap-run: a program image run without Python (issue 17).  What
 * ftstap/runtime/session.py's LiveSession and backend.run do between
 * reading an image and the C loop, in C:
 *
 *   main.c     options, the image file, -o, signals, -c, exit status
 *   live.c     the session's kernel events: plan (the raw_syscalls dispatch),
 *              create, open, filter, enable; teardown
 *   instance.c the tracefs instance its event probes (eprobes) are read from
 *   tracefs.c  tracefs: the session's event group (one write transaction,
 *              rolled back on a rejection), stale groups of dead sessions,
 *              event ids and formats, the --list-active registry
 *   evcheck.c  every event text checked before it reaches tracefs as root
 *   globals.c  -G NAME=VALUE
 *   active.c   --list-active
 *
 * It links the C core (the .c files of native/) and libc only. */
#ifndef FT_RUNNER_H
#define FT_RUNNER_H
#include "ftstap.h"
#include "program.h"

#include <stddef.h>

#define RT_ERR 1024

/* A message into err (errlen bytes); returns -1. */
int rt_fail(char *err, int errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* -- tracefs.c -- */
typedef struct rt_group {
    const char *root;          /* the tracefs directory */
    char name[64];             /* ftstap_<pid>: as Python names it, so each cleans up after the other */
    int n, cap;
    char **events;             /* created event names */
    const char **files;        /* the *_events file each was written to */
    char registry[512];        /* --list-active's note of the tracepoints, "" if none */
} rt_group;

/* The tracefs directory (mounted on /sys/kernel/tracing when it is not); NULL with a message. */
const char *rt_tracefs(char *err, int errlen);
/* The *_events file of a dynamic event kind (FT_EVK_*), NULL if it has none. */
const char *rt_events_file(int kind);
/* What a probe of that kind needs when the kernel lacks its file (Python's NEEDS). */
const char *rt_needs(int kind);
/* Remove the event groups and registry notes of sessions that died (SIGKILL).  0, or -1 with a message. */
int rt_remove_stale(const char *root, char *err, int errlen);
void rt_group_init(rt_group *g, const char *root);
/* Write the definitions (kind and line each) in one transaction: on a
   rejection the ones written are removed again.  0, or -1 with a message. */
int rt_group_add(rt_group *g, const int *kinds, char *const *defs, int n, char *err, int errlen);
/* Note the "system:event" tracepoints the session opens, for --list-active. */
void rt_group_note_tracepoints(rt_group *g, char *const *names, int n);
/* Remove every event of the group and its note.  0, or -1 with a message naming the ones left. */
int rt_group_close(rt_group *g, char *err, int errlen);
/* "p:ftstap_123/e0 ...", "r16:...", "e:...": its group and event; the pid of an ftstap group (0: not one). */
long rt_parse_head(const char *line, char *group, size_t gn, char *event, size_t en);
/* --list-active's registry directory into out; 0, or -1 when there is none safe to use. */
int rt_registry_dir(char *out, size_t n);
/* -- active.c: --list-active's rows on stdout -- */
int rt_list_active(const char *root);

/* The id of tracefs event system/event (events/SYSTEM/EVENT/id), or -errno. */
long long rt_event_id(const char *root, const char *system, const char *event);
/* The offset of field name in the record of system/event (its format file), or -1. */
int rt_field_offset(const char *root, const char *system, const char *event, const char *name);

/* -- evcheck.c -- */
/* Is event e what the compiler writes (the checks of image/eventcheck.py)?
   0, or -1 with the reason in err. */
int rt_check_event(const ft_prog *p, const ft_pevent *e, char *err, int errlen);

/* -- globals.c: -G NAME=VALUE -- */
#define MAX_G 256
typedef struct gdef { const char *name; size_t len; const char *value; int global; } gdef;
/* One -G option into g[*n] (a later one for the same NAME replaces the value).  0, or -1 after a message. */
int rt_add_gdef(gdef *g, int *n, const char *arg);
/* Each NAME a scalar global of the image, each integer one's VALUE a number.  0, or 1 after a message. */
int rt_find_globals(const ft_prog *p, gdef *g, int n);
/* Set them in vm.  0, or 1 after a message. */
int rt_set_globals(ft_vm *vm, const ft_prog *p, const gdef *g, int n);

/* -- instance.c: instances/ftstap_<pid>, the ftrace buffer of the session's eprobes -- */
typedef struct rt_instance {
    char path[512];
    int made;                  /* the directory exists */
    int n, cap;
    char **enabled;            /* the enable files set to 1 */
} rt_instance;

/* Remove the instances of sessions that died (SIGKILL); before their groups,
   whose eprobes are busy while enabled there.  0, or -1 with a message. */
int rt_remove_stale_instances(const char *root, char *err, int errlen);
/* mkdir instances/ftstap_<pid>, buffer_percent 0, trace_clock mono, buffer_size_kb the
   perf rings' size (ring_bytes per CPU; <= 0: the kernel's default).  0, or -1 with a message. */
int rt_instance_make(rt_instance *I, const char *root, ft_i64 ring_bytes, char *err, int errlen);
/* Enable group/event in the instance.  0, or -1 with a message. */
int rt_instance_enable(rt_instance *I, const char *group, const char *event, char *err, int errlen);
/* per_cpu/cpuN/trace_pipe_raw, O_NONBLOCK: the fd, or -1 with a message. */
int rt_instance_open_cpu(rt_instance *I, int cpu, char *err, int errlen);
/* Disable what was enabled and remove the instance (its readers closed
   already).  Idempotent.  0, or -1 with a message (then it is left). */
int rt_instance_close(rt_instance *I, char *err, int errlen);

/* -- live.c -- */
typedef struct rt_live {
    ft_vm *vm;
    const ft_prog *prog;
    int *cpus, ncpus;
    ft_i64 ring_bytes;
    int task_pid;              /* > 0: events opened on the -c command only */
    int child_pid;             /* the -c command, 0 if none */
    int filters_rejected;
    rt_group group;
    int have_group;
    rt_instance instance;      /* made only for eprobes */
} rt_live;

/* The online CPUs (/sys/devices/system/cpu/online); their count, or -1. */
int rt_online_cpus(int **out);
/* Create, open and enable the events of the image's event probes (the
   -c command is forked in between, as LiveSession does: start_command).
   0, or -1 with a message; rt_live_close() undoes what was done either way. */
int rt_live_start(rt_live *L, int (*start_command)(void *), void *arg, char *err, int errlen);
/* Close the perf events and ftrace readers, then remove the instance and the
   group (a signal meanwhile stays blocked). */
void rt_live_close(rt_live *L);
/* instance.c: the eprobes among the n (probe, event) pairs, whose type ids
   are ids[event]: make the instance, map each type id to its probe, enable
   them there and hand each online CPU's reader to native/ftrace.c.  0 when
   there are none; 0, or -1 with a message (rt_live_close undoes it). */
int rt_ftrace_start(rt_live *L, const int *probes, const int *events, int n, const long long *ids, char *err,
                    int errlen);

#endif
