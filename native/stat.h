/* Statistics aggregates (x <<< v) and their histograms. */
#ifndef FT_STAT_H
#define FT_STAT_H
#ifndef FTSTAP_H_INCLUDED
#include "ftstap.h"
#endif
#include <stddef.h>
#include <stdint.h>
#include "out.h"

/* A statistic; histogram buckets (cfg->nbuckets of them) follow inline, so
 * a map can keep its statistics in preallocated slots. */
struct ft_stat {
    const ft_stat_cfg *cfg;
    ft_i64 count, sum, min, max;
    ft_i64 avg_s, m2;     /* Welford running mean (scaled by 2^shift) and M2 */
    ft_i64 buckets[];
};

/* Bytes of one statistic with its buckets. */
size_t ft_stat_bytes(const ft_stat_cfg *cfg);
/* Initialise storage of ft_stat_bytes(cfg) bytes as an empty statistic. */
void ft_stat_init(ft_stat *st, const ft_stat_cfg *cfg);
/* Print the histogram through a writer. */
void ft_stat_hist_write(const ft_stat *st, int elision, ft_wr *w);

#endif
