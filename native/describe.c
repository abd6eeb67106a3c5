/* A kernel described for compiling elsewhere (issue 17): `ftstap-run
 * --describe > target.kinfo` on the target, `ftstap -r target.kinfo -p4`
 * on a development machine.  ftstap/kernel/kinfo.py reads it; the format
 * is documented there.  In short:
 *
 *   "FTSTAP-KINFO 1\n", then entries  "F <size> <name>\n" <size bytes> "\n",
 *   then "E 0 end\n".
 *
 * A name starting with '/' is a file of the target at that path, with its
 * content (kallsyms: text symbols only); "uname" holds the release and the
 * machine, one per line; "tracefs" the tracefs root's path.  An empty
 * kprobe_events/uprobe_events/dynamic_events entry says the file exists.
 * What ftstap's pass 2 reads on a live kernel (ftstap/kernel/features.py)
 * is what is collected: the kernel's release and machine, online CPUs, PMU
 * types, the tracefs README and probe files, every tracepoint format, BTF,
 * kallsyms, the kernel config (compressed as the kernel gives it) and
 * /proc/timer_list (HZ, where no config is readable).
 */
#define _GNU_SOURCE 1
#include "ftstap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define KINFO_MAX_FILE (256u << 20)    /* no kernel file we read is near this */

typedef struct {
    int fd;
    int failed;                        /* errno of the first failed write */
} kout;

static void put(kout *o, const void *p, size_t n)
{
    const char *c = p;
    while (n && !o->failed) {
        ssize_t w = write(o->fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            o->failed = w < 0 ? errno : EIO;
            return;
        }
        c += w;
        n -= (size_t)w;
    }
}

static void entry(kout *o, const char *name, const void *data, size_t n)
{
    char head[64 + 4096];
    int h = snprintf(head, sizeof head, "F %zu %s\n", n, name);
    if (h < 0 || (size_t)h >= sizeof head)
        return;
    put(o, head, (size_t)h);
    put(o, data, n);
    put(o, "\n", 1);
}

/* The whole of a file (sysfs/procfs files report size 0: read to EOF).
   NULL if it cannot be read; *n its length. */
static char *slurp(const char *path, size_t *n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len == cap) {
            char *b = cap < KINFO_MAX_FILE ? realloc(buf, cap * 2) : NULL;
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            buf = NULL;
            break;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    *n = len;
    return buf;
}

static void file_entry(kout *o, const char *path)
{
    size_t n;
    char *data = slurp(path, &n);
    if (data)
        entry(o, path, data, n);
    free(data);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* kallsyms' text symbols ("ADDR t|T|w|W NAME [module]"): what kernel.function
   globs, kprobes and backtraces use; the data symbols are most of the file. */
static void kallsyms_entry(kout *o)
{
    size_t n;
    char *all = slurp("/proc/kallsyms", &n);
    if (!all)
        return;
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        char *nl = memchr(all + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - all) + 1 : n;
        char *sp = memchr(all + i, ' ', end - i);
        if (sp && sp + 2 < all + end && strchr("tTwW", sp[1]) && sp[2] == ' ') {
            memmove(all + w, all + i, end - i);
            w += end - i;
        }
        i = end;
    }
    entry(o, "/proc/kallsyms", all, w);
    free(all);
}

static void pmus(kout *o)
{
    const char *dir = "/sys/bus/event_source/devices";
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s/type", dir, e->d_name);
        file_entry(o, path);
    }
    closedir(d);
}

static void formats(kout *o, const char *root)
{
    char events[4096];
    snprintf(events, sizeof events, "%s/events", root);
    DIR *d = opendir(events);
    if (!d)
        return;
    struct dirent *s;
    while ((s = readdir(d)) != NULL) {
        if (s->d_name[0] == '.')
            continue;
        char sys[sizeof events + 300];
        snprintf(sys, sizeof sys, "%s/%s", events, s->d_name);
        DIR *sd = opendir(sys);
        if (!sd)
            continue;                  /* enable, header_page...: files */
        struct dirent *e;
        while ((e = readdir(sd)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char fmt[sizeof sys + 300];
            snprintf(fmt, sizeof fmt, "%s/%s/format", sys, e->d_name);
            file_entry(o, fmt);
        }
        closedir(sd);
    }
    closedir(d);
}

int ft_describe(int fd, char *err, int errlen)
{
    kout o = {fd, 0};
    struct utsname u;
    if (uname(&u) != 0) {
        snprintf(err, (size_t)errlen, "uname: %s", strerror(errno));
        return -1;
    }
    put(&o, "FTSTAP-KINFO 1\n", 15);
    char text[600];
    int n = snprintf(text, sizeof text, "%s\n%s\n", u.release, u.machine);
    entry(&o, "uname", text, (size_t)n);
    file_entry(&o, "/sys/devices/system/cpu/online");
    file_entry(&o, "/proc/timer_list");        /* HZ where the config is not readable */
    pmus(&o);
    const char *roots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
    for (size_t i = 0; i < sizeof roots / sizeof *roots; i++) {
        char readme[256];
        snprintf(readme, sizeof readme, "%s/README", roots[i]);
        if (!exists(readme))
            continue;
        entry(&o, "tracefs", roots[i], strlen(roots[i]));
        file_entry(&o, readme);
        const char *probes[] = {"kprobe_events", "uprobe_events", "dynamic_events"};
        for (size_t j = 0; j < sizeof probes / sizeof *probes; j++) {
            char p[256];
            snprintf(p, sizeof p, "%s/%s", roots[i], probes[j]);
            if (exists(p))
                entry(&o, p, "", 0);
        }
        formats(&o, roots[i]);
        break;
    }
    file_entry(&o, "/sys/kernel/btf/vmlinux");
    kallsyms_entry(&o);
    if (exists("/proc/config.gz")) {
        file_entry(&o, "/proc/config.gz");
    } else {
        char boot[400];
        snprintf(boot, sizeof boot, "/boot/config-%s", u.release);
        file_entry(&o, boot);
    }
    put(&o, "E 0 end\n", 8);
    if (o.failed) {
        snprintf(err, (size_t)errlen, "writing the kernel description: %s", strerror(o.failed));
        return -1;
    }
    return 0;
}
