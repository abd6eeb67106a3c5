/* Program images: loading (verification is verify.c).
 *
 * An image is the whole compiled script: what Python's ImageBuilder
 * (ftstap/image/builder.py) serializes and `ftstap --run IMAGE` runs.  It is
 * untrusted input: every index, jump and stack depth is checked here, so a
 * bad image is an error message, never a crash in the interpreter.
 *
 * Layout (little-endian; u8/u16/u32/i64; str = u32 length + bytes):
 *
 *   header   "FTSTAPIM" u32 version(=4), the machine the image is for (u16
 *            ELF e_machine, u8 byte order 1 little/2 big, u8 pointer bytes;
 *            image/target.py), u32 CRC-32 of the body (every byte after
 *            these 20; zlib's crc32), checked before anything else
 *   kernel   str (at most 64 bytes): the kernel release it was compiled for
 *            (ftstap -r: another machine's); the runtimes refuse to run it on
 *            another (ft_prog_kernel_mismatch); loading does not care
 *   strings  u32 n, n x str                         string constants, id = index
 *   formats  u32 n, n x u32 string id               printf formats, parsed at load
 *   locs     u32 n, n x (u32 file-string, u32 line, u32 col, u32 desc-string)
 *            desc is the token stap names in errors, e.g. "operator '/'"
 *   globals  u32 n, each:
 *            u32 name-string, u8 value type (1 int, 2 string, 3 stat),
 *            u8 nkeys (0 = scalar), nkeys x u8 ('i' or 's'), u8 flags (1 wrap,
 *            2 autoprint), i64 maxsize (0 = MAXMAPENTRIES), u8 histogram
 *            (0 none, 1 log, 2 linear), i64 start, i64 stop, i64 interval,
 *            u8 variance shift, i64 initial int, u32 initial string (~0: "")
 *   funcs    u32 n, each:
 *            u32 name-string, u8 return ('v', 'i', 's'), u8 nparams,
 *            u16 nlocals, nlocals x u8 ('i'/'s'; the parameters first),
 *            u8 iterator slots, u32 code length, code
 *   probes   u32 n, each:
 *            u32 name-string (probe point), u8 kind (FT_PROBE_*),
 *            i64 priority, i64 interval ns, i64 randomize ns,
 *            u32 handler function (void, no parameters), u32 event id;
 *            procfs read/write probes (FT_PROBE_PROCFS_*) reuse three:
 *            the event id is the file name's string id, the interval its
 *            .maxsize (0: MAXSTRINGLEN), the randomize its .umask (-1: none)
 *   events   optional (absent when the script has no event probes):
 *            u32 n, each (one per event id, the kernel events to create and
 *            open: ftstap/image/events.py's EventSpec):
 *            u8 kind (FT_EVK_*), u8 flags (FT_EVF_*), u16 maxactive,
 *            u32 perf type, i64 config, i64 offset, i64 sample period,
 *            i64 sample frequency, u32 x 6 string ids (~0: none) of pp,
 *            system, event, path, symbol, kernel filter,
 *            u16 nargs, nargs x u32 fetch-arg string ids ("NAME=FETCH:TYPE"),
 *            u16 nfields, nfields x (u32 fetch-arg name string id, u16 the
 *            record offset pass 3 planned for it).
 *            The loader checks the structure (kinds, flags, string ids);
 *            what the text may hold is checked before it reaches tracefs
 *            (image/eventcheck.py, native/runner/evcheck.c)
 *
 * This comment is the one description of the layout: ftstap/image/format.py
 * (reader) and builder.py (writer) point here.
 *
 * Code is a sequence of opcodes (u8, numbered as in opcodes.def) each
 * followed by its operands (sizes by kind letter, see opcodes.def); every
 * function is checked by verify.c before anything runs. */
#include "ftstap.h"
#include "fmt.h"
#include "program.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>


