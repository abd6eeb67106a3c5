/* Statistics aggregates: count/sum/min/max/avg, stap's integer @variance,
 * and log2 / linear histograms printed the way stap prints them.
 *
 * Arithmetic wraps (as in stap's kernel runtime) instead of being undefined:
 * sums and Welford's M2 go through uint64_t. */
#include "ftstap.h"
#include "stat.h"

#include <stdlib.h>
#include <string.h>

int ft_stat_cfg_init(ft_stat_cfg *cfg, int hist_type, ft_i64 start, ft_i64 stop,
                     ft_i64 interval, int shift)
{
    memset(cfg, 0, sizeof *cfg);
    if (shift < 0 || shift > 62)
        return FT_EINVAL;
    cfg->hist_type = hist_type;
    cfg->shift = shift;
    switch (hist_type) {
    case FT_HIST_NONE:
        return FT_OK;
    case FT_HIST_LOG:
        cfg->nbuckets = FT_HIST_LOG_BUCKETS;
        return FT_OK;
    case FT_HIST_LINEAR: {
        if (interval == 0)
            return FT_EZEROINT;
        if (interval < 0 || stop < start)
            return FT_EBUCKETS;
        /* one bucket per interval from start to stop inclusive, plus the
           underflow and overflow buckets */
        __int128 nb = ((__int128)stop - start) / interval + 3;
        if (nb < 3 || nb > FT_MAX_BUCKETS)
            return FT_EBUCKETS;
        cfg->nbuckets = (int32_t)nb;
        cfg->start = start;
        cfg->stop = stop;
        cfg->interval = interval;
        return FT_OK;
    }
    default:
        return FT_EINVAL;
    }
}

size_t ft_stat_bytes(const ft_stat_cfg *cfg)
{
    return sizeof(ft_stat) + (size_t)cfg->nbuckets * sizeof(ft_i64);
}

void ft_stat_init(ft_stat *st, const ft_stat_cfg *cfg)
{
    memset(st, 0, ft_stat_bytes(cfg));
    st->cfg = cfg;
}

ft_stat *ft_stat_new(const ft_stat_cfg *cfg)
{
    ft_stat_cfg check;
    if (ft_stat_cfg_init(&check, cfg->hist_type, cfg->start, cfg->stop, cfg->interval,
                         cfg->shift) != FT_OK)
        return NULL;
    /* the statistic keeps its own copy of the configuration, after the buckets */
    size_t sz = ft_stat_bytes(&check);
    ft_stat *st = malloc(sz + sizeof(ft_stat_cfg));
    if (!st)
        return NULL;
    ft_stat_cfg *own = (ft_stat_cfg *)((char *)st + sz);
    *own = check;
    ft_stat_init(st, own);
    return st;
}

void ft_stat_free(ft_stat *st) { free(st); }

void ft_stat_clear(ft_stat *st) { ft_stat_init(st, st->cfg); }

ft_i64 ft_stat_count(const ft_stat *st) { return st->count; }

int ft_stat_hist_nbuckets(const ft_stat *st) { return st->cfg->nbuckets; }

/* log2 bucket: 0 -> 64; v > 0 -> 64 + bit length; v < 0 mirrors below 64 */
static int log_bucket(ft_i64 v)
{
    if (v == 0)
        return FT_HIST_LOG_BUCKET0;
    if (v > 0)
        return FT_HIST_LOG_BUCKET0 + 64 - __builtin_clzll((uint64_t)v);
    return __builtin_clzll(-(uint64_t)v);
}

static int linear_bucket(const ft_stat_cfg *c, ft_i64 v)
{
    if (v < c->start)
        return 0;
    __int128 i = ((__int128)v - c->start) / c->interval + 1;
    if (i > c->nbuckets - 2)
        return c->nbuckets - 1;
    return (int)i;
}

static int bucket(const ft_stat_cfg *c, ft_i64 v)
{
    return c->hist_type == FT_HIST_LOG ? log_bucket(v) : linear_bucket(c, v);
}

void ft_stat_add(ft_stat *st, ft_i64 v)
{
    const ft_stat_cfg *c = st->cfg;
    ft_i64 x = (ft_i64)((uint64_t)v << c->shift);
    st->count++;
    st->sum = (ft_i64)((uint64_t)st->sum + (uint64_t)v);
    if (st->count == 1) {
        st->min = st->max = v;
        st->avg_s = x;
        st->m2 = 0;
    } else {
        if (v < st->min)
            st->min = v;
        if (v > st->max)
            st->max = v;
        /* Welford's online update in integers, truncating like stap */
        ft_i64 delta = (ft_i64)((uint64_t)x - (uint64_t)st->avg_s);
        st->avg_s = (ft_i64)((uint64_t)st->avg_s + (uint64_t)(delta / st->count));
        uint64_t d2 = (uint64_t)x - (uint64_t)st->avg_s;
        st->m2 = (ft_i64)((uint64_t)st->m2 + (uint64_t)delta * d2);
    }
    if (c->nbuckets)
        st->buckets[bucket(c, v)]++;
}

