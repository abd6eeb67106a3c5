/* The single-column fast paths of map.h (ft_map_insert_int/_str and their
 * finds, which the VM uses for one-number and one-string keys) must agree
 * with the general path entry for entry: same hash, same truncation of
 * string keys, and the same insertion order, overflow, `%` wrap, delete,
 * sort and wildcard behaviour. */
#include <stdint.h>
#include <stdlib.h>
#include "ftstap.h"
#include "map.h"
#include "stat.h"
#include "check.h"

#define I(x) ((ft_val){(x), NULL, 0})
#define S(x) ((ft_val){0, (x), -1})

static ft_i64 fast_find_int(const ft_map *m, ft_i64 k)
{
    return ft_map_find_int(m, k, ft_map_hash_int(k));
}

static ft_i64 fast_find_str(const ft_map *m, const char *s, ft_i64 n)
{
    uint32_t len = ft_map_str_keylen(m, s, n);
    return ft_map_find_str(m, s, len, ft_map_hash_str(s, len));
}

static void test_int_keys_agree_with_general_path(void)
{
    ft_map *m = ft_map_new("i", FT_T_INT, 4096, 0, 64, NULL);
    /* keys that differ only in high bits must not share one chain */
    static const ft_i64 odd[] = {0, 1, -1, INT64_MIN, INT64_MAX, 1LL << 32, 2LL << 32, 1LL << 62};
    for (int i = 0; i < 3000; i++) {
        ft_i64 k = i < 8 ? odd[i] : (ft_i64)(i - 7) * 1024;
        ft_i64 id = i % 2 ? ft_map_insert_int(m, k) : ft_map_insert(m, &I(k));
        CHECK(id >= 0);
        ft_map_set_int(m, id, i);
    }
    CHECK_EQ(ft_map_size(m), 3000);
    for (int i = 0; i < 3000; i++) {
        ft_i64 k = i < 8 ? odd[i] : (ft_i64)(i - 7) * 1024;
        ft_i64 a = fast_find_int(m, k), b = ft_map_find(m, &I(k));
        CHECK_EQ(a, b);
        CHECK_EQ(ft_map_get_int(m, a), i);
        CHECK_EQ(ft_map_insert_int(m, k), a);       /* present: the same entry */
    }
    CHECK_EQ(fast_find_int(m, 12345), FT_ENOENT);
    /* insertion order is shared by both paths */
    ft_i64 id = ft_map_first(m);
    CHECK_EQ(ft_map_key_int(m, id, 0), 0);
    CHECK_EQ(ft_map_key_int(m, ft_map_next(m, id), 0), 1);
    /* delete through one path, miss through the other, reinsert at the end */
    CHECK_EQ(ft_map_delete(m, &I(1)), FT_OK);
    CHECK_EQ(fast_find_int(m, 1), FT_ENOENT);
    id = ft_map_insert_int(m, 1);
    CHECK_EQ(ft_map_get_int(m, id), 0);             /* a new entry starts at 0 */
    ft_i64 last = -1;
    for (ft_i64 e = ft_map_first(m); e >= 0; e = ft_map_next(m, e))
        last = e;
    CHECK_EQ(last, id);
    ft_map_free(m);
}

static void test_int_overflow_wrap_sort(void)
{
    ft_map *m = ft_map_new("i", FT_T_INT, 3, 0, 64, NULL);
    CHECK(ft_map_insert_int(m, 10) >= 0);
    CHECK(ft_map_insert_int(m, 20) >= 0);
    CHECK(ft_map_insert_int(m, 30) >= 0);
    CHECK_EQ(ft_map_insert_int(m, 40), FT_EOVERFLOW);
    CHECK(ft_map_insert_int(m, 20) >= 0);           /* existing keys still work when full */
    ft_map_free(m);

    ft_map *w = ft_map_new("i", FT_T_INT, 3, 1, 64, NULL);
    for (ft_i64 k = 1; k <= 5; k++)
        ft_map_set_int(w, ft_map_insert_int(w, k), k * 10);
    CHECK_EQ(ft_map_size(w), 3);
    CHECK_EQ(fast_find_int(w, 1), FT_ENOENT);        /* the oldest went first */
    CHECK_EQ(fast_find_int(w, 2), FT_ENOENT);
    CHECK_EQ(ft_map_get_int(w, fast_find_int(w, 5)), 50);
    CHECK_EQ(ft_map_sort(w, 0, -1, 0, 0), FT_OK);   /* by value, descending */
    ft_i64 id = ft_map_first(w);
    CHECK_EQ(ft_map_key_int(w, id, 0), 5);
    id = ft_map_next(w, id);
    CHECK_EQ(ft_map_key_int(w, id, 0), 4);
    CHECK_EQ(ft_map_slice_exists(w, &I(0), 1), 1);   /* [*] in w */
    CHECK_EQ(ft_map_slice_exists(w, &I(3), 0), 1);
    CHECK_EQ(ft_map_slice_exists(w, &I(2), 0), 0);
    ft_map_free(w);
}

