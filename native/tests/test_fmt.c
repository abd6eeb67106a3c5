/* printf: every conversion and flag stap supports, pre-parsing, argument
 * typing and truncation of sprintf results. */
#include <stdint.h>
#include <stdlib.h>
#include "ftstap.h"
#include "fmt.h"
#include "check.h"

#define I(x) ((ft_val){(x), NULL, 0})
#define S(x) ((ft_val){0, (x), -1})

static char out[4096];
static ft_i64 outlen;

/* sprintf with a fresh parse; returns the text (may contain NULs: see outlen) */
static const char *fmtv(const char *fmt, const ft_val *args, int n)
{
    ft_i64 err = -1;
    ft_fmt *f = ft_fmt_parse(fmt, &err);
    if (!f) {
        fprintf(stderr, "parse failed at %lld: %s\n", err, fmt);
        check_failures++;
        return "";
    }
    CHECK_EQ(ft_fmt_nargs(f), n);
    outlen = ft_fmt_sprint(f, args, n, out, sizeof out);
    ft_fmt_free(f);
    return out;
}

#define F(fmt, ...) fmtv(fmt, (ft_val[]){__VA_ARGS__}, sizeof((ft_val[]){__VA_ARGS__}) / sizeof(ft_val))

static void test_integers(void)
{
    CHECK_STR(F("%d|%i|%5d|%-5d|%05d", I(42), I(-7), I(42), I(42), I(-42)),
              "42|-7|   42|42   |-0042");
    CHECK_STR(F("%+d|% d|%+d|%.3d|%8.3d", I(5), I(5), I(-5), I(7), I(-7)),
              "+5| 5|-5|007|    -007");
    CHECK_STR(F("%d|%d", I(INT64_MIN), I(INT64_MAX)),
              "-9223372036854775808|9223372036854775807");
    /* unsigned views of negative numbers are 64-bit */
    CHECK_STR(F("%u|%x|%X|%o", I(-1), I(-1024), I(-1024), I(-1)),
              "18446744073709551615|fffffffffffffc00|FFFFFFFFFFFFFC00|1777777777777777777777");
    CHECK_STR(F("%#x|%#X|%#o|%#d|%#u", I(255), I(255), I(8), I(10), I(10)),
              "0xff|0XFF|010|10|10");
    CHECK_STR(F("%016x|%#010x|%-#8x|", I(9000000000000), I(255), I(255)),
              "0000082f79cd9000|0x000000ff|0xff    |");
    CHECK_STR(F("%ld %lld %lx %hd %zu", I(1), I(2), I(255), I(3), I(4)), "1 2 ff 3 4");
    CHECK_STR(F("%*d|%-*d|%*d|%.*d", I(6), I(1), I(4), I(2), I(-4), I(3), I(3), I(4)),
              "     1|2   |3   |004");
}

static void test_pointer(void)
{
    CHECK_STR(F("%p", I(0)), "0x0000000000000000");
    CHECK_STR(F("%p", I(0x12345678abcdef00)), "0x12345678abcdef00");
    CHECK_STR(F("%20p|", I(1)), "  0x0000000000000001|");
    CHECK_STR(F("%-20p|", I(1)), "0x000000000000000001|");
    CHECK_STR(F("%8p|%8p|", I(1), I(0x12345678)), "0x000001|0x12345678|");
    CHECK_STR(F("%.1p", I(0x12345678)), "0x0000000012345678");
}

static void test_strings_chars(void)
{
    CHECK_STR(F("<%s>|%8s|%-8s|%.3s|%6.2s|", S("Foobar!"), S("ab"), S("ab"), S("abcdef"), S("xyz")),
              "<Foobar!>|      ab|ab      |abc|    xy|");
    CHECK_STR(F("%s", ((ft_val){0, "abcdef", 2})), "ab");          /* explicit length */
    CHECK_STR(F("%s|%s", ((ft_val){0, NULL, 0}), S("")), "|");
    CHECK_STR(F("%c%c%c|%3c|%-3c|", I('s'), I('t'), I('a'), I('p'), I('x')),
              "sta|  p|x  |");
    CHECK_STR(F("%#c%#c%#c%#c%#c", I('a'), I('\n'), I('\''), I('\\'), I('"')),
              "a\\n\\'\\\\\\\"");
    CHECK_STR(F("%#c%#c%#c%#c", I(0), I(033), I(0177), I(0377)), "\\000\\033\\177\\377");
    CHECK_STR(F("100%%|%%d|%d%%", I(5)), "100%|%d|5%");
}

