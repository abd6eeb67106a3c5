/* SystemTap associative arrays: preallocated hash tables that remember
 * insertion order (the order an unsorted foreach visits). */
#ifndef FT_MAP_H
#define FT_MAP_H
#ifndef FTSTAP_H_INCLUDED
#include "ftstap.h"
#endif
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
    uint32_t hmask;       /* buckets - 1 */
    int hshift;           /* 32 - log2(buckets): a bucket is the hash's top bits */
    int32_t first, last;  /* iteration order, oldest first */
    int32_t freelist;     /* deleted entries for reuse */
    int32_t hwm;          /* entries [0, hwm) have been handed out at least once */
    ft_i64 size;
    int32_t *sortbuf, *sorttmp;   /* merge-sort buffers, cap entries each */
};

/* ---- fast paths for single-column keys ----
 * Most scripts key arrays by one number or one string, and the VM looks a
 * key up on every access, so these are inline (vm.c calls them directly, no
 * call per access) and skip the column loop of the general path.  They use
 * the same hash as hash_key in map.c, so entries inserted either way are
 * found either way; only the insertion of a new key goes out of line. */

#define FT_ENT_AT(m, id) ((ft_ent *)((m)->slab + (size_t)(id) * (m)->esize))
#define FT_KEY0(m, id) ((char *)FT_ENT_AT(m, id) + sizeof(ft_ent))   /* koff[0] */
/* Buckets take the top bits of the 32-bit hash: with the Fibonacci hash of
   integers these spread consecutive keys evenly (the three-gap theorem), so
   dense key ranges such as i % 1000 hardly collide. */
#define FT_BUCKET(m, h) ((uint32_t)(h) >> (m)->hshift)

static inline uint32_t ft_map_hash_int(ft_i64 k)
{
    /* Fibonacci multiply; its top bits are the well-mixed ones */
    return (uint32_t)(((uint64_t)k * 0x9e3779b97f4a7c15ull) >> 32);
}

static inline uint32_t ft_map_hash_str(const char *s, uint32_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;          /* FNV-1a */
    for (uint32_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    h ^= n;
    h *= 0x100000001b3ull;
    return (uint32_t)(h ^ (h >> 32));
}

/* The bytes of a string key the map keeps: up to the first NUL, at most
   maxstr - 1 (as the general path's kept_len). */
static inline uint32_t ft_map_str_keylen(const ft_map *m, const char *s, ft_i64 n)
{
    const char *z;
    if (n < 0 || n > m->maxstr - 1)
        n = m->maxstr - 1;
    z = memchr(s, 0, (size_t)n);
    return z ? (uint32_t)(z - s) : (uint32_t)n;
}

/* Insert a key known to be absent (hash h precomputed); map.c. */
ft_i64 ft_map_insert_new(ft_map *m, const ft_val *key, uint32_t h);

/* Precondition for all four: nkeys == 1 and the column has that type. */
static inline ft_i64 ft_map_find_int(const ft_map *m, ft_i64 k, uint32_t h)
{
    for (int32_t id = m->heads[FT_BUCKET(m, h)]; id >= 0; id = FT_ENT_AT(m, id)->hnext)
        if (*(const ft_i64 *)FT_KEY0(m, id) == k)
            return id;
    return FT_ENOENT;
}

static inline ft_i64 ft_map_insert_int(ft_map *m, ft_i64 k)
{
    uint32_t h = ft_map_hash_int(k);
    ft_i64 id = ft_map_find_int(m, k, h);
    if (id >= 0)
        return id;
    ft_val key = {k, NULL, 0};
    return ft_map_insert_new(m, &key, h);
}

static inline ft_i64 ft_map_find_str(const ft_map *m, const char *s, uint32_t n, uint32_t h)
{
    for (int32_t id = m->heads[FT_BUCKET(m, h)]; id >= 0; id = FT_ENT_AT(m, id)->hnext) {
        const char *p = FT_KEY0(m, id);
        if (FT_ENT_AT(m, id)->hash == h && *(const uint32_t *)p == n &&
            memcmp(p + sizeof(uint32_t), s, n) == 0)
            return id;
    }
    return FT_ENOENT;
}

/* s has n bytes (n < 0: NUL-terminated). */
static inline ft_i64 ft_map_insert_str(ft_map *m, const char *s, ft_i64 n)
{
    uint32_t len = ft_map_str_keylen(m, s, n), h = ft_map_hash_str(s, len);
    ft_i64 id = ft_map_find_str(m, s, len, h);
    if (id >= 0)
        return id;
    ft_val key = {0, s, len};
    return ft_map_insert_new(m, &key, h);
}

#endif
