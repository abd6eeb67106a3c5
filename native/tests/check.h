/* Tiny assertion helpers for the native unit tests: a failed check prints
 * where and what, and the test binary exits non-zero at the end. */
#ifndef FT_CHECK_H
#define FT_CHECK_H
#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(c)                                                              \
    do {                                                                      \
        if (!(c)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); \
            check_failures++;                                                 \
        }                                                                     \
    } while (0)

#define CHECK_EQ(a, b)                                                        \
    do {                                                                      \
        long long a_ = (long long)(a), b_ = (long long)(b);                   \
        if (a_ != b_) {                                                       \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n",         \
                    __FILE__, __LINE__, #a, #b, a_, b_);                      \
            check_failures++;                                                 \
        }                                                                     \
    } while (0)

#define CHECK_STR(a, b)                                                       \
    do {                                                                      \
        const char *a_ = (a), *b_ = (b);                                      \
        if (strcmp(a_, b_) != 0) {                                            \
            fprintf(stderr, "%s:%d: %s == %s failed:\n--- got\n%s\n--- want\n%s\n", \
                    __FILE__, __LINE__, #a, #b, a_, b_);                      \
            check_failures++;                                                 \
        }                                                                     \
    } while (0)

#define CHECK_MEM(a, alen, b, blen)                                           \
    do {                                                                      \
        long long al_ = (long long)(alen), bl_ = (long long)(blen);           \
        if (al_ != bl_ || memcmp((a), (b), (size_t)al_) != 0) {               \
            fprintf(stderr, "%s:%d: bytes %s differ from %s\n",               \
                    __FILE__, __LINE__, #a, #b);                              \
            check_failures++;                                                 \
        }                                                                     \
    } while (0)

#define CHECK_DONE()                                                          \
    do {                                                                      \
        if (check_failures)                                                   \
            fprintf(stderr, "%d check(s) failed\n", check_failures);          \
        else                                                                  \
            printf("all checks passed\n");                                    \
        return check_failures ? 1 : 0;                                        \
    } while (0)

#endif
