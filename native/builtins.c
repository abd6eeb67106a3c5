/* Builtin functions: what stap's tapsets implement in embedded C, here in
 * C once.  Codegen calls them by number (CALLB); Python finds the number by
 * name through ft_builtin_name().  Each reads its arguments in place on the
 * VM stacks (ia: integers, sa: strings, in argument order per type) and
 * writes an integer to *iret or a string to *sret. */
#include "ftstap.h"
#include "vm.h"
#include "evfuncs.h"
#include "backtrace.h"
#include "tapfuncs.h"
#include "procfs.h"
#include "nsmap.h"
#include "rematch.h"

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

/* strtol(str, base) as the kernel's simple_strtol that stap calls: no
   leading blanks (" 1" is 0), an optional '-', a 0x prefix for base 16 or
   0, a leading 0 for octal with base 0; digits up to the first non-digit. */
B(strtol)
{
    UNUSED;
    ft_i64 base = ia[0];
    if (base != 0 && (base < 2 || base > 36))
        return ft_vm_fail(vm, "invalid base %lld", (long long)base);
    const char *s = sa[0]->s;
    int neg = *s == '-';
    s += neg;
    if (base == 0)
        base = s[0] == '0' ? ((s[1] | 0x20) == 'x' && isxdigit((unsigned char)s[2]) ? 16 : 8) : 10;
    if (base == 16 && s[0] == '0' && (s[1] | 0x20) == 'x' && isxdigit((unsigned char)s[2]))
        s += 2;
    uint64_t v = 0;
    for (;; s++) {
        int c = (unsigned char)*s, d = isdigit(c) ? c - '0' : isalpha(c) ? (c | 0x20) - 'a' + 10 : 99;
        if (d >= base)
            break;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    *iret = neg ? (ft_i64)(0 - v) : (ft_i64)v;
    return 0;
}

/* strpos(haystack, needle): byte index of the first needle, -1 if none ("" is at 0) */
B(strpos)
{
    UNUSED;
    const char *p = strstr(sa[0]->s, sa[1]->s);
    *iret = p ? (ft_i64)(p - sa[0]->s) : -1;
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

/* How text_str shows one byte: a C escape, octal for other non-printables. */
static int esc_byte(unsigned char c, char *t)
{
    static const char from[] = "\n\t\r\v\f\a\b\"\\", to[] = "ntrvfab\"\\";
    const char *e = c ? strchr(from, c) : NULL;
    if (e) {
        t[0] = '\\';
        t[1] = to[e - from];
        return 2;
    }
    if (isprint(c)) {
        t[0] = (char)c;
        return 1;
    }
    t[0] = '\\';
    t[1] = (char)('0' + (c >> 6));
    t[2] = (char)('0' + ((c >> 3) & 7));
    t[3] = (char)('0' + (c & 7));
    return 4;
}

/* stap's text_strn(str, len, quoted): the escaped text in at most len bytes
 * (0: MAXSTRINGLEN - 1); an escape is never cut.  Quoted: between '"', and
 * when the whole quoted text does not fit, as much as fits in len - 5 bytes
 * followed by '"...' (so the result is still at most len bytes).  Also the
 * quoting of user_string_n_quoted(addr, n, outlen). */
void ft_text_strn(ft_vm *vm, const char *in, ft_i64 inlen, ft_i64 len, int quoted, ft_str *out)
{
    ft_i64 cap = ft_vm_limits(vm)->maxstringlen - 1, n = 0, total = 0, budget, used = 0;
    char t[4];
    if (len <= 0 || len > cap)
        len = cap;
    inlen = (ft_i64)strnlen(in, inlen < 0 ? (size_t)cap : (size_t)inlen);   /* C string: stops at NUL */
    for (ft_i64 i = 0; i < inlen; i++)
        total += esc_byte((unsigned char)in[i], t);
    int dots = 0;
    if (!quoted)
        budget = len;
    else if (total + 2 <= len)
        budget = total;
    else {
        budget = len - 5 > 0 ? len - 5 : 0;
        dots = 1;
    }
    if (quoted)
        out->s[n++] = '"';
    for (ft_i64 i = 0; i < inlen; i++) {
        int k = esc_byte((unsigned char)in[i], t);
        if (used + k > budget)
            break;
        memcpy(out->s + n, t, (size_t)k);
        n += k;
        used += k;
    }
    if (quoted)
        out->s[n++] = '"';
    if (dots) {
        memcpy(out->s + n, "...", 3);
        n += 3;
    }
    out->s[n] = '\0';
    out->len = (uint32_t)n;
}
B(text_str) { UNUSED; ft_text_strn(vm, sa[0]->s, sa[0]->len, 0, 0, sret); return 0; }
B(text_strn) { UNUSED; ft_text_strn(vm, sa[0]->s, sa[0]->len, ia[0], ia[1] != 0, sret); return 0; }
B(string_quoted) { UNUSED; ft_text_strn(vm, sa[0]->s, sa[0]->len, 0, 1, sret); return 0; }

/* print_char(c): one byte to the output */
B(print_char)
{
    UNUSED;
    char c = (char)ia[0];
    ft_out_write(vm->out, &c, 1);
    return 0;
}

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

/* The time functions answer for the moment of the event (its record's time
   stamp, CLOCK_MONOTONIC) in an event handler, and for the moment the probe
   fired in begin/end/timer probes (loop.c stamps those contexts). */
ft_i64 ft_vm_mono_ns(const ft_vm *vm) { return vm->ctx.time_ns > 0 ? vm->ctx.time_ns : now_ns(CLOCK_MONOTONIC); }
static ft_i64 realtime_ns(ft_vm *vm)
{
    if (vm->ctx.time_ns <= 0)
        return now_ns(CLOCK_REALTIME);
    /* the wall clock's offset, read once per event time: two clock reads
       differ by a few ns, and a handler must never see its time go back */
    if (vm->rt_offset_for != vm->ctx.time_ns) {
        vm->rt_offset = now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC);
        vm->rt_offset_for = vm->ctx.time_ns;
    }
    return vm->ctx.time_ns + vm->rt_offset;
}
B(gettimeofday_s) { UNUSED; *iret = realtime_ns(vm) / 1000000000; return 0; }
B(gettimeofday_ms) { UNUSED; *iret = realtime_ns(vm) / 1000000; return 0; }
B(gettimeofday_us) { UNUSED; *iret = realtime_ns(vm) / 1000; return 0; }
B(gettimeofday_ns) { UNUSED; *iret = realtime_ns(vm); return 0; }
B(local_clock_ns) { UNUSED; *iret = ft_vm_mono_ns(vm); return 0; }
B(local_clock_us) { UNUSED; *iret = ft_vm_mono_ns(vm) / 1000; return 0; }
B(local_clock_ms) { UNUSED; *iret = ft_vm_mono_ns(vm) / 1000000; return 0; }
B(local_clock_s) { UNUSED; *iret = ft_vm_mono_ns(vm) / 1000000000; return 0; }
B(get_cycles) { UNUSED; *iret = ft_vm_mono_ns(vm); return 0; }   /* no cycle counter: nanoseconds */

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
    ENTRY(strpos, "ss", 'i'),
    ENTRY(print_char, "i", 'v'),
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
    FT_BT_BUILTINS            /* backtraces: native/backtrace.c */
    FT_TAP_BUILTINS           /* tapset support: native/tapfuncs.h */
    FT_PROCFS_BUILTINS        /* procfs probes' $value: native/procfs.c */
    FT_NS_BUILTINS            /* ids in the target namespaces: native/nsmap.c */
    FT_RE_BUILTINS            /* =~ and matched(): native/rematch.c */
    FT_OUTFILE_BUILTINS       /* switch_file(): native/outfile.c */
    FT_LINE_BUILTINS          /* usymfileline() & co: native/backtrace.c, dwline.c */
};
const int ft_nbuiltins = (int)(sizeof ft_builtins / sizeof ft_builtins[0]);

int ft_builtin_count(void) { return ft_nbuiltins; }
const char *ft_builtin_name(int b) { return b >= 0 && b < ft_nbuiltins ? ft_builtins[b].name : NULL; }
const char *ft_builtin_args(int b) { return b >= 0 && b < ft_nbuiltins ? ft_builtins[b].args : NULL; }
int ft_builtin_ret(int b) { return b >= 0 && b < ft_nbuiltins ? ft_builtins[b].ret : 0; }
