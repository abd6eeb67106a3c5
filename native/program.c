/* Program images: loading and verification.
 *
 * An image is the whole compiled script: what Python's ImageBuilder
 * (ftstap/compile/image.py) serializes and `ftstap --run IMAGE` runs.  It is
 * untrusted input: every index, jump and stack depth is checked here, so a
 * bad image is an error message, never a crash in the interpreter.
 *
 * Layout (little-endian; u8/u16/u32/i64; str = u32 length + bytes):
 *
 *   header   "FTSTAPIM" u32 version(=1) u32 reserved(=0)
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
 *            u32 handler function (void, no parameters), u32 event id
 *   events   optional (absent when the script has no event probes):
 *            u32 n, n x str -- one JSON object per event id, the kernel
 *            events to create and open (ftstap/runtime/session.py reads
 *            them; the loader only checks event ids against n)
 *
 * Code is a sequence of opcodes (u8, numbered as in opcodes.def) each
 * followed by its operands (sizes by kind letter, see opcodes.def).
 *
 * The verifier follows every path through a function, tracking the depth of
 * both stacks: every instruction must be reached with one depth, never pop
 * below the locals, and never fall off the end.  It records each function's
 * largest depth so the VM can size its stacks once. */
#include "ftstap.h"
#include "fmt.h"
#include "program.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define FT_MAX_DEPTH 4096     /* operand stack entries per frame */

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
        if (pr->kind < FT_PROBE_BEGIN || pr->kind > FT_PROBE_EVENT)
            return (void)fail(r, "probe %u: bad kind %u", i, pr->kind);
        if (pr->func >= p->nfuncs)
            return (void)fail(r, "probe %u: bad handler", i);
        const ft_func *f = &p->funcs[pr->func];
        if (f->nparams || f->ret != 'v')
            return (void)fail(r, "probe %u: handler must be void without parameters", i);
        if (pr->kind == FT_PROBE_TIMER &&
            (pr->interval_ns <= 0 || pr->randomize_ns < 0 || pr->randomize_ns >= pr->interval_ns))
            return (void)fail(r, "probe %u: bad timer interval", i);
    }
}

/* ---- verification ---- */

typedef struct vctx {
    rd *r;
    ft_prog *p;
    ft_func *f;
    const char *fname;
} vctx;

static int vfail(vctx *v, uint32_t pc, const char *msg)
{
    return fail(v->r, "function %s at %u: %s", v->fname, pc, msg);
}

/* Which globals an opcode accepts: scalar/array and value type (0 = any). */
static int check_global(vctx *v, uint32_t pc, int op, const ft_glob *g)
{
    int arr = g->nkeys > 0, t = g->vtype, want_arr = 1, want_t = 0, hist = 0;
    switch (op) {
    case FT_OP_LDGI: case FT_OP_STGI: want_arr = 0; want_t = FT_T_INT; break;
    case FT_OP_LDGS: case FT_OP_STGS: want_arr = 0; want_t = FT_T_STR; break;
    case FT_OP_AGETI: case FT_OP_ASETI: case FT_OP_AADDI: case FT_OP_EGETI:
    case FT_OP_ESETI: case FT_OP_FEVALI: want_t = FT_T_INT; break;
    case FT_OP_AGETS: case FT_OP_ASETS: case FT_OP_EGETS: case FT_OP_ESETS:
    case FT_OP_FEVALS: want_t = FT_T_STR; break;
    case FT_OP_AREF:
        if (t == FT_T_STAT)
            return vfail(v, pc, "AREF on a statistics array");
        break;
    case FT_OP_GCLR: want_arr = arr; break;
    case FT_OP_STADD: case FT_OP_STADDN: case FT_OP_STGET: want_arr = 0; want_t = FT_T_STAT; break;
    case FT_OP_STHIST: case FT_OP_STHISTS: case FT_OP_STBKT: want_arr = 0; want_t = FT_T_STAT; hist = 1; break;
    case FT_OP_ASTADD: case FT_OP_ASTADDN: case FT_OP_ASTGET: case FT_OP_FESTAT: want_t = FT_T_STAT; break;
    case FT_OP_ASTHIST: case FT_OP_ASTHISTS: case FT_OP_ASTBKT: want_t = FT_T_STAT; hist = 1; break;
    default: break;    /* any array */
    }
    if (arr != want_arr || (want_t && t != want_t))
        return vfail(v, pc, "global of the wrong kind for this opcode");
    if (hist && g->cfg.hist_type == FT_HIST_NONE)
        return vfail(v, pc, "statistic has no histogram");
    return 0;
}

