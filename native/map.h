/* SystemTap associative arrays: preallocated hash tables that remember
 * insertion order (the order an unsorted foreach visits). */
#ifndef FT_MAP_H
#define FT_MAP_H
#ifndef FTSTAP_H_INCLUDED
#include "ftstap.h"
#endif
#include <stddef.h>
#include <stdint.h>

/* Per-entry header; key columns and the value follow at fixed offsets. */
typedef struct ft_ent {
    uint32_t hash;
    int32_t hnext;        /* next entry in the hash chain, or the free list */
    int32_t prev, next;   /* iteration order */
    int32_t used;
    int32_t pad;
} ft_ent;

struct ft_map {
    int nkeys;
    uint8_t ktype[FT_MAX_KEYS];
    int vtype;
    int wrap;             /* `global a%`: evict the oldest entry when full */
    ft_i64 cap;          /* max entries */
    ft_i64 maxstr;       /* string buffer size, NUL included */
    ft_stat_cfg cfg;      /* for statistic values */
    size_t esize;         /* bytes per entry */
    size_t koff[FT_MAX_KEYS], voff;
    char *slab;           /* cap entries, touched only as they are used */
    int32_t *heads;       /* hash buckets */
    uint32_t hmask;
    int32_t first, last;  /* iteration order, oldest first */
    int32_t freelist;     /* deleted entries for reuse */
    int32_t hwm;          /* entries [0, hwm) have been handed out at least once */
    ft_i64 size;
    int32_t *sortbuf, *sorttmp;   /* merge-sort buffers, cap entries each */
};

#endif
