/* The kernel side of one ftstap-run session, as ftstap/runtime/session.py's
 * LiveSession does it:
 *
 *   1. removes the instances, then the event groups, of dead sessions (SIGKILL);
 *   2. writes every uprobe/kprobe definition in ONE transaction (group
 *      ftstap_<pid>); notes the tracepoints for --list-active;
 *   3. forks the -c command (it execs once the begin probes have run);
 *   4. checks the fetch-arg offsets pass 3 planned against the formats the
 *      kernel made, opens every event on every online CPU with its kernel
 *      filter (an unfiltered event gives the same results, only slower;
 *      a counter cannot fall back), syscall probes grouped on raw_syscalls
 *      events as runtime/syscall_dispatch.py plans them; event probes
 *      (eprobes), which never reach perf, are enabled in a tracefs instance
 *      of the session's own and read from its per-CPU buffers (instance.c);
 *      enables them all;
 *   5. rt_live_close: closes the perf fds and ftrace readers, then removes
 *      the instance, then the group. */
#define _GNU_SOURCE 1
#include "runner.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PERF_TYPE_TRACEPOINT 2
#define MIN_GROUP 8            /* runtime/syscall_dispatch.py's numbers */
#define MAX_FILTERED 100

static const char *S(const rt_live *L, uint32_t id) { return ft_prog_str(L->prog, id); }

static const char *describe(const rt_live *L, const ft_pevent *e)
{
    return e->pp != FT_NOLOC ? S(L, e->pp) : S(L, e->symbol);
}

int rt_online_cpus(int **out)
{
    FILE *f = fopen("/sys/devices/system/cpu/online", "re");
    char buf[4096] = "";
    if (f) {
        if (!fgets(buf, sizeof buf, f))
            buf[0] = '\0';
        fclose(f);
    }
    int n = 0, cap = 64, *cpus = malloc(cap * sizeof *cpus);
    for (char *s = buf; cpus && *s && *s != '\n';) {
        char *end;
        long a = strtol(s, &end, 10), b = a;
        if (end == s)
            break;
        if (*end == '-')
            b = strtol(end + 1, &end, 10);
        for (long c = a; c <= b; c++) {
            if (n == cap) {
                int *nc = realloc(cpus, (size_t)(cap *= 2) * sizeof *cpus);
                if (!nc)
                    return free(cpus), -1;
                cpus = nc;
            }
            cpus[n++] = (int)c;
        }
        s = *end == ',' ? end + 1 : end;
    }
    if (!cpus)
        return -1;
    if (!n) {                    /* no sysfs: the CPUs the scheduler knows */
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        for (n = 0; n < c && n < cap; n++)
            cpus[n] = n;
    }
    *out = cpus;
    return n;
}

/* -- what EventSpec says ---------------------------------------------------------------------- */

static int is_dynamic(const ft_pevent *e)
{
    return e->kind == FT_EVK_UPROBE || e->kind == FT_EVK_KPROBE || e->kind == FT_EVK_EPROBE;
}

/* EventSpec.definition(): the dynamic_events line of event id as GROUP/eID */
static int definition(const rt_live *L, const ft_pevent *e, int id, char *out, size_t n)
{
    int k;
    const char *g = L->group.name;
    if (e->kind == FT_EVK_UPROBE)
        k = snprintf(out, n, "%c:%s/e%d %s:0x%llx", e->flags & FT_EVF_RETURN ? 'r' : 'p', g, id, S(L, e->path),
                     (unsigned long long)e->offset);
    else if (e->kind == FT_EVK_KPROBE) {
        char head[16], off[32] = "";
        if (e->flags & FT_EVF_RETURN)
            snprintf(head, sizeof head, e->maxactive ? "r%u" : "r", e->maxactive);
        else
            snprintf(head, sizeof head, "p");
        if (e->offset)
            snprintf(off, sizeof off, "+%lld", (long long)e->offset);
        k = snprintf(out, n, "%s:%s/e%d %s%s", head, g, id, S(L, e->symbol), off);
    } else
        k = snprintf(out, n, "e:%s/e%d %s.%s", g, id, S(L, e->system), S(L, e->event));
    for (int a = 0; a < e->nargs && k >= 0 && (size_t)k < n; a++)
        k += snprintf(out + k, n - (size_t)k, " %s", S(L, e->args[a]));
    return k >= 0 && (size_t)k < n ? 0 : -1;
}