/* Stack effect of the instruction at pc: e[0..3] as in opcodes.def. */
static void masked_keys(const ft_glob *g, uint32_t mask, int *ni, int *ns)
{
    *ni = *ns = 0;
    for (int c = 0; c < g->nkeys; c++)
        if (!(mask & (1u << c)))
            (g->keys[c] == 'i' ? (*ni)++ : (*ns)++);
}

static int effect(vctx *v, uint32_t pc, int op, const uint8_t *a, int e[4])
{
    const ft_prog *p = v->p;
    for (int k = 0; k < 4; k++)
        e[k] = ft_op_effects[op][k];
    if (e[0] >= 0)
        return 0;
    e[0] = e[1] = e[2] = e[3] = 0;
    const ft_glob *g = NULL;
    if (ft_op_kinds[op][0] == 'g')
        g = &p->globals[ft_rd_u16(a)];
    else if (op == FT_OP_FEBEGIN)
        g = &p->globals[ft_rd_u16(a + 1)];
    int ki = g ? g->nikeys : 0, ks = g ? g->nskeys : 0, flag = 0;
    if (g && (op == FT_OP_ASETI || op == FT_OP_ASETS || op == FT_OP_AADDI || op == FT_OP_ESETI ||
              op == FT_OP_ESETS))
        flag = a[2] != 0;
    switch (op) {
    case FT_OP_CALL: {
        const ft_func *c = &p->funcs[ft_rd_u16(a)];
        e[0] = c->nint_params;
        e[2] = c->nstr_params;
        e[1] = c->ret == 'i';
        e[3] = c->ret == 's';
        return 0;
    }
    case FT_OP_CALLB: {
        const ft_builtin *b = &ft_builtins[ft_rd_u16(a)];
        for (const char *t = b->args; *t; t++)
            (*t == 'i' ? e[0]++ : e[2]++);
        e[1] = b->ret == 'i';
        e[3] = b->ret == 's';
        return 0;
    }
    case FT_OP_PRINTF: case FT_OP_SPRINTF: {
        const ft_pfmt *f = &p->fmts[ft_rd_u32(a)];
        e[0] = f->nint;
        e[2] = f->nstr;
        e[3] = op == FT_OP_SPRINTF;
        return 0;
    }
    case FT_OP_AGETI: case FT_OP_AREF: case FT_OP_AEXISTS: case FT_OP_ASTGET:
        e[0] = ki; e[2] = ks; e[1] = 1; return 0;
    case FT_OP_AGETS: e[0] = ki; e[2] = ks; e[3] = 1; return 0;
    case FT_OP_ASETI: case FT_OP_AADDI: e[0] = ki + 1; e[2] = ks; e[1] = flag; return 0;
    case FT_OP_ASETS: e[0] = ki; e[2] = ks + 1; e[3] = flag; return 0;
    case FT_OP_ESETI: e[0] = 2; e[1] = flag; return 0;
    case FT_OP_ESETS: e[0] = 1; e[2] = 1; e[3] = flag; return 0;
    case FT_OP_ADEL: case FT_OP_ASTHIST: e[0] = ki; e[2] = ks; return 0;
    case FT_OP_ASTHISTS: e[0] = ki; e[2] = ks; e[3] = 1; return 0;
    case FT_OP_ASTADD: e[0] = ki + 1; e[2] = ks; return 0;
    case FT_OP_ASTADDN: e[0] = ki + 2; e[2] = ks; return 0;
    case FT_OP_ASTBKT: e[0] = ki + 1; e[2] = ks; e[1] = 1; return 0;
    case FT_OP_AIN: case FT_OP_ADELM: {
        uint32_t mask = ft_rd_u32(a + 2);
        masked_keys(g, mask, &e[0], &e[2]);
        e[1] = op == FT_OP_AIN;
        return 0;
    }
    case FT_OP_FEBEGIN: {
        masked_keys(g, ft_rd_u32(a + 7), &e[0], &e[2]);
        e[0] += a[6] != 0;
        return 0;
    }
    }
    return vfail(v, pc, "opcode without a stack effect");
}

/* Operand checks that do not depend on the stack; local operands are
   rewritten to stack slot numbers.  Returns the instruction length. */
