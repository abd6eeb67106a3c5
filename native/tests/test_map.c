/* Associative arrays: lookup, insertion order, overflow vs `%` wrap,
 * stable sorting, slices, string keys, statistic values, and a randomized
 * comparison against a brute-force model. */
#include <stdint.h>
#include <stdlib.h>
#include "ftstap.h"
#include "map.h"
#include "stat.h"
#include "check.h"

#define I(x) ((ft_val){(x), NULL, 0})
#define S(x) ((ft_val){0, (x), -1})

static ft_i64 put_int(ft_map *m, const ft_val *k, ft_i64 v)
{
    ft_i64 id = ft_map_insert(m, k);
    if (id >= 0)
        ft_map_set_int(m, id, v);
    return id;
}

/* keys (column 0, ints) in iteration order, as "k,k,k" */
static const char *order(const ft_map *m)
{
    static char buf[4096];
    int n = 0;
    buf[0] = 0;
    for (ft_i64 id = ft_map_first(m); id >= 0; id = ft_map_next(m, id))
        n += snprintf(buf + n, sizeof buf - n, "%s%lld", n ? "," : "",
                      ft_map_key_int(m, id, 0));
    return buf;
}

static void test_basic(void)
{
    CHECK(ft_map_new("", FT_T_INT, 10, 0, 64, NULL) == NULL);
    CHECK(ft_map_new("iiiiiiiiii", FT_T_INT, 10, 0, 64, NULL) == NULL);
    CHECK(ft_map_new("ix", FT_T_INT, 10, 0, 64, NULL) == NULL);
    CHECK(ft_map_new("i", FT_T_STAT, 10, 0, 64, NULL) == NULL);   /* stat needs a cfg */

    ft_map *m = ft_map_new("is", FT_T_INT, 100, 0, FT_MAXSTRINGLEN, NULL);
    CHECK(m != NULL);
    CHECK_EQ(ft_map_nkeys(m), 2);
    CHECK_EQ(ft_map_key_type(m, 0), FT_T_INT);
    CHECK_EQ(ft_map_key_type(m, 1), FT_T_STR);
    CHECK_EQ(ft_map_value_type(m), FT_T_INT);
    ft_val k1[] = {I(1), S("one")}, k2[] = {I(1), S("two")}, k3[] = {I(-1), S("one")};
    CHECK_EQ(ft_map_find(m, k1), FT_ENOENT);
    CHECK_EQ(ft_map_first(m), FT_ENOENT);
    ft_i64 a = put_int(m, k1, 10), b = put_int(m, k2, 20);
    put_int(m, k3, 30);
    CHECK(a >= 0 && b >= 0 && a != b);
    CHECK_EQ(ft_map_size(m), 3);
    CHECK_EQ(ft_map_find(m, k1), a);
    CHECK_EQ(ft_map_insert(m, k1), a);            /* existing key: same entry */
    CHECK_EQ(ft_map_get_int(m, ft_map_find(m, k2)), 20);
    CHECK_EQ(ft_map_key_int(m, b, 0), 1);
    CHECK_STR(ft_map_key_str(m, b, 1), "two");
    CHECK_EQ(ft_map_delete(m, k2), FT_OK);
    CHECK_EQ(ft_map_delete(m, k2), FT_ENOENT);
    CHECK_EQ(ft_map_find(m, k2), FT_ENOENT);
    CHECK_EQ(ft_map_size(m), 2);
    ft_map_clear(m);
    CHECK_EQ(ft_map_size(m), 0);
    CHECK_EQ(ft_map_find(m, k1), FT_ENOENT);
    CHECK_EQ(ft_map_first(m), FT_ENOENT);
    put_int(m, k3, 5);
    CHECK_EQ(ft_map_get_int(m, ft_map_find(m, k3)), 5);
    ft_map_free(m);
}

static void test_order(void)
{
    ft_map *m = ft_map_new("i", FT_T_INT, 100, 0, 64, NULL);
    int keys[] = {9, 1, 8, 2, 7, 3};
    for (int i = 0; i < 6; i++)
        put_int(m, (ft_val[]){I(keys[i])}, keys[i] * 2);
    CHECK_STR(order(m), "9,1,8,2,7,3");
    put_int(m, (ft_val[]){I(8)}, 0);              /* updating keeps the position */
    CHECK_STR(order(m), "9,1,8,2,7,3");
    ft_map_delete(m, (ft_val[]){I(1)});
    put_int(m, (ft_val[]){I(1)}, 0);              /* re-inserting moves to the end */
    CHECK_STR(order(m), "9,8,2,7,3,1");
    ft_map_delete(m, (ft_val[]){I(9)});
    ft_map_delete(m, (ft_val[]){I(1)});
    CHECK_STR(order(m), "8,2,7,3");
    ft_map_free(m);
}

