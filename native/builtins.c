/* Builtin functions: what stap's tapsets implement in embedded C, here in
 * C once.  Codegen calls them by number (CALLB); Python finds the number by
 * name through ft_builtin_name().  Each reads its arguments in place on the
 * VM stacks (ia: integers, sa: strings, in argument order per type) and
 * writes an integer to *iret or a string to *sret. */
#include "ftstap.h"
#include "vm.h"
#include "ring.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#define B(name) static int b_##name(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
#define UNUSED (void)vm, (void)ia, (void)sa, (void)iret, (void)sret

/* ---- strings ---- */

B(strlen) { UNUSED; *iret = sa[0]->len; return 0; }

/* substr(str, start, length): bytes [start, start+length), clipped */
B(substr)
{
    UNUSED;
    ft_i64 n = sa[0]->len, start = ia[0], len = ia[1];
    if (start < 0 || len <= 0 || start >= n)
        return 0;
    if (len > n - start)
        len = n - start;
    ft_str_set(vm, sret, sa[0]->s + start, len);
    return 0;
}

B(isinstr) { UNUSED; *iret = strstr(sa[0]->s, sa[1]->s) != NULL; return 0; }

B(str_replace)
{
    UNUSED;
    const char *src = sa[0]->s, *from = sa[1]->s, *to = sa[2]->s;
    size_t nf = sa[1]->len, nt = sa[2]->len;
    ft_i64 cap = ft_vm_limits(vm)->maxstringlen - 1, n = 0;
    if (nf == 0) {
        ft_str_set(vm, sret, src, sa[0]->len);
        return 0;
    }
    while (*src && n < cap) {
        if (strncmp(src, from, nf) == 0) {
            size_t k = nt;
            if ((ft_i64)k > cap - n)
                k = (size_t)(cap - n);
            memcpy(sret->s + n, to, k);
            n += (ft_i64)k;
            src += nf;
        } else {
            sret->s[n++] = *src++;
        }
    }
    sret->s[n] = '\0';
    sret->len = (uint32_t)n;
    return 0;
}

B(strtol)
{
    UNUSED;
    ft_i64 base = ia[0];
    if (base != 0 && (base < 2 || base > 36))
        return ft_vm_fail(vm, "invalid base %lld", (long long)base);
    *iret = strtoll(sa[0]->s, NULL, (int)base);
    return 0;
}

B(stringat)
{
    UNUSED;
    ft_i64 pos = ia[0];
    if (pos < 0 || pos >= sa[0]->len)
        return ft_vm_fail(vm, "Invalid string position %lld", (long long)pos);
    *iret = (unsigned char)sa[0]->s[pos];
    return 0;
}

B(isdigit) { UNUSED; *iret = isdigit((unsigned char)sa[0]->s[0]) != 0; return 0; }

static void case_map(ft_vm *vm, ft_str *const *sa, ft_str *sret, int up)
{
    ft_str_set(vm, sret, sa[0]->s, sa[0]->len);
    for (uint32_t i = 0; i < sret->len; i++)
        sret->s[i] = (char)(up ? toupper((unsigned char)sret->s[i]) : tolower((unsigned char)sret->s[i]));
}
B(str_upper) { UNUSED; case_map(vm, sa, sret, 1); return 0; }
B(str_lower) { UNUSED; case_map(vm, sa, sret, 0); return 0; }