static int check_operands(vctx *v, uint32_t pc, const uint16_t *slot)
{
    ft_func *f = v->f;
    const ft_prog *p = v->p;
    uint8_t *code = f->code;
    int op = code[pc];
    if (op >= FT_NOPS)
        return vfail(v, pc, "bad opcode");
    uint32_t len = 1;
    for (const char *k = ft_op_kinds[op]; *k; k++)
        len += (uint32_t)ft_kind_size(*k);
    if (len > f->codelen - pc)
        return vfail(v, pc, "truncated instruction");
    uint8_t *a = code + pc + 1;
    const ft_glob *g = NULL;
    int iter_slot = -1;
    for (const char *k = ft_op_kinds[op]; *k; a += ft_kind_size(*k), k++) {
        uint32_t x = *k == 'n' ? *a : ft_kind_size(*k) == 2 ? ft_rd_u16(a) : ft_kind_size(*k) == 4 ? ft_rd_u32(a) : 0;
        switch (*k) {
        case 'l': {
            if (x >= f->nlocals)
                return vfail(v, pc, "bad local");
            char want = (op == FT_OP_LDS || op == FT_OP_STS) ? 's' : 'i';
            if (f->ltypes[x] != want)
                return vfail(v, pc, "local of the wrong type");
            uint16_t s = slot[x];
            memcpy(a, &s, 2);
            break;
        }
        case 'g':
            if (x >= p->nglobals)
                return vfail(v, pc, "bad global");
            g = &p->globals[x];
            if (check_global(v, pc, op, g))
                return -1;
            break;
        case 'F': if (x >= p->nfuncs) return vfail(v, pc, "bad function"); break;
        case 'b': if (x >= (uint32_t)ft_nbuiltins) return vfail(v, pc, "bad builtin"); break;
        case 's': if (x >= p->nstrs) return vfail(v, pc, "bad string"); break;
        case 'f': if (x >= p->nfmts) return vfail(v, pc, "bad format"); break;
        case 'L': if (x >= p->nlocs && x != (uint32_t)FT_NOLOC) return vfail(v, pc, "bad location"); break;
        case 'j': if (x >= f->codelen) return vfail(v, pc, "jump out of the function"); break;
        case 'n':
            if (k == ft_op_kinds[op] && op >= FT_OP_FEBEGIN && op <= FT_OP_FESTAT) {
                if (x >= f->niters)
                    return vfail(v, pc, "bad iterator slot");
                iter_slot = (int)x;
            }
            break;
        }
    }
    a = code + pc + 1;
    uint32_t mask = 0;
    switch (op) {
    case FT_OP_STGET: case FT_OP_ASTGET:
        if (a[2] < FT_AGG_COUNT || a[2] > FT_AGG_VARIANCE)
            return vfail(v, pc, "bad aggregate");
        break;
    case FT_OP_FESTAT:
        if (a[3] < FT_AGG_COUNT || a[3] > FT_AGG_VARIANCE)
            return vfail(v, pc, "bad aggregate");
        break;
    case FT_OP_AIN: case FT_OP_ADELM:
        mask = ft_rd_u32(a + 2);
        break;
    case FT_OP_LDFI:
        if ((a[4] != 1 && a[4] != 2 && a[4] != 4 && a[4] != 8) || a[5] > 1)
            return vfail(v, pc, "bad record field size or sign");
        break;
    case FT_OP_LDFS:
        if (a[4] > 2)
            return vfail(v, pc, "bad record string mode");
        break;
    case FT_OP_JCMPLI:
        if (a[2] > 5)
            return vfail(v, pc, "bad comparison");
        break;
    case FT_OP_FEKEYI: case FT_OP_FEKEYS:
        if (a[3] >= g->nkeys || g->keys[a[3]] != (op == FT_OP_FEKEYI ? 'i' : 's'))
            return vfail(v, pc, "bad key column");
        break;
    case FT_OP_FEBEGIN:
        mask = ft_rd_u32(a + 7);
        if (a[3] > g->nkeys || a[4] > 2)
            return vfail(v, pc, "bad foreach sort");
        if (a[3] == 0 && a[4] && g->vtype == FT_T_STAT && (a[5] < FT_AGG_COUNT || a[5] > FT_AGG_VARIANCE))
            return vfail(v, pc, "bad foreach aggregate");
        break;
    }
    if (g && g->nkeys && mask >> g->nkeys)
        return vfail(v, pc, "bad wildcard mask");
    (void)iter_slot;
    return (int)len;
}

static int is_terminal(int op)
{
    return op == FT_OP_JMP || op == FT_OP_RET || op == FT_OP_RETI || op == FT_OP_RETS ||
           op == FT_OP_NEXT;
}