static void test_string_keys_agree_with_general_path(void)
{
    ft_map *m = ft_map_new("s", FT_T_INT, 256, 0, 8, NULL);   /* keys keep 7 bytes */
    char buf[16];
    for (int i = 0; i < 200; i++) {
        int n = snprintf(buf, sizeof buf, "k%d", i);
        ft_i64 id = i % 2 ? ft_map_insert_str(m, buf, n) : ft_map_insert(m, &S(buf));
        CHECK(id >= 0);
        ft_map_set_int(m, id, i);
    }
    for (int i = 0; i < 200; i++) {
        snprintf(buf, sizeof buf, "k%d", i);
        ft_i64 a = fast_find_str(m, buf, -1);
        CHECK_EQ(a, ft_map_find(m, &S(buf)));
        CHECK_EQ(ft_map_get_int(m, a), i);
    }
    /* a string key stops at its first NUL, as the general path stores it */
    ft_i64 id = ft_map_insert_str(m, "ab\0cd", 5);
    CHECK_EQ(ft_map_find(m, &S("ab")), id);
    CHECK_EQ(ft_map_insert_str(m, "ab", 2), id);
    /* and at maxstr - 1 bytes: longer keys with the same prefix are one key */
    id = ft_map_insert(m, &S("abcdefgXYZ"));
    CHECK_EQ(fast_find_str(m, "abcdefgQ", -1), id);
    CHECK_EQ(ft_map_insert_str(m, "abcdefg", 7), id);
    CHECK_STR(ft_map_key_str(m, id, 0), "abcdefg");
    CHECK_EQ(fast_find_str(m, "", 0), FT_ENOENT);
    id = ft_map_insert_str(m, "", 0);
    CHECK_EQ(ft_map_find(m, &S("")), id);
    CHECK_EQ(ft_map_delete(m, &S("k3")), FT_OK);
    CHECK_EQ(fast_find_str(m, "k3", 2), FT_ENOENT);
    CHECK_EQ(ft_map_sort(m, 1, 1, 0, 0), FT_OK);    /* by key, ascending */
    CHECK_STR(ft_map_key_str(m, ft_map_first(m), 0), "");
    ft_map_free(m);
}

static void test_string_overflow_and_wrap(void)
{
    ft_map *m = ft_map_new("s", FT_T_INT, 2, 0, 16, NULL);
    CHECK(ft_map_insert_str(m, "a", 1) >= 0);
    CHECK(ft_map_insert_str(m, "b", 1) >= 0);
    CHECK_EQ(ft_map_insert_str(m, "c", 1), FT_EOVERFLOW);
    ft_map_free(m);
    ft_map *w = ft_map_new("s", FT_T_INT, 2, 1, 16, NULL);
    ft_map_insert_str(w, "a", 1);
    ft_map_insert_str(w, "b", 1);
    CHECK(ft_map_insert_str(w, "c", 1) >= 0);
    CHECK_EQ(fast_find_str(w, "a", 1), FT_ENOENT);
    CHECK(fast_find_str(w, "b", 1) >= 0);
    CHECK_STR(ft_map_key_str(w, ft_map_first(w), 0), "b");
    ft_map_free(w);
}

int main(void)
{
    test_int_keys_agree_with_general_path();
    test_int_overflow_wrap_sort();
    test_string_keys_agree_with_general_path();
    test_string_overflow_and_wrap();
    CHECK_DONE();
}