/* n copies of v at once, exactly as n calls of ft_stat_add (counting mode
 * adds a probe's total, compile/counting.py).  Once truncating division
 * stops moving the running mean (|x - mean| < count: at once when v was the
 * only value so far), each further copy adds (x - mean)^2 to M2 and nothing
 * else changes but count, sum and one bucket: closed form.  Until then one
 * copy at a time -- never more than n, and only after other values. */
void ft_stat_add_n(ft_stat *st, ft_i64 v, ft_i64 n)
{
    if (n <= 0)
        return;
    const ft_stat_cfg *c = st->cfg;
    ft_i64 x = (ft_i64)((uint64_t)v << c->shift), delta;
    ft_stat_add(st, v);
    while (--n > 0 && (delta = (ft_i64)((uint64_t)x - (uint64_t)st->avg_s)) / (st->count + 1) != 0)
        ft_stat_add(st, v);
    if (n <= 0)
        return;
    uint64_t d = (uint64_t)x - (uint64_t)st->avg_s;
    st->count += n;
    st->sum = (ft_i64)((uint64_t)st->sum + (uint64_t)n * (uint64_t)v);
    st->m2 = (ft_i64)((uint64_t)st->m2 + (uint64_t)n * d * d);
    if (c->nbuckets)
        st->buckets[bucket(c, v)] += n;
}

/* A standalone statistic (a scalar global, from ft_stat_new) keeps its
 * configuration right after its buckets; array elements share their map's. */
static int standalone(const ft_stat *st)
{
    return (const char *)st->cfg == (const char *)st + ft_stat_bytes(st->cfg);
}

/* stap's @variance, which differs by where the statistic lives, because stap
 * aggregates per-CPU data before reading it:
 *  - array elements: the first CPU's data is taken as is, so the result is
 *    Welford's M2 (accumulated with truncating division) over n-1;
 *  - scalars: every CPU's data is merged with the parallel-variance formula,
 *    which adds n*(running mean - exact mean)^2 to M2 even for one CPU.
 * Both are unscaled by 2*shift bits at the end. */
static ft_i64 variance(const ft_stat *st)
{
    if (st->count < 2)
        return 0;
    int shift = st->cfg->shift;
    ft_i64 n = st->count;
    ft_i64 tot = st->m2;
    if (standalone(st)) {
        ft_i64 mean = (ft_i64)((uint64_t)st->sum << shift) / n;
        uint64_t d = (uint64_t)st->avg_s - (uint64_t)mean;
        tot = (ft_i64)((uint64_t)st->m2 + (uint64_t)n * d * d);
    }
    ft_i64 var = tot / (n - 1);
    if (2 * shift >= 64)
        return var < 0 ? -1 : 0;
    return var >> (2 * shift);
}

int ft_stat_get(const ft_stat *st, int agg, ft_i64 *out)
{
    *out = 0;
    switch (agg) {
    case FT_AGG_COUNT:
        *out = st->count;
        return FT_OK;
    case FT_AGG_SUM:
        *out = st->sum;
        return FT_OK;
    case FT_AGG_MIN:
    case FT_AGG_MAX:
    case FT_AGG_AVG:
    case FT_AGG_VARIANCE:
        break;
    default:
        return FT_EINVAL;
    }
    if (st->count == 0)
        return FT_EEMPTY;
    switch (agg) {
    case FT_AGG_MIN: *out = st->min; break;
    case FT_AGG_MAX: *out = st->max; break;
    case FT_AGG_AVG: *out = st->sum / st->count; break;
    default: *out = variance(st); break;
    }
    return FT_OK;
}

ft_i64 ft_stat_hist_bucket(const ft_stat *st, ft_i64 i)
{
    if (i < 0 || i >= st->cfg->nbuckets)
        return 0;
    return st->buckets[i];
}

/* ---- printing ---- */

/* Label of bucket i: its lowest value, with '<' / '>' for linear under/overflow. */
static ft_i64 bucket_label(const ft_stat_cfg *c, int i, char *prefix)
{
    *prefix = 0;
    if (c->hist_type == FT_HIST_LOG) {
        if (i == FT_HIST_LOG_BUCKET0)
            return 0;
        if (i > FT_HIST_LOG_BUCKET0)
            return (ft_i64)1 << (i - FT_HIST_LOG_BUCKET0 - 1);
        if (i == 0)
            return INT64_MIN;
        return -((ft_i64)1 << (FT_HIST_LOG_BUCKET0 - 1 - i));
    }
    if (i == 0) {
        *prefix = '<';
        return c->start;
    }
    if (i == c->nbuckets - 1) {
        *prefix = '>';
        i--;
    }
    return c->start + (ft_i64)(i - 1) * c->interval;
}

