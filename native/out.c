/* Output sink: script output is collected in one preallocated buffer and
 * written to stdout or the -o file when the buffer fills or at flush, so the
 * per-event path makes no system call unless the buffer is full. */
#include "ftstap.h"
#include "out.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int write_all(int fd, const char *p, ft_i64 n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, (size_t)n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return FT_EIO;
        }
        p += k;
        n -= k;
    }
    return FT_OK;
}

int ft_out_flush(ft_out *o)
{
    if (o->len > 0 && !o->failed && write_all(o->fd, o->buf, o->len) != FT_OK)
        o->failed = 1;
    o->len = 0;
    return o->failed ? FT_EIO : FT_OK;
}

int ft_out_write(ft_out *o, const char *p, ft_i64 n)
{
    while (n > 0) {
        if (o->len == o->cap && ft_out_flush(o) != FT_OK)
            return FT_EIO;
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

int ft_out_free(ft_out *o)
{
    if (!o)
        return FT_OK;
    int rc = ft_out_flush(o);
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
