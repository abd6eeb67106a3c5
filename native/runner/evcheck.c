/* The events of an image as the untrusted input they are, before anything
 * reaches tracefs as root: the checks of ftstap/image/eventcheck.py, on the
 * binary records program.c loaded (their types and string ids are checked
 * there).  Anything that ends up in a tracefs path or definition may hold
 * no whitespace, newline, `/` or `..` that could add a definition, leave
 * the session's group or point at another file.  Texts are checked as
 * valid UTF-8 without ASCII control characters (Python also refuses
 * non-ASCII non-printables; the compiler writes none). */
#include "runner.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_TEXT 4096
#define MAX_ARGS 128

static int utf8_printable(const char *s, size_t limit)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    while (*p) {
        int more = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : (*p & 0xF8) == 0xF0 ? 3 : -1;
        if (more < 0 || (more == 0 && (*p < 0x20 || *p == 0x7F)) || (more == 1 && *p < 0xC2))
            return 0;
        for (int k = 1; k <= more; k++)
            if ((p[k] & 0xC0) != 0x80)
                return 0;
        p += more + 1;
        if (++n > limit)
            return 0;
    }
    return 1;
}

/* s for a message: printable ASCII as it is, every other byte as \xNN, at most 60 bytes
   of it (a hostile image's text must not reach the terminal raw) */
static const char *show(const char *s, char *buf, size_t n)
{
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && k + 5 < n && p - (const unsigned char *)s < 60; p++)
        k += (size_t)(*p >= 0x20 && *p < 0x7F && *p != '\\' ? snprintf(buf + k, n - k, "%c", *p)
                                                             : snprintf(buf + k, n - k, "\\x%02x", *p));
    buf[k] = '\0';
    return buf;
}

/* A string constant of the image as a text: printable, and no NUL inside
   (C would see only what comes before it) */
static int text_ok(const ft_prog *p, uint32_t id, size_t limit)
{
    const char *s = ft_prog_str(p, id);
    return (id == FT_NOLOC || strlen(s) == p->strs[id].len) && utf8_printable(s, limit);
}

static int is_alpha_(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_word(char c) { return is_alpha_(c) || is_digit(c); }

/* [A-Za-z0-9_][A-Za-z0-9_-]{0,127}: a tracefs system or event name */
static int trace_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 128 || !is_word(s[0]))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!is_word(s[i]) && s[i] != '-')
            return 0;
    return 1;
}

/* [A-Za-z_.$][A-Za-z0-9_.$]{0,511}: a kallsyms name */
static int ksymbol(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 512 || !(is_alpha_(s[0]) || s[0] == '.' || s[0] == '$'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!is_word(s[i]) && s[i] != '.' && s[i] != '$')
            return 0;
    return 1;
}

static int has_space(const char *s)
{
    return strpbrk(s, " \t\n\r\v\f") != NULL;
}

/* absolute and normalized (what os.path.normpath leaves alone) */
static int clean_path(const char *s)
{
    if (s[0] != '/' || (s[1] == '/' ) || has_space(s))
        return 0;
    if (strcmp(s, "/") == 0)
        return 1;
    for (const char *c = s + 1;;) {
        const char *e = strchr(c, '/');
        size_t n = e ? (size_t)(e - c) : strlen(c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return 0;
        if (!e)
            return 1;
        c = e + 1;
    }
}

/* A fetch-arg expression as pass 3 writes it: %reg, $var, or OFFSET(expr) of one. */
static int fetch(const char *s, size_t n)
{
    for (int depth = 0; depth < 32; depth++) {
        if (n >= 4 && (s[0] == '+' || s[0] == '-') && s[n - 1] == ')') {
            size_t d = 1;
            while (d < n && is_digit(s[d]))
                d++;
            if (d >= 2 && d <= 11 && d < n && s[d] == '(') {
                s += d + 1;
                n -= d + 2;
                continue;
            }
            return 0;
        }
        if (n >= 3 && n <= 6 && s[0] == '%') {               /* %[a-z][a-z0-9]{1,5} */
            if (!(s[1] >= 'a' && s[1] <= 'z'))
                return 0;
            for (size_t i = 2; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || is_digit(s[i])))
                    return 0;
            return 1;
        }
        if (n >= 2 && n <= 129 && s[0] == '$' && is_alpha_(s[1])) {    /* \$[A-Za-z_][A-Za-z0-9_]{0,127} */
            for (size_t i = 2; i < n; i++)
                if (!is_word(s[i]))
                    return 0;
            return 1;
        }
        return 0;
    }
    return 0;
}

