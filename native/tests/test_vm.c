/* VM unit tests under ASan/UBSan: images assembled byte by byte here, so
 * the loader, the verifier and the interpreter are exercised without
 * Python.  Every truncation of a valid image must be refused cleanly. */
#include "ftstap.h"
#include "program.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct { uint8_t b[4096]; size_t n; } buf;

static void put(buf *o, const void *p, size_t n) { memcpy(o->b + o->n, p, n); o->n += n; }
static void u8(buf *o, uint8_t v) { put(o, &v, 1); }
static void u16(buf *o, uint16_t v) { put(o, &v, 2); }
static void u32(buf *o, uint32_t v) { put(o, &v, 4); }
static void i64(buf *o, ft_i64 v) { put(o, &v, 8); }
static void str(buf *o, const char *s) { u32(o, (uint32_t)strlen(s)); put(o, s, strlen(s)); }

/* the header's CRC-32 of the body (bytes 20..n), as zlib.crc32 computes it */
static void seal(uint8_t *img, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 20; i < n; i++) {
        c ^= img[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    c ^= 0xFFFFFFFFu;
    memcpy(img + 16, &c, 4);
}

/* strings: 0 "begin", 1 "%d:%s\n", 2 "x", 3 "f.stp", 4 "operator '/'", 5 "g" */
static size_t image(uint8_t *out, const buf *code, int with_div)
{
    buf o = {{0}, 0};
    put(&o, "FTSTAPIM", 8);
    u32(&o, FT_IMAGE_VERSION);
    u16(&o, FT_HOST_MACHINE); u8(&o, FT_HOST_BYTEORDER); u8(&o, FT_HOST_WORDSIZE);   /* made for this machine */
    u32(&o, 0);                                              /* the checksum, below */
    str(&o, "");                                             /* for any kernel */
    const char *strs[] = {"begin", "%d:%s\n", "x", "f.stp", "operator '/'", "g"};
    u32(&o, 6);
    for (int i = 0; i < 6; i++)
        str(&o, strs[i]);
    u32(&o, 1); u32(&o, 1);                                  /* format 0 = "%d:%s\n" */
    u32(&o, 1); u32(&o, 3); u32(&o, 2); u32(&o, 7); u32(&o, 4);   /* loc 0 */
    u32(&o, 1);                                              /* global g: long[string] */
    u32(&o, 5); u8(&o, FT_T_INT); u8(&o, 1); u8(&o, 's'); u8(&o, 0); i64(&o, 0);
    u8(&o, 0); i64(&o, 0); i64(&o, 0); i64(&o, 0); u8(&o, 0); i64(&o, 0); u32(&o, 0xffffffffu);
    u32(&o, 1);                                              /* function begin: void, local i */
    u32(&o, 0); u8(&o, 'v'); u8(&o, 0); u16(&o, 1); u8(&o, 'i'); u8(&o, 0);
    u32(&o, (uint32_t)code->n); put(&o, code->b, code->n);
    u32(&o, 1);                                              /* probe begin */
    u32(&o, 0); u8(&o, FT_PROBE_BEGIN); i64(&o, 0); i64(&o, 0); i64(&o, 0); u32(&o, 0); u32(&o, 0);
    (void)with_div;
    seal(o.b, o.n);
    memcpy(out, o.b, o.n);
    return o.n;
}

static void op(buf *c, int o) { u8(c, (uint8_t)o); }

static char *run_capture(const uint8_t *img, size_t n, int *status, char *errtext)
{
    static char outbuf[4096];
    char err[256];
    ft_prog *p = ft_prog_load((const char *)img, (ft_i64)n, err, sizeof err);
    if (!p) {
        snprintf(errtext, 256, "%s", err);
        return NULL;
    }
    FILE *o = tmpfile(), *e = tmpfile();
    ft_vm *vm = ft_vm_new(p, NULL, fileno(o), fileno(e), err, sizeof err);
    CHECK(vm != NULL);
    *status = ft_run(vm, 0);
    ft_vm_free(vm);
    ft_prog_free(p);
    size_t k = (size_t)pread(fileno(o), outbuf, sizeof outbuf - 1, 0);
    outbuf[k < sizeof outbuf ? k : 0] = '\0';
    k = (size_t)pread(fileno(e), errtext, 255, 0);
    errtext[k < 256 ? k : 0] = '\0';
    fclose(o);
    fclose(e);
    return outbuf;
}

int main(void)
{
    /* for (i = 0; i < 3; i++) g["x"] += i; printf("%d:%s\n", g["x"], "x"); 1/0 */
    buf c = {{0}, 0};
    op(&c, FT_OP_PUSHI); i64(&c, 0);
    op(&c, FT_OP_STI); u16(&c, 0);
    uint32_t top = (uint32_t)c.n;
    op(&c, FT_OP_LDI); u16(&c, 0);
    op(&c, FT_OP_PUSHI); i64(&c, 3);
    op(&c, FT_OP_JGE); size_t fix = c.n; u32(&c, 0);
    op(&c, FT_OP_PUSHS); u32(&c, 2);
    op(&c, FT_OP_LDI); u16(&c, 0);
    op(&c, FT_OP_AADDI); u16(&c, 0); u8(&c, 0); u32(&c, 0xffffffffu);
    op(&c, FT_OP_INCLI); u16(&c, 0); i64(&c, 1);
    op(&c, FT_OP_JMP); u32(&c, top);
    uint32_t done = (uint32_t)c.n;
    memcpy(c.b + fix, &done, 4);
    op(&c, FT_OP_PUSHS); u32(&c, 2);
    op(&c, FT_OP_AGETI); u16(&c, 0);
    op(&c, FT_OP_PUSHS); u32(&c, 2);
    op(&c, FT_OP_PRINTF); u32(&c, 0);
    op(&c, FT_OP_PUSHI); i64(&c, 1);
    op(&c, FT_OP_PUSHI); i64(&c, 0);
    op(&c, FT_OP_DIV); u32(&c, 0);
    op(&c, FT_OP_POPI);
    op(&c, FT_OP_RET);

    static uint8_t img[8192];
    size_t n = image(img, &c, 1);
    int status = -1;
    char err[256];
    char *out = run_capture(img, n, &status, err);
    CHECK(out != NULL);
    if (out) {
        CHECK_STR(out, "3:x\n");
        CHECK_EQ(status, 1);
        CHECK_STR(err, "ERROR: division by zero near operator '/' at f.stp:2:7\n"
                       "WARNING: Number of errors: 1, skipped probes: 0\n");
    }

    /* every truncation is refused, never a crash */
    for (size_t k = 0; k < n; k++) {
        char e[128];
        ft_prog *p = ft_prog_load((const char *)img, (ft_i64)k, e, sizeof e);
        CHECK(p == NULL);
        ft_prog_free(p);
    }
    /* a jump into the middle of an instruction is refused */
    memcpy(c.b + fix, &(uint32_t){done + 1}, 4);
    n = image(img, &c, 1);
    CHECK(run_capture(img, n, &status, err) == NULL);
    CHECK(strstr(err, "middle of an instruction") != NULL);

    CHECK(ft_opcode_count() > 50);
    CHECK_STR(ft_opcode_name(FT_OP_DIV), "DIV");
    CHECK_DONE();
}
