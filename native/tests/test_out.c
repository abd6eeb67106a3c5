/* Output sink: buffering, flush on full buffer and on demand, printf and
 * histogram printing through the sink, and write errors. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "ftstap.h"
#include "out.h"
#include "check.h"

static char got[65536];

static ft_i64 drain(int fd)
{
    ft_i64 n = 0, k;
    while ((k = read(fd, got + n, sizeof got - 1 - n)) > 0)
        n += k;
    got[n] = 0;
    return n;
}

static void test_buffering(void)
{
    int p[2];
    CHECK_EQ(pipe(p), 0);
    ft_out *o = ft_out_new(p[1], 8);
    CHECK_EQ(ft_out_write(o, "Hello", 5), FT_OK);
    CHECK_EQ(ft_out_pending(o), 5);                 /* nothing written yet */
    CHECK_EQ(ft_out_write(o, "World, longer than the buffer", 29), FT_OK);
    CHECK(ft_out_pending(o) < 8);                   /* full buffers were written */
    ft_fmt *f = ft_fmt_parse("[%d:%s]", NULL);
    ft_val a[] = {{-12, NULL, 0}, {0, "abc", -1}};
    CHECK_EQ(ft_fmt_print(f, a, 2, o), FT_OK);
    ft_fmt_free(f);
    CHECK_EQ(ft_out_flush(o), FT_OK);
    CHECK_EQ(ft_out_pending(o), 0);

    ft_stat_cfg cfg;
    ft_stat_cfg_init(&cfg, FT_HIST_LINEAR, 0, 0, 1, 0);
    ft_stat *st = ft_stat_new(&cfg);
    ft_stat_add(st, 0);
    CHECK_EQ(ft_out_hist(o, st, FT_HIST_ELISION), FT_OK);
    ft_stat_free(st);
    CHECK_EQ(ft_out_free(o), FT_OK);                /* flushes what is left */
    close(p[1]);
    drain(p[0]);
    close(p[0]);
    CHECK_STR(got, "HelloWorld, longer than the buffer[-12:abc]"
                   "value |-------------------------------------------------- count\n"
                   "    0 |@                                                  1\n"
                   "\n");
}

static void test_large_output(void)
{
    /* many small writes through a small buffer arrive complete and in order */
    int p[2];
    CHECK_EQ(pipe(p), 0);
    ft_out *o = ft_out_new(p[1], 100);
    for (int i = 0; i < 1000; i++)
        ft_out_write(o, "ABCDEFGHIJ" + i % 10, 1);
    ft_out_free(o);
    close(p[1]);
    CHECK_EQ(drain(p[0]), 1000);
    close(p[0]);
    for (int i = 0; i < 1000; i++)
        CHECK_EQ(got[i], "ABCDEFGHIJ"[i % 10]);
}

static void test_write_error(void)
{
    ft_out *o = ft_out_new(-1, 4);                  /* EBADF */
    CHECK_EQ(ft_out_write(o, "ab", 2), FT_OK);      /* still buffered */
    CHECK_EQ(ft_out_write(o, "cdef", 4), FT_EIO);
    CHECK_EQ(ft_out_flush(o), FT_EIO);
    CHECK_EQ(ft_out_free(o), FT_EIO);
}

/* One stap-merge frame: magic, sequence, length (host order), payload. */
static ft_i64 frame(char *at, uint32_t seq, const char *text)
{
    uint32_t len = (uint32_t)strlen(text);
    memcpy(at, "\xF0\x9F\xA9\xBA", 4);
    memcpy(at + 4, &seq, 4);
    memcpy(at + 8, &len, 4);
    memcpy(at + 12, text, len);
    return 12 + len;
}

static void test_bulk(void)
{
    /* -b: output is routed by the CPU it is written for, one message per
       run of one CPU's output, sequence numbers shared by all the files */
    int p0[2], p2[2];
    CHECK_EQ(pipe(p0), 0);
    CHECK_EQ(pipe(p2), 0);
    int fds[3] = {p0[1], -1, p2[1]};
    ft_i64 cpu = 0;
    ft_out *o = ft_out_new(-1, 64);                 /* its own fd is never written under -b */
    CHECK_EQ(ft_out_set_bulk(o, fds, 3, &cpu), FT_OK);
    CHECK_EQ(ft_out_set_bulk(o, fds, 3, &cpu), FT_EINVAL);
    ft_out_write(o, "a0\n", 3);
    cpu = 2;
    ft_out_write(o, "b2\n", 3);
    ft_out_write(o, "c2\n", 3);
    CHECK_EQ(ft_out_pending(o), 6);                 /* framed only when the CPU changes or at flush */
    cpu = 0;
    ft_out_write(o, "d0\n", 3);
    CHECK_EQ(ft_out_flush(o), FT_OK);
    ft_out_write(o, "e0\n", 3);
    CHECK_EQ(ft_out_free(o), FT_OK);
    close(p0[1]);
    close(p2[1]);
    char want[256];
    ft_i64 n = frame(want, 1, "a0\n");
    n += frame(want + n, 3, "d0\n");
    n += frame(want + n, 4, "e0\n");
    CHECK_MEM(got, drain(p0[0]), want, n);
    n = frame(want, 2, "b2\nc2\n");
    CHECK_MEM(got, drain(p2[0]), want, n);
    close(p0[0]);
    close(p2[0]);

    int none[2] = {-1, -1};
    o = ft_out_new(-1, 64);
    CHECK_EQ(ft_out_set_bulk(o, none, 2, &cpu), FT_EINVAL);   /* no file at all */
    ft_out_free(o);
}

int main(void)
{
    test_buffering();
    test_large_output();
    test_write_error();
    test_bulk();
    CHECK_DONE();
}
