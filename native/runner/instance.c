/* A tracefs instance of the session's own, for its event probes: the C
 * side of ftstap/kernel/instances.py and LiveSession._start_ftrace.
 *
 * Event probes (eprobes, `e:` in dynamic_events) write only to ftrace ring
 * buffers, never to perf (the kernel's eprobe_register ignores
 * TRACE_REG_PERF_*).  A session that has any creates instances/ftstap_<pid>
 * (the name of its event group, so either runtime cleans up after the
 * other), enables its eprobes there and not in the global buffer other
 * tools read, and hands one O_NONBLOCK per_cpu/cpuN/trace_pipe_raw fd per
 * online CPU to native/ftrace.c, which merges them with the perf rings.
 *
 * Its buffer is as large per CPU as a perf ring of the session (-s MB, else
 * the default size), written to buffer_size_kb before anything is enabled.
 *
 * Kernel facts this relies on:
 *   - rmdir of an instance disables what is enabled in it, but fails with
 *     EBUSY while a reader holds one of its files: the perf and ftrace fds
 *     are closed first (ft_events_close), and a close still in flight is
 *     waited for (50 x 20 ms, as Python);
 *   - an eprobe enabled in an instance is busy: its definition cannot be
 *     removed until the instance is, so a dead session's instances go
 *     before its groups (rt_remove_stale_instances, then rt_remove_stale). */
#define _GNU_SOURCE 1
#include "runner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

/* instances.py _write: the whole text in one write() to a truncated file; 0 or -errno */
static int put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = (ssize_t)strlen(text), w = write(fd, text, (size_t)n);
    int rc = w == n ? 0 : w < 0 ? -errno : -EIO;
    close(fd);
    return rc;
}

/* instances.py _remove: 0 (or already gone), else -1 with a message */
static int remove_dir(const char *path, char *err, int errlen)
{
    for (int i = 0; i < 50; i++) {
        if (rmdir(path) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY)
            return rt_fail(err, errlen, "cannot remove tracefs instance %s: %s", path, strerror(errno));
        struct timespec ts = {0, 20000000};       /* a reader's close may still be in flight */
        nanosleep(&ts, NULL);
    }
    return rt_fail(err, errlen, "cannot remove tracefs instance %s: still busy", path);
}

static int alive(long pid) { return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM); }

int rt_remove_stale_instances(const char *root, char *err, int errlen)
{
    char base[512];
    snprintf(base, sizeof base, "%s/instances", root);
    DIR *d = opendir(base);
    int rc = 0;
    for (struct dirent *de; d && !rc && (de = readdir(d));) {
        const char *digits = de->d_name + 7;          /* ^ftstap_(\d+)$ */
        if (strncmp(de->d_name, "ftstap_", 7) != 0 || !*digits || strspn(digits, "0123456789") != strlen(digits) ||
            strlen(digits) > 18 || alive(atol(digits)))
            continue;
        char path[800];
        snprintf(path, sizeof path, "%s/%s", base, de->d_name);
        rc = remove_dir(path, err, errlen);
    }
    if (d)
        closedir(d);
    return rc;
}

int rt_instance_make(rt_instance *I, const char *root, ft_i64 ring_bytes, char *err, int errlen)
{
    memset(I, 0, sizeof *I);
    snprintf(I->path, sizeof I->path, "%s/instances/ftstap_%ld", root, (long)getpid());
    if (mkdir(I->path, 0755) != 0)
        return rt_fail(err, errlen, "cannot create tracefs instance %s: %s", I->path,
                       errno == EEXIST ? "it already exists" : strerror(errno));
    I->made = 1;
    char p[600];
    snprintf(p, sizeof p, "%s/buffer_percent", I->path);
    put(p, "0");              /* wake a reader as soon as there is data (the default waits for half a buffer) */
    snprintf(p, sizeof p, "%s/trace_clock", I->path);
    int rc = put(p, "mono");  /* the perf samples' clock: one time order for both (native/order.c) */
    if (rc)
        rt_fail(err, errlen, "cannot set trace_clock of %s to mono: %s", I->path, strerror(-rc));
    /* per CPU, the perf rings' size (-s MB): the kernel's default (1.4 MB) lost half of 1 M getppid
       records read as fast as they came; 16 MB lost none */
    char kb[32];
    snprintf(kb, sizeof kb, "%lld", (long long)(ring_bytes + 1023) / 1024);
    snprintf(p, sizeof p, "%s/buffer_size_kb", I->path);
    if (!rc && ring_bytes > 0 && (rc = put(p, kb)) != 0)
        rt_fail(err, errlen, "cannot set buffer_size_kb of %s to %s: %s", I->path, kb, strerror(-rc));
    if (rc) {
        char ignored[RT_ERR];
        if (remove_dir(I->path, ignored, sizeof ignored) == 0)
            I->made = 0;
        return -1;
    }
    return 0;
}

