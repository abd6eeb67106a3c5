/* Output sink and the writer that printf and histogram printing share.
 * Include "ftstap.h" before this header (or let it do so). */
#ifndef FT_OUT_H
#define FT_OUT_H
#ifndef FTSTAP_H_INCLUDED
#include "ftstap.h"
#endif
#include <stdint.h>
#include <string.h>

/* Buffered writer to a file descriptor; the buffer is allocated once. */
struct ft_out {
    int fd;
    int failed;          /* a write failed: keep dropping output, report FT_EIO */
    int err;             /* errno of the failed write (EPIPE: the reader went away) */
    char *buf;
    ft_i64 len, cap;
    struct ft_bulk *bulk;  /* -b: one framed sink per CPU instead of fd (out.c) */
};

/* Where formatted bytes go: a bounded string (out == NULL; bytes past
 * cap-1 are counted but dropped, like snprintf) or an output sink. */
typedef struct ft_wr {
    char *buf;
    ft_i64 cap;
    ft_i64 len;         /* bytes stored in buf (string mode) */
    ft_i64 total;       /* bytes produced, stored or not */
    ft_out *out;
} ft_wr;

void ft_wr_init_str(ft_wr *w, char *buf, ft_i64 cap);
void ft_wr_init_out(ft_wr *w, ft_out *o);
void ft_wr_fill(ft_wr *w, char c, ft_i64 n);

/* Inline: sprintf() into a string calls this a few times per directive. */
static inline void ft_wr_bytes(ft_wr *w, const char *p, ft_i64 n)
{
    if (n <= 0)
        return;
    w->total += n;
    if (w->out) {
        ft_out_write(w->out, p, n);
        return;
    }
    ft_i64 room = w->cap - 1 - w->len;   /* keep one byte for the NUL */
    if (room <= 0)
        return;
    if (n > room)
        n = room;
    memcpy(w->buf + w->len, p, (size_t)n);
    w->len += n;
}
/* NUL-terminate a string writer; returns the bytes kept. */
ft_i64 ft_wr_finish(ft_wr *w);

static inline void ft_wr_char(ft_wr *w, char c) { ft_wr_bytes(w, &c, 1); }

#endif
