/* tracefs for ftstap-run: the C side of ftstap/kernel/tracefs.py and
 * kernel/dynevents.py, with the same kernel facts:
 *   - the *_events files are opened O_WRONLY|O_APPEND, one definition per
 *     write() of less than 4 KiB;
 *   - a definition cannot be removed while its `enable` is set, nor while a
 *     perf fd holds it (EBUSY): perf events are closed first;
 *   - every event of a session is in group ftstap_<pid>; a group whose pid
 *     is dead was left by a SIGKILL and is removed at the next start, by
 *     either runtime. */
#define _GNU_SOURCE 1
#include "runner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define MAX_WRITE 4096

int rt_fail(char *err, int errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, (size_t)errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *const CANDIDATES[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};

static int mounted(const char *dir)
{
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/events", dir);
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *rt_tracefs(char *err, int errlen)
{
    for (size_t i = 0; i < sizeof CANDIDATES / sizeof *CANDIDATES; i++)
        if (mounted(CANDIDATES[i]))
            return CANDIDATES[i];
    const char *target = CANDIDATES[0];
    if (access(target, F_OK) != 0) {
        rt_fail(err, errlen, "%s does not exist: this kernel has no tracefs (CONFIG_TRACING / CONFIG_FTRACE is off)",
            target);
        return NULL;
    }
    if (mount("nodev", target, "tracefs", 0, NULL) != 0 || !mounted(target)) {
        rt_fail(err, errlen, "tracefs is not mounted on %s and mounting it failed (%s): run as root, or "
            "`mount -t tracefs nodev %s`", target, strerror(errno), target);
        return NULL;
    }
    return target;
}

const char *rt_events_file(int kind)
{
    return kind == FT_EVK_KPROBE ? "kprobe_events" : kind == FT_EVK_UPROBE ? "uprobe_events"
         : kind == FT_EVK_EPROBE ? "dynamic_events" : NULL;
}

const char *rt_needs(int kind)
{
    return kind == FT_EVK_KPROBE ? "kernel.function needs kprobe_events (CONFIG_KPROBE_EVENTS), which this kernel lacks"
         : kind == FT_EVK_UPROBE ? "process probes need uprobe_events (CONFIG_UPROBE_EVENTS), which this kernel lacks"
         : "reading through a tracepoint's pointer fields needs event probes (dynamic_events, "
           "CONFIG_EPROBE_EVENTS), which this kernel lacks";
}

/* One definition (or "-:G/E") into a *_events file: 0 or -errno. */
static int write_line(const char *path, const char *line)
{
    char buf[MAX_WRITE];
    int n = snprintf(buf, sizeof buf, "%s\n", line);
    if (n < 0 || n >= MAX_WRITE)
        return -E2BIG;
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t w = write(fd, buf, (size_t)n);
    int rc = w == n ? 0 : w < 0 ? -errno : -EIO;
    close(fd);
    return rc;
}

/* The whole of a small file (NUL-terminated, malloc'd), NULL if unreadable. */
static char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 8192, n = 0;
    char *b = malloc(cap);
    for (;;) {
        if (!b)
            break;
        if (n + 4096 + 1 > cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
        }
        ssize_t r = read(fd, b + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (b) {
        b[n] = '\0';
        if (len)
            *len = n;
    }
    return b;
}

static void disable(const char *root, const char *group, const char *event)
{
    char p[512];
    snprintf(p, sizeof p, "%s/events/%s/%s/enable", root, group, event);
    char *on = slurp(p, NULL);
    if (on && on[0] && on[0] != '0') {
        int fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd >= 0) {
            if (write(fd, "0", 1) < 0) { /* removed below, or reported busy */ }
            close(fd);
        }
    }
    free(on);
}

/* Remove one event: 0 (or already gone), else -errno. */
static int remove_event(const char *root, const char *file, const char *group, const char *event)
{
    char line[256];
    disable(root, group, event);
    snprintf(line, sizeof line, "-:%s/%s", group, event);
    int rc = write_line(file, line);
    return rc == -ENOENT ? 0 : rc;
}

static int pid_alive(long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* "p:ftstap_123/e0 ...", "r16:...", "e:..." -> group and event; the pid of
   an ftstap group (0: not one). */
long rt_parse_head(const char *line, char *group, size_t gn, char *event, size_t en)
{
    const char *colon = strchr(line, ':'), *slash, *end;
    if (!colon || !strchr("pre", line[0]) || !(slash = strchr(colon, '/')))
        return 0;
    end = slash + strcspn(slash, " \t\n");
    if ((size_t)(slash - colon - 1) >= gn || (size_t)(end - slash - 1) >= en)
        return 0;
    memcpy(group, colon + 1, (size_t)(slash - colon - 1));
    group[slash - colon - 1] = '\0';
    memcpy(event, slash + 1, (size_t)(end - slash - 1));
    event[end - slash - 1] = '\0';
    if (strncmp(group, "ftstap_", 7) != 0 || !group[7] || strspn(group + 7, "0123456789") != strlen(group + 7))
        return 0;
    return atol(group + 7);
}

/* --list-active's registry (kernel/dynevents.py registry_dir): /run/ftstap,
   else /tmp/ftstap-run-UID; never a directory others may write. */
int rt_registry_dir(char *out, size_t n)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "/tmp/ftstap-run-%u", (unsigned)geteuid());
    const char *dirs[] = {"/run/ftstap", tmp};
    for (int i = 0; i < 2; i++) {
        struct stat st;
        if (mkdir(dirs[i], 0755) != 0 && errno != EEXIST)
            continue;
        if (lstat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode) && !(st.st_mode & 022) &&
            (st.st_uid == geteuid() || st.st_uid == 0)) {
            snprintf(out, n, "%s", dirs[i]);
            return 0;
        }
    }
    return -1;
}