int rt_instance_enable(rt_instance *I, const char *group, const char *event, char *err, int errlen)
{
    char p[800];
    snprintf(p, sizeof p, "%s/events/%s/%s/enable", I->path, group, event);
    if (I->n == I->cap) {
        int cap = I->cap * 2 + 4;
        char **e = realloc(I->enabled, (size_t)cap * sizeof *e);
        if (!e)
            return rt_fail(err, errlen, "out of memory");
        I->enabled = e;
        I->cap = cap;
    }
    int rc = put(p, "1");
    if (rc)
        return rt_fail(err, errlen, "cannot enable %s/%s in %s: %s", group, event, I->path, strerror(-rc));
    if (!(I->enabled[I->n] = strdup(p))) {
        put(p, "0");
        return rt_fail(err, errlen, "out of memory");
    }
    I->n++;
    return 0;
}

int rt_instance_open_cpu(rt_instance *I, int cpu, char *err, int errlen)
{
    char p[800];
    snprintf(p, sizeof p, "%s/per_cpu/cpu%d/trace_pipe_raw", I->path, cpu);
    int fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        rt_fail(err, errlen, "cannot open %s: %s", p, strerror(errno));
    return fd;
}

int rt_instance_close(rt_instance *I, char *err, int errlen)
{
    for (int i = 0; i < I->n; i++) {
        put(I->enabled[i], "0");          /* gone with the instance anyway */
        free(I->enabled[i]);
    }
    free(I->enabled);
    I->enabled = NULL;
    I->n = I->cap = 0;
    if (!I->made)
        return 0;
    if (remove_dir(I->path, err, errlen))
        return -1;                        /* kept: the next start removes it once this session is gone */
    I->made = 0;
    return 0;
}

/* -- LiveSession._start_ftrace ------------------------------------------------------------------ */

int rt_ftrace_start(rt_live *L, const int *probes, const int *events, int n, const long long *ids, char *err,
                    int errlen)
{
    const ft_prog *p = L->prog;
    int any = 0;
    for (int i = 0; i < n; i++)
        any |= p->events[events[i]].kind == FT_EVK_EPROBE;
    if (!any)
        return 0;
    if (rt_instance_make(&L->instance, L->group.root, L->ring_bytes, err, errlen))
        return -1;
    for (int i = 0; i < n; i++) {                       /* records of type ids[e] fire probe */
        const ft_pevent *e = &p->events[events[i]];
        if (e->kind == FT_EVK_EPROBE &&
            ft_ftrace_map(L->vm, (int)ids[events[i]], probes[i], e->flags & FT_EVF_RETURN ? FT_EV_RETURN : 0) != FT_OK)
            return rt_fail(err, errlen, "out of memory");
    }
    for (uint32_t e = 0; e < p->nevents; e++) {         /* each event once, in id order */
        int used = 0;
        for (int i = 0; i < n && !used; i++)
            used = events[i] == (int)e;
        char name[32];
        snprintf(name, sizeof name, "e%u", e);
        if (used && p->events[e].kind == FT_EVK_EPROBE &&
            rt_instance_enable(&L->instance, L->group.name, name, err, errlen))
            return -1;
    }
    for (int c = 0; c < L->ncpus; c++) {
        int fd = rt_instance_open_cpu(&L->instance, L->cpus[c], err, errlen);
        if (fd < 0)
            return -1;
        if (ft_ftrace_add(L->vm, fd, L->cpus[c]) != FT_OK) {     /* else closed with the events */
            close(fd);
            return rt_fail(err, errlen, "out of memory");
        }
    }
    return 0;
}
