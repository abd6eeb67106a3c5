/* Output sink: script output is collected in one preallocated buffer and
 * written to stdout or the -o file when the buffer fills or at flush, so the
 * per-event path makes no system call unless the buffer is full.
 *
 * -b (bulk mode) routes it to one file per CPU instead, framed the way
 * staprun (SystemTap >= 5.0, runtime/print_flush.c + staprun/relay.c)
 * writes bulk files for stap-merge: each message is
 *     struct _stp_trace { char magic[4]; uint32_t sequence, pdu_len; }
 * in host byte order, magic F0 9F A9 BA, then pdu_len bytes of output.
 * Sequence numbers count from 1 across all the files, in the order the
 * output was produced, so stap-merge restores the single-stream order.
 * A message is the output buffered for one CPU: it ends when output for
 * another CPU starts, at a flush, or when the buffer fills.  Each CPU's
 * framed messages collect in that CPU's own preallocated sink, written to
 * its file when full and at every flush of the main sink.
 *
 * -S SIZE[,N] and switch_file() rotate the single stream through files
 * (struct ft_rotate, named as outfile.c says): the buffer is written to the
 * current file up to its last whole line that fits, then the rest goes to
 * the next file; switch_file() takes effect at the next output, as staprun
 * switches at its next message. */
#define _GNU_SOURCE 1   /* sched_getcpu, memrchr */
#include "ftstap.h"
#include "out.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STAP_TRACE_MAGIC "\xF0\x9F\xA9\xBA"
#define FRAME_HEADER 12

struct ft_bulk {
    ft_out **sink;          /* per CPU id; NULL where the CPU has no file */
    ft_out *first;          /* the lowest CPU's: output for an unknown CPU */
    int n;
    const ft_i64 *cpu_of;   /* the CPU output is written for now */
    ft_i64 cpu;             /* the CPU whose output the main buffer holds */
    uint32_t seq;           /* sequence number of the last message */
};

struct ft_rotate {
    char *pattern;          /* -o FILE, strftime not yet applied */
    ft_i64 limit;           /* -S: bytes a file may hold (0: switch_file() only) */
    int keep;               /* -S ...,N: files kept (0: all) */
    long index;             /* of the current file */
    ft_i64 written;         /* bytes in the current file */
    int requested;          /* switch_file() called */
    int own_fd;             /* fd is a rotation file (the first one may be the caller's) */
    time_t *opened;         /* keep entries: when file i % keep was opened (its name's time) */
};

ft_out *ft_out_new(int fd, ft_i64 bufsize)
{
    if (bufsize <= 0)
        bufsize = 1 << 16;
    ft_out *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->buf = malloc((size_t)bufsize);
    if (!o->buf) {
        free(o);
        return NULL;
    }
    o->fd = fd;
    o->cap = bufsize;
    return o;
}

static int write_all(int fd, const char *p, ft_i64 n, int *err)
{
    while (n > 0) {
        ssize_t k = write(fd, p, (size_t)n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            *err = errno;
            return FT_EIO;
        }
        p += k;
        n -= k;
    }
    return FT_OK;
}

/* -b: the sink of a CPU; a CPU without a file (offline when the session
   started, or -1) uses the file of the CPU ftstap runs on, else the first. */
static ft_out *sink_of(const struct ft_bulk *b, ft_i64 cpu)
{
    if (cpu >= 0 && cpu < b->n && b->sink[cpu])
        return b->sink[cpu];
    int here = sched_getcpu();
    return here >= 0 && here < b->n && b->sink[here] ? b->sink[here] : b->first;
}

/* The next file of the rotation; the oldest goes when only keep may stay. */
static int next_file(ft_out *o)
{
    struct ft_rotate *r = o->rot;
    char path[4096];
    time_t now = time(NULL);
    long index = r->index + 1;
    if (r->keep && index >= r->keep &&
        ft_output_name(path, sizeof path, r->pattern, r->opened[(index - r->keep) % r->keep],
                       index - r->keep) == FT_OK)
        ft_output_remove(path);
    int fd = -1;
    if (ft_output_name(path, sizeof path, r->pattern, now, index) != FT_OK)
        snprintf(o->why, sizeof o->why, "-o '%s': invalid FILE name format", r->pattern);
    else
        fd = ft_output_open(path, o->why, sizeof o->why);
    if (fd < 0) {
        o->failed = 1;
        o->err = EIO;
        return FT_EIO;
    }
    if (r->own_fd)
        close(o->fd);
    o->fd = fd;
    r->own_fd = 1;
    r->index = index;
    r->written = 0;
    if (r->keep)
        r->opened[index % r->keep] = now;
    return FT_OK;
}