static void test_binary(void)
{
    ft_i64 v = 0x0807060504030201;
    F("%b", I(v));
    CHECK_MEM(out, outlen, "\1\2\3\4\5\6\7\10", 8);                 /* host (little) endian */
    F("%1b%2b%4b", I(v), I(v), I(v));
    CHECK_MEM(out, outlen, "\1\1\2\1\2\3\4", 7);
    F("%.2b|%4.2b|%-4.1b|", I(v), I(v), I(v));
    CHECK_MEM(out, outlen, "\1\2|\0\0\1\2|\1\0\0\0|", 13);          /* NUL padding to width */
    F("%*b|%.*b", I(2), I(v), I(4), I(v));
    CHECK_MEM(out, outlen, "\1\2|\1\2\3\4", 7);
    F("a=%1b", I(0x12));
    CHECK_MEM(out, outlen, "a=\x12", 3);
}

static void test_memory(void)
{
    ft_val mem = {0, "hello\0world", 11};
    CHECK_STR(F("%m|%.3m|%5m|%-4.2m|%4.5m|", mem, mem, mem, mem, mem),
              "h|hel|    h|he  |hello|");
    F("%.8m", mem);
    CHECK_MEM(out, outlen, "hello\0wo", 8);                         /* raw bytes, NULs too */
    CHECK_STR(F("%.20m|", ((ft_val){0, "abc", 3})), "abc|");          /* no more than given */
    CHECK_STR(F("%M|%.3M|%*.*M|", mem, mem, I(14), I(6), mem),
              "68|68656c|  68656c6c6f00|");
}

static void test_parse(void)
{
    ft_i64 err = -1;
    CHECK(ft_fmt_parse("abc %q", &err) == NULL);
    CHECK_EQ(err, 4);
    CHECK(ft_fmt_parse("trailing %", &err) == NULL);
    CHECK_EQ(err, 9);
    CHECK(ft_fmt_parse("%5", &err) == NULL);
    CHECK(ft_fmt_parse("%-", NULL) == NULL);
    CHECK(ft_fmt_parse("%99999999999d", &err) == NULL);
    ft_fmt *f = ft_fmt_parse("%*.*d %s %% %-5m %c", &err);
    CHECK(f != NULL);
    CHECK_EQ(ft_fmt_nargs(f), 6);
    int want[] = {FT_T_INT, FT_T_INT, FT_T_INT, FT_T_STR, FT_T_STR, FT_T_INT};
    for (int i = 0; i < 6; i++)
        CHECK_EQ(ft_fmt_argtype(f, i), want[i]);
    CHECK_EQ(ft_fmt_argtype(f, 6), 0);
    ft_fmt_free(f);
    f = ft_fmt_parse("", &err);
    CHECK(f != NULL);
    CHECK_EQ(ft_fmt_nargs(f), 0);
    CHECK_EQ(ft_fmt_sprint(f, NULL, 0, out, sizeof out), 0);
    CHECK_STR(out, "");
    ft_fmt_free(f);
    /* one parsed format applied many times */
    f = ft_fmt_parse("%d:%s\n", NULL);
    char small[8];
    for (int i = 0; i < 3; i++) {
        ft_val a[] = {I(i), S("x")};
        CHECK_EQ(ft_fmt_sprint(f, a, 2, small, sizeof small), 4);
    }
    CHECK_STR(small, "2:x\n");
    /* results are truncated to the buffer (stap: MAXSTRINGLEN - 1) */
    ft_val a[] = {I(123456), S("abcdef")};
    CHECK_EQ(ft_fmt_sprint(f, a, 2, small, sizeof small), 7);
    CHECK_STR(small, "123456:");
    ft_fmt_free(f);
    /* missing arguments print as 0 / "" rather than reading past the array */
    f = ft_fmt_parse("%d|%s|%d", NULL);
    ft_fmt_sprint(f, a, 1, out, sizeof out);
    CHECK_STR(out, "123456||0");
    ft_fmt_free(f);
}

static void test_int_string(void)
{
    char b[32];
    CHECK_EQ(ft_fmt_int(0, b), 1);
    CHECK_STR(b, "0");
    CHECK_EQ(ft_fmt_int(-42, b), 3);
    CHECK_STR(b, "-42");
    CHECK_EQ(ft_fmt_int(INT64_MIN, b), 20);
    CHECK_STR(b, "-9223372036854775808");
    ft_fmt_int(12345678, b);
    CHECK_STR(b, "12345678");
}

int main(void)
{
    test_integers();
    test_pointer();
    test_strings_chars();
    test_binary();
    test_memory();
    test_parse();
    test_int_string();
    CHECK_DONE();
}
