/* Output sink and the writer that printf and histogram printing share.
 * Include "ftstap.h" before this header (or let it do so). */
#ifndef FT_OUT_H
#define FT_OUT_H
#ifndef FTSTAP_H_INCLUDED
#include "ftstap.h"
#endif
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* Buffered writer to a file descriptor; the buffer is allocated once. */
struct ft_out {
    int fd;
    int failed;          /* a write failed: keep dropping output, report FT_EIO */
    int err;             /* errno of the failed write (EPIPE: the reader went away) */
    char *buf;
    ft_i64 len, cap;
    struct ft_bulk *bulk;  /* -b: one framed sink per CPU instead of fd (out.c) */
    struct ft_rotate *rot; /* -S SIZE[,N] and switch_file(): the files fd goes on to (out.c) */
    char why[320];         /* what failed, when more than err says (the next file could not be opened) */
};

/* -o FILE's rotation (see ft_vm_set_rotation in ftstap.h) */
int ft_out_set_rotation(ft_out *o, const char *pattern, ft_i64 limit, int keep, char *err, int errlen);
/* switch_file(): the next output goes to the next file (no-op without rotation) */
void ft_out_switch(ft_out *o);

/* outfile.c: FILE after strftime(3) at `when`, with ".index" unless index < 0 */
int ft_output_name(char *buf, size_t cap, const char *pattern, time_t when, long index);
/* outfile.c: open (create, truncate) an output file by safefs.open_output's
   rules: the fd, or -1 with err filled */
int ft_output_open(const char *path, char *err, size_t errlen);
/* outfile.c: remove a file the rotation wrote, never a link or another user's file */
void ft_output_remove(const char *path);

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