/* Write n bytes to the rotation's files: switch first if switch_file()
   asked; before a file would pass the limit, end it at the last whole line
   that fits (a line longer than a whole file goes alone into a new one). */
static void rotate_write(ft_out *o, const char *p, ft_i64 n)
{
    struct ft_rotate *r = o->rot;
    if (r->requested) {
        r->requested = 0;
        if (next_file(o) != FT_OK)
            return;
    }
    while (r->limit && r->written + n > r->limit) {
        ft_i64 room = r->limit - r->written, cut = 0;
        if (room > 0) {
            const char *nl = memrchr(p, '\n', (size_t)(room < n ? room : n));
            cut = nl ? nl - p + 1 : 0;
        }
        if (cut == 0 && r->written == 0)
            cut = n;                    /* nothing whole fits an empty file: it takes the line */
        if (cut && write_all(o->fd, p, cut, &o->err) != FT_OK) {
            o->failed = 1;
            return;
        }
        r->written += cut;
        p += cut;
        n -= cut;
        if (n == 0 || next_file(o) != FT_OK)
            return;
    }
    if (write_all(o->fd, p, n, &o->err) != FT_OK)
        o->failed = 1;
    r->written += n;
}

/* Hand the buffered bytes on: to the fd, or (-b) as one message to the
   sink of the CPU they were written for. */
static void spill(ft_out *o)
{
    if (o->len > 0 && !o->failed) {
        if (o->rot) {
            rotate_write(o, o->buf, o->len);
        } else if (!o->bulk) {
            if (write_all(o->fd, o->buf, o->len, &o->err) != FT_OK)
                o->failed = 1;
        } else {
            ft_out *s = sink_of(o->bulk, o->bulk->cpu);
            uint32_t seq = ++o->bulk->seq, len = (uint32_t)o->len;
            char h[FRAME_HEADER];
            memcpy(h, STAP_TRACE_MAGIC, 4);
            memcpy(h + 4, &seq, 4);
            memcpy(h + 8, &len, 4);
            if (ft_out_write(s, h, FRAME_HEADER) != FT_OK || ft_out_write(s, o->buf, o->len) != FT_OK) {
                o->failed = 1;
                o->err = s->err;
            }
        }
    }
    o->len = 0;
}

int ft_out_flush(ft_out *o)
{
    spill(o);
    for (int i = 0; o->bulk && i < o->bulk->n; i++)
        if (o->bulk->sink[i] && ft_out_flush(o->bulk->sink[i]) != FT_OK) {
            o->failed = 1;
            o->err = o->bulk->sink[i]->err;
        }
    return o->failed ? FT_EIO : FT_OK;
}

/* The buffer is full: under -S, write its whole lines and keep the
   unfinished one for later, so that files end at line ends. */
static void spill_full(ft_out *o)
{
    const char *nl = o->rot && o->rot->limit ? memrchr(o->buf, '\n', (size_t)o->len) : NULL;
    ft_i64 keep = nl ? o->len - (nl - o->buf + 1) : 0;
    if (keep == 0 || o->failed) {
        spill(o);
        return;
    }
    rotate_write(o, o->buf, o->len - keep);
    memmove(o->buf, o->buf + o->len - keep, (size_t)keep);
    o->len = keep;
}

int ft_out_write(ft_out *o, const char *p, ft_i64 n)
{
    if (o->bulk && *o->bulk->cpu_of != o->bulk->cpu) {   /* output for another CPU */
        spill(o);
        o->bulk->cpu = *o->bulk->cpu_of;
    }
    while (n > 0) {
        if (o->len == o->cap) {
            spill_full(o);
            if (o->failed)
                return FT_EIO;
        }
        ft_i64 k = o->cap - o->len;
        if (k > n)
            k = n;
        memcpy(o->buf + o->len, p, (size_t)k);
        o->len += k;
        p += k;
        n -= k;
    }
    return o->failed ? FT_EIO : FT_OK;
}