static void test_overflow_and_wrap(void)
{
    ft_map *m = ft_map_new("i", FT_T_INT, 3, 0, 64, NULL);
    for (int i = 0; i < 3; i++)
        CHECK(put_int(m, (ft_val[]){I(i)}, i) >= 0);
    CHECK_EQ(ft_map_insert(m, (ft_val[]){I(3)}), FT_EOVERFLOW);
    CHECK(put_int(m, (ft_val[]){I(1)}, 7) >= 0);  /* existing keys still writable */
    CHECK_EQ(ft_map_size(m), 3);
    ft_map_delete(m, (ft_val[]){I(0)});
    CHECK(put_int(m, (ft_val[]){I(3)}, 3) >= 0);  /* room again after a delete */
    CHECK_STR(order(m), "1,2,3");
    /* a full map keeps working after many delete/insert cycles */
    for (int i = 4; i < 1000; i++) {
        ft_map_delete(m, (ft_val[]){I(i - 3)});
        CHECK(put_int(m, (ft_val[]){I(i)}, i) >= 0);
    }
    CHECK_STR(order(m), "997,998,999");
    ft_map_free(m);

    ft_map *w = ft_map_new("i", FT_T_INT, 5, 1, 64, NULL);   /* global foo%[5] */
    for (int i = 0; i < 10; i++)
        CHECK(put_int(w, (ft_val[]){I(i)}, i) >= 0);
    CHECK_EQ(ft_map_size(w), 5);
    CHECK_STR(order(w), "5,6,7,8,9");
    CHECK_EQ(ft_map_find(w, (ft_val[]){I(4)}), FT_ENOENT);
    CHECK_EQ(ft_map_get_int(w, ft_map_find(w, (ft_val[]){I(9)})), 9);
    ft_map_free(w);
}

static void test_sort(void)
{
    ft_map *m = ft_map_new("is", FT_T_INT, 100, 0, 64, NULL);
    struct { int k; const char *s; int v; } rows[] = {
        {3, "b", 20}, {-5, "a", 10}, {7, "c", 20}, {0, "aa", 5}, {2, "B", 10},
    };
    for (int i = 0; i < 5; i++)
        put_int(m, (ft_val[]){I(rows[i].k), S(rows[i].s)}, rows[i].v);
    CHECK_EQ(ft_map_sort(m, 0, 1, 0, 0), FT_OK);    /* by value; ties keep their order */
    CHECK_STR(order(m), "0,-5,2,3,7");
    CHECK_EQ(ft_map_sort(m, 0, -1, 0, 0), FT_OK);   /* descending is stable too */
    CHECK_STR(order(m), "3,7,-5,2,0");
    CHECK_EQ(ft_map_sort(m, 1, 1, 0, 3), FT_OK);    /* signed key order */
    CHECK_STR(order(m), "-5,0,2,3,7");
    CHECK_EQ(ft_map_sort(m, 2, 1, 0, 0), FT_OK);    /* strcmp: "B" < "a" < "aa" < "b" */
    CHECK_STR(order(m), "2,-5,0,3,7");
    CHECK_EQ(ft_map_sort(m, 2, -1, 0, 0), FT_OK);
    CHECK_STR(order(m), "7,3,0,-5,2");
    CHECK_EQ(ft_map_sort(m, 3, 1, 0, 0), FT_EINVAL);
    /* the sorted order is the new iteration order; new keys go after it */
    put_int(m, (ft_val[]){I(100), S("z")}, 0);
    CHECK_STR(order(m), "7,3,0,-5,2,100");
    ft_map_free(m);

    ft_map *e = ft_map_new("i", FT_T_INT, 10, 0, 64, NULL);
    CHECK_EQ(ft_map_sort(e, 0, 1, 0, 0), FT_OK);    /* empty and single maps sort */
    put_int(e, (ft_val[]){I(1)}, 1);
    CHECK_EQ(ft_map_sort(e, 1, -1, 0, 0), FT_OK);
    CHECK_STR(order(e), "1");
    ft_map_free(e);

    ft_map *sv = ft_map_new("s", FT_T_STR, 10, 0, 64, NULL);
    const char *vals[] = {"pear", "apple", "fig"};
    for (int i = 0; i < 3; i++) {
        char key[2] = {(char)('a' + i), 0};
        ft_map_set_str(sv, ft_map_insert(sv, (ft_val[]){S(key)}), vals[i], -1);
    }
    ft_map_sort(sv, 0, 1, 0, 0);
    CHECK_STR(ft_map_key_str(sv, ft_map_first(sv), 0), "b");   /* "apple" first */
    CHECK_STR(ft_map_get_str(sv, ft_map_first(sv)), "apple");
    ft_map_free(sv);
}