/* EventSpec.perf_open(): (type, config, period or frequency, FT_EV_* flags) */
static void perf_open(const rt_live *L, const ft_pevent *e, ft_i64 id, int *type, ft_i64 *config, ft_i64 *period,
                      int *flags)
{
    *flags = (e->flags & FT_EVF_RETURN ? FT_EV_RETURN : 0) | (e->flags & FT_EVF_CALLCHAIN ? FT_EV_CALLCHAIN : 0);
    if (e->kind == FT_EVK_PERF) {
        *type = (int)e->type;
        *config = e->config;
        *flags |= FT_EV_NORAW | (e->sample_freq ? FT_EV_FREQ : 0);
        *period = e->sample_freq ? e->sample_freq : e->sample_period ? e->sample_period : 1;
        return;
    }
    if (e->kind == FT_EVK_TRACEPOINT) {
        *flags |= FT_EV_DEFER_CLOSE;
        /* kernel/tracefs.py WEIGHTED_TRACEPOINTS: one sample per event */
        if (strcmp(S(L, e->system), "sched") == 0 && strncmp(S(L, e->event), "sched_stat_", 11) == 0) {
            const char *w = S(L, e->event) + 11;
            if (!strcmp(w, "runtime") || !strcmp(w, "wait") || !strcmp(w, "sleep") || !strcmp(w, "iowait") ||
                !strcmp(w, "blocked"))
                *flags |= FT_EV_PERIOD;
        }
    }
    if (e->flags & FT_EVF_COUNTING)
        *flags |= FT_EV_COUNT;
    *type = PERF_TYPE_TRACEPOINT;
    *config = id;
    *period = 1;
}

/* -- the raw_syscalls dispatch (runtime/syscall_dispatch.py) ------------------------------------- */

static int common_word(const char *w, size_t n)
{
    static const char *const common[] = {"COMM", "comm", "CPU", "cpu", "common_pid", "common_type", "common_flags",
                                         "common_preempt_count"};
    for (size_t i = 0; i < sizeof common / sizeof *common; i++)
        if (strlen(common[i]) == n && memcmp(common[i], w, n) == 0)
            return 1;
    return 0;
}

/* Does a filter test only the fields every tracepoint has (string constants aside)? */
static int common_only(const char *f)
{
    while (*f) {
        if (*f == '"') {
            for (f++; *f && *f != '"'; f++)
                if (*f == '\\' && f[1])
                    f++;
            if (*f)
                f++;
        } else if ((*f >= 'A' && *f <= 'Z') || (*f >= 'a' && *f <= 'z') || *f == '_') {
            const char *w = f;
            while ((*f >= 'A' && *f <= 'Z') || (*f >= 'a' && *f <= 'z') || (*f >= '0' && *f <= '9') || *f == '_')
                f++;
            if (!common_word(w, (size_t)(f - w)))
                return 0;
        } else if (*f >= '0' && *f <= '9') {
            while ((*f >= '0' && *f <= '9') || (*f >= 'A' && *f <= 'Z') || (*f >= 'a' && *f <= 'z') || *f == '_')
                f++;      /* \w+ after a digit is part of a number in Python's regex too: not a word */
        } else
            f++;
    }
    return 1;
}

typedef struct member { int probe, event, nr, which, flags, layer; const char *filter; int group; } member;

/* _syscall(): the syscall number of a groupable syscalls:* event (-1: not one); *which 0 enter, 1 exit */
static int syscall_of(const rt_live *L, const ft_pevent *e, int *which)
{
    if (e->kind != FT_EVK_TRACEPOINT || strcmp(S(L, e->system), "syscalls") != 0 ||
        !(common_only(S(L, e->filter)) || (e->flags & FT_EVF_CALLCHAIN)))
        return -1;
    const char *ev = S(L, e->event);
    if (strncmp(ev, "sys_enter_", 10) == 0 && ev[10])
        *which = 0;
    else if (strncmp(ev, "sys_exit_", 9) == 0 && ev[9])
        *which = 1;
    else
        return -1;
    return ft_syscall_nr(ev + (*which ? 9 : 10));
}