ft_i64 ft_out_pending(const ft_out *o) { return o->len; }

static void free_bulk(struct ft_bulk *b)
{
    if (!b)
        return;
    for (int i = 0; b->sink && i < b->n; i++)
        ft_out_free(b->sink[i]);
    free(b->sink);
    free(b);
}

int ft_out_set_bulk(ft_out *o, const int *fds, int n, const ft_i64 *cpu_of)
{
    if (o->bulk || n <= 0 || !cpu_of)
        return FT_EINVAL;
    struct ft_bulk *b = calloc(1, sizeof *b);
    if (!b || !(b->sink = calloc((size_t)n, sizeof *b->sink))) {
        free(b);
        return FT_ENOMEM;
    }
    b->n = n;
    for (int i = 0; i < n; i++) {
        if (fds[i] < 0)
            continue;
        if (!(b->sink[i] = ft_out_new(fds[i], o->cap))) {
            free_bulk(b);
            return FT_ENOMEM;
        }
        if (!b->first)
            b->first = b->sink[i];
    }
    if (!b->first) {
        free_bulk(b);
        return FT_EINVAL;
    }
    ft_out_flush(o);            /* what came before goes where it was meant to */
    b->cpu_of = cpu_of;
    b->cpu = *cpu_of;
    o->bulk = b;
    return FT_OK;
}

int ft_out_set_rotation(ft_out *o, const char *pattern, ft_i64 limit, int keep, char *err, int errlen)
{
    if (o->bulk || o->rot || limit < 0 || keep < 0 || !pattern || !*pattern) {
        snprintf(err, (size_t)errlen, "no output file to rotate");
        return FT_EINVAL;
    }
    struct ft_rotate *r = calloc(1, sizeof *r);
    if (!r || !(r->pattern = strdup(pattern)) || (keep && !(r->opened = calloc((size_t)keep, sizeof *r->opened)))) {
        if (r)
            free(r->pattern);
        free(r);
        snprintf(err, (size_t)errlen, "out of memory");
        return FT_ENOMEM;
    }
    r->limit = limit;
    r->keep = keep;
    ft_out_flush(o);                    /* what came before stays where it was */
    o->rot = r;
    if (limit > 0) {                    /* -S: FILE.0 first */
        char path[4096];
        time_t now = time(NULL);
        int fd = -1;
        if (ft_output_name(path, sizeof path, pattern, now, 0) != FT_OK)
            snprintf(err, (size_t)errlen, "-o '%s': invalid FILE name format", pattern);
        else
            fd = ft_output_open(path, err, (size_t)errlen);
        if (fd < 0) {
            o->rot = NULL;
            free(r->opened);
            free(r->pattern);
            free(r);
            return FT_EIO;
        }
        o->fd = fd;
        r->own_fd = 1;
        if (keep)
            r->opened[0] = now;
    }
    return FT_OK;
}

void ft_out_switch(ft_out *o)
{
    if (!o->rot)
        return;
    spill(o);                   /* what was printed before stays in this file */
    o->rot->requested = 1;
}

int ft_out_free(ft_out *o)
{
    if (!o)
        return FT_OK;
    int rc = ft_out_flush(o);
    if (o->rot) {
        if (o->rot->own_fd)
            close(o->fd);
        free(o->rot->opened);
        free(o->rot->pattern);
        free(o->rot);
    }
    free_bulk(o->bulk);
    free(o->buf);
    free(o);
    return rc;
}

/* ---- writer ---- */

void ft_wr_init_str(ft_wr *w, char *buf, ft_i64 cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = w->total = 0;
    w->out = NULL;
}

void ft_wr_init_out(ft_wr *w, ft_out *o)
{
    w->buf = NULL;
    w->cap = 0;
    w->len = w->total = 0;
    w->out = o;
}

void ft_wr_fill(ft_wr *w, char c, ft_i64 n)
{
    char chunk[64];
    memset(chunk, c, sizeof chunk);
    while (n > 0) {
        ft_i64 k = n < (ft_i64)sizeof chunk ? n : (ft_i64)sizeof chunk;
        ft_wr_bytes(w, chunk, k);
        n -= k;
    }
}

ft_i64 ft_wr_finish(ft_wr *w)
{
    if (!w->out && w->cap > 0)
        w->buf[w->len] = '\0';
    return w->len;
}