int rt_remove_stale(const char *root, char *err, int errlen)
{
    static const char *const files[] = {"kprobe_events", "uprobe_events", "dynamic_events"};
    int failed = 0;
    err[0] = '\0';
    for (int f = 0; f < 3; f++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", root, files[f]);
        char *text = slurp(path, NULL);
        for (char *line = text, *next; line && *line; line = next) {
            next = strchr(line, '\n');
            if (next)
                *next++ = '\0';
            else
                next = line + strlen(line);
            char group[64], event[128];
            long pid = rt_parse_head(line, group, sizeof group, event, sizeof event);
            if (f == 2 && line[0] != 'e')      /* dynamic_events lists every kind: only its eprobes */
                continue;
            if (!pid || pid_alive(pid))
                continue;
            int rc = remove_event(root, path, group, event);
            if (rc && !failed++)
                rt_fail(err, errlen, "could not remove stale dynamic events: %s/%s: %s", group, event,
                    rc == -EBUSY ? "busy (a perf event is still open on it)" : strerror(-rc));
        }
        free(text);
    }
    char reg[256];
    if (rt_registry_dir(reg, sizeof reg) == 0) {
        /* notes of dead sessions: ftstap_PID.json */
        DIR *d = opendir(reg);
        for (struct dirent *de; d && (de = readdir(d));) {
            long pid = 0;
            char tail[8] = "";
            if (sscanf(de->d_name, "ftstap_%ld%7s", &pid, tail) == 2 && strcmp(tail, ".json") == 0 &&
                !pid_alive(pid)) {
                char p[600];
                snprintf(p, sizeof p, "%s/%s", reg, de->d_name);
                unlink(p);
            }
        }
        if (d)
            closedir(d);
    }
    return failed ? -1 : 0;
}

void rt_group_init(rt_group *g, const char *root)
{
    memset(g, 0, sizeof *g);
    g->root = root;
    snprintf(g->name, sizeof g->name, "ftstap_%ld", (long)getpid());
}

static char *error_log(const rt_group *g, size_t *len)
{
    char p[512];
    snprintf(p, sizeof p, "%s/error_log", g->root);
    return slurp(p, len);
}

static const char *kind_name(int kind)
{
    return kind == FT_EVK_KPROBE ? "kprobe" : kind == FT_EVK_UPROBE ? "uprobe" : "eprobe";
}

/* The error_log lines a rejection added, as dynevents.py shows them: the last 6, indented */
static void log_tail(char *added, char *out, size_t n)
{
    char *lines[6];
    int k = 0;
    for (char *l = added, *next; *l; l = next) {
        next = l + strcspn(l, "\n");
        if (*next)
            *next++ = '\0';
        lines[k++ % 6] = l;
    }
    if (!k)
        return;
    size_t w = (size_t)snprintf(out, n, "\n  error_log:");
    for (int i = k > 6 ? k - 6 : 0; i < k && w < n; i++)
        w += (size_t)snprintf(out + w, n - w, "\n    %s", lines[i % 6]);
}

