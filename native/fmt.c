/* stap's printf semantics.  The format is parsed once (ft_fmt_parse) into a
 * directive list; ft_fmt_write walks it with the argument values, writing
 * into a bounded string or an output sink without allocating.
 *
 * Numbers follow the kernel-style formatting stap inherits: 64-bit values,
 * '#' gives 0x / 0 prefixes, '0' padding goes after the sign and prefix. */
#include "ftstap.h"
#include "fmt.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- parsing ---- */

static int conv_argtype(char c)
{
    switch (c) {
    case 'd': case 'i': case 'u': case 'o': case 'x': case 'X':
    case 'p': case 'c': case 'b':
        return FT_T_INT;
    case 's': case 'm': case 'M':
        return FT_T_STR;
    default:
        return 0;
    }
}

/* Parse "%[flags][width][.prec][len]conv" at fmt[i] == '%'; returns the index
 * after it or -1. */
static int parse_conv(const char *fmt, int i, ft_dir *d)
{
    memset(d, 0, sizeof *d);
    d->width = d->prec = FT_FMT_NONE;
    for (i++;; i++) {
        switch (fmt[i]) {
        case '-': d->flags |= FT_F_LEFT; continue;
        case '+': d->flags |= FT_F_PLUS; continue;
        case ' ': d->flags |= FT_F_SPACE; continue;
        case '#': d->flags |= FT_F_SPECIAL; continue;
        case '0': d->flags |= FT_F_ZEROPAD; continue;
        }
        break;
    }
    if (fmt[i] == '*') {
        d->width = FT_FMT_STAR;
        i++;
    } else if (isdigit((unsigned char)fmt[i])) {
        ft_i64 v = 0;
        while (isdigit((unsigned char)fmt[i]))
            if ((v = v * 10 + (fmt[i++] - '0')) > 1 << 20)
                return -1;
        d->width = (int32_t)v;
    }
    if (fmt[i] == '.') {
        i++;
        if (fmt[i] == '*') {
            d->prec = FT_FMT_STAR;
            i++;
        } else {
            ft_i64 v = 0;
            while (isdigit((unsigned char)fmt[i]))
                if ((v = v * 10 + (fmt[i++] - '0')) > 1 << 20)
                    return -1;
            d->prec = (int32_t)v;
        }
    }
    while (fmt[i] && strchr("hlLqjzZt", fmt[i]))   /* length modifiers: all values are 64-bit */
        i++;
    if (!conv_argtype(fmt[i]))
        return -1;
    d->conv = fmt[i];
    return i + 1;
}

ft_fmt *ft_fmt_parse(const char *fmt, ft_i64 *err_off)
{
    int n = (int)strlen(fmt), nd = 0, na = 0;
    ft_fmt *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    /* at most one directive per byte, at most three arguments per directive */
    f->dirs = calloc((size_t)n + 1, sizeof *f->dirs);
    f->argtypes = calloc((size_t)n + 1, 1);
    f->text = strdup(fmt);
    if (!f->dirs || !f->argtypes || !f->text)
        goto fail;
    for (int i = 0; i < n;) {
        ft_dir *d = &f->dirs[nd];
        if (fmt[i] != '%' || fmt[i + 1] == '%') {
            int start = fmt[i] == '%' ? i + 1 : i;   /* "%%" is a literal '%' */
            int j = fmt[i] == '%' ? i + 2 : i + 1;
            while (j < n && fmt[j] != '%')
                j++;
            memset(d, 0, sizeof *d);
            d->off = start;
            d->len = j - start;
            nd++;
            i = j;
            continue;
        }
        int next = parse_conv(fmt, i, d);
        if (next < 0) {
            if (err_off)
                *err_off = i;
            goto fail;
        }
        if (d->width == FT_FMT_STAR)
            f->argtypes[na++] = FT_T_INT;
        if (d->prec == FT_FMT_STAR)
            f->argtypes[na++] = FT_T_INT;
        f->argtypes[na++] = (uint8_t)conv_argtype(d->conv);
        nd++;
        i = next;
    }
    f->ndirs = nd;
    f->nargs = na;
    return f;
fail:
    ft_fmt_free(f);
    return NULL;
}

void ft_fmt_free(ft_fmt *f)
{
    if (!f)
        return;
    free(f->dirs);
    free(f->argtypes);
    free(f->text);
    free(f);
}

int ft_fmt_nargs(const ft_fmt *f) { return f->nargs; }

int ft_fmt_argtype(const ft_fmt *f, int i)
{
    return i >= 0 && i < f->nargs ? f->argtypes[i] : 0;
}

/* ---- conversions ---- */

