/* Load (and verify) every program image named on the command line, one
 * line per image: "ok NAME" or "refused NAME: MESSAGE".  Built under
 * ASan/UBSan by tests/unit/image_fuzz_support.py, which feeds it the
 * damaged and hostile images of the image fuzz campaign: the C loader must
 * refuse each bad one with a message, never read out of bounds or crash.
 * A leak or an out-of-bounds access stops it with a sanitizer report and a
 * non-zero status; the last "loading" line names the image. */
#include "ftstap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (*len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)*len + 1);
        if (buf && fread(buf, 1, (size_t)*len, f) != (size_t)*len) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        long len = 0;
        char *img = slurp(argv[i], &len);
        if (!img) {
            printf("unreadable %s\n", argv[i]);
            bad = 1;
            continue;
        }
        fprintf(stderr, "loading %s\n", argv[i]);
        char err[512];
        /* the copy of exactly len bytes: ASan sees any read past the end */
        char *exact = malloc(len ? (size_t)len : 1);
        memcpy(exact, img, (size_t)len);
        free(img);
        ft_prog *p = ft_prog_load(exact, (ft_i64)len, err, sizeof err);
        if (p)
            printf("ok %s\n", argv[i]);
        else
            printf("refused %s: %s\n", argv[i], err);
        ft_prog_free(p);
        free(exact);
    }
    return bad;
}
