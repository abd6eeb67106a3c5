/* Statistics: extractors, stap's integer @variance, histogram buckets and
 * the exact text of printed histograms. */
#include <stdint.h>
#include <stdlib.h>
#include "ftstap.h"
#include "stat.h"
#include "check.h"

static ft_stat *make(int type, ft_i64 start, ft_i64 stop, ft_i64 interval, int shift)
{
    ft_stat_cfg cfg;
    if (ft_stat_cfg_init(&cfg, type, start, stop, interval, shift) != FT_OK)
        return NULL;
    return ft_stat_new(&cfg);
}

static ft_i64 get(const ft_stat *st, int agg)
{
    ft_i64 v = -12345;
    CHECK_EQ(ft_stat_get(st, agg, &v), FT_OK);
    return v;
}

static char buf[16384];

static const char *hist(const ft_stat *st, int elision)
{
    ft_i64 n = ft_stat_hist_sprint(st, elision, buf, sizeof buf);
    CHECK_EQ(n, (ft_i64)strlen(buf));
    return buf;
}

static void test_extractors(void)
{
    ft_stat *st = make(FT_HIST_NONE, 0, 0, 0, 0);
    ft_i64 v;
    CHECK_EQ(get(st, FT_AGG_COUNT), 0);
    CHECK_EQ(get(st, FT_AGG_SUM), 0);
    CHECK_EQ(ft_stat_get(st, FT_AGG_MIN, &v), FT_EEMPTY);
    CHECK_EQ(ft_stat_get(st, FT_AGG_MAX, &v), FT_EEMPTY);
    CHECK_EQ(ft_stat_get(st, FT_AGG_AVG, &v), FT_EEMPTY);
    CHECK_EQ(ft_stat_get(st, FT_AGG_VARIANCE, &v), FT_EEMPTY);
    CHECK_EQ(ft_stat_get(st, 99, &v), FT_EINVAL);
    ft_stat_add(st, -3);
    ft_stat_add(st, 7);
    ft_stat_add(st, -8);
    CHECK_EQ(ft_stat_count(st), 3);
    CHECK_EQ(get(st, FT_AGG_SUM), -4);
    CHECK_EQ(get(st, FT_AGG_MIN), -8);
    CHECK_EQ(get(st, FT_AGG_MAX), 7);
    CHECK_EQ(get(st, FT_AGG_AVG), -1);      /* -4/3 truncates toward zero */
    CHECK_EQ(ft_stat_hist_nbuckets(st), 0);
    ft_stat_clear(st);
    CHECK_EQ(ft_stat_count(st), 0);
    CHECK_EQ(ft_stat_get(st, FT_AGG_MIN, &v), FT_EEMPTY);
    ft_stat_add(st, 5);
    CHECK_EQ(get(st, FT_AGG_MIN), 5);
    CHECK_EQ(get(st, FT_AGG_VARIANCE), 0);  /* one value: no spread */
    ft_stat_free(st);
}

static void test_variance(void)
{
    /* stap's documented examples: 1..5 gives 12 unshifted and 2 with shift 1 */
    ft_stat *a = make(FT_HIST_NONE, 0, 0, 0, 0), *b = make(FT_HIST_NONE, 0, 0, 0, 1);
    for (int i = 1; i <= 5; i++) {
        ft_stat_add(a, i);
        ft_stat_add(b, i);
    }
    CHECK_EQ(get(a, FT_AGG_VARIANCE), 12);
    CHECK_EQ(get(b, FT_AGG_VARIANCE), 2);
    ft_stat_free(a);
    ft_stat_free(b);
    /* with enough scaling bits the result is the exact sample variance */
    ft_stat *c = make(FT_HIST_NONE, 0, 0, 0, 7);
    ft_stat_add(c, 444);
    ft_stat_add(c, 999);
    CHECK_EQ(get(c, FT_AGG_VARIANCE), 154012);   /* 277.5^2 * 2 / 1 */
    ft_stat_free(c);
    /* a constant stream has no variance */
    ft_stat *d = make(FT_HIST_NONE, 0, 0, 0, 0);
    for (int i = 0; i < 1000; i++)
        ft_stat_add(d, 42);
    CHECK_EQ(get(d, FT_AGG_VARIANCE), 0);
    ft_stat_free(d);
}