/* text_str: C-escape non-printable bytes (stap's text_str/string_quoted body) */
static void escape(ft_vm *vm, const ft_str *in, ft_i64 maxin, int quoted, ft_str *out)
{
    ft_i64 cap = ft_vm_limits(vm)->maxstringlen - 1, n = 0;
    ft_i64 lim = maxin >= 0 && maxin < in->len ? maxin : in->len;
    char tmp[8];
    if (quoted && n < cap)
        out->s[n++] = '"';
    for (ft_i64 i = 0; i < lim; i++) {
        unsigned char c = (unsigned char)in->s[i];
        int k = 0;
        switch (c) {
        case '\n': tmp[k++] = '\\'; tmp[k++] = 'n'; break;
        case '\t': tmp[k++] = '\\'; tmp[k++] = 't'; break;
        case '\r': tmp[k++] = '\\'; tmp[k++] = 'r'; break;
        case '\v': tmp[k++] = '\\'; tmp[k++] = 'v'; break;
        case '\f': tmp[k++] = '\\'; tmp[k++] = 'f'; break;
        case '\a': tmp[k++] = '\\'; tmp[k++] = 'a'; break;
        case '\b': tmp[k++] = '\\'; tmp[k++] = 'b'; break;
        case '"': tmp[k++] = '\\'; tmp[k++] = '"'; break;
        case '\\': tmp[k++] = '\\'; tmp[k++] = '\\'; break;
        default:
            if (isprint(c)) {
                tmp[k++] = (char)c;
            } else {
                tmp[k++] = '\\';
                tmp[k++] = (char)('0' + (c >> 6));
                tmp[k++] = (char)('0' + ((c >> 3) & 7));
                tmp[k++] = (char)('0' + (c & 7));
            }
        }
        if (n + k > cap - (quoted ? 1 : 0))
            break;
        memcpy(out->s + n, tmp, (size_t)k);
        n += k;
    }
    if (quoted && n < cap)
        out->s[n++] = '"';
    out->s[n] = '\0';
    out->len = (uint32_t)n;
}
B(text_str) { UNUSED; escape(vm, sa[0], -1, 0, sret); return 0; }
B(text_strn) { UNUSED; escape(vm, sa[0], ia[0] > 0 ? ia[0] : -1, ia[1] != 0, sret); return 0; }
B(string_quoted) { UNUSED; escape(vm, sa[0], -1, 1, sret); return 0; }

/* tokenize(input, delim): a non-empty input starts over; "" continues */
B(tokenize)
{
    UNUSED;
    ft_str *t = vm->tok;
    if (sa[0]->len) {
        ft_str_set(vm, t, sa[0]->s, sa[0]->len);
        vm->tokpos = 0;
    }
    const char *delim = sa[1]->s;
    ft_i64 i = vm->tokpos;
    if (!*delim) {                     /* no delimiters: the whole rest */
        ft_str_set(vm, sret, t->s + i, t->len - i);
        vm->tokpos = t->len;
        return 0;
    }
    while (i < t->len && strchr(delim, t->s[i]))
        i++;
    ft_i64 j = i;
    while (j < t->len && !strchr(delim, t->s[j]))
        j++;
    ft_str_set(vm, sret, t->s + i, j - i);
    vm->tokpos = j < t->len ? j + 1 : j;
    return 0;
}

/* ---- session control and logging ---- */

B(exit) { UNUSED; vm->exit_requested = 1; return 0; }
B(error) { UNUSED; return ft_vm_fail(vm, "%s", sa[0]->s); }
B(warn) { UNUSED; ft_vm_diag(vm, "WARNING", sa[0]->s); return 0; }
B(log)
{
    UNUSED;
    ft_out_write(vm->out, sa[0]->s, sa[0]->len);
    ft_out_write(vm->out, "\n", 1);
    ft_out_flush(vm->out);
    return 0;
}

/* ---- context ---- */

B(pid) { UNUSED; *iret = vm->ctx.pid; return 0; }
B(tid) { UNUSED; *iret = vm->ctx.tid; return 0; }
B(uid) { UNUSED; ft_ctx_need_uid(vm); *iret = vm->ctx.uid; return 0; }
B(cpu) { UNUSED; *iret = vm->ctx.cpu; return 0; }
B(execname) { UNUSED; ft_ctx_need_comm(vm); ft_str_set(vm, sret, vm->ctx.comm, (ft_i64)strnlen(vm->ctx.comm, sizeof vm->ctx.comm)); return 0; }
B(pp)
{
    UNUSED;
    const ft_prog *p = vm->prog;
    const ft_pstr *s = &p->strs[p->probes[vm->ctx.probe].name];
    ft_str_set(vm, sret, s->s, s->len);
    return 0;
}
B(target) { UNUSED; *iret = ft_vm_limits(vm)->target_pid; return 0; }
B(stp_pid) { UNUSED; *iret = vm->self.pid; return 0; }