const char *const ft_op_kinds[] = {
#define OP(name, kinds, ip, ipu, sp, spu, doc) kinds,
#include "opcodes.def"
#undef OP
};
const signed char ft_op_effects[][4] = {
#define OP(name, kinds, ip, ipu, sp, spu, doc) {ip, ipu, sp, spu},
#include "opcodes.def"
#undef OP
};
static const char *const op_names[] = {
#define OP(name, kinds, ip, ipu, sp, spu, doc) #name,
#include "opcodes.def"
#undef OP
};
static const char *const op_docs[] = {
#define OP(name, kinds, ip, ipu, sp, spu, doc) doc,
#include "opcodes.def"
#undef OP
};

int ft_opcode_count(void) { return FT_NOPS; }
const char *ft_opcode_name(int op) { return op >= 0 && op < FT_NOPS ? op_names[op] : NULL; }
const char *ft_opcode_operands(int op) { return op >= 0 && op < FT_NOPS ? ft_op_kinds[op] : NULL; }
const char *ft_opcode_doc(int op) { return op >= 0 && op < FT_NOPS ? op_docs[op] : NULL; }
int ft_opcode_effect(int op, int which)
{
    return op >= 0 && op < FT_NOPS && which >= 0 && which < 4 ? ft_op_effects[op][which] : -1;
}
int ft_operand_size(int kind) { return ft_kind_size((char)kind); }