static void test_cfg(void)
{
    ft_stat_cfg cfg;
    CHECK_EQ(ft_stat_cfg_init(&cfg, FT_HIST_LINEAR, 0, 100, 0, 0), FT_EZEROINT);
    CHECK_EQ(ft_stat_cfg_init(&cfg, FT_HIST_LINEAR, 0, 1500, 2, 0), FT_EBUCKETS);
    CHECK_EQ(ft_stat_cfg_init(&cfg, FT_HIST_LINEAR, 0, 1500, -1, 0), FT_EBUCKETS);
    CHECK_EQ(ft_stat_cfg_init(&cfg, FT_HIST_LINEAR, 100, 0, 10, 0), FT_EBUCKETS);
    CHECK_EQ(ft_stat_cfg_init(&cfg, FT_HIST_NONE, 0, 0, 0, 63), FT_EINVAL);
    CHECK_EQ(ft_stat_cfg_init(&cfg, 7, 0, 0, 0, 0), FT_EINVAL);
    CHECK_EQ(ft_stat_cfg_init(&cfg, FT_HIST_LINEAR, 0, 0, 1, 0), FT_OK);
    CHECK_EQ(cfg.nbuckets, 3);                   /* underflow, [0,1), overflow */
    CHECK_EQ(ft_stat_cfg_init(&cfg, FT_HIST_LINEAR, 0, 1500, 50, 0), FT_OK);
    CHECK_EQ(cfg.nbuckets, 33);
    CHECK_EQ(ft_stat_cfg_init(&cfg, FT_HIST_LOG, 0, 0, 0, 0), FT_OK);
    CHECK_EQ(cfg.nbuckets, 128);
    cfg.interval = 0;
    cfg.hist_type = FT_HIST_LINEAR;
    CHECK(ft_stat_new(&cfg) == NULL);
}

static void test_buckets(void)
{
    ft_stat *lg = make(FT_HIST_LOG, 0, 0, 0, 0);
    ft_i64 vals[] = {0, 1, 2, 3, 4, -1, -2, -3, INT64_MIN, INT64_MAX, (ft_i64)1 << 62};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++)
        ft_stat_add(lg, vals[i]);
    CHECK_EQ(ft_stat_hist_bucket(lg, 64), 1);    /* 0 */
    CHECK_EQ(ft_stat_hist_bucket(lg, 65), 1);    /* 1 */
    CHECK_EQ(ft_stat_hist_bucket(lg, 66), 2);    /* 2, 3 */
    CHECK_EQ(ft_stat_hist_bucket(lg, 67), 1);    /* 4 */
    CHECK_EQ(ft_stat_hist_bucket(lg, 63), 1);    /* -1 */
    CHECK_EQ(ft_stat_hist_bucket(lg, 62), 2);    /* -2, -3 */
    CHECK_EQ(ft_stat_hist_bucket(lg, 0), 1);     /* -2^63 */
    CHECK_EQ(ft_stat_hist_bucket(lg, 127), 2);   /* 2^62 .. 2^63-1 */
    CHECK_EQ(ft_stat_hist_bucket(lg, 128), 0);
    CHECK_EQ(ft_stat_hist_bucket(lg, -1), 0);
    ft_stat_free(lg);

    ft_stat *ln = make(FT_HIST_LINEAR, 0, 100, 10, 0);   /* 13 buckets */
    ft_i64 lv[] = {-1, INT64_MIN, 0, 9, 10, 99, 100, 109, 110, INT64_MAX};
    for (size_t i = 0; i < sizeof lv / sizeof *lv; i++)
        ft_stat_add(ln, lv[i]);
    CHECK_EQ(ft_stat_hist_nbuckets(ln), 13);
    CHECK_EQ(ft_stat_hist_bucket(ln, 0), 2);     /* below start */
    CHECK_EQ(ft_stat_hist_bucket(ln, 1), 2);     /* [0, 10) */
    CHECK_EQ(ft_stat_hist_bucket(ln, 2), 1);     /* [10, 20) */
    CHECK_EQ(ft_stat_hist_bucket(ln, 10), 1);    /* [90, 100) */
    CHECK_EQ(ft_stat_hist_bucket(ln, 11), 2);    /* [100, 110): stop has its own bucket */
    CHECK_EQ(ft_stat_hist_bucket(ln, 12), 2);    /* overflow */
    ft_stat_free(ln);
}