static int verify_func(rd *r, ft_prog *p, ft_func *f)
{
    vctx v = {r, p, f, p->strs[f->name].s};
    uint32_t n = f->codelen;
    if (n == 0)
        return vfail(&v, 0, "empty function");
    uint16_t *slots = malloc(((size_t)f->nlocals + 1) * sizeof *slots);
    uint8_t *start = calloc(n, 1);
    int32_t *idep = malloc(n * sizeof *idep), *sdep = malloc(n * sizeof *sdep);
    uint32_t *work = malloc(n * sizeof *work);
    int rc = -1;
    if (!slots || !start || !idep || !sdep || !work) {
        fail(r, "out of memory");
        goto out;
    }
    int ni = 0, ns = 0;
    for (int l = 0; l < f->nlocals; l++)
        slots[l] = (uint16_t)(f->ltypes[l] == 'i' ? ni++ : ns++);
    for (uint32_t pc = 0; pc < n;) {
        int len = check_operands(&v, pc, slots);
        if (len < 0)
            goto out;
        start[pc] = 1;
        pc += (uint32_t)len;
    }
    for (uint32_t pc = 0; pc < n; pc++)
        idep[pc] = sdep[pc] = -1;
    uint32_t nwork = 0;
    idep[0] = sdep[0] = 0;
    work[nwork++] = 0;
    int maxi = 0, maxs = 0;
    while (nwork) {
        uint32_t pc = work[--nwork];
        int op = f->code[pc];
        const uint8_t *a = f->code + pc + 1;
        int e[4];
        if (effect(&v, pc, op, a, e))
            goto out;
        int di = idep[pc], ds = sdep[pc];
        if (di < e[0] || ds < e[2]) {
            vfail(&v, pc, "stack underflow");
            goto out;
        }
        di += e[1] - e[0];
        ds += e[3] - e[2];
        if (di > FT_MAX_DEPTH || ds > FT_MAX_DEPTH) {
            vfail(&v, pc, "stack too deep");
            goto out;
        }
        maxi = di > maxi ? di : maxi;
        maxs = ds > maxs ? ds : maxs;
        if ((op == FT_OP_RET && f->ret != 'v') || (op == FT_OP_RETI && f->ret != 'i') ||
            (op == FT_OP_RETS && f->ret != 's')) {
            vfail(&v, pc, "return of the wrong type");
            goto out;
        }
        uint32_t len = 1;
        for (const char *k = ft_op_kinds[op]; *k; k++)
            len += (uint32_t)ft_kind_size(*k);
        uint32_t succ[2];
        int nsucc = 0;
        if (!is_terminal(op) || op == FT_OP_JMP) {
            if (!is_terminal(op)) {
                if (pc + len >= n) {
                    vfail(&v, pc, "falls off the end of the function");
                    goto out;
                }
                succ[nsucc++] = pc + len;
            }
            const char *k = ft_op_kinds[op];
            const uint8_t *q = a;
            for (; *k; q += ft_kind_size(*k), k++)
                if (*k == 'j')
                    succ[nsucc++] = ft_rd_u32(q);
        }
        for (int s = 0; s < nsucc; s++) {
            uint32_t t = succ[s];
            /* a try handler and a finished foreach see the stacks as before the branch */
            int ti = di, ts = ds;
            if (op == FT_OP_TRY && t != pc + len) {
                ti = idep[pc];
                ts = sdep[pc];
            }
            if (!start[t]) {
                vfail(&v, pc, "jump into the middle of an instruction");
                goto out;
            }
            if (idep[t] < 0) {
                idep[t] = ti;
                sdep[t] = ts;
                work[nwork++] = t;
            } else if (idep[t] != ti || sdep[t] != ts) {
                vfail(&v, t, "stack depths differ between paths");
                goto out;
            }
        }
    }
    f->max_istack = maxi + 1;     /* + 1: a return value may land on an empty frame */
    f->max_sstack = maxs + 1;
    int fi = f->nint_locals + f->max_istack, fs = f->nstr_locals + f->max_sstack;
    p->max_iframe = fi > p->max_iframe ? fi : p->max_iframe;
    p->max_sframe = fs > p->max_sframe ? fs : p->max_sframe;
    rc = 0;
out:
    free(slots);
    free(start);
    free(idep);
    free(sdep);
    free(work);
    return rc;
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
    u32(&r);
    if (!r.failed && version != 1)
        fail(&r, "unsupported image version %u", version);
    if (!r.failed) read_strings(&r, p);
    if (!r.failed) read_formats(&r, p);
    if (!r.failed) read_locs(&r, p);
    if (!r.failed) read_globals(&r, p);
    if (!r.failed) read_funcs(&r, p);
    if (!r.failed) read_probes(&r, p);
    if (!r.failed && r.p != r.end) {   /* the optional events section */
        uint32_t nev = count(&r, 4);
        for (uint32_t i = 0; i < nev && !r.failed; i++)
            take(&r, u32(&r));
        for (uint32_t i = 0; i < p->nprobes && !r.failed; i++)
            if (p->probes[i].kind == FT_PROBE_EVENT && p->probes[i].event >= nev)
                fail(&r, "probe %u: bad event id %u", i, p->probes[i].event);
    }
    if (!r.failed && r.p != r.end)
        fail(&r, "trailing bytes after the image");
    for (uint32_t i = 0; i < p->nfuncs && !r.failed; i++)
        verify_func(&r, p, &p->funcs[i]);
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
    free(p->blob);
    free(p);
}