int ft_fmt_int(ft_i64 v, char *buf)
{
    char tmp[24];
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    int n = 0, k = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[k++] = '-';
    while (n)
        buf[k++] = tmp[--n];
    buf[k] = '\0';
    return k;
}

static void put_number(ft_wr *w, uint64_t num, int base, int is_signed, int upper,
                       int width, int prec, int flags)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[66], sign = 0;
    int n = 0;

    if (flags & FT_F_LEFT)
        flags &= ~FT_F_ZEROPAD;
    if (is_signed) {
        if ((ft_i64)num < 0) {
            sign = '-';
            num = -num;
        } else if (flags & FT_F_PLUS) {
            sign = '+';
        } else if (flags & FT_F_SPACE) {
            sign = ' ';
        }
        if (sign)
            width--;
    }
    if (flags & FT_F_SPECIAL)
        width -= base == 16 ? 2 : base == 8 ? 1 : 0;
    do {
        tmp[n++] = digits[num % (unsigned)base];
        num /= (unsigned)base;
    } while (num);
    if (prec < n)
        prec = n;
    width -= prec;
    if (!(flags & (FT_F_ZEROPAD | FT_F_LEFT)) && width > 0)
        ft_wr_fill(w, ' ', width);
    if (sign)
        ft_wr_char(w, sign);
    if ((flags & FT_F_SPECIAL) && base == 8)
        ft_wr_char(w, '0');
    if ((flags & FT_F_SPECIAL) && base == 16)
        ft_wr_bytes(w, upper ? "0X" : "0x", 2);
    if ((flags & FT_F_ZEROPAD) && width > 0)
        ft_wr_fill(w, '0', width);
    ft_wr_fill(w, '0', prec - n);
    char out[66];                 /* digits in order, written at once */
    for (int k = 0; k < n; k++)
        out[k] = tmp[n - 1 - k];
    ft_wr_bytes(w, out, n);
    if ((flags & FT_F_LEFT) && width > 0)
        ft_wr_fill(w, ' ', width);
}

/* stap's %p: "0x" and 16 hex digits by default; a wider field is space
 * padded on the left, a '-' or narrower field is zero padded after 0x. */
static void put_pointer(ft_wr *w, uint64_t v, int width, int flags)
{
    const int full = 2 + 16;
    if (width < 0)
        width = full;
    if (!(flags & FT_F_LEFT) && width > full) {
        ft_wr_fill(w, ' ', width - full);
        width = full;
    }
    put_number(w, v, 16, 0, 0, width, -1, FT_F_SPECIAL | FT_F_ZEROPAD);
}

/* Pad `len` bytes of content to `width` (spaces left, or right with '-'). */
static void pad_before(ft_wr *w, ft_i64 len, int width, int flags)
{
    if (!(flags & FT_F_LEFT) && width > len)
        ft_wr_fill(w, ' ', width - len);
}

static void pad_after(ft_wr *w, ft_i64 len, int width, int flags)
{
    if ((flags & FT_F_LEFT) && width > len)
        ft_wr_fill(w, ' ', width - len);
}

/* %#c: a C character-literal escape */
static int char_escape(unsigned char c, char *out)
{
    static const char from[] = "\a\b\f\n\r\t\v'\"\\", to[] = "abfnrtv'\"\\";
    const char *p = c ? strchr(from, c) : NULL;
    if (p) {
        out[0] = '\\';
        out[1] = to[p - from];
        return 2;
    }
    if (isprint(c)) {
        out[0] = (char)c;
        return 1;
    }
    out[0] = '\\';
    out[1] = (char)('0' + (c >> 6));
    out[2] = (char)('0' + ((c >> 3) & 7));
    out[3] = (char)('0' + (c & 7));
    return 4;
}

static void put_char(ft_wr *w, ft_i64 v, int width, int flags)
{
    char buf[4];
    int n = 1;
    buf[0] = (char)v;
    if (flags & FT_F_SPECIAL)
        n = char_escape((unsigned char)v, buf);
    pad_before(w, n, width, flags);
    ft_wr_bytes(w, buf, n);
    pad_after(w, n, width, flags);
}

/* %b: the raw bytes of the integer in host order.  The size is the
 * precision if given, else the width, else 8; with both, the value is
 * NUL-padded to the width. */