static void test_print_log(void)
{
    ft_stat *st = make(FT_HIST_LOG, 0, 0, 0, 0);
    for (int v = 1; v <= 4; v++)
        ft_stat_add(st, v);
    ft_stat_add(st, 3);
    /* two empty buckets of margin above; none below zero without negatives */
    CHECK_STR(hist(st, FT_HIST_ELISION),
              "value |-------------------------------------------------- count\n"
              "    0 |                                                   0\n"
              "    1 |@                                                  1\n"
              "    2 |@@@                                                3\n"
              "    4 |@                                                  1\n"
              "    8 |                                                   0\n"
              "   16 |                                                   0\n"
              "\n");
    ft_stat_clear(st);
    ft_stat_add(st, -100);          /* -64 bucket: -127..-64 */
    ft_stat_add(st, 100000);        /* 65536 bucket */
    for (int i = 0; i < 120; i++)
        ft_stat_add(st, 5);         /* 4 bucket: 4..7 */
    /* wider labels widen the value column; > 50 counts scale the bar
       (120 -> 3 per '@'); long empty runs collapse to one '~' line */
    CHECK_STR(hist(st, FT_HIST_ELISION),
              " value |-------------------------------------------------- count\n"
              "  -256 |                                                     0\n"
              "  -128 |                                                     0\n"
              "   -64 |                                                     1\n"
              "   -32 |                                                     0\n"
              "   -16 |                                                     0\n"
              "       ~\n"
              "     1 |                                                     0\n"
              "     2 |                                                     0\n"
              "     4 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@           120\n"
              "     8 |                                                     0\n"
              "    16 |                                                     0\n"
              "       ~\n"
              " 16384 |                                                     0\n"
              " 32768 |                                                     0\n"
              " 65536 |                                                     1\n"
              "131072 |                                                     0\n"
              "262144 |                                                     0\n"
              "\n");
    /* the full text length is reported even when the buffer is too small */
    char small[16];
    ft_i64 full = (ft_i64)strlen(buf);
    CHECK_EQ(ft_stat_hist_sprint(st, FT_HIST_ELISION, small, sizeof small), full);
    CHECK_STR(small, " value |-------");
    ft_stat_free(st);
}

static void test_print_linear(void)
{
    ft_stat *st = make(FT_HIST_LINEAR, 0, 100, 10, 0);
    for (int v = 0; v < 100; v += 3)   /* 0,3,6,9 | 12,15,18 | 21,24,27 | 30.. */
        ft_stat_add(st, v);
    CHECK_STR(hist(st, FT_HIST_ELISION),
              "value |-------------------------------------------------- count\n"
              "    0 |@@@@                                               4\n"
              "   10 |@@@                                                3\n"
              "   20 |@@@                                                3\n"
              "   30 |@@@@                                               4\n"
              "   40 |@@@                                                3\n"
              "   50 |@@@                                                3\n"
              "   60 |@@@@                                               4\n"
              "   70 |@@@                                                3\n"
              "   80 |@@@                                                3\n"
              "   90 |@@@@                                               4\n"
              "  100 |                                                   0\n"
              "\n");
    ft_stat_clear(st);
    ft_stat_add(st, -5);
    ft_stat_add(st, 55);
    ft_stat_add(st, 1000);
    ft_stat_add(st, 1000);
    /* under/overflow buckets are labelled <start and >stop; elision 0
       hides every empty bucket */
    CHECK_STR(hist(st, 0),
              "value |-------------------------------------------------- count\n"
              "   <0 |@                                                  1\n"
              "      ~\n"
              "   50 |@                                                  1\n"
              "      ~\n"
              " >100 |@@                                                 2\n"
              "\n");
    ft_stat_free(st);
}

int main(void)
{
    test_extractors();
    test_variance();
    test_cfg();
    test_buckets();
    test_print_log();
    test_print_linear();
    CHECK_DONE();
}
