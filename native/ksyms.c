/* Kernel symbols for backtraces, and how one symbolized address is written.
 *
 * The table is built once per session, only when a probe prints a
 * symbolized kernel stack: Python hands over the text of /proc/kallsyms
 * (it may already hold it from pass 2), and this file keeps its text
 * symbols -- t, T, w, W, vmlinux and modules -- sorted by address: 16 bytes
 * a symbol plus one blob of names (~120k symbols: ~2 MB + ~3 MB here,
 * ~15 ms).  A lookup is a binary search; nothing is allocated after the
 * table is built.
 *
 * kallsyms has no sizes: a symbol extends to the next higher address (the
 * last one has size 0, "unknown").  Several names at one address (aliases)
 * resolve to the first one kallsyms lists. */
#include "backtrace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct kent {
    uint64_t addr;
    uint32_t name;                   /* offset into names */
    uint32_t mod;                    /* offset into names of "kernel" or the module name */
} kent;

struct ft_ksyms {
    kent *e;
    size_t n;
    char *names;
};

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int by_addr(const void *a, const void *b)
{
    const kent *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return x->name < y->name ? -1 : x->name > y->name;   /* kallsyms order among aliases */
}

ft_ksyms *ft_ksyms_parse(const char *text, size_t len)
{
    ft_ksyms *k = calloc(1, sizeof *k);
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    if (!k || !(k->e = malloc(lines * sizeof *k->e)) || !(k->names = malloc(len + 8))) {
        ft_ksyms_free(k);
        return NULL;
    }
    size_t used = 0;
    memcpy(k->names, "kernel", 7);
    used = 7;
    uint32_t lastmod = 0;            /* offset of the last module name (0: "kernel") */
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        /* "ffffffff81000000 T _stext" or "ffffffffc0a01000 t fn\t[mod]" */
        uint64_t a = 0;
        const char *q = p;
        int d;
        while (q < eol && (d = hexval((unsigned char)*q)) >= 0)
            a = a << 4 | (uint64_t)d, q++;
        if (q + 3 < eol && q > p && q[0] == ' ' && q[2] == ' ' && strchr("tTwW", q[1]) && a) {
            const char *nm = q + 3, *ne = nm;
            while (ne < eol && *ne != '\t' && *ne != ' ')
                ne++;
            const char *ms = NULL, *me = NULL;
            if (ne < eol) {
                ms = memchr(ne, '[', (size_t)(eol - ne));
                me = ms ? memchr(ms, ']', (size_t)(eol - ms)) : NULL;
                if (ms && me)
                    ms++;
                else
                    ms = NULL;
            }
            uint32_t mod = 0;
            if (ms) {
                size_t ml = (size_t)(me - ms);
                if (lastmod && strlen(k->names + lastmod) == ml && !memcmp(k->names + lastmod, ms, ml)) {
                    mod = lastmod;
                } else {
                    memcpy(k->names + used, ms, ml);
                    k->names[used + ml] = '\0';
                    mod = lastmod = (uint32_t)used;
                    used += ml + 1;
                }
            }
            size_t nl = (size_t)(ne - nm);
            kent *e = &k->e[k->n++];
            e->addr = a;
            e->name = (uint32_t)used;
            e->mod = mod;
            memcpy(k->names + used, nm, nl);
            k->names[used + nl] = '\0';
            used += nl + 1;
        }
        p = eol + 1;
    }
    qsort(k->e, k->n, sizeof *k->e, by_addr);
    char *shrunk = realloc(k->names, used);
    if (shrunk)
        k->names = shrunk;
    return k;
}

void ft_ksyms_free(ft_ksyms *k)
{
    if (!k)
        return;
    free(k->e);
    free(k->names);
    free(k);
}

size_t ft_ksyms_count(const ft_ksyms *k) { return k ? k->n : 0; }

int ft_ksyms_find(const ft_ksyms *k, uint64_t addr, ft_sym *out)
{
    if (!k || !k->n || !addr)
        return -1;
    size_t lo = 0, hi = k->n;        /* first entry with e.addr > addr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->e[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return -1;
    size_t i = lo - 1;
    while (i > 0 && k->e[i - 1].addr == k->e[i].addr)
        i--;
    uint64_t size = lo < k->n ? k->e[lo].addr - k->e[i].addr : 0;
    if (size && addr - k->e[i].addr >= size)
        return -1;
    out->name = k->names + k->e[i].name;
    out->name_len = strlen(out->name);
    out->module = k->names + k->e[i].mod;
    out->off = addr - k->e[i].addr;
    out->size = size;
    return 0;
}

/* ---- the stap format of one address ---- */

size_t ft_sym_line(char *buf, size_t cap, uint64_t addr, const ft_sym *s)
{
    int n;
    if (s && s->name)
        n = snprintf(buf, cap, " 0x%016llx : %.*s+0x%llx/0x%llx [%s]\n", (unsigned long long)addr,
                     (int)s->name_len, s->name, (unsigned long long)s->off, (unsigned long long)s->size,
                     s->module ? s->module : "unknown");
    else if (s && s->module)
        n = snprintf(buf, cap, " 0x%016llx [%s+0x%llx]\n", (unsigned long long)addr, s->module,
                     (unsigned long long)s->off);
    else
        n = snprintf(buf, cap, " 0x%016llx\n", (unsigned long long)addr);
    return n < 0 ? 0 : (size_t)n;
}

size_t ft_sym_data(char *buf, size_t cap, uint64_t addr, const ft_sym *s)
{
    int n;
    if (s && s->name)
        n = snprintf(buf, cap, "%.*s+0x%llx/0x%llx [%s]", (int)s->name_len, s->name,
                     (unsigned long long)s->off, (unsigned long long)s->size, s->module ? s->module : "unknown");
    else
        n = snprintf(buf, cap, "0x%llx", (unsigned long long)addr);
    return n < 0 ? 0 : (size_t)n;
}