static void put_binary(ft_wr *w, ft_i64 v, int width, int prec, int flags)
{
    int size = prec >= 0 ? prec : width > 0 ? width : 8;
    char buf[8];
    if (size != 1 && size != 2 && size != 4)
        size = 8;
    switch (size) {
    case 1: { uint8_t x = (uint8_t)v; memcpy(buf, &x, 1); break; }
    case 2: { uint16_t x = (uint16_t)v; memcpy(buf, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(buf, &x, 4); break; }
    default: memcpy(buf, &v, 8); break;
    }
    int pad = prec >= 0 && width > size ? width - size : 0;
    if (!(flags & FT_F_LEFT))
        ft_wr_fill(w, '\0', pad);
    ft_wr_bytes(w, buf, size);
    if (flags & FT_F_LEFT)
        ft_wr_fill(w, '\0', pad);
}

static ft_i64 str_len(const ft_val *a)
{
    if (!a->s)
        return 0;
    return a->n >= 0 ? a->n : (ft_i64)strlen(a->s);
}

static void put_string(ft_wr *w, const ft_val *a, int width, int prec, int flags)
{
    ft_i64 n = str_len(a);
    if (prec >= 0 && n > prec)
        n = prec;
    pad_before(w, n, width, flags);
    ft_wr_bytes(w, a->s, n);
    pad_after(w, n, width, flags);
}

/* %m raw bytes / %M hex dump of the first `prec` (default 1) bytes */
static void put_memory(ft_wr *w, const ft_val *a, int hex, int width, int prec, int flags)
{
    static const char hx[] = "0123456789abcdef";
    ft_i64 n = prec >= 0 ? prec : 1, avail = str_len(a);
    if (n > avail)
        n = avail;
    ft_i64 outlen = hex ? 2 * n : n;
    pad_before(w, outlen, width, flags);
    if (!hex) {
        ft_wr_bytes(w, a->s, n);
    } else {
        for (ft_i64 i = 0; i < n; i++) {
            unsigned char c = (unsigned char)a->s[i];
            char two[2] = {hx[c >> 4], hx[c & 15]};
            ft_wr_bytes(w, two, 2);
        }
    }
    pad_after(w, outlen, width, flags);
}

void ft_fmt_write(const ft_fmt *f, const ft_val *args, int nargs, ft_wr *w)
{
    static const ft_val none = {0, "", 0};
    int ai = 0;
#define NEXT_ARG() (ai < nargs ? &args[ai++] : &none)
    for (int k = 0; k < f->ndirs; k++) {
        const ft_dir *d = &f->dirs[k];
        if (!d->conv) {
            ft_wr_bytes(w, f->text + d->off, d->len);
            continue;
        }
        int flags = d->flags, width = d->width, prec = d->prec;
        if (width == FT_FMT_STAR) {
            ft_i64 v = NEXT_ARG()->i;
            if (v < 0) {              /* a negative '*' width means left-justify */
                flags |= FT_F_LEFT;
                v = -v;
            }
            width = v > 1 << 20 ? 1 << 20 : (int)v;
        }
        if (prec == FT_FMT_STAR) {
            ft_i64 v = NEXT_ARG()->i;
            prec = v < 0 ? FT_FMT_NONE : v > 1 << 20 ? 1 << 20 : (int)v;
        }
        const ft_val *a = NEXT_ARG();
        switch (d->conv) {
        case 'd': case 'i':
            if (width < 0 && prec < 0 && !(flags & (FT_F_PLUS | FT_F_SPACE))) {
                char buf[24];         /* plain %d, the common case */
                ft_wr_bytes(w, buf, ft_fmt_int(a->i, buf));
                break;
            }
            put_number(w, (uint64_t)a->i, 10, 1, 0, width, prec, flags);
            break;
        case 'u':
            put_number(w, (uint64_t)a->i, 10, 0, 0, width, prec, flags);
            break;
        case 'o':
            put_number(w, (uint64_t)a->i, 8, 0, 0, width, prec, flags);
            break;
        case 'x': case 'X':
            put_number(w, (uint64_t)a->i, 16, 0, d->conv == 'X', width, prec, flags);
            break;
        case 'p':
            put_pointer(w, (uint64_t)a->i, width, flags);
            break;
        case 'c':
            put_char(w, a->i, width, flags);
            break;
        case 'b':
            put_binary(w, a->i, width, prec, flags);
            break;
        case 's':
            put_string(w, a, width, prec, flags);
            break;
        case 'm': case 'M':
            put_memory(w, a, d->conv == 'M', width, prec, flags);
            break;
        }
    }
#undef NEXT_ARG
}

ft_i64 ft_fmt_sprint(const ft_fmt *f, const ft_val *args, int nargs, char *buf, ft_i64 cap)
{
    ft_wr w;
    ft_wr_init_str(&w, buf, cap);
    ft_fmt_write(f, args, nargs, &w);
    return ft_wr_finish(&w);
}

int ft_fmt_print(const ft_fmt *f, const ft_val *args, int nargs, ft_out *o)
{
    ft_wr w;
    ft_wr_init_out(&w, o);
    ft_fmt_write(f, args, nargs, &w);
    return o->failed ? FT_EIO : FT_OK;
}
