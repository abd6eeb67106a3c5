/* Associative arrays.  All memory is allocated by ft_map_new: a slab of
 * fixed-size entries (string keys and values take MAXSTRINGLEN bytes, as in
 * stap), a power-of-two bucket array, and two index arrays used by the
 * stable merge sort.  Entries are linked in iteration order: new keys go to
 * the end, deleting a key unlinks it, sorting relinks the whole list (as
 * stap's foreach sorting reorders the array itself), and a `%` array evicts
 * the first entry of that order when full. */
#include "ftstap.h"
#include "stat.h"
#include "map.h"

#include <stdlib.h>
#include <string.h>

#define ENT(m, id) ((ft_ent *)((m)->slab + (size_t)(id) * (m)->esize))
#define FIELD(m, id, off) ((char *)ENT(m, id) + (off))

/* A string column: 32-bit length then maxstr bytes (NUL-terminated). */
#define SLEN(p) (*(uint32_t *)(p))
#define SCHARS(p) ((char *)(p) + sizeof(uint32_t))

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

static size_t column_bytes(int type, ft_i64 maxstr)
{
    return type == FT_T_STR ? align8(sizeof(uint32_t) + (size_t)maxstr) : 8;
}

ft_map *ft_map_new(const char *key_types, int value_type, ft_i64 max_entries, int wrap,
                   ft_i64 maxstr, const ft_stat_cfg *cfg)
{
    size_t nk = strlen(key_types);
    if (nk < 1 || nk > FT_MAX_KEYS || max_entries < 1 || max_entries > (1 << 30) || maxstr < 2)
        return NULL;
    ft_map *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->nkeys = (int)nk;
    m->vtype = value_type;
    m->wrap = wrap != 0;
    m->cap = max_entries;
    m->maxstr = maxstr;
    size_t off = sizeof(ft_ent);
    for (size_t i = 0; i < nk; i++) {
        int t = key_types[i] == 'i' ? FT_T_INT : key_types[i] == 's' ? FT_T_STR : 0;
        if (!t)
            goto fail;
        m->ktype[i] = (uint8_t)t;
        m->koff[i] = off;
        off += column_bytes(t, maxstr);
    }
    m->voff = off;
    switch (value_type) {
    case FT_T_INT:
    case FT_T_STR:
        off += column_bytes(value_type, maxstr);
        break;
    case FT_T_STAT:
        if (!cfg || ft_stat_cfg_init(&m->cfg, cfg->hist_type, cfg->start, cfg->stop,
                                     cfg->interval, cfg->shift) != FT_OK)
            goto fail;
        off += align8(ft_stat_bytes(&m->cfg));
        break;
    default:
        goto fail;
    }
    m->esize = align8(off);

    uint32_t nb = 16;
    while (nb < (uint64_t)max_entries)
        nb <<= 1;
    m->hmask = nb - 1;
    m->hshift = 32;
    while ((1u << (32 - m->hshift)) < nb)
        m->hshift--;
    m->slab = calloc((size_t)max_entries, m->esize);
    m->heads = malloc(nb * sizeof *m->heads);
    m->sortbuf = malloc((size_t)max_entries * sizeof(int32_t));
    m->sorttmp = malloc((size_t)max_entries * sizeof(int32_t));
    if (!m->slab || !m->heads || !m->sortbuf || !m->sorttmp)
        goto fail;
    ft_map_clear(m);
    return m;
fail:
    ft_map_free(m);
    return NULL;
}

void ft_map_free(ft_map *m)
{
    if (!m)
        return;
    free(m->slab);
    free(m->heads);
    free(m->sortbuf);
    free(m->sorttmp);
    free(m);
}

void ft_map_clear(ft_map *m)
{
    memset(m->heads, 0xff, ((size_t)m->hmask + 1) * sizeof *m->heads);
    m->first = m->last = m->freelist = -1;
    m->hwm = 0;
    m->size = 0;
}