/* NAME=FETCH:TYPE; the length of NAME, or 0 if bad */
static size_t fetch_arg(const char *a)
{
    static const char *const types[] = {"s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "string", "ustring"};
    size_t name = 0;
    if (!is_alpha_(a[0]))
        return 0;
    while (is_word(a[name]))
        name++;
    const char *colon = strrchr(a, ':');
    if (name > 32 || a[name] != '=' || !colon || colon < a + name + 2 || has_space(a))
        return 0;
    int typed = 0;
    for (size_t t = 0; t < sizeof types / sizeof *types; t++)
        typed |= strcmp(colon + 1, types[t]) == 0;
    return typed && fetch(a + name + 1, (size_t)(colon - a - name - 1)) ? name : 0;
}

int rt_check_event(const ft_prog *p, const ft_pevent *e, char *err, int errlen)
{
    static const char *const kinds[] = {"", "tracepoint", "eprobe", "uprobe", "kprobe", "perf"};
    const char *kind = kinds[e->kind];
    char b1[320], b2[320];
    const char *a_kind = e->kind == FT_EVK_EPROBE || e->kind == FT_EVK_UPROBE ? "an" : "a";
    int named = e->kind == FT_EVK_TRACEPOINT || e->kind == FT_EVK_EPROBE;
    /* fields for another kind (BY_KIND of eventcheck.py), and the required ones */
    if ((!named && (e->system != FT_NOLOC || e->event != FT_NOLOC)) ||
        (e->kind != FT_EVK_UPROBE && e->path != FT_NOLOC) ||
        (e->kind != FT_EVK_UPROBE && e->kind != FT_EVK_KPROBE && (e->symbol != FT_NOLOC || e->offset)) ||
        (e->kind != FT_EVK_KPROBE && e->maxactive) ||
        (e->kind != FT_EVK_PERF && (e->type || e->config || e->sample_period || e->sample_freq)))
        return rt_fail(err, errlen, "a field is not for %s %s event", a_kind, kind);
    if ((named && (e->system == FT_NOLOC || e->event == FT_NOLOC)) ||
        (e->kind == FT_EVK_UPROBE && e->path == FT_NOLOC) || (e->kind == FT_EVK_KPROBE && e->symbol == FT_NOLOC))
        return rt_fail(err, errlen, "%s %s event lacks a field it needs", a_kind, kind);
    if (e->offset < 0 || e->maxactive > 4096 || e->type > 0x7fffffffu || e->sample_period < 0 || e->sample_freq < 0)
        return rt_fail(err, errlen, "a number is out of range");
    if (!text_ok(p, e->pp, MAX_TEXT) || !text_ok(p, e->filter, MAX_TEXT))
        return rt_fail(err, errlen, "pp or filter is too long, not UTF-8 or has control characters");
    if (named && (!text_ok(p, e->system, 128) || !text_ok(p, e->event, 128) ||
                  !trace_name(ft_prog_str(p, e->system)) || !trace_name(ft_prog_str(p, e->event))))
        return rt_fail(err, errlen, "bad tracepoint name '%s:%s'", show(ft_prog_str(p, e->system), b1, sizeof b1),
                       show(ft_prog_str(p, e->event), b2, sizeof b2));
    if (e->kind == FT_EVK_KPROBE && (!text_ok(p, e->symbol, 512) || !ksymbol(ft_prog_str(p, e->symbol))))
        return rt_fail(err, errlen, "bad kernel symbol");
    if (e->kind == FT_EVK_UPROBE) {
        const char *path = ft_prog_str(p, e->path), *sym = ft_prog_str(p, e->symbol);
        if (!text_ok(p, e->path, MAX_TEXT) || !clean_path(path))
            return rt_fail(err, errlen, "bad path");
        if (!text_ok(p, e->symbol, 1024) || has_space(sym))
            return rt_fail(err, errlen, "bad symbol");
    }
    if (e->nargs > MAX_ARGS)
        return rt_fail(err, errlen, "more than %d fetch-args", MAX_ARGS);
    for (int i = 0; i < e->nargs; i++)
        if (!text_ok(p, e->args[i], MAX_TEXT) || !fetch_arg(ft_prog_str(p, e->args[i])))
            return rt_fail(err, errlen, "bad fetch-arg '%s'", show(ft_prog_str(p, e->args[i]), b1, sizeof b1));
    for (int f = 0; f < e->nfields; f++) {
        const char *name = ft_prog_str(p, e->field_names[f]);
        int found = 0;
        if (!text_ok(p, e->field_names[f], 32))
            return rt_fail(err, errlen, "bad field name");
        for (int i = 0; i < e->nargs && !found; i++) {
            const char *a = ft_prog_str(p, e->args[i]);
            size_t n = fetch_arg(a);
            found = n == strlen(name) && memcmp(a, name, n) == 0;
        }
        if (!found)
            return rt_fail(err, errlen, "bad field '%s'", show(name, b1, sizeof b1));
    }
    return 0;
}
