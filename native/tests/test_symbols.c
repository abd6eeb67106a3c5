/* ksyms.c (kernel symbol table from kallsyms text), usyms.c (this very
 * process through /proc/self/maps and its own ELF file) and the stap line
 * format of ft_sym_line. */
#define _GNU_SOURCE 1
#include "check.h"
#include "../backtrace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char KALLSYMS[] =
    "ffffffff81000000 T _stext\n"
    "ffffffff81000000 T _text\n"
    "ffffffff81000100 t helper\n"
    "ffffffff81000190 D some_data\n"            /* not text: ignored */
    "ffffffff81000200 T vfs_read\n"
    "ffffffff81000390 W weak_fn\n"
    "0000000000000000 A zero_sym\n"
    "garbage line\n"
    "ffffffffc0002000 t mod_fn\t[e1000]\n"
    "ffffffffc0002040 t mod_fn2\t[e1000]\n"
    "ffffffffc0001000 t other_fn\t[xfs]\n"      /* out of order: sorted */
    "ffffffffc0003000 T last_fn\t[e1000]";      /* no final newline */

static void test_ksyms(void)
{
    ft_ksyms *k = ft_ksyms_parse(KALLSYMS, sizeof KALLSYMS - 1);
    CHECK(k != NULL);
    CHECK_EQ((long long)ft_ksyms_count(k), 9);
    ft_sym s;
    CHECK_EQ(ft_ksyms_find(k, 0xffffffff81000000ull, &s), 0);
    CHECK_STR(s.name, "_stext");                /* the first of two aliases */
    CHECK_EQ((long long)s.size, 0x100);
    CHECK_EQ(ft_ksyms_find(k, 0xffffffff8100021dull, &s), 0);
    CHECK_STR(s.name, "vfs_read");
    CHECK_STR(s.module, "kernel");
    CHECK_EQ((long long)s.off, 0x1d);
    CHECK_EQ((long long)s.size, 0x190);
    char line[256];
    ft_sym_line(line, sizeof line, 0xffffffff8100021dull, &s);
    CHECK_STR(line, " 0xffffffff8100021d : vfs_read+0x1d/0x190 [kernel]\n");
    ft_sym_data(line, sizeof line, 0xffffffff8100021dull, &s);
    CHECK_STR(line, "vfs_read+0x1d/0x190 [kernel]");
    CHECK_EQ(ft_ksyms_find(k, 0xffffffff81000150ull, &s), 0);
    CHECK_STR(s.name, "helper");                /* some_data is not text */
    CHECK_EQ(ft_ksyms_find(k, 0xffffffffc0002044ull, &s), 0);
    CHECK_STR(s.name, "mod_fn2");
    CHECK_STR(s.module, "e1000");
    CHECK_EQ(ft_ksyms_find(k, 0xffffffffc0001001ull, &s), 0);
    CHECK_STR(s.name, "other_fn");
    CHECK_STR(s.module, "xfs");
    CHECK_EQ(ft_ksyms_find(k, 0xffffffffc0003010ull, &s), 0);
    CHECK_STR(s.name, "last_fn");
    CHECK_EQ((long long)s.size, 0);                /* the last symbol: size unknown */
    CHECK_EQ(ft_ksyms_find(k, 0xffffffff80000000ull, &s), -1);
    CHECK_EQ(ft_ksyms_find(k, 0, &s), -1);
    ft_sym_line(line, sizeof line, 0x1234, NULL);
    CHECK_STR(line, " 0x0000000000001234\n");
    ft_sym_line(line, 12, 0xffffffff8100021dull, &s);   /* truncated, still terminated */
    CHECK_EQ((long long)strlen(line), 11);
    ft_ksyms_free(k);

    k = ft_ksyms_parse("", 0);
    CHECK(k != NULL);
    CHECK_EQ(ft_ksyms_find(k, 0xffffffff81000000ull, &s), -1);
    ft_ksyms_free(k);
}

__attribute__((noinline)) int probe_target(int x) { return x * 3 + 1; }

static void test_usyms(void)
{
    ft_usyms *u = ft_usyms_new();
    CHECK(u != NULL);
    ft_sym s;
    uint64_t a = (uint64_t)(uintptr_t)&probe_target;
    CHECK_EQ(ft_usyms_find(u, getpid(), a + 2, &s), 0);
    CHECK(s.name && s.name_len == strlen("probe_target") && !strncmp(s.name, "probe_target", s.name_len));
    CHECK_EQ((long long)s.off, 2);
    CHECK(s.size > 2);
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    CHECK(n > 0);
    exe[n > 0 ? n : 0] = '\0';
    CHECK_STR(s.module, exe);
    char line[8192], want[8192];
    ft_sym_line(line, sizeof line, a + 2, &s);
    snprintf(want, sizeof want, " 0x%016llx : probe_target+0x2/0x%llx [%s]\n", (unsigned long long)(a + 2),
             (unsigned long long)s.size, exe);
    CHECK_STR(line, want);
    CHECK_EQ(ft_usyms_nfiles(u), 1);
    /* the same file again: no new load */
    CHECK_EQ(ft_usyms_find(u, getpid(), (uint64_t)(uintptr_t)&test_usyms, &s), 0);
    CHECK(!strncmp(s.name, "test_usyms", s.name_len));
    CHECK_EQ(ft_usyms_nfiles(u), 1);
    /* libc: only .dynsym, still named */
    CHECK_EQ(ft_usyms_find(u, getpid(), (uint64_t)(uintptr_t)&getpid, &s), 0);
    CHECK(s.name && s.module && strstr(s.module, "libc"));
    /* not executable memory / a process that is gone */
    static int data;
    CHECK_EQ(ft_usyms_find(u, getpid(), (uint64_t)(uintptr_t)&data, &s), -1);
    CHECK_EQ(ft_usyms_find(u, 0x7ffffff0, a, &s), -1);
    ft_usyms_forget(u, getpid());
    CHECK_EQ(ft_usyms_find(u, getpid(), a, &s), 0);
    /* more processes than the cache holds: the oldest are evicted, nothing grows */
    for (int pid = 0x7fff0000; pid < 0x7fff0000 + 2 * FT_US_PIDS; pid++)
        CHECK_EQ(ft_usyms_find(u, pid, a, &s), -1);
    CHECK_EQ(ft_usyms_find(u, getpid(), a, &s), 0);
    ft_usyms_free(u);
    ft_usyms_free(NULL);
}

int main(void)
{
    test_ksyms();
    test_usyms();
    CHECK_DONE();
}