ft_i64 ft_map_size(const ft_map *m) { return m->size; }
ft_i64 ft_map_capacity(const ft_map *m) { return m->cap; }
int ft_map_nkeys(const ft_map *m) { return m->nkeys; }
int ft_map_value_type(const ft_map *m) { return m->vtype; }

int ft_map_key_type(const ft_map *m, int col)
{
    return col >= 0 && col < m->nkeys ? m->ktype[col] : 0;
}

/* ---- keys ---- */

/* Bytes of a string argument that a buffer of maxstr bytes keeps. */
static uint32_t kept_len(const ft_map *m, const ft_val *v)
{
    if (!v->s)
        return 0;
    size_t lim = (size_t)m->maxstr - 1;
    if (v->n >= 0 && (uint64_t)v->n < lim)
        lim = (size_t)v->n;
    return (uint32_t)strnlen(v->s, lim);
}

static uint32_t hash_key(const ft_map *m, const ft_val *key)
{
    /* single-column keys hash as the inline fast paths in map.h do */
    if (m->nkeys == 1)
        return m->ktype[0] == FT_T_INT ? ft_map_hash_int(key[0].i)
                                       : ft_map_hash_str(key[0].s, kept_len(m, &key[0]));
    uint64_t h = 0xcbf29ce484222325ull;
    for (int c = 0; c < m->nkeys; c++) {
        if (m->ktype[c] == FT_T_INT) {
            h ^= (uint64_t)key[c].i;
            h *= 0x100000001b3ull;
            h ^= h >> 29;
        } else {
            uint32_t n = kept_len(m, &key[c]);
            for (uint32_t i = 0; i < n; i++) {
                h ^= (unsigned char)key[c].s[i];
                h *= 0x100000001b3ull;
            }
            h ^= n;
            h *= 0x100000001b3ull;
        }
    }
    h ^= h >> 32;
    return (uint32_t)h;
}

static int key_col_eq(const ft_map *m, int32_t id, int c, const ft_val *v)
{
    const char *p = FIELD(m, id, m->koff[c]);
    if (m->ktype[c] == FT_T_INT)
        return *(const ft_i64 *)p == v->i;
    uint32_t n = kept_len(m, v);
    return SLEN(p) == n && memcmp(SCHARS(p), v->s, n) == 0;
}

static void store_str(const ft_map *m, char *p, const ft_val *v)
{
    uint32_t n = kept_len(m, v);
    SLEN(p) = n;
    if (n)
        memcpy(SCHARS(p), v->s, n);
    SCHARS(p)[n] = '\0';
}

static int32_t lookup(const ft_map *m, const ft_val *key, uint32_t h)
{
    for (int32_t id = m->heads[FT_BUCKET(m, h)]; id >= 0; id = ENT(m, id)->hnext) {
        if (ENT(m, id)->hash != h)
            continue;
        int c = 0;
        while (c < m->nkeys && key_col_eq(m, id, c, &key[c]))
            c++;
        if (c == m->nkeys)
            return id;
    }
    return -1;
}

ft_i64 ft_map_find(ft_map *m, const ft_val *key)
{
    int32_t id = lookup(m, key, hash_key(m, key));
    return id >= 0 ? id : FT_ENOENT;
}

/* ---- insertion order list ---- */

static void order_unlink(ft_map *m, int32_t id)
{
    ft_ent *e = ENT(m, id);
    if (e->prev >= 0)
        ENT(m, e->prev)->next = e->next;
    else
        m->first = e->next;
    if (e->next >= 0)
        ENT(m, e->next)->prev = e->prev;
    else
        m->last = e->prev;
}

static void order_append(ft_map *m, int32_t id)
{
    ft_ent *e = ENT(m, id);
    e->prev = m->last;
    e->next = -1;
    if (m->last >= 0)
        ENT(m, m->last)->next = id;
    else
        m->first = id;
    m->last = id;
}