static void test_stat_values(void)
{
    ft_stat_cfg cfg;
    CHECK_EQ(ft_stat_cfg_init(&cfg, FT_HIST_LOG, 0, 0, 0, 0), FT_OK);
    ft_map *m = ft_map_new("i", FT_T_STAT, 10, 0, 64, &cfg);
    CHECK(m != NULL);
    /* key 1: three small values; key 2: one big one; key 3: two values */
    ft_i64 adds[][2] = {{1, 1}, {2, 100}, {1, 2}, {3, 10}, {1, 3}, {3, 20}};
    for (int i = 0; i < 6; i++)
        ft_stat_add(ft_map_get_stat(m, ft_map_insert(m, (ft_val[]){I(adds[i][0])})), adds[i][1]);
    ft_stat *s1 = ft_map_get_stat(m, ft_map_find(m, (ft_val[]){I(1)}));
    ft_i64 v;
    CHECK_EQ(ft_stat_count(s1), 3);
    CHECK_EQ(ft_stat_get(s1, FT_AGG_SUM, &v), FT_OK);
    CHECK_EQ(v, 6);
    CHECK_EQ(ft_stat_hist_bucket(s1, 66), 2);      /* 2 and 3 */
    CHECK_EQ(ft_map_sort(m, 0, -1, FT_AGG_COUNT, 0), FT_OK);
    CHECK_STR(order(m), "1,3,2");
    CHECK_EQ(ft_map_sort(m, 0, -1, FT_AGG_SUM, 0), FT_OK);
    CHECK_STR(order(m), "2,3,1");
    CHECK_EQ(ft_map_sort(m, 0, 1, FT_AGG_MAX, 0), FT_OK);
    CHECK_STR(order(m), "1,3,2");
    CHECK_EQ(ft_map_sort(m, 0, 1, 0, 0), FT_EINVAL);   /* stat values need an aggregate */
    /* a deleted then re-created key starts from an empty statistic */
    ft_map_delete(m, (ft_val[]){I(1)});
    s1 = ft_map_get_stat(m, ft_map_insert(m, (ft_val[]){I(1)}));
    CHECK_EQ(ft_stat_count(s1), 0);
    ft_map_free(m);
}

static void test_slices(void)
{
    ft_map *m = ft_map_new("iis", FT_T_INT, 100, 0, 64, NULL);
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 3; b++)
            put_int(m, (ft_val[]){I(a), I(b), S(b == 1 ? "x" : "y")}, a * 10 + b);
    ft_val pat[] = {I(0), I(2), S("")};
    CHECK_EQ(ft_map_slice_exists(m, pat, 1u << 0 | 1u << 2), 1);   /* [*, 2, *] */
    pat[1] = I(5);
    CHECK_EQ(ft_map_slice_exists(m, pat, 1u << 0 | 1u << 2), 0);
    pat[0] = I(3); pat[1] = I(1); pat[2] = S("x");
    CHECK_EQ(ft_map_slice_exists(m, pat, 0), 1);                   /* no '*': exact */
    pat[2] = S("y");
    CHECK_EQ(ft_map_slice_exists(m, pat, 0), 0);
    CHECK_EQ(ft_map_slice_exists(m, pat, 1u << 1), 1);             /* [3, *, "y"] */
    /* visit [*, *, "x"] in insertion order */
    pat[2] = S("x");
    int seen = 0;
    for (ft_i64 id = ft_map_slice_next(m, ft_map_first(m), pat, 3); id >= 0;
         id = ft_map_slice_next(m, ft_map_next(m, id), pat, 3)) {
        CHECK_EQ(ft_map_get_int(m, id), seen * 10 + 1);
        seen++;
    }
    CHECK_EQ(seen, 4);
    /* delete a[*, 1, *] */
    pat[1] = I(1);
    CHECK_EQ(ft_map_slice_delete(m, pat, 1u << 0 | 1u << 2), 4);
    CHECK_EQ(ft_map_size(m), 8);
    CHECK_EQ(ft_map_slice_exists(m, pat, 1u << 0 | 1u << 2), 0);
    CHECK_EQ(ft_map_slice_delete(m, pat, 7), 8);                   /* all wild */
    CHECK_EQ(ft_map_size(m), 0);
    ft_map_free(m);
}