/* plan(): m[i].group >= 0 for probes served by a raw_syscalls event (members
   of one group share that number), -1 for those opened one by one */
static int plan(const rt_live *L, member *m, int n)
{
    int disabled = getenv("FTSTAP_NO_SYSCALL_DISPATCH") && strcmp(getenv("FTSTAP_NO_SYSCALL_DISPATCH"), "1") == 0;
    for (int i = 0; i < n; i++) {
        const ft_pevent *e = &L->prog->events[m[i].event];
        ft_i64 c, per;
        int t;
        m[i].group = -1;
        m[i].nr = syscall_of(L, e, &m[i].which);
        if (m[i].nr < 0 || (disabled && !(e->flags & FT_EVF_CALLCHAIN))) {
            m[i].nr = -1;
            continue;
        }
        perf_open(L, e, 0, &t, &c, &per, &m[i].flags);
        m[i].filter = common_only(S(L, e->filter)) ? S(L, e->filter) : "";   /* callchain: the handler tests it */
    }
    /* a candidate set is (which, flags, filter); layer = how many earlier members of its set share the number */
    int groups = 0;
    for (int i = 0; i < n; i++) {
        if (m[i].nr < 0 || m[i].group >= 0)
            continue;
        int key = i, callchain = (m[i].flags & FT_EV_CALLCHAIN) != 0, nsingle = 0, nlayers = 0;
#define SAME(j) (m[j].nr >= 0 && m[j].which == m[key].which && m[j].flags == m[key].flags && \
                 strcmp(m[j].filter, m[key].filter) == 0)
        for (int j = key; j < n; j++) {
            if (!SAME(j))
                continue;
            m[j].layer = 0;
            for (int k = key; k < j; k++)
                if (SAME(k) && m[k].nr == m[j].nr)
                    m[j].layer++;
            if (m[j].layer + 1 > nlayers)
                nlayers = m[j].layer + 1;
        }
        for (int j = key; j < n; j++) {
            if (!SAME(j))
                continue;
            int dup = 0;
            for (int k = key; k < n; k++)
                dup |= k != j && SAME(k) && m[k].nr == m[j].nr;
            m[j].group = -2;            /* decided below */
            if (callchain)
                m[j].group = groups + m[j].layer;
            else if (!dup)
                nsingle++;
        }
        if (callchain) {
            groups += nlayers;
            continue;
        }
        int g = nsingle >= MIN_GROUP ? groups++ : -1;
        for (int j = key; j < n; j++) {
            if (!SAME(j) || m[j].group != -2)
                continue;
            int dup = 0;
            for (int k = key; k < n; k++)
                dup |= k != j && SAME(k) && m[k].nr == m[j].nr;
            m[j].group = dup ? -1 : g;
        }
#undef SAME
        for (int j = key; j < n; j++)
            if (m[j].group == -2)
                m[j].group = -1;
    }
    for (int i = 0; i < n; i++)        /* what is left is opened one by one */
        if (m[i].group < 0)
            m[i].nr = -1;
    return groups;
}

/* -- opening ------------------------------------------------------------------------------------ */

static int open_single(rt_live *L, int probe, const ft_pevent *e, long long id, char *err, int errlen)
{
    int type, flags;
    ft_i64 config, period;
    char why[512];
    perf_open(L, e, id, &type, &config, &period, &flags);
    if (L->task_pid > 0)
        flags |= FT_EV_INHERIT;
    for (int c = 0; c < L->ncpus; c++) {
        int ev = ft_event_open(L->vm, probe, type, config, period, flags, L->task_pid > 0 ? L->task_pid : -1,
                               L->cpus[c], L->ring_bytes, why, sizeof why);
        if (ev < 0)
            return rt_fail(err, errlen, "%s: %s", describe(L, e), why);
        if (e->filter != FT_NOLOC && ft_event_set_filter(L->vm, ev, S(L, e->filter), why, sizeof why) < 0) {
            if (e->flags & FT_EVF_COUNTING)       /* a counter counts what the filter lets through */
                return rt_fail(err, errlen, "%s: %s (counting mode needs it; FTSTAP_NO_PUSHDOWN=1 runs the handler "
                           "instead)", describe(L, e), why);
            L->filters_rejected++;                /* the handler still tests the condition */
        }
    }
    return 0;
}