static ft_i64 now_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (ft_i64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
B(gettimeofday_s) { UNUSED; *iret = now_ns(CLOCK_REALTIME) / 1000000000; return 0; }
B(gettimeofday_ms) { UNUSED; *iret = now_ns(CLOCK_REALTIME) / 1000000; return 0; }
B(gettimeofday_us) { UNUSED; *iret = now_ns(CLOCK_REALTIME) / 1000; return 0; }
B(gettimeofday_ns) { UNUSED; *iret = now_ns(CLOCK_REALTIME); return 0; }
B(local_clock_ns) { UNUSED; *iret = now_ns(CLOCK_MONOTONIC); return 0; }
B(local_clock_us) { UNUSED; *iret = now_ns(CLOCK_MONOTONIC) / 1000; return 0; }
B(local_clock_ms) { UNUSED; *iret = now_ns(CLOCK_MONOTONIC) / 1000000; return 0; }
B(local_clock_s) { UNUSED; *iret = now_ns(CLOCK_MONOTONIC) / 1000000000; return 0; }
B(get_cycles) { UNUSED; *iret = now_ns(CLOCK_MONOTONIC); return 0; }

/* randint(n): uniform in [0, n) from a xorshift generator */
B(randint)
{
    UNUSED;
    if (ia[0] <= 0 || ia[0] > 0xffffffffll)
        return ft_vm_fail(vm, "invalid range");
    uint64_t x = vm->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    vm->rng = x;
    *iret = (ft_i64)(x % (uint64_t)ia[0]);
    return 0;
}

B(abs) { UNUSED; *iret = ia[0] < 0 ? (ft_i64)(0 - (uint64_t)ia[0]) : ia[0]; return 0; }

#define ENTRY(name, args, ret) {#name, args, ret, b_##name}
const ft_builtin ft_builtins[] = {
    ENTRY(strlen, "s", 'i'),
    ENTRY(substr, "sii", 's'),
    ENTRY(isinstr, "ss", 'i'),
    ENTRY(str_replace, "sss", 's'),
    ENTRY(strtol, "si", 'i'),
    ENTRY(stringat, "si", 'i'),
    ENTRY(isdigit, "s", 'i'),
    ENTRY(str_upper, "s", 's'),
    ENTRY(str_lower, "s", 's'),
    ENTRY(text_str, "s", 's'),
    ENTRY(text_strn, "sii", 's'),
    ENTRY(string_quoted, "s", 's'),
    ENTRY(tokenize, "ss", 's'),
    ENTRY(exit, "", 'v'),
    ENTRY(error, "s", 'v'),
    ENTRY(warn, "s", 'v'),
    ENTRY(log, "s", 'v'),
    ENTRY(pid, "", 'i'),
    ENTRY(tid, "", 'i'),
    ENTRY(uid, "", 'i'),
    ENTRY(cpu, "", 'i'),
    ENTRY(execname, "", 's'),
    ENTRY(pp, "", 's'),
    ENTRY(target, "", 'i'),
    ENTRY(stp_pid, "", 'i'),
    ENTRY(gettimeofday_s, "", 'i'),
    ENTRY(gettimeofday_ms, "", 'i'),
    ENTRY(gettimeofday_us, "", 'i'),
    ENTRY(gettimeofday_ns, "", 'i'),
    ENTRY(local_clock_ns, "", 'i'),
    ENTRY(local_clock_us, "", 'i'),
    ENTRY(local_clock_ms, "", 'i'),
    ENTRY(local_clock_s, "", 'i'),
    ENTRY(get_cycles, "", 'i'),
    ENTRY(randint, "i", 'i'),
    ENTRY(abs, "i", 'i'),
    FT_EV_BUILTINS            /* event probes: native/evfuncs.c */
};
const int ft_nbuiltins = (int)(sizeof ft_builtins / sizeof ft_builtins[0]);

int ft_builtin_count(void) { return ft_nbuiltins; }
const char *ft_builtin_name(int b) { return b >= 0 && b < ft_nbuiltins ? ft_builtins[b].name : NULL; }
const char *ft_builtin_args(int b) { return b >= 0 && b < ft_nbuiltins ? ft_builtins[b].args : NULL; }
int ft_builtin_ret(int b) { return b >= 0 && b < ft_nbuiltins ? ft_builtins[b].ret : 0; }