static int label_text(const ft_stat_cfg *c, int i, char *buf)
{
    char prefix;
    ft_i64 v = bucket_label(c, i, &prefix);
    int n = 0;
    if (prefix)
        buf[n++] = prefix;
    return n + ft_fmt_int(v, buf + n);
}

static void write_padded(ft_wr *w, const char *s, int len, int width)
{
    if (width > len)
        ft_wr_fill(w, ' ', width - len);
    ft_wr_bytes(w, s, len);
}

static int nonzero_near(const ft_stat *st, int i, int e, int lo, int hi)
{
    int a = i - e < lo ? lo : i - e, b = i + e > hi ? hi : i + e;
    for (int j = a; j <= b; j++)
        if (st->buckets[j])
            return 1;
    return 0;
}

void ft_stat_hist_write(const ft_stat *st, int elision, ft_wr *w)
{
    const ft_stat_cfg *c = st->cfg;
    int nb = c->nbuckets, lo = -1, hi = 0;
    ft_i64 vmax = 0;
    char tmp[32];

    if (c->hist_type == FT_HIST_NONE)
        return;
    for (int i = 0; i < nb; i++) {
        if (!st->buckets[i])
            continue;
        if (lo < 0)
            lo = i;
        hi = i;
        if (st->buckets[i] > vmax)
            vmax = st->buckets[i];
    }
    if (lo < 0) {               /* no data: the VM reports "empty aggregate" */
        lo = hi = c->hist_type == FT_HIST_LOG ? FT_HIST_LOG_BUCKET0 : 1;
    }
    /* Show two empty buckets either side of the data, but a log histogram
       does not grow into negative values it has none of, and a linear one
       does not grow into its under/overflow buckets. */
    for (int k = 0; k < 2; k++) {
        if (c->hist_type == FT_HIST_LOG) {
            if (lo != FT_HIST_LOG_BUCKET0 && lo > 0)
                lo--;
            if (hi < nb - 1)
                hi++;
        } else {
            if (lo > 1)
                lo--;
            if (hi < nb - 2)
                hi++;
        }
    }

    int width = 5;              /* strlen("value") */
    for (int i = lo; i <= hi; i++) {
        int n = label_text(c, i, tmp);
        if (n > width)
            width = n;
    }
    ft_i64 scale = vmax <= FT_HIST_WIDTH ? 1 : (vmax + FT_HIST_WIDTH - 1) / FT_HIST_WIDTH;
    int cwidth = ft_fmt_int(vmax, tmp);

    write_padded(w, "value", 5, width);
    ft_wr_bytes(w, " |", 2);
    ft_wr_fill(w, '-', FT_HIST_WIDTH);
    ft_wr_bytes(w, " count\n", 7);

    int eliding = 0;
    for (int i = lo; i <= hi; i++) {
        ft_i64 cnt = st->buckets[i];
        if (cnt == 0 && elision >= 0 && !nonzero_near(st, i, elision, lo, hi)) {
            eliding = 1;
            continue;
        }
        if (eliding) {          /* one '~' line stands for a run of elided buckets */
            ft_wr_fill(w, ' ', width + 1);
            ft_wr_bytes(w, "~\n", 2);
            eliding = 0;
        }
        int n = label_text(c, i, tmp);
        write_padded(w, tmp, n, width);
        ft_wr_bytes(w, " |", 2);
        ft_i64 bar = cnt / scale;
        ft_wr_fill(w, '@', bar);
        ft_wr_fill(w, ' ', FT_HIST_WIDTH - bar + 1);
        n = ft_fmt_int(cnt, tmp);
        write_padded(w, tmp, n, cwidth);
        ft_wr_char(w, '\n');
    }
    ft_wr_char(w, '\n');
}

ft_i64 ft_stat_hist_sprint(const ft_stat *st, int elision, char *buf, ft_i64 cap)
{
    ft_wr w;
    ft_wr_init_str(&w, buf, cap);
    ft_stat_hist_write(st, elision, &w);
    ft_wr_finish(&w);
    return w.total;
}

int ft_out_hist(ft_out *o, const ft_stat *st, int elision)
{
    ft_wr w;
    ft_wr_init_out(&w, o);
    ft_stat_hist_write(st, elision, &w);
    return o->failed ? FT_EIO : FT_OK;
}
