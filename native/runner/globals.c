/* -G NAME=VALUE for ftstap-run: a scalar global of the script set before
 * the begin probes, as `ftstap -G NAME=VALUE` does when it compiles and
 * runs a script (options.py _pairs, backend.py translate and
 * global_values, native.py set_global), with the same checks and
 * messages.  The image names its globals, and the compiler puts in only
 * those the script uses, so "a scalar global in use" is one of the image's
 * globals without keys. */
#define _GNU_SOURCE 1
#include "runner.h"

#include <stdio.h>
#include <string.h>

/* Python's repr() of an option's text, for the usage error */
static void py_repr(const char *s, char *out, size_t n)
{
    char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
    size_t k = 0;
    out[k++] = q;
    for (const unsigned char *c = (const unsigned char *)s; *c && k + 6 < n; c++) {
        if (*c == (unsigned char)q || *c == '\\')
            k += (size_t)snprintf(out + k, n - k, "\\%c", *c);
        else if (*c == '\n' || *c == '\t' || *c == '\r')
            k += (size_t)snprintf(out + k, n - k, "\\%c", *c == '\n' ? 'n' : *c == '\t' ? 't' : 'r');
        else if (*c < 0x20 || *c == 0x7f)
            k += (size_t)snprintf(out + k, n - k, "\\x%02x", *c);
        else
            out[k++] = (char)*c;
    }
    out[k++] = q;
    out[k] = '\0';
}

/* -G NAME=VALUE into g (a later one for the same NAME replaces the value);
   NAME as _pairs wants it, [A-Za-z_][A-Za-z0-9_]*; a bare NAME is NAME=1 */
int rt_add_gdef(gdef *g, int *n, const char *arg)
{
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    int ok = len > 0 && !(arg[0] >= '0' && arg[0] <= '9');
    for (size_t i = 0; i < len; i++)
        ok &= (arg[i] >= 'A' && arg[i] <= 'Z') || (arg[i] >= 'a' && arg[i] <= 'z') ||
              (arg[i] >= '0' && arg[i] <= '9') || arg[i] == '_';
    if (!ok) {
        char r[600];
        py_repr(arg, r, sizeof r);
        fprintf(stderr, "usage error: -G expects NAME=VALUE, not %s\n", r);
        return -1;
    }
    for (int i = 0; i < *n; i++)
        if (g[i].len == len && memcmp(g[i].name, arg, len) == 0) {
            g[i].value = eq ? eq + 1 : "1";
            return 0;
        }
    if (*n == MAX_G) {
        fprintf(stderr, "usage error: more than %d -G options\n", MAX_G);
        return -1;
    }
    g[(*n)++] = (gdef){arg, len, eq ? eq + 1 : "1", -1};
    return 0;
}

/* Python's int(text, 0): blanks around, a sign, 0x/0o/0b or a decimal without
   a leading 0, '_' between digits.  0, or -1 (-2: out of 64 bits). */
static int py_int(const char *s, ft_i64 *out)
{
    while (*s && strchr(" \t\n\r\v\f", *s))
        s++;
    int neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    int base = 10, zero = 0;
    if (s[0] == '0' && s[1] && strchr("xXoObB", s[1])) {
        base = s[1] == 'x' || s[1] == 'X' ? 16 : s[1] == 'o' || s[1] == 'O' ? 8 : 2;
        s += 2;
        if (*s == '_')
            s++;
    } else if (s[0] == '0')
        zero = 1;                              /* "0", "00", "0_0": only zeros may follow */
    unsigned long long v = 0, lim = neg ? (1ull << 63) : (1ull << 63) - 1;
    int digits = 0, big = 0;
    for (;; s++) {
        int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
              : *s >= 'A' && *s <= 'F' ? *s - 'A' + 10 : *s == '_' ? -2 : -1;
        if (d == -2 && digits && s[1] && s[1] != '_')
            continue;
        if (d < 0 || d >= base || (zero && d))
            break;
        digits++;
        if (v > (lim - (unsigned long long)d) / (unsigned long long)base)
            big = 1;
        else
            v = v * (unsigned long long)base + (unsigned long long)d;
    }
    while (*s && strchr(" \t\n\r\v\f", *s))
        s++;
    if (!digits || *s)
        return -1;
    if (big)
        return -2;
    *out = neg ? (ft_i64)(0 - v) : (ft_i64)v;
    return 0;
}

/* translate(): every NAME a scalar global the image has (the compiler puts
   in only those in use), then global_values(): every integer one a number.
   0, or 1 after a message. */
int rt_find_globals(const ft_prog *p, gdef *g, int n)
{
    for (int i = 0; i < n; i++) {
        for (uint32_t k = 0; k < p->nglobals && g[i].global < 0; k++) {
            const char *name = ft_prog_str(p, p->globals[k].name);
            if (strlen(name) == g[i].len && memcmp(name, g[i].name, g[i].len) == 0 && !p->globals[k].nkeys)
                g[i].global = (int)k;
        }
        if (g[i].global < 0) {
            fprintf(stderr, "error: -G %.*s: the script has no scalar global '%.*s' in use\n", (int)g[i].len,
                    g[i].name, (int)g[i].len, g[i].name);
            return 1;
        }
    }
    for (int i = 0; i < n; i++) {
        ft_i64 v;
        int rc = p->globals[g[i].global].vtype == FT_T_STR ? 0 : py_int(g[i].value, &v);
        if (rc)
            fprintf(stderr, "error: -G %.*s: '%s' %s\n", (int)g[i].len, g[i].name, g[i].value,
                    rc == -2 ? "is out of range (64-bit integers)" : "is not a number");
        if (rc)
            return 1;
    }
    return 0;
}

/* native.py set_global, before the begin probes */
int rt_set_globals(ft_vm *vm, const ft_prog *p, const gdef *g, int n)
{
    for (int i = 0; i < n; i++) {
        ft_i64 v = 0;
        int str = p->globals[g[i].global].vtype == FT_T_STR;
        if (!str)
            py_int(g[i].value, &v);
        if ((str ? ft_vm_set_global_str(vm, g[i].global, g[i].value) : ft_vm_set_global_int(vm, g[i].global, v))
            != FT_OK) {
            fprintf(stderr, "error: global %d is not a scalar of that type\n", g[i].global);
            return 1;
        }
    }
    return 0;
}