int rt_group_add(rt_group *g, const int *kinds, char *const *defs, int n, char *err, int errlen)
{
    if (g->n + n > g->cap) {
        int cap = g->n + n + 8;
        char **ev = realloc(g->events, (size_t)cap * sizeof *ev);
        if (ev)
            g->events = ev;
        const char **fs = realloc(g->files, (size_t)cap * sizeof *fs);
        if (fs)
            g->files = fs;
        if (!ev || !fs) {
            rt_fail(err, errlen, "out of memory");
            return -1;
        }
        g->cap = cap;
    }
    int first = g->n;
    for (int i = 0; i < n; i++) {
        char path[512], group[64], event[128];
        const char *fname = rt_events_file(kinds[i]);
        snprintf(path, sizeof path, "%s/%s", g->root, fname ? fname : "");
        if (!fname || access(path, W_OK) != 0) {
            rt_fail(err, errlen, "this kernel has no %s: cannot create its events", fname ? fname : "events file");
            goto rollback;
        }
        if (!rt_parse_head(defs[i], group, sizeof group, event, sizeof event) || strcmp(group, g->name) != 0) {
            rt_fail(err, errlen, "definition '%s' is not in this session's group %s", defs[i], g->name);
            goto rollback;
        }
        size_t before = 0;
        free(error_log(g, &before));
        int rc = write_line(path, defs[i]);
        if (rc) {
            size_t after = 0;
            char *log = error_log(g, &after);
            int k = snprintf(err, (size_t)errlen, "the kernel rejected the %s definition\n    %s\n  (%s: %s)",
                             kind_name(kinds[i]), defs[i], fname, strerror(-rc));
            if (g->n > first && k > 0 && k < errlen)
                k += snprintf(err + k, (size_t)(errlen - k), "\n  rolled back the %d event(s) written before it",
                              g->n - first);
            if ((rc == -EACCES || rc == -EPERM) && k > 0 && k < errlen)
                k += snprintf(err + k, (size_t)(errlen - k), "\n  writing dynamic events needs root (CAP_SYS_ADMIN)");
            if (log && after > before && k > 0 && k < errlen)
                log_tail(log + before, err + k, (size_t)(errlen - k));
            free(log);
            goto rollback;
        }
        g->events[g->n] = strdup(event);
        g->files[g->n] = fname;
        if (!g->events[g->n]) {
            char d[200];
            snprintf(d, sizeof d, "%s/%s", g->root, fname);
            remove_event(g->root, d, g->name, event);
            rt_fail(err, errlen, "out of memory");
            goto rollback;
        }
        g->n++;
    }
    return 0;
rollback:
    while (g->n > first) {
        g->n--;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", g->root, g->files[g->n]);
        remove_event(g->root, path, g->name, g->events[g->n]);
        free(g->events[g->n]);
    }
    return -1;
}

void rt_group_note_tracepoints(rt_group *g, char *const *names, int n)
{
    char reg[256];
    if (n <= 0 || rt_registry_dir(reg, sizeof reg) != 0)
        return;
    char tmp[600];
    snprintf(g->registry, sizeof g->registry, "%s/%s.json", reg, g->name);
    snprintf(tmp, sizeof tmp, "%s/.%s.json.tmp", reg, g->name);
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        g->registry[0] = '\0';
        return;
    }
    fprintf(f, "{\"pid\": %ld, \"tracepoints\": [", (long)getpid());
    for (int i = 0; i < n; i++)      /* names are checked tracefs names: nothing to escape */
        fprintf(f, "%s\"%s\"", i ? ", " : "", names[i]);
    fprintf(f, "]}");
    if (fclose(f) != 0 || rename(tmp, g->registry) != 0) {
        unlink(tmp);
        g->registry[0] = '\0';
    }
}

int rt_group_close(rt_group *g, char *err, int errlen)
{
    int failed = 0, keep = 0;
    err[0] = '\0';
    for (int i = g->n - 1; i >= 0; i--) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", g->root, g->files[i]);
        int rc = remove_event(g->root, path, g->name, g->events[i]);
        if (rc == 0) {
            free(g->events[i]);
            continue;
        }
        if (!failed++)
            rt_fail(err, errlen, "could not remove dynamic events: %s/%s: %s", g->name, g->events[i],
                rc == -EBUSY ? "busy (a perf event is still open on it)" : strerror(-rc));
        g->events[keep] = g->events[i];       /* kept for a later close */
        g->files[keep++] = g->files[i];
    }
    g->n = keep;
    if (g->registry[0]) {
        unlink(g->registry);
        g->registry[0] = '\0';
    }
    if (!g->n) {
        free(g->events);
        free(g->files);
        g->events = NULL;
        g->files = NULL;
        g->cap = 0;
    }
    return failed ? -1 : 0;
}

long long rt_event_id(const char *root, const char *system, const char *event)
{
    char p[512];
    snprintf(p, sizeof p, "%s/events/%s/%s/id", root, system, event);
    char *t = slurp(p, NULL);
    if (!t)
        return -errno;
    char *end;
    long long id = strtoll(t, &end, 10);
    int ok = end != t;
    free(t);
    return ok ? id : -EINVAL;
}

int rt_field_offset(const char *root, const char *system, const char *event, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/events/%s/%s/format", root, system, event);
    char *t = slurp(p, NULL);
    int off = -1;
    size_t nl = strlen(name);
    /* "\tfield:u64 arg1;\toffset:16;\tsize:8;\tsigned:0;": the name is the last word before ';' */
    for (char *line = t; line && *line && off < 0;) {
        char *next = strchr(line, '\n');
        if (next)
            *next = '\0';
        char *f = strstr(line, "field:"), *semi = f ? strchr(f, ';') : NULL, *o = semi ? strstr(semi, "offset:") : NULL;
        if (o) {
            char *w = semi;
            while (w > f && w[-1] != ' ' && w[-1] != '\t' && w[-1] != ':')
                w--;
            char *br = memchr(w, '[', (size_t)(semi - w));      /* "char name[16]" */
            size_t wl = (size_t)((br ? br : semi) - w);
            if (wl == nl && memcmp(w, name, nl) == 0)
                off = atoi(o + 7);
        }
        line = next ? next + 1 : NULL;
    }
    free(t);
    return off;
}