int ft_map_delete_entry(ft_map *m, ft_i64 id64)
{
    if (id64 < 0 || id64 >= m->hwm || !ENT(m, id64)->used)
        return FT_ENOENT;
    int32_t id = (int32_t)id64;
    ft_ent *e = ENT(m, id);
    int32_t *link = &m->heads[FT_BUCKET(m, e->hash)];
    while (*link != id)
        link = &ENT(m, *link)->hnext;
    *link = e->hnext;
    order_unlink(m, id);
    e->used = 0;
    e->hnext = m->freelist;
    m->freelist = id;
    m->size--;
    return FT_OK;
}

int ft_map_delete(ft_map *m, const ft_val *key)
{
    int32_t id = lookup(m, key, hash_key(m, key));
    return id >= 0 ? ft_map_delete_entry(m, id) : FT_ENOENT;
}

ft_i64 ft_map_insert(ft_map *m, const ft_val *key)
{
    uint32_t h = hash_key(m, key);
    int32_t id = lookup(m, key, h);
    return id >= 0 ? id : ft_map_insert_new(m, key, h);
}

ft_i64 ft_map_insert_new(ft_map *m, const ft_val *key, uint32_t h)
{
    int32_t id;
    if (m->size >= m->cap) {
        if (!m->wrap)
            return FT_EOVERFLOW;
        ft_map_delete_entry(m, m->first);   /* `%` array: drop the oldest */
    }
    if (m->freelist >= 0) {
        id = m->freelist;
        m->freelist = ENT(m, id)->hnext;
    } else {
        id = m->hwm++;
    }
    ft_ent *e = ENT(m, id);
    e->hash = h;
    e->used = 1;
    e->hnext = m->heads[FT_BUCKET(m, h)];
    m->heads[FT_BUCKET(m, h)] = id;
    order_append(m, id);
    for (int c = 0; c < m->nkeys; c++) {
        char *p = FIELD(m, id, m->koff[c]);
        if (m->ktype[c] == FT_T_INT)
            *(ft_i64 *)p = key[c].i;
        else
            store_str(m, p, &key[c]);
    }
    char *v = FIELD(m, id, m->voff);
    if (m->vtype == FT_T_INT)
        *(ft_i64 *)v = 0;
    else if (m->vtype == FT_T_STR)
        store_str(m, v, &(ft_val){0, "", 0});
    else
        ft_stat_init((ft_stat *)v, &m->cfg);
    m->size++;
    return id;
}

/* ---- values and keys of an entry ---- */

ft_i64 ft_map_get_int(const ft_map *m, ft_i64 id) { return *(ft_i64 *)FIELD(m, id, m->voff); }

void ft_map_set_int(ft_map *m, ft_i64 id, ft_i64 v) { *(ft_i64 *)FIELD(m, id, m->voff) = v; }

const char *ft_map_get_str(const ft_map *m, ft_i64 id) { return SCHARS(FIELD(m, id, m->voff)); }

void ft_map_set_str(ft_map *m, ft_i64 id, const char *s, ft_i64 n)
{
    store_str(m, FIELD(m, id, m->voff), &(ft_val){0, s, n});
}

ft_stat *ft_map_get_stat(ft_map *m, ft_i64 id) { return (ft_stat *)FIELD(m, id, m->voff); }

ft_i64 ft_map_key_int(const ft_map *m, ft_i64 id, int col)
{
    return *(ft_i64 *)FIELD(m, id, m->koff[col]);
}

const char *ft_map_key_str(const ft_map *m, ft_i64 id, int col)
{
    return SCHARS(FIELD(m, id, m->koff[col]));
}

/* ---- iteration ---- */

ft_i64 ft_map_first(const ft_map *m) { return m->first >= 0 ? m->first : FT_ENOENT; }

ft_i64 ft_map_next(const ft_map *m, ft_i64 id)
{
    int32_t n = ENT(m, id)->next;
    return n >= 0 ? n : FT_ENOENT;
}

int ft_map_match(const ft_map *m, ft_i64 id, const ft_val *key, uint32_t wildmask)
{
    for (int c = 0; c < m->nkeys; c++)
        if (!(wildmask & (1u << c)) && !key_col_eq(m, (int32_t)id, c, &key[c]))
            return 0;
    return 1;
}