static void test_strings(void)
{
    /* maxstrlen 8: strings keep 7 bytes, like stap's MAXSTRINGLEN buffers */
    ft_map *m = ft_map_new("s", FT_T_STR, 10, 0, 8, NULL);
    ft_i64 id = ft_map_insert(m, (ft_val[]){S("abcdefghij")});
    CHECK_STR(ft_map_key_str(m, id, 0), "abcdefg");
    CHECK_EQ(ft_map_find(m, (ft_val[]){S("abcdefgXYZ")}), id);   /* same after truncation */
    CHECK_EQ(ft_map_find(m, (ft_val[]){S("abcdef")}), FT_ENOENT);
    CHECK_STR(ft_map_get_str(m, id), "");                         /* new string value is "" */
    ft_map_set_str(m, id, "0123456789", -1);
    CHECK_STR(ft_map_get_str(m, id), "0123456");
    ft_map_set_str(m, id, "xyz", 2);                              /* explicit length */
    CHECK_STR(ft_map_get_str(m, id), "xy");
    ft_val k = {0, "ab\0cd", 5};                                  /* stops at a NUL */
    CHECK_EQ(ft_map_find(m, &k), FT_ENOENT);
    ft_i64 id2 = ft_map_insert(m, &k);
    CHECK_EQ(ft_map_find(m, (ft_val[]){S("ab")}), id2);
    CHECK(ft_map_find(m, (ft_val[]){S("")}) == FT_ENOENT);
    CHECK(ft_map_insert(m, (ft_val[]){S("")}) >= 0);             /* empty string is a key */
    CHECK_EQ(ft_map_size(m), 3);
    ft_map_free(m);

    ft_map *nine = ft_map_new("isisisisi", FT_T_INT, 10, 0, 64, NULL);
    ft_val key[9];
    for (int c = 0; c < 9; c++)
        key[c] = c % 2 ? S("k") : I(c);
    put_int(nine, key, 99);
    CHECK_EQ(ft_map_get_int(nine, ft_map_find(nine, key)), 99);
    key[8] = I(0);
    CHECK_EQ(ft_map_find(nine, key), FT_ENOENT);
    ft_map_free(nine);
}

/* Random operations checked against a plain array of (key, value, seq). */
static void test_random_model(void)
{
    enum { CAP = 64, KEYS = 100 };
    ft_map *m = ft_map_new("i", FT_T_INT, CAP, 0, 16, NULL);
    struct { int live; ft_i64 val, seq; } model[KEYS] = {{0}};
    ft_i64 seq = 0, size = 0;
    unsigned r = 12345;
    for (int step = 0; step < 20000; step++) {
        r = r * 1103515245 + 12345;
        int k = (int)((r >> 8) % KEYS), op = (int)((r >> 20) % 3);
        ft_val key = I(k - 50);
        if (op < 2) {
            ft_i64 id = ft_map_insert(m, &key);
            if (!model[k].live && size == CAP) {
                CHECK_EQ(id, FT_EOVERFLOW);
                continue;
            }
            CHECK(id >= 0);
            if (!model[k].live) {
                model[k].live = 1;
                model[k].seq = seq++;
                size++;
            }
            model[k].val = step;
            ft_map_set_int(m, id, step);
        } else {
            CHECK_EQ(ft_map_delete(m, &key), model[k].live ? FT_OK : FT_ENOENT);
            if (model[k].live)
                size--;
            model[k].live = 0;
        }
        if (step % 1000 == 999) {
            /* iteration visits live keys in first-insertion order */
            CHECK_EQ(ft_map_size(m), size);
            ft_i64 last = -1, n = 0;
            for (ft_i64 id = ft_map_first(m); id >= 0; id = ft_map_next(m, id), n++) {
                int mk = (int)ft_map_key_int(m, id, 0) + 50;
                CHECK(model[mk].live);
                CHECK_EQ(ft_map_get_int(m, id), model[mk].val);
                CHECK(model[mk].seq > last);
                last = model[mk].seq;
            }
            CHECK_EQ(n, size);
        }
    }
    ft_map_free(m);
}

int main(void)
{
    test_basic();
    test_order();
    test_overflow_and_wrap();
    test_sort();
    test_stat_values();
    test_slices();
    test_strings();
    test_random_model();
    CHECK_DONE();
}