/* CRC-32 (IEEE 802.3, reflected, as zlib.crc32 computes it) */
static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    static uint32_t table[256];
    if (!table[1]) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
    }
    uint32_t c = 0xFFFFFFFFu;
    while (n--)
        c = table[(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

int ft_prog_nglobals(const ft_prog *p) { return (int)p->nglobals; }
int ft_prog_nprobes(const ft_prog *p) { return (int)p->nprobes; }
int ft_prog_nfuncs(const ft_prog *p) { return (int)p->nfuncs; }

/* ---- reading ---- */

typedef struct rd {
    const uint8_t *p, *end;
    char *err;
    int errlen;
    int failed;
} rd;

static int fail(rd *r, const char *fmt, ...)
{
    if (!r->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err, (size_t)r->errlen, fmt, ap);
        va_end(ap);
    }
    r->failed = 1;
    return -1;
}

static const uint8_t *take(rd *r, size_t n)
{
    if (r->failed || (size_t)(r->end - r->p) < n) {
        fail(r, "truncated image");
        return NULL;
    }
    const uint8_t *q = r->p;
    r->p += n;
    return q;
}

static uint32_t u8(rd *r) { const uint8_t *q = take(r, 1); return q ? *q : 0; }
static uint32_t u16(rd *r) { const uint8_t *q = take(r, 2); return q ? ft_rd_u16(q) : 0; }
static uint32_t u32(rd *r) { const uint8_t *q = take(r, 4); return q ? ft_rd_u32(q) : 0; }
static ft_i64 i64(rd *r) { const uint8_t *q = take(r, 8); return q ? ft_rd_i64(q) : 0; }

/* A count whose items take at least `each` bytes: bounded by what is left. */
static uint32_t count(rd *r, size_t each)
{
    uint32_t n = u32(r);
    if (!r->failed && (size_t)n * each > (size_t)(r->end - r->p))
        fail(r, "bad count %u", n);
    return r->failed ? 0 : n;
}

static int str_id(rd *r, const ft_prog *p, uint32_t id, const char *what)
{
    if (id >= p->nstrs)
        return fail(r, "%s: bad string id %u", what, id);
    return 0;
}

/* ---- sections ---- */

static void read_strings(rd *r, ft_prog *p)
{
    p->nstrs = count(r, 4);
    const uint8_t *start = r->p;
    size_t total = 0;
    for (uint32_t i = 0; i < p->nstrs && !r->failed; i++) {
        uint32_t n = u32(r);
        take(r, n);
        total += n + 1;
    }
    if (r->failed)
        return;
    p->strs = calloc(p->nstrs ? p->nstrs : 1, sizeof *p->strs);
    p->blob = malloc(total ? total : 1);
    if (!p->strs || !p->blob) {
        fail(r, "out of memory");
        return;
    }
    rd again = {start, r->end, r->err, r->errlen, 0};
    char *out = p->blob;
    for (uint32_t i = 0; i < p->nstrs; i++) {
        uint32_t n = u32(&again);
        memcpy(out, take(&again, n), n);
        out[n] = '\0';
        p->strs[i].s = out;
        p->strs[i].len = n;
        out += n + 1;
    }
}

static void read_formats(rd *r, ft_prog *p)
{
    p->nfmts = count(r, 4);
    p->fmts = calloc(p->nfmts ? p->nfmts : 1, sizeof *p->fmts);
    if (!p->fmts)
        return (void)fail(r, "out of memory");
    for (uint32_t i = 0; i < p->nfmts && !r->failed; i++) {
        uint32_t s = u32(r);
        if (str_id(r, p, s, "format"))
            return;
        ft_i64 off = 0;
        ft_fmt *f = ft_fmt_parse(p->strs[s].s, &off);
        if (!f)
            return (void)fail(r, "format %u: bad printf format at byte %lld", i, (long long)off);
        p->fmts[i].fmt = f;
        p->fmts[i].nargs = ft_fmt_nargs(f);
        for (int a = 0; a < p->fmts[i].nargs; a++) {
            if (ft_fmt_argtype(f, a) == FT_T_STR)
                p->fmts[i].nstr++;
            else
                p->fmts[i].nint++;
        }
        if (p->fmts[i].nargs > p->max_fmt_args)
            p->max_fmt_args = p->fmts[i].nargs;
    }
}

static void read_locs(rd *r, ft_prog *p)
{
    p->nlocs = count(r, 16);
    p->locs = calloc(p->nlocs ? p->nlocs : 1, sizeof *p->locs);
    if (!p->locs)
        return (void)fail(r, "out of memory");
    for (uint32_t i = 0; i < p->nlocs && !r->failed; i++) {
        ft_loc *l = &p->locs[i];
        l->file = u32(r);
        l->line = u32(r);
        l->col = u32(r);
        l->desc = u32(r);
        if (!r->failed && (str_id(r, p, l->file, "location") || str_id(r, p, l->desc, "location")))
            return;
    }
}

static void read_globals(rd *r, ft_prog *p)
{
    p->nglobals = count(r, 40);
    p->globals = calloc(p->nglobals ? p->nglobals : 1, sizeof *p->globals);
    if (!p->globals)
        return (void)fail(r, "out of memory");
    for (uint32_t i = 0; i < p->nglobals && !r->failed; i++) {
        ft_glob *g = &p->globals[i];
        g->name = u32(r);
        g->vtype = (uint8_t)u8(r);
        g->nkeys = (uint8_t)u8(r);
        if (g->nkeys > FT_MAX_KEYS)
            return (void)fail(r, "global %u: too many keys", i);
        for (int k = 0; k < g->nkeys; k++) {
            uint32_t t = u8(r);
            if (t != 'i' && t != 's')
                return (void)fail(r, "global %u: bad key type", i);
            g->keys[k] = (char)t;
            if (t == 'i')
                g->nikeys++;
            else
                g->nskeys++;
        }
        g->flags = (uint8_t)u8(r);
        g->maxsize = i64(r);
        int hist = (int)u8(r);
        ft_i64 start = i64(r), stop = i64(r), interval = i64(r);
        int shift = (int)u8(r);
        g->init_int = i64(r);
        g->init_str = u32(r);
        if (r->failed)
            return;
        if (str_id(r, p, g->name, "global"))
            return;
        if (g->init_str != (uint32_t)FT_NOLOC && str_id(r, p, g->init_str, "global init"))
            return;
        if (g->vtype < FT_T_INT || g->vtype > FT_T_STAT || g->maxsize < 0 || g->maxsize > (1 << 30))
            return (void)fail(r, "global %u: bad type or size", i);
        int rc = ft_stat_cfg_init(&g->cfg, hist, start, stop, interval, shift);
        if (g->vtype == FT_T_STAT && rc != FT_OK)
            return (void)fail(r, "global %s: bad histogram parameters", p->strs[g->name].s);
    }
}

static void read_funcs(rd *r, ft_prog *p)
{
    p->nfuncs = count(r, 13);
    p->funcs = calloc(p->nfuncs ? p->nfuncs : 1, sizeof *p->funcs);
    if (!p->funcs)
        return (void)fail(r, "out of memory");
    for (uint32_t i = 0; i < p->nfuncs && !r->failed; i++) {
        ft_func *f = &p->funcs[i];
        f->name = u32(r);
        f->ret = (uint8_t)u8(r);
        f->nparams = (uint8_t)u8(r);
        f->nlocals = (uint16_t)u16(r);
        const uint8_t *lt = take(r, f->nlocals);
        f->niters = (uint8_t)u8(r);
        f->codelen = u32(r);
        const uint8_t *code = take(r, f->codelen);
        if (r->failed || str_id(r, p, f->name, "function"))
            return;
        if ((f->ret != 'v' && f->ret != 'i' && f->ret != 's') || f->nparams > f->nlocals)
            return (void)fail(r, "function %s: bad signature", p->strs[f->name].s);
        f->ltypes = malloc((size_t)f->nlocals + 1);
        f->code = malloc(f->codelen ? f->codelen : 1);
        if (!f->ltypes || !f->code)
            return (void)fail(r, "out of memory");
        for (int l = 0; l < f->nlocals; l++) {
            if (lt[l] != 'i' && lt[l] != 's')
                return (void)fail(r, "function %s: bad local type", p->strs[f->name].s);
            f->ltypes[l] = (char)lt[l];
            int isint = lt[l] == 'i';
            if (l < f->nparams) {
                if (isint)
                    f->nint_params++;
                else
                    f->nstr_params++;
            }
            if (isint)
                f->nint_locals++;
            else
                f->nstr_locals++;
        }
        f->ltypes[f->nlocals] = '\0';
        memcpy(f->code, code, f->codelen);
        if (f->niters > p->max_iters)
            p->max_iters = f->niters;
    }
}

static void read_probes(rd *r, ft_prog *p)
{
    p->nprobes = count(r, 37);
    p->probes = calloc(p->nprobes ? p->nprobes : 1, sizeof *p->probes);
    if (!p->probes)
        return (void)fail(r, "out of memory");
    for (uint32_t i = 0; i < p->nprobes && !r->failed; i++) {
        ft_probe *pr = &p->probes[i];
        pr->name = u32(r);
        pr->kind = (uint8_t)u8(r);
        pr->priority = i64(r);
        pr->interval_ns = i64(r);
        pr->randomize_ns = i64(r);
        pr->func = u32(r);
        pr->event = u32(r);
        if (r->failed || str_id(r, p, pr->name, "probe"))
            return;
        if (pr->kind < FT_PROBE_BEGIN || pr->kind > FT_PROBE_PROCFS_WRITE)
            return (void)fail(r, "probe %u: bad kind %u", i, pr->kind);
        if (pr->func >= p->nfuncs)
            return (void)fail(r, "probe %u: bad handler", i);
        const ft_func *f = &p->funcs[pr->func];
        if (f->nparams || f->ret != 'v')
            return (void)fail(r, "probe %u: handler must be void without parameters", i);
        if (pr->kind == FT_PROBE_TIMER &&
            (pr->interval_ns <= 0 || pr->randomize_ns < 0 || pr->randomize_ns >= pr->interval_ns))
            return (void)fail(r, "probe %u: bad timer interval", i);
        if ((pr->kind == FT_PROBE_PROCFS_READ || pr->kind == FT_PROBE_PROCFS_WRITE) &&
            (str_id(r, p, pr->event, "procfs file") || pr->interval_ns < 0 || pr->randomize_ns < -1 ||
             pr->randomize_ns > 0777))
            return (void)fail(r, "probe %u: bad procfs file", i);
    }
}

static int opt_str_id(rd *r, const ft_prog *p, uint32_t id, uint32_t ev)
{
    if (id != (uint32_t)FT_NOLOC && id >= p->nstrs)
        return fail(r, "event %u: bad string id %u", ev, id);
    return 0;
}

static void read_events(rd *r, ft_prog *p)
{
    p->nevents = count(r, 68);
    p->events = calloc(p->nevents ? p->nevents : 1, sizeof *p->events);
    if (!p->events)
        return (void)fail(r, "out of memory");
    for (uint32_t i = 0; i < p->nevents && !r->failed; i++) {
        ft_pevent *e = &p->events[i];
        e->kind = (uint8_t)u8(r);
        e->flags = (uint8_t)u8(r);
        e->maxactive = (uint16_t)u16(r);
        e->type = u32(r);
        e->config = i64(r);
        e->offset = i64(r);
        e->sample_period = i64(r);
        e->sample_freq = i64(r);
        uint32_t *texts[] = {&e->pp, &e->system, &e->event, &e->path, &e->symbol, &e->filter};
        for (int t = 0; t < 6; t++) {
            *texts[t] = u32(r);
            if (!r->failed && opt_str_id(r, p, *texts[t], i))
                return;
        }
        e->nargs = (uint16_t)u16(r);
        e->args = calloc(e->nargs + 1u, sizeof *e->args);
        if (!e->args)
            return (void)fail(r, "out of memory");
        for (int a = 0; a < e->nargs && !r->failed; a++)
            if (str_id(r, p, e->args[a] = u32(r), "event fetch-arg"))
                return;
        e->nfields = (uint16_t)u16(r);
        e->field_names = calloc(e->nfields + 1u, sizeof *e->field_names);
        e->field_offsets = calloc(e->nfields + 1u, sizeof *e->field_offsets);
        if (!e->field_names || !e->field_offsets)
            return (void)fail(r, "out of memory");
        for (int f = 0; f < e->nfields && !r->failed; f++) {
            e->field_names[f] = u32(r);
            e->field_offsets[f] = (uint16_t)u16(r);
            if (!r->failed && str_id(r, p, e->field_names[f], "event field"))
                return;
        }
        if (!r->failed && (e->kind < FT_EVK_TRACEPOINT || e->kind > FT_EVK_PERF || (e->flags & ~FT_EVF_ALL)))
            return (void)fail(r, "event %u: bad kind or flags", i);
    }
}

int ft_prog_kernel_mismatch(const ft_prog *p, char *msg, size_t n)
{
    struct utsname u;
    if (!p->kernel[0] || uname(&u) != 0 || strcmp(p->kernel, u.release) == 0)
        return 0;
    snprintf(msg, n, "the program image is for kernel %s, this kernel is %s: compile the script for this "
             "kernel (here, or with -r and this kernel's description)", p->kernel, u.release);
    return 1;
}

const char *ft_machine_describe(unsigned machine, unsigned order, unsigned word, char *buf, size_t n)
{
    const char *name = machine == 62 ? "x86_64" : machine == 183 ? "aarch64" : machine == 243 ? "riscv64"
                       : machine == 3 ? "i386" : machine == 40 ? "arm" : NULL;
    char num[32];
    if (!name) {
        snprintf(num, sizeof num, "machine %u", machine);
        name = num;
    }
    snprintf(buf, n, "%s (%u-bit, %s)", name, word * 8,
             order == 1 ? "little-endian" : order == 2 ? "big-endian" : "unknown byte order");
    return buf;
}

ft_prog *ft_prog_load(const char *image, ft_i64 len, char *err, int errlen)
{
    char dummy[8];
    if (!err || errlen <= 0) {
        err = dummy;
        errlen = (int)sizeof dummy;
    }
    err[0] = '\0';
    rd r = {(const uint8_t *)image, (const uint8_t *)image + (len > 0 ? len : 0), err, errlen, 0};
    ft_prog *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, (size_t)errlen, "out of memory");
        return NULL;
    }
    const uint8_t *magic = take(&r, 8);
    if (magic && memcmp(magic, "FTSTAPIM", 8) != 0)
        fail(&r, "not an ftstap program image");
    uint32_t version = u32(&r);
    if (!r.failed && version != FT_IMAGE_VERSION)
        fail(&r, "unsupported program image version %u (this ftstap reads version %d: "
                 "compile the script again)", version, FT_IMAGE_VERSION);
    uint32_t machine = u16(&r), order = u8(&r), word = u8(&r);
    uint32_t crc = u32(&r);
    if (!r.failed && (machine != FT_HOST_MACHINE || order != FT_HOST_BYTEORDER || word != FT_HOST_WORDSIZE)) {
        char a[64], b[64];
        fail(&r, "the program image is for %s, this machine is %s: compile the script for this machine",
             ft_machine_describe(machine, order, word, a, sizeof a),
             ft_machine_describe(FT_HOST_MACHINE, FT_HOST_BYTEORDER, FT_HOST_WORDSIZE, b, sizeof b));
    }
    if (!r.failed && crc32_of(r.p, (size_t)(r.end - r.p)) != crc)
        fail(&r, "damaged program image (checksum mismatch)");
    if (!r.failed) {
        uint32_t n = u32(&r);
        const uint8_t *k = n <= FT_KERNEL_MAX ? take(&r, n) : NULL;
        if (!r.failed && !k)
            fail(&r, "bad kernel release");
        if (k) {
            memcpy(p->kernel, k, n);
            p->kernel[n] = '\0';
        }
    }
    if (!r.failed) read_strings(&r, p);
    if (!r.failed) read_formats(&r, p);
    if (!r.failed) read_locs(&r, p);
    if (!r.failed) read_globals(&r, p);
    if (!r.failed) read_funcs(&r, p);
    if (!r.failed) read_probes(&r, p);
    if (!r.failed && r.p != r.end)     /* the optional events section */
        read_events(&r, p);
    for (uint32_t i = 0; i < p->nprobes && !r.failed; i++)
        if (p->probes[i].kind == FT_PROBE_EVENT && p->probes[i].event >= p->nevents)
            fail(&r, "probe %u: bad event id %u", i, p->probes[i].event);
    if (!r.failed && r.p != r.end)
        fail(&r, "trailing bytes after the image");
    for (uint32_t i = 0; i < p->nfuncs && !r.failed; i++)
        if (ft_verify_func(p, &p->funcs[i], r.err, r.errlen))
            r.failed = 1;
    if (r.failed) {
        ft_prog_free(p);
        return NULL;
    }
    return p;
}

void ft_prog_free(ft_prog *p)
{
    if (!p)
        return;
    for (uint32_t i = 0; p->fmts && i < p->nfmts; i++)
        ft_fmt_free(p->fmts[i].fmt);
    for (uint32_t i = 0; p->funcs && i < p->nfuncs; i++) {
        free(p->funcs[i].ltypes);
        free(p->funcs[i].code);
    }
    free(p->strs);
    free(p->fmts);
    free(p->locs);
    free(p->globals);
    free(p->funcs);
    free(p->probes);
    for (uint32_t i = 0; p->events && i < p->nevents; i++) {
        free(p->events[i].args);
        free(p->events[i].field_names);
        free(p->events[i].field_offsets);
    }
    free(p->events);
    free(p->blob);
    free(p);
}
