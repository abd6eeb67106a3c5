/* ftstap-run --list-active: the kernel events live ftstap sessions (of
 * either runtime) hold, one row each, as kernel/dynevents.py list_active()
 * prints them: address (kprobes: from /proc/kallsyms, else "-"), type (k
 * kprobe, r return probe, u uprobe, e eprobe, t tracepoint), target, pid;
 * sorted by pid, type, target.  Tracepoints come from the sessions' notes
 * in the registry directory. */
#define _GNU_SOURCE 1
#include "runner.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct row { char addr[20]; char type; char target[440]; long pid; } row;

static int alive(long pid) { return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM); }

static int by_row(const void *a, const void *b)
{
    const row *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    if (x->type != y->type)
        return x->type < y->type ? -1 : 1;
    return strcmp(x->target, y->target);
}

/* The address of a kernel symbol (+offset), "-" when unknown. */
static void kaddr(const char *place, char *out, size_t n)
{
    char sym[256];
    long long off = 0;
    const char *plus = strchr(place, '+');
    snprintf(sym, sizeof sym, "%.*s", plus ? (int)(plus - place) : (int)strlen(place), place);
    if (plus)
        off = strtoll(plus + 1, NULL, 0);
    snprintf(out, n, "-");
    if (strncmp(place, "0x", 2) == 0) {
        snprintf(out, n, "%.18s", place);
        return;
    }
    const char *name = strrchr(sym, ':') ? strrchr(sym, ':') + 1 : sym;
    FILE *f = fopen("/proc/kallsyms", "re");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        unsigned long long a;
        char t, s[256];
        if (sscanf(line, "%llx %c %255s", &a, &t, s) == 3 && strcmp(s, name) == 0) {
            snprintf(out, n, "%016llx", a + (unsigned long long)off);
            break;
        }
    }
    if (f)
        fclose(f);
}

static int add(row **rows, int *n, int *cap)
{
    if (*n == *cap) {
        row *r = realloc(*rows, (size_t)(*cap = *cap * 2 + 16) * sizeof *r);
        if (!r)
            return -1;
        *rows = r;
    }
    memset(&(*rows)[*n], 0, sizeof **rows);
    return 0;
}

int rt_list_active(const char *root)
{
    static const char *const files[] = {"kprobe_events", "uprobe_events", "dynamic_events"};
    row *rows = NULL;
    int n = 0, cap = 0;
    for (int fi = 0; fi < 3; fi++) {
        char path[512], line[4096];
        snprintf(path, sizeof path, "%s/%s", root, files[fi]);
        FILE *f = fopen(path, "re");
        while (f && fgets(line, sizeof line, f)) {
            char group[64], event[128], place[400] = "";
            line[strcspn(line, "\n")] = '\0';
            if (fi == 2 && line[0] != 'e')
                continue;
            long pid = rt_parse_head(line, group, sizeof group, event, sizeof event);
            const char *sp = strchr(line, ' ');
            if (!pid || !alive(pid) || !sp || add(&rows, &n, &cap))
                continue;
            sscanf(sp, " %399s", place);
            row *r = &rows[n++];
            r->pid = pid;
            snprintf(r->addr, sizeof r->addr, "-");
            if (line[0] == 'e') {                       /* an event probe on a tracepoint */
                r->type = 'e';
                snprintf(r->target, sizeof r->target, "%s", place);
                char *dot = strchr(r->target, '.');
                if (dot)
                    *dot = ':';
            } else if (place[0] == '/') {
                char *colon = strrchr(place, ':');
                r->type = line[0] == 'r' ? 'r' : 'u';
                if (colon) {
                    *colon = '\0';
                    snprintf(r->target, sizeof r->target, "%s:0x%llx", place, strtoull(colon + 1, NULL, 0));
                } else
                    snprintf(r->target, sizeof r->target, "%s", place);
            } else {
                r->type = line[0] == 'r' ? 'r' : 'k';
                kaddr(place, r->addr, sizeof r->addr);
                snprintf(r->target, sizeof r->target, "%s", place);
            }
        }
        if (f)
            fclose(f);
    }
    char reg[256];
    DIR *d = rt_registry_dir(reg, sizeof reg) == 0 ? opendir(reg) : NULL;
    for (struct dirent *de; d && (de = readdir(d));) {
        long pid = 0;
        char tail[8] = "", path[600], text[8192];
        if (sscanf(de->d_name, "ftstap_%ld%7s", &pid, tail) != 2 || strcmp(tail, ".json") || !alive(pid))
            continue;
        snprintf(path, sizeof path, "%s/%s", reg, de->d_name);
        FILE *f = fopen(path, "re");
        size_t len = f ? fread(text, 1, sizeof text - 1, f) : 0;
        if (f)
            fclose(f);
        text[len] = '\0';
        /* {"pid": N, "tracepoints": ["sys:ev", ...]}: each quoted string after the list starts */
        const char *p = strstr(text, "\"tracepoints\"");
        p = p ? strchr(p + 13, '[') : NULL;
        while (p && (p = strchr(p, '"')) && add(&rows, &n, &cap) == 0) {
            const char *e = strchr(p + 1, '"');
            if (!e)
                break;
            row *r = &rows[n++];
            r->pid = pid;
            r->type = 't';
            snprintf(r->addr, sizeof r->addr, "-");
            snprintf(r->target, sizeof r->target, "%.*s", (int)(e - p - 1), p + 1);
            p = e + 1;
        }
    }
    if (d)
        closedir(d);
    qsort(rows, (size_t)n, sizeof *rows, by_row);
    for (int i = 0; i < n; i++)
        printf("%-18s %c %-48s %ld\n", rows[i].addr, rows[i].type, rows[i].target, rows[i].pid);
    free(rows);
    return 0;
}