ft_i64 ft_map_slice_next(const ft_map *m, ft_i64 id, const ft_val *key, uint32_t wildmask)
{
    for (; id >= 0; id = ENT(m, id)->next)
        if (ft_map_match(m, id, key, wildmask))
            return id;
    return FT_ENOENT;
}

int ft_map_slice_exists(const ft_map *m, const ft_val *key, uint32_t wildmask)
{
    if ((wildmask & ((1u << m->nkeys) - 1)) == 0)      /* no '*': a hash lookup */
        return lookup(m, key, hash_key(m, key)) >= 0;
    return ft_map_slice_next(m, m->first, key, wildmask) >= 0;
}

ft_i64 ft_map_slice_delete(ft_map *m, const ft_val *key, uint32_t wildmask)
{
    ft_i64 n = 0;
    for (int32_t id = m->first, next; id >= 0; id = next) {
        next = ENT(m, id)->next;
        if (ft_map_match(m, id, key, wildmask)) {
            ft_map_delete_entry(m, id);
            n++;
        }
    }
    return n;
}

/* ---- sorting ---- */

typedef struct sort_spec {
    const ft_map *m;
    int column, dir, agg;
} sort_spec;

static int cmp_i64(ft_i64 a, ft_i64 b) { return (a > b) - (a < b); }

static ft_i64 stat_key(const ft_map *m, int32_t id, int agg)
{
    ft_i64 v;
    ft_stat_get((const ft_stat *)FIELD(m, id, m->voff), agg, &v);   /* empty: 0 */
    return v;
}

static int cmp_entries(const sort_spec *s, int32_t a, int32_t b)
{
    const ft_map *m = s->m;
    int r, type;
    size_t off;
    if (s->column == 0) {
        type = m->vtype;
        off = m->voff;
    } else {
        type = m->ktype[s->column - 1];
        off = m->koff[s->column - 1];
    }
    if (type == FT_T_INT)
        r = cmp_i64(*(ft_i64 *)FIELD(m, a, off), *(ft_i64 *)FIELD(m, b, off));
    else if (type == FT_T_STR)
        r = strcmp(SCHARS(FIELD(m, a, off)), SCHARS(FIELD(m, b, off)));
    else
        r = cmp_i64(stat_key(m, a, s->agg), stat_key(m, b, s->agg));
    return s->dir < 0 ? -r : r;
}

/* Bottom-up merge sort of n ids, ping-ponging between a and tmp; returns
 * the buffer holding the result.  Stable: ties take the left run. */
static int32_t *merge_sort(const sort_spec *s, int32_t *a, int32_t *tmp, ft_i64 n)
{
    for (ft_i64 width = 1; width < n; width *= 2) {
        for (ft_i64 lo = 0; lo < n; lo += 2 * width) {
            ft_i64 mid = lo + width < n ? lo + width : n;
            ft_i64 hi = lo + 2 * width < n ? lo + 2 * width : n;
            ft_i64 i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = cmp_entries(s, a[j], a[i]) < 0 ? a[j++] : a[i++];
            while (i < mid)
                tmp[k++] = a[i++];
            while (j < hi)
                tmp[k++] = a[j++];
        }
        int32_t *t = a;
        a = tmp;
        tmp = t;
    }
    return a;
}

int ft_map_sort(ft_map *m, int column, int dir, int agg, ft_i64 limit)
{
    (void)limit;   /* a full sort also orders the first `limit` entries */
    if (column < 0 || column > m->nkeys)
        return FT_EINVAL;
    if (column == 0 && m->vtype == FT_T_STAT && (agg < FT_AGG_COUNT || agg > FT_AGG_VARIANCE))
        return FT_EINVAL;
    ft_i64 n = 0;
    for (int32_t id = m->first; id >= 0; id = ENT(m, id)->next)
        m->sortbuf[n++] = id;
    sort_spec s = {m, column, dir, agg};
    const int32_t *sorted = merge_sort(&s, m->sortbuf, m->sorttmp, n);
    m->first = m->last = -1;
    for (ft_i64 i = 0; i < n; i++)
        order_append(m, sorted[i]);
    return FT_OK;
}
