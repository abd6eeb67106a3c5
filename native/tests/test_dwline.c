/* dwline.c: this very program's DWARF line table (the tests are built with
 * -g) names this file and the line of a function, and damaged copies of
 * the table are read without a fault (ASan and UBSan watch). */
#define _GNU_SOURCE 1
#include "backtrace.h"
#include "check.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const int marker_line = __LINE__ + 1;
__attribute__((noinline)) int dwline_marker(int x) { return x * 7 + 1; }

static void test_own_lines(void)
{
    ft_usyms *u = ft_usyms_new();
    const char *dir = NULL, *name = NULL;
    uint32_t line = 0;
    CHECK_EQ(ft_usyms_line(u, getpid(), (uint64_t)(uintptr_t)&dwline_marker, &dir, &name, &line), 0);
    CHECK(name && strstr(name, "test_dwline.c"));
    CHECK_EQ(line, marker_line);
    /* libc has no line table here: unknown, not a guess */
    CHECK_EQ(ft_usyms_line(u, getpid(), (uint64_t)(uintptr_t)&getpid, &dir, &name, &line), -1);
    CHECK_EQ(ft_usyms_line(u, 0x7ffffff0, (uint64_t)(uintptr_t)&dwline_marker, &dir, &name, &line), -1);
    ft_usyms_free(u);
}

static void test_damaged_tables(void)
{
    int fd = open("/proc/self/exe", O_RDONLY);
    struct stat st;
    CHECK(fd >= 0 && fstat(fd, &st) == 0);
    size_t len = (size_t)st.st_size;
    unsigned char *good = malloc(len), *bad = malloc(len);
    CHECK(good && bad && read(fd, good, len) == (ssize_t)len);
    close(fd);
    ft_lines *L = ft_lines_read(good, len);
    CHECK(L != NULL);
    ft_lines_free(L);
    /* the table is somewhere in the last part of the file (after the code):
       flip bytes all over it, and cut the file short */
    srand(7);
    for (int round = 0; round < 600; round++) {
        memcpy(bad, good, len);
        for (int k = 0; k < 1 + round % 16; k++)
            bad[len / 2 + (size_t)rand() % (len / 2)] ^= (unsigned char)(1 + rand() % 255);
        size_t cut = round % 3 == 0 ? len / 2 + (size_t)rand() % (len / 2) : len;
        ft_lines *M = ft_lines_read(bad, cut);
        const char *dir, *name;
        uint32_t line;
        if (M)
            ft_lines_find(M, (uint64_t)rand(), &dir, &name, &line);
        ft_lines_free(M);
    }
    free(good);
    free(bad);
}

int main(void)
{
    test_own_lines();
    test_damaged_tables();
    if (check_failures)
        return 1;
    printf("all checks passed\n");
    return 0;
}