static int by_number(const void *a, const void *b)
{
    return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* kernel_filter(): the group's common filter, and its numbers when they are
   few ("id == 1 || id == 5"); malloc'd, NULL without memory */
static char *group_filter(const member *m, int n, int g, const char *common)
{
    int k = 0, *nrs = calloc((size_t)n + 1, sizeof *nrs);
    if (!nrs)
        return NULL;
    for (int i = 0; i < n; i++)
        if (m[i].group == g)
            nrs[k++] = m[i].nr;
    qsort(nrs, (size_t)k, sizeof *nrs, by_number);
    size_t need = strlen(common) + (size_t)k * 24 + 16, l = 0;
    char *ids = malloc(need), *out = malloc(need);
    if (ids && out) {
        ids[0] = '\0';
        for (int a = 0; k <= MAX_FILTERED && a < k; a++)
            if (!a || nrs[a] != nrs[a - 1])
                l += (size_t)snprintf(ids + l, need - l, "%sid == %d", l ? " || " : "", nrs[a]);
        if (common[0] && ids[0])
            snprintf(out, need, "(%s) && (%s)", common, ids);
        else
            snprintf(out, need, "%s", common[0] ? common : ids);
    }
    free(nrs);
    free(ids);
    return out;
}

/* _open_dispatched(): one raw_syscalls:sys_<which> event per CPU serving group g */
static int open_dispatched(rt_live *L, const member *m, int n, int g, char *err, int errlen)
{
    const member *first = NULL;
    for (int i = 0; i < n && !first; i++)
        if (m[i].group == g)
            first = &m[i];
    if (!first)
        return 0;
    const char *which = first->which ? "exit" : "enter";
    long long id = rt_event_id(L->group.root, "raw_syscalls", first->which ? "sys_exit" : "sys_enter");
    if (id < 0)
        return rt_fail(err, errlen, "no tracepoint raw_syscalls:sys_%s on this kernel (%s)", which, strerror((int)-id));
    char *filter = group_filter(m, n, g, first->filter);
    if (!filter)
        return rt_fail(err, errlen, "out of memory");
    int flags = first->flags, counting = (flags & FT_EV_COUNT) != 0;
    flags &= ~FT_EV_COUNT;             /* counting probes: tallied per record (native/counters.c) */
    if (L->task_pid > 0)
        flags |= FT_EV_INHERIT;
    char why[512];
    int rc = 0;
    for (int c = 0; c < L->ncpus && !rc; c++) {
        int ev = ft_event_open(L->vm, first->probe, PERF_TYPE_TRACEPOINT, id, 1, flags,
                               L->task_pid > 0 ? L->task_pid : -1, L->cpus[c], L->ring_bytes, why, sizeof why);
        if (ev < 0) {
            rc = rt_fail(err, errlen, "raw_syscalls:sys_%s: %s", which, why);
            break;
        }
        for (int i = 0; i < n && !rc; i++)
            if (m[i].group == g && ft_event_dispatch(L->vm, ev, m[i].nr, m[i].probe, counting, why, sizeof why) < 0)
                rc = rt_fail(err, errlen, "raw_syscalls:sys_%s: %s", which, why);
        if (!rc && filter[0] && ft_event_set_filter(L->vm, ev, filter, why, sizeof why) < 0) {
            if (counting && first->filter[0])     /* a tally counts what the filter lets through */
                rc = rt_fail(err, errlen, "raw_syscalls:sys_%s: %s (counting mode needs it; FTSTAP_NO_PUSHDOWN=1 runs "
                         "the handlers instead)", which, why);
            else
                L->filters_rejected++;            /* the dispatch picks the numbers, the handlers test the rest */
        }
    }
    free(filter);
    return rc;
}

/* -- the session ---------------------------------------------------------------------------------- */

static int load_kallsyms(rt_live *L, char *err, int errlen)
{
    int rc = ft_bt_load_proc_kallsyms(L->vm);
    if (rc == -1)
        return rt_fail(err, errlen, "cannot read /proc/kallsyms: %s", strerror(errno));
    return rc < 0 ? rt_fail(err, errlen, "out of memory for the kernel symbol table") : 0;
}

/* The id of event e as created or found; < 0 after a message. */
static long long event_id(rt_live *L, int e, char *err, int errlen)
{
    const ft_pevent *ev = &L->prog->events[e];
    const char *root = L->group.root;
    if (ev->kind == FT_EVK_TRACEPOINT) {
        long long id = rt_event_id(root, S(L, ev->system), S(L, ev->event));
        if (id < 0)
            rt_fail(err, errlen, "%s: no tracepoint %s:%s on this kernel (%s)", describe(L, ev), S(L, ev->system),
                S(L, ev->event), strerror((int)-id));
        return id;
    }
    if (!is_dynamic(ev))
        return 0;
    char name[32];
    snprintf(name, sizeof name, "e%d", e);
    for (int f = 0; f < ev->nfields; f++) {      /* the record layout pass 3 planned */
        int got = rt_field_offset(root, L->group.name, name, S(L, ev->field_names[f]));
        if (got != ev->field_offsets[f]) {
            char g[16] = "None";
            if (got >= 0)
                snprintf(g, sizeof g, "%d", got);
            rt_fail(err, errlen, "%s: the kernel laid out fetch-arg %s at offset %s, pass 3 planned %u", describe(L, ev),
                S(L, ev->field_names[f]), g, ev->field_offsets[f]);
            return -1;
        }
    }
    long long id = rt_event_id(root, L->group.name, name);
    if (id < 0)
        rt_fail(err, errlen, "%s: no event %s/%s (%s)", describe(L, ev), L->group.name, name, strerror((int)-id));
    return id;
}

int rt_live_start(rt_live *L, int (*start_command)(void *), void *arg, char *err, int errlen)
{
    const ft_prog *p = L->prog;
    int n = 0, rc = -1, ndefs = 0, ntps = 0;
    member *m = calloc(p->nprobes + 1u, sizeof *m);
    char *used = calloc(p->nevents + 1u, 1), **defs = NULL, **tps = NULL;
    int *kinds = NULL, *probes = NULL, *events = NULL;
    long long *ids = NULL;
    if (!m || !used)
        goto oom;
    for (uint32_t i = 0; i < p->nprobes; i++)
        if (p->probes[i].kind == FT_PROBE_EVENT) {
            m[n].probe = (int)i;
            m[n++].event = (int)p->probes[i].event;
            used[p->probes[i].event] = 1;
        }
    if (!n) {                                  /* -c or -t without kernel events */
        rc = 0;
        if (start_command && (L->child_pid = start_command(arg)) < 0) {
            L->child_pid = 0;
            rc = rt_fail(err, errlen, "cannot start the -c command");
        }
        goto out;
    }
    const char *root = rt_tracefs(err, errlen);
    if (!root)
        goto out;
    for (uint32_t e = 0; e < p->nevents; e++) {
        const ft_pevent *ev = &p->events[e];
        if (!used[e])
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", root, rt_events_file(ev->kind) ? rt_events_file(ev->kind) : "");
        if (is_dynamic(ev) && access(path, F_OK) != 0) {     /* refuse_unservable */
            rt_fail(err, errlen, "probe point %s cannot be served: %s", describe(L, ev), rt_needs(ev->kind));
            goto out;
        }
    }
    /* the instances first: their eprobes are busy while enabled there */
    if (rt_remove_stale_instances(root, err, errlen) || rt_remove_stale(root, err, errlen))
        goto out;
    rt_group_init(&L->group, root);
    L->have_group = 1;
    int ngroups = plan(L, m, n);
    defs = calloc(p->nevents + 1u, sizeof *defs);
    kinds = calloc(p->nevents + 1u, sizeof *kinds);
    tps = calloc((size_t)n + 2, sizeof *tps);
    ids = calloc(p->nevents + 1u, sizeof *ids);
    if (!defs || !kinds || !tps || !ids)
        goto oom;
    for (uint32_t e = 0; e < p->nevents; e++)
        if (used[e] && is_dynamic(&p->events[e])) {
            char line[4096];
            if (definition(L, &p->events[e], (int)e, line, sizeof line) || !(defs[ndefs] = strdup(line))) {
                rt_fail(err, errlen, "%s: its definition is too long", describe(L, &p->events[e]));
                goto out;
            }
            kinds[ndefs++] = p->events[e].kind;
        }
    for (int i = 0; i < n; i++) {              /* the tracepoints, for --list-active */
        const ft_pevent *ev = &p->events[m[i].event];
        char tp[300];
        int g = m[i].group;
        if (g >= 0)
            snprintf(tp, sizeof tp, "raw_syscalls:sys_%s", m[i].which ? "exit" : "enter");
        else if (ev->kind == FT_EVK_TRACEPOINT)
            snprintf(tp, sizeof tp, "%s:%s", S(L, ev->system), S(L, ev->event));
        else
            continue;
        int dup = 0;
        for (int k = 0; k < ntps; k++)
            dup |= strcmp(tps[k], tp) == 0;
        if (!dup && !(tps[ntps++] = strdup(tp)))
            goto oom;
    }
    if (ndefs && rt_group_add(&L->group, kinds, defs, ndefs, err, errlen))
        goto out;
    rt_group_note_tracepoints(&L->group, tps, ntps);
    if (start_command && (L->child_pid = start_command(arg)) < 0) {
        L->child_pid = 0;
        rt_fail(err, errlen, "cannot start the -c command");
        goto out;
    }
    int ksyms = 0, chain = 0, task = 1;
    for (uint32_t e = 0; e < p->nevents; e++)
        if (used[e]) {
            ksyms |= p->events[e].flags & FT_EVF_KSYMS;
            chain |= p->events[e].flags & FT_EVF_CALLCHAIN;
            task &= (p->events[e].flags & FT_EVF_TASK) != 0;
        }
    if (ksyms && load_kallsyms(L, err, errlen))
        goto out;
    if (chain && ft_bt_track_maps(L->vm) != FT_OK)      /* user stacks of processes gone by then */
        goto oom;
    for (int i = 0; i < n; i++)
        if (m[i].group < 0 && !ids[m[i].event] && (ids[m[i].event] = event_id(L, m[i].event, err, errlen)) < 0)
            goto out;
    /* every handler acts only for target(): open on -c's process (and what it starts) */
    L->task_pid = L->child_pid > 0 && task ? L->child_pid : -1;
    for (int i = 0; i < n; i++)         /* eprobes: read from the instance (rt_ftrace_start) */
        if (m[i].group < 0 && p->events[m[i].event].kind != FT_EVK_EPROBE &&
            open_single(L, m[i].probe, &p->events[m[i].event], ids[m[i].event], err, errlen))
            goto out;
    for (int g = 0; g < ngroups; g++)
        if (open_dispatched(L, m, n, g, err, errlen))
            goto out;
    if (!(probes = calloc((size_t)n, sizeof *probes)) || !(events = calloc((size_t)n, sizeof *events)))
        goto oom;
    for (int i = 0; i < n; i++) {
        probes[i] = m[i].probe;
        events[i] = m[i].event;
    }
    if (rt_ftrace_start(L, probes, events, n, ids, err, errlen))
        goto out;
    char why[512];
    if (ft_events_enable(L->vm, why, sizeof why) < 0) {
        rt_fail(err, errlen, "%s", why);
        goto out;
    }
    rc = 0;
    goto out;
oom:
    rt_fail(err, errlen, "out of memory");
out:
    for (int i = 0; defs && i < ndefs; i++)
        free(defs[i]);
    for (int i = 0; tps && i < ntps; i++)
        free(tps[i]);
    free(defs);
    free(tps);
    free(kinds);
    free(probes);
    free(events);
    free(ids);
    free(used);
    free(m);
    return rc;
}

void rt_live_close(rt_live *L)
{
    char err[RT_ERR];
    ft_events_close(L->vm);          /* the fds first: a held event cannot be removed, nor a read instance */
    if (rt_instance_close(&L->instance, err, sizeof err))
        fprintf(stderr, "WARNING: %s\n", err);
    if (L->have_group) {
        if (rt_group_close(&L->group, err, sizeof err))
            fprintf(stderr, "WARNING: %s\n", err);
        else
            L->have_group = 0;
    }
}
