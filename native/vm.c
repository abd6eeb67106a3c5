/* The bytecode interpreter.
 *
 * A handler runs on two preallocated stacks (integers and MAXSTRINGLEN
 * string slots) with frames laid Lua-style: a callee's parameters are the
 * caller's pushed arguments.  The loader has verified stack depths, operand
 * ranges and local types, so instructions do no bounds checks; what can
 * still go wrong at run time (division by zero, nesting, MAXACTION, array
 * overflow, empty aggregates, error()) unwinds to the innermost try block or
 * ends the handler with stap's "ERROR: MSG near TOKEN at FILE:LINE:COL".
 *
 * Dispatch is computed goto (GCC/Clang); nothing on the hot path allocates. */
#include "ftstap.h"
#include "vm.h"
#include "fmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

const ft_limits *ft_vm_limits(const ft_vm *vm) { return &vm->lim; }

void ft_str_set(const ft_vm *vm, ft_str *d, const char *s, ft_i64 n)
{
    if (n < 0)
        n = (ft_i64)strlen(s);
    if (n > vm->maxstr - 1)
        n = vm->maxstr - 1;
    if (n > 0)
        memmove(d->s, s, (size_t)n);
    else
        n = 0;
    d->s[n] = '\0';
    d->len = (uint32_t)n;
}

int ft_vm_fail(ft_vm *vm, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(vm->errmsg, sizeof vm->errmsg, fmt, ap);
    va_end(ap);
    vm->err_catchable = 1;
    return -1;
}

static int reset_global(ft_vm *vm, int i)
{
    const ft_prog *p = vm->prog;
    const ft_glob *g = &p->globals[i];
    ft_gval *v = &vm->g[i];
    if (g->nkeys) {
        ft_map_clear(v->m);
    } else if (g->vtype == FT_T_INT) {
        v->i = 0;
    } else if (g->vtype == FT_T_STR) {
        ft_str_set(vm, v->s, "", 0);
    } else {
        ft_stat_clear(v->st);
    }
    return 0;
}

/* ---- helpers for the interpreter ---- */

/* Gather an array key from the stacks (columns whose bit is set in wild
   are not on the stacks) and pop it. */
static inline void pop_key(const ft_glob *g, ft_i64 **isp, char **ssp, size_t stride,
                           uint32_t wild, ft_val *key)
{
    int ni = 0, ns = 0;
    for (int c = 0; c < g->nkeys; c++)
        if (!(wild & (1u << c)))
            (g->keys[c] == 'i' ? ni++ : ns++);
    ft_i64 *ip = *isp - ni;
    char *sp = *ssp - (size_t)ns * stride;
    *isp = ip;
    *ssp = sp;
    for (int c = 0; c < g->nkeys; c++) {
        if (wild & (1u << c))
            continue;
        if (g->keys[c] == 'i') {
            key[c].i = *ip++;
        } else {
            const ft_str *s = (const ft_str *)sp;
            key[c].s = s->s;
            key[c].n = s->len;
            sp += stride;
        }
    }
}

/* Pop a full key and find (insert == 0) or insert its entry.  One-column
   keys, the common case, take map.h's inline fast paths: no key vector, no
   column loop, no call unless the key is new. */
static inline __attribute__((always_inline)) ft_i64 key_entry(const ft_glob *g, ft_map *m, ft_i64 **isp, char **ssp,
                               size_t stride, int insert)
{
    if (g->nkeys == 1) {
        if (g->keys[0] == 'i') {
            ft_i64 k = *--*isp;
            return insert ? ft_map_insert_int(m, k) : ft_map_find_int(m, k, ft_map_hash_int(k));
        }
        *ssp -= stride;
        const ft_str *s = (const ft_str *)*ssp;
        if (insert)
            return ft_map_insert_str(m, s->s, s->len);
        uint32_t n = ft_map_str_keylen(m, s->s, s->len);
        return ft_map_find_str(m, s->s, n, ft_map_hash_str(s->s, n));
    }
    ft_val key[FT_MAX_KEYS];
    pop_key(g, isp, ssp, stride, 0, key);
    return insert ? ft_map_insert(m, key) : ft_map_find(m, key);
}

/* the integer value of entry id, through map.h's layout */
#define MAPVAL(m, id) ((ft_i64 *)((m)->slab + (size_t)(id) * (m)->esize + (m)->voff))

static inline int entry_ok(const ft_map *m, ft_i64 id)
{
    return id >= 0 && id < m->hwm && ((const ft_ent *)(m->slab + (size_t)id * m->esize))->used;
}

static void write_loc(ft_vm *vm, char *buf, size_t cap)
{
    const ft_prog *p = vm->prog;
    if (vm->errloc < p->nlocs) {
        const ft_loc *l = &p->locs[vm->errloc];
        snprintf(buf, cap, "%s near %s at %s:%u:%u", vm->errmsg, p->strs[l->desc].s,
                 p->strs[l->file].s, l->line, l->col);
    } else {
        snprintf(buf, cap, "%s", vm->errmsg);
    }
}

/* ---- the interpreter ---- */

#define U16(o) ft_rd_u16(pc + (o))
#define U32(o) ft_rd_u32(pc + (o))
#define I64(o) ft_rd_i64(pc + (o))
#define SLOT(k) ((ft_str *)(ssp - (size_t)(k) * stride))   /* k-th string from the top */
#define SLOCAL(x) ((ft_str *)(sbase + (size_t)(x) * stride))
#define SPUSH() (ssp += stride, SLOT(1))
#define NEXT_(n) do { pc += (n); goto *labels[*pc]; } while (0)
#define NEXT(name) NEXT_(oplen[FT_OP_##name])   /* past this instruction, to the next */
#define FAIL(loc, ...) do { errloc = (loc); ft_vm_fail(vm, __VA_ARGS__); goto error; } while (0)
#define FAIL_HARD(loc, ...) do { errloc = (loc); ft_vm_fail(vm, __VA_ARGS__); vm->err_catchable = 0; goto error; } while (0)
#define LOAD_FRAME()                                                                 \
    do {                                                                             \
        fr = &vm->frames[depth];                                                     \
        code = fr->fn->code;                                                         \
        ibase = fr->ibase;                                                           \
        sbase = fr->sbase;                                                           \
        iters = fr->iters;                                                           \
    } while (0)

/* Instruction lengths: the opcode byte and its operands, from the kind
 * letters in opcodes.def.  oplen[FT_OP_X] with a constant X is folded by the
 * compiler into the handler's NEXT(X), so no length is written by hand. */
#define KIND_SIZE_AT(kinds, k) (sizeof(kinds) > (k) + 1 ? FT_KIND_SIZE((kinds)[sizeof(kinds) > (k) + 1 ? (k) : 0]) : 0)
#define OPLEN(kinds) (1 + KIND_SIZE_AT(kinds, 0) + KIND_SIZE_AT(kinds, 1) + KIND_SIZE_AT(kinds, 2)          \
                      + KIND_SIZE_AT(kinds, 3) + KIND_SIZE_AT(kinds, 4) + KIND_SIZE_AT(kinds, 5)           \
                      + KIND_SIZE_AT(kinds, 6) + KIND_SIZE_AT(kinds, 7))
#define OP(name, kinds, ip, ipu, sp, spu, doc) \
    _Static_assert(sizeof(kinds) <= 9, "OPLEN adds up at most 8 operands: " #name);
#include "opcodes.def"
#undef OP
static const uint8_t oplen[FT_NOPS] = {
#define OP(name, kinds, ip, ipu, sp, spu, doc) [FT_OP_##name] = OPLEN(kinds),
#include "opcodes.def"
#undef OP
};

static int exec(ft_vm *vm, const ft_func *entry)
{
    static void *const labels[256] = {
#define OP(name, kinds, ip, ipu, sp, spu, doc) [FT_OP_##name] = &&L_##name,
#include "opcodes.def"
#undef OP
    };
    const ft_prog *p = vm->prog;
    const size_t stride = vm->stride;
    const ft_i64 maxstr = vm->maxstr;
    const int maxiters = p->max_iters + 1;
    int depth = 0;
    ft_frame *fr = &vm->frames[0];
    fr->fn = entry;
    fr->ibase = vm->istack;
    fr->sbase = vm->sstack;
    fr->iters = vm->iters;
    const uint8_t *code, *pc;
    ft_i64 *ibase, *isp;
    char *sbase, *ssp;
    ft_iter *iters;
    uint32_t errloc = (uint32_t)FT_NOLOC;
    ft_i64 actions_left = vm->action_limit;    /* statements this run may still execute */
    LOAD_FRAME();
    for (int k = 0; k < entry->nint_locals; k++)
        ibase[k] = 0;
    for (int k = 0; k < entry->nstr_locals; k++)
        SLOCAL(k)->len = 0, SLOCAL(k)->s[0] = '\0';
    for (int k = 0; k < entry->niters; k++)
        iters[k].m = NULL;
    isp = ibase + entry->nint_locals;
    ssp = sbase + (size_t)entry->nstr_locals * stride;
    pc = code;
    goto *labels[*pc];

L_NOP: NEXT(NOP);
L_PUSHI: *isp++ = I64(1); NEXT(PUSHI);
L_PUSHS: {
    const ft_pstr *c = &p->strs[U32(1)];
    ft_str_set(vm, SPUSH(), c->s, c->len);
    NEXT(PUSHS);
}
L_POPI: isp--; NEXT(POPI);
L_POPS: ssp -= stride; NEXT(POPS);
L_DUPI: isp[0] = isp[-1]; isp++; NEXT(DUPI);
L_DUPS: { ft_str *a = SLOT(1); ft_str *b = SPUSH(); memcpy(b, a, sizeof *a + a->len + 1); NEXT(DUPS); }
L_LDI: *isp++ = ibase[U16(1)]; NEXT(LDI);
L_STI: ibase[U16(1)] = *--isp; NEXT(STI);
L_LDS: { ft_str *a = SLOCAL(U16(1)); memcpy(SPUSH(), a, sizeof *a + a->len + 1); NEXT(LDS); }
L_STS: { ft_str *a = SLOT(1); memcpy(SLOCAL(U16(1)), a, sizeof *a + a->len + 1); ssp -= stride; NEXT(STS); }
L_INCLI: { ft_i64 *l = &ibase[U16(1)]; *l = (ft_i64)((uint64_t)*l + (uint64_t)I64(3)); NEXT(INCLI); }
L_LDGI: *isp++ = vm->g[U16(1)].i; NEXT(LDGI);
L_STGI: vm->g[U16(1)].i = *--isp; NEXT(STGI);
L_LDGS: { ft_str *a = vm->g[U16(1)].s; memcpy(SPUSH(), a, sizeof *a + a->len + 1); NEXT(LDGS); }
L_STGS: { ft_str *a = SLOT(1); memcpy(vm->g[U16(1)].s, a, sizeof *a + a->len + 1); ssp -= stride; NEXT(STGS); }

#define BIN(name, expr) L_##name: { ft_i64 b = *--isp, a = isp[-1]; (void)a; (void)b; isp[-1] = (expr); NEXT(name); }
BIN(ADD, (ft_i64)((uint64_t)a + (uint64_t)b))
BIN(SUB, (ft_i64)((uint64_t)a - (uint64_t)b))
BIN(MUL, (ft_i64)((uint64_t)a * (uint64_t)b))
BIN(SHL, (ft_i64)((uint64_t)a << (b & 63)))
BIN(SHR, a >> (b & 63))
BIN(SHRL, (ft_i64)((uint64_t)a >> (b & 63)))
BIN(BAND, a & b)
BIN(BOR, a | b)
BIN(BXOR, a ^ b)
BIN(EQ, a == b)
BIN(NE, a != b)
BIN(LT, a < b)
BIN(LE, a <= b)
BIN(GT, a > b)
BIN(GE, a >= b)
#undef BIN
L_DIV: {
    ft_i64 b = isp[-1], a = isp[-2];
    if (b == 0)
        FAIL(U32(1), "division by zero");
    isp--;
    if (((uint64_t)a | (uint64_t)b) >> 31 == 0)     /* 32-bit idiv is several times faster */
        isp[-1] = (uint32_t)a / (uint32_t)b;
    else
        isp[-1] = b == -1 ? (ft_i64)(0 - (uint64_t)a) : a / b;
    NEXT(DIV);
}
L_MOD: {
    ft_i64 b = isp[-1], a = isp[-2];
    if (b == 0)
        FAIL(U32(1), "division by zero");
    isp--;
    if (((uint64_t)a | (uint64_t)b) >> 31 == 0)
        isp[-1] = (uint32_t)a % (uint32_t)b;
    else
        isp[-1] = b == -1 ? 0 : a % b;
    NEXT(MOD);
}
L_BNOT: isp[-1] = ~isp[-1]; NEXT(BNOT);
L_NEG: isp[-1] = (ft_i64)(0 - (uint64_t)isp[-1]); NEXT(NEG);
L_NOT: isp[-1] = !isp[-1]; NEXT(NOT);

#define SCMP(name, rel) L_##name: { int c = strcmp(SLOT(2)->s, SLOT(1)->s); ssp -= 2 * stride; *isp++ = c rel 0; NEXT(name); }
SCMP(SEQ, ==)
SCMP(SNE, !=)
SCMP(SLT, <)
SCMP(SLE, <=)
SCMP(SGT, >)
SCMP(SGE, >=)
#undef SCMP
L_CONCAT: {
    ft_str *a = SLOT(2), *b = SLOT(1);
    ft_i64 n = b->len;
    if (a->len + n > maxstr - 1)
        n = maxstr - 1 - a->len;
    memcpy(a->s + a->len, b->s, (size_t)n);
    a->len += (uint32_t)n;
    a->s[a->len] = '\0';
    ssp -= stride;
    NEXT(CONCAT);
}
L_ITOS: {
    char buf[24];
    int n = ft_fmt_int(*--isp, buf);
    ft_str_set(vm, SPUSH(), buf, n);
    NEXT(ITOS);
}

L_JMP: pc = code + U32(1); goto *labels[*pc];
L_JZ: if (*--isp == 0) { pc = code + U32(1); goto *labels[*pc]; } NEXT(JZ);
L_JNZ: if (*--isp != 0) { pc = code + U32(1); goto *labels[*pc]; } NEXT(JNZ);
#define JCMP(name, rel) L_##name: { isp -= 2; if (isp[0] rel isp[1]) { pc = code + U32(1); goto *labels[*pc]; } NEXT(name); }
JCMP(JEQ, ==)
JCMP(JNE, !=)
JCMP(JLT, <)
JCMP(JLE, <=)
JCMP(JGT, >)
JCMP(JGE, >=)
#undef JCMP
L_ACTION:
    /* a countdown in a local: one subtract and a sign test per statement */
    if ((actions_left -= U32(1)) < 0)
        FAIL_HARD(U32(5), "MAXACTION exceeded");
    NEXT(ACTION);
L_JCMPLI: {
    ft_i64 a = ibase[U16(1)], b = I64(4);
    int t;
    switch (pc[3]) {
    case 0: t = a == b; break;
    case 1: t = a != b; break;
    case 2: t = a < b; break;
    case 3: t = a <= b; break;
    case 4: t = a > b; break;
    default: t = a >= b; break;
    }
    if (t) {
        pc = code + U32(12);
        goto *labels[*pc];
    }
    NEXT(JCMPLI);
}

L_CALL: {
    const ft_func *c = &p->funcs[U16(1)];
    if (depth >= vm->lim.maxnesting)
        FAIL(U32(3), "MAXNESTING exceeded");
    fr->ret_pc = pc + oplen[FT_OP_CALL];
    ft_frame *n = &vm->frames[++depth];
    n->fn = c;
    n->ibase = isp - c->nint_params;
    n->sbase = ssp - (size_t)c->nstr_params * stride;
    n->iters = vm->iters + (size_t)depth * (size_t)maxiters;
    LOAD_FRAME();
    for (int k = c->nint_params; k < c->nint_locals; k++)
        ibase[k] = 0;
    for (int k = c->nstr_params; k < c->nstr_locals; k++)
        SLOCAL(k)->len = 0, SLOCAL(k)->s[0] = '\0';
    for (int k = 0; k < c->niters; k++)
        iters[k].m = NULL;
    isp = ibase + c->nint_locals;
    ssp = sbase + (size_t)c->nstr_locals * stride;
    pc = code;
    goto *labels[*pc];
}
L_CALLB: {
    const ft_builtin *b = &ft_builtins[U16(1)];
    ft_str *sa[16];
    int ni = 0, ns = 0;
    for (const char *t = b->args; *t; t++)
        (*t == 'i' ? ni++ : ns++);
    isp -= ni;
    ssp -= (size_t)ns * stride;
    for (int k = 0; k < ns && k < 16; k++)
        sa[k] = (ft_str *)(ssp + (size_t)k * stride);
    ft_i64 iret = 0;
    vm->sres->len = 0;
    vm->sres->s[0] = '\0';
    if (b->fn(vm, isp, sa, &iret, vm->sres) < 0) {
        errloc = U32(3);
        goto error;
    }
    if (b->ret == 'i')
        *isp++ = iret;
    else if (b->ret == 's')
        memcpy(SPUSH(), vm->sres, sizeof(ft_str) + vm->sres->len + 1);
    NEXT(CALLB);
}
L_RET:
L_RETI:
L_RETS: {
    int op = *pc;
    while (vm->ntries > 0 && vm->tries[vm->ntries - 1].depth >= depth)
        vm->ntries--;
    if (depth == 0)
        return 0;
    if (op == FT_OP_RETI) {
        ft_i64 v = isp[-1];
        isp = ibase;
        *isp++ = v;
        ssp = sbase;
    } else if (op == FT_OP_RETS) {
        ft_str *a = SLOT(1);
        memmove(sbase, a, sizeof *a + a->len + 1);
        ssp = sbase + stride;
        isp = ibase;
    } else {
        isp = ibase;
        ssp = sbase;
    }
    depth--;
    LOAD_FRAME();
    pc = fr->ret_pc;
    goto *labels[*pc];
}
L_NEXT: vm->ntries = 0; return 0;
L_TRY:
    if (vm->ntries >= FT_MAX_TRIES)
        FAIL_HARD((uint32_t)FT_NOLOC, "try blocks nested too deeply");
    vm->tries[vm->ntries++] = (ft_try){depth, U32(1), isp, ssp};
    NEXT(TRY);
L_ENDTRY:
    if (vm->ntries > 0 && vm->tries[vm->ntries - 1].depth == depth)
        vm->ntries--;
    NEXT(ENDTRY);
L_ERRMSG: ft_str_set(vm, SPUSH(), vm->caught, -1); NEXT(ERRMSG);

/* ---- arrays ---- */
#define GLOB (&p->globals[U16(1)])
#define MAP (vm->g[U16(1)].m)
L_AGETI: {
    ft_i64 id = key_entry(GLOB, MAP, &isp, &ssp, stride, 0);
    *isp++ = id >= 0 ? *MAPVAL(MAP, id) : 0;
    NEXT(AGETI);
}
L_AGETS: {
    ft_i64 id = key_entry(GLOB, MAP, &isp, &ssp, stride, 0);
    ft_str_set(vm, SPUSH(), id >= 0 ? ft_map_get_str(MAP, id) : "", -1);
    NEXT(AGETS);
}
L_ASETI: {
    ft_i64 v = *--isp;
    ft_i64 id = key_entry(GLOB, MAP, &isp, &ssp, stride, 1);
    if (id < 0)
        FAIL(U32(4), "Array overflow, check MAXMAPENTRIES");
    ft_map_set_int(MAP, id, v);
    if (pc[3])
        *isp++ = v;
    NEXT(ASETI);
}
L_ASETS: {
    ssp -= stride;
    const ft_str *v = (const ft_str *)ssp;
    ft_i64 id = key_entry(GLOB, MAP, &isp, &ssp, stride, 1);
    if (id < 0)
        FAIL(U32(4), "Array overflow, check MAXMAPENTRIES");
    ft_map_set_str(MAP, id, v->s, v->len);
    if (pc[3])
        memmove(SPUSH(), v, sizeof *v + v->len + 1);
    NEXT(ASETS);
}
L_AADDI: {
    ft_i64 d = *--isp;
    ft_map *m = MAP;
    ft_i64 id = key_entry(GLOB, m, &isp, &ssp, stride, 1);
    if (id < 0)
        FAIL(U32(4), "Array overflow, check MAXMAPENTRIES");
    ft_i64 *slot = MAPVAL(m, id);      /* direct: no call per access */
    ft_i64 v = (ft_i64)((uint64_t)*slot + (uint64_t)d);
    *slot = v;
    if (pc[3])
        *isp++ = v;
    NEXT(AADDI);
}
L_AREF: {
    ft_i64 id = key_entry(GLOB, MAP, &isp, &ssp, stride, 1);
    if (id < 0)
        FAIL(U32(3), "Array overflow, check MAXMAPENTRIES");
    *isp++ = id;
    NEXT(AREF);
}
L_EGETI: {
    ft_i64 id = isp[-1];
    if (!entry_ok(MAP, id))
        FAIL((uint32_t)FT_NOLOC, "invalid array entry");
    isp[-1] = ft_map_get_int(MAP, id);
    NEXT(EGETI);
}
L_EGETS: {
    ft_i64 id = *--isp;
    if (!entry_ok(MAP, id))
        FAIL((uint32_t)FT_NOLOC, "invalid array entry");
    ft_str_set(vm, SPUSH(), ft_map_get_str(MAP, id), -1);
    NEXT(EGETS);
}
L_ESETI: {
    ft_i64 v = isp[-1], id = isp[-2];
    isp -= 2;
    if (!entry_ok(MAP, id))
        FAIL((uint32_t)FT_NOLOC, "invalid array entry");
    ft_map_set_int(MAP, id, v);
    if (pc[3])
        *isp++ = v;
    NEXT(ESETI);
}
L_ESETS: {
    ft_i64 id = *--isp;
    ft_str *v = SLOT(1);
    if (!entry_ok(MAP, id))
        FAIL((uint32_t)FT_NOLOC, "invalid array entry");
    ft_map_set_str(MAP, id, v->s, v->len);
    if (!pc[3])
        ssp -= stride;
    NEXT(ESETS);
}
L_AEXISTS: {
    ft_i64 id = key_entry(GLOB, MAP, &isp, &ssp, stride, 0);
    *isp++ = id >= 0;
    NEXT(AEXISTS);
}
L_AIN: {
    ft_val key[FT_MAX_KEYS];
    uint32_t mask = U32(3);
    pop_key(GLOB, &isp, &ssp, stride, mask, key);
    *isp++ = ft_map_slice_exists(MAP, key, mask);
    NEXT(AIN);
}
L_ADEL: {
    ft_val key[FT_MAX_KEYS];
    pop_key(GLOB, &isp, &ssp, stride, 0, key);
    ft_map_delete(MAP, key);
    NEXT(ADEL);
}
L_ADELM: {
    ft_val key[FT_MAX_KEYS];
    uint32_t mask = U32(3);
    pop_key(GLOB, &isp, &ssp, stride, mask, key);
    ft_map_slice_delete(MAP, key, mask);
    NEXT(ADELM);
}
L_GCLR: reset_global(vm, U16(1)); NEXT(GCLR);

/* ---- statistics ---- */
L_STADD: ft_stat_add(vm->g[U16(1)].st, *--isp); NEXT(STADD);
L_ASTADD: {
    ft_i64 v = *--isp;
    ft_i64 id = key_entry(GLOB, MAP, &isp, &ssp, stride, 1);
    if (id < 0)
        FAIL(U32(3), "Array overflow, check MAXMAPENTRIES");
    ft_stat_add(ft_map_get_stat(MAP, id), v);
    NEXT(ASTADD);
}
L_STADDN: isp -= 2; ft_stat_add_n(vm->g[U16(1)].st, isp[0], isp[1]); NEXT(STADDN);
L_ASTADDN: {
    ft_i64 n = *--isp, v = *--isp;
    ft_i64 id = key_entry(GLOB, MAP, &isp, &ssp, stride, n > 0);
    if (n > 0 && id < 0)
        FAIL(U32(3), "Array overflow, check MAXMAPENTRIES");
    if (n > 0)
        ft_stat_add_n(ft_map_get_stat(MAP, id), v, n);
    NEXT(ASTADDN);
}
L_STGET: {
    ft_i64 v;
    if (ft_stat_get(vm->g[U16(1)].st, pc[3], &v) != FT_OK)
        FAIL(U32(4), "empty aggregate");
    *isp++ = v;
    NEXT(STGET);
}
L_ASTGET: {
    ft_i64 id = key_entry(GLOB, MAP, &isp, &ssp, stride, 0), v;
    const ft_stat *st = id >= 0 ? ft_map_get_stat(MAP, id) : vm->g[U16(1)].st;
    if (ft_stat_get(st, pc[3], &v) != FT_OK)
        FAIL(U32(4), "empty aggregate");
    *isp++ = v;
    NEXT(ASTGET);
}
L_STHIST: ft_out_hist(vm->out, vm->g[U16(1)].st, (int)vm->lim.hist_elision); NEXT(STHIST);
L_ASTHIST: {
    ft_i64 id = key_entry(GLOB, MAP, &isp, &ssp, stride, 0);
    ft_out_hist(vm->out, id >= 0 ? ft_map_get_stat(MAP, id) : vm->g[U16(1)].st,
                (int)vm->lim.hist_elision);
    NEXT(ASTHIST);
}
L_STHISTS:
L_ASTHISTS: {
    const ft_stat *st = vm->g[U16(1)].st;
    if (*pc == FT_OP_ASTHISTS) {
        ft_i64 id = key_entry(GLOB, MAP, &isp, &ssp, stride, 0);
        if (id >= 0)
            st = ft_map_get_stat(MAP, id);
    }
    ft_str *d = SPUSH();
    ft_i64 n = ft_stat_hist_sprint(st, (int)vm->lim.hist_elision, d->s, maxstr);
    d->len = (uint32_t)(n < maxstr - 1 ? n : maxstr - 1);
    NEXT(ASTHISTS);
}
L_STBKT: isp[-1] = ft_stat_hist_bucket(vm->g[U16(1)].st, isp[-1]); NEXT(STBKT);
L_ASTBKT: {
    ft_i64 i = *--isp;
    ft_i64 id = key_entry(GLOB, MAP, &isp, &ssp, stride, 0);
    *isp++ = id >= 0 ? ft_stat_hist_bucket(ft_map_get_stat(MAP, id), i) : 0;
    NEXT(ASTBKT);
}
#undef GLOB
#undef MAP

/* ---- foreach ---- */
L_FEBEGIN: {
    ft_iter *it = &iters[pc[1]];
    const ft_glob *g = &p->globals[U16(2)];
    ft_map *m = vm->g[U16(2)].m;
    int col = pc[4], dir = pc[5], agg = pc[6], has_limit = pc[7];
    uint32_t full = (1u << g->nkeys) - 1, mask = U32(8) | ~full;
    it->has_limit = has_limit;
    it->left = 0;
    if (has_limit) {
        ft_i64 lim = *--isp;
        it->left = lim > 0 ? lim : 0;
    }
    pop_key(g, &isp, &ssp, stride, mask, it->key);
    for (int c = 0; c < g->nkeys; c++) {     /* the slice outlives these stack slots */
        if (!(mask & (1u << c)) && g->keys[c] == 's') {
            char *d = it->sbuf + (size_t)c * (size_t)maxstr;
            memcpy(d, it->key[c].s, (size_t)it->key[c].n);
            d[it->key[c].n] = '\0';
            it->key[c].s = d;
        }
    }
    it->wild = mask;
    it->sliced = (mask & full) != full;
    if (dir)
        ft_map_sort(m, col, dir == 1 ? 1 : -1, col == 0 && g->vtype == FT_T_STAT ? agg : FT_AGG_COUNT,
                    has_limit ? it->left : 0);
    it->m = m;
    it->started = 0;
    it->cur = -1;
    NEXT(FEBEGIN);
}
L_FENEXT: {
    ft_iter *it = &iters[pc[1]];
    ft_map *m = it->m;
    if (!m)
        FAIL((uint32_t)FT_NOLOC, "foreach iterator not started");
    ft_i64 id;
    if (it->has_limit && it->left <= 0)
        id = FT_ENOENT;
    else if (!it->started)
        id = ft_map_first(m);
    else
        id = entry_ok(m, it->cur) ? ft_map_next(m, it->cur) : FT_ENOENT;
    if (id >= 0 && it->sliced)
        id = ft_map_slice_next(m, id, it->key, it->wild);
    if (id < 0) {
        it->m = NULL;
        pc = code + U32(2);
        goto *labels[*pc];
    }
    it->started = 1;
    it->cur = id;
    it->left--;
    NEXT(FENEXT);
}
#define ITER_OK(it) ((it)->m && (it)->m == vm->g[U16(2)].m && entry_ok((it)->m, (it)->cur))
L_FEKEYI: {
    ft_iter *it = &iters[pc[1]];
    if (!ITER_OK(it))
        FAIL((uint32_t)FT_NOLOC, "foreach iterator not started");
    *isp++ = ft_map_key_int(it->m, it->cur, pc[4]);
    NEXT(FEKEYI);
}
L_FEKEYS: {
    ft_iter *it = &iters[pc[1]];
    if (!ITER_OK(it))
        FAIL((uint32_t)FT_NOLOC, "foreach iterator not started");
    ft_str_set(vm, SPUSH(), ft_map_key_str(it->m, it->cur, pc[4]), -1);
    NEXT(FEKEYS);
}
L_FEVALI: {
    ft_iter *it = &iters[pc[1]];
    if (!ITER_OK(it))
        FAIL((uint32_t)FT_NOLOC, "foreach iterator not started");
    *isp++ = ft_map_get_int(it->m, it->cur);
    NEXT(FEVALI);
}
L_FEVALS: {
    ft_iter *it = &iters[pc[1]];
    if (!ITER_OK(it))
        FAIL((uint32_t)FT_NOLOC, "foreach iterator not started");
    ft_str_set(vm, SPUSH(), ft_map_get_str(it->m, it->cur), -1);
    NEXT(FEVALS);
}
L_FESTAT: {
    ft_iter *it = &iters[pc[1]];
    ft_i64 v;
    if (!ITER_OK(it))
        FAIL((uint32_t)FT_NOLOC, "foreach iterator not started");
    if (ft_stat_get(ft_map_get_stat(it->m, it->cur), pc[4], &v) != FT_OK)
        FAIL(U32(5), "empty aggregate");
    *isp++ = v;
    NEXT(FESTAT);
}
#undef ITER_OK

/* ---- output ---- */
L_PRINTF:
L_SPRINTF: {
    const ft_pfmt *f = &p->fmts[U32(1)];
    isp -= f->nint;
    ssp -= (size_t)f->nstr * stride;
    const ft_i64 *ia = isp;
    const char *sa = ssp;
    for (int k = 0; k < f->nargs; k++) {
        ft_val *a = &vm->args[k];
        if (ft_fmt_argtype(f->fmt, k) == FT_T_STR) {
            const ft_str *s = (const ft_str *)sa;
            a->s = s->s;
            a->n = s->len;
            sa += stride;
        } else {
            a->i = *ia++;
        }
    }
    if (*pc == FT_OP_PRINTF) {
        ft_fmt_print(f->fmt, vm->args, f->nargs, vm->out);
    } else if (f->nstr == 0) {
        /* no string arguments below the result slot: format in place */
        ft_str *d = SPUSH();
        d->len = (uint32_t)ft_fmt_sprint(f->fmt, vm->args, f->nargs, d->s, maxstr);
    } else {
        ft_i64 n = ft_fmt_sprint(f->fmt, vm->args, f->nargs, vm->sres->s, maxstr);
        vm->sres->len = (uint32_t)n;
        memcpy(SPUSH(), vm->sres, sizeof(ft_str) + (size_t)n + 1);
    }
    NEXT(SPRINTF);
}
L_PRINTI: {
    char buf[24];
    int n = ft_fmt_int(*--isp, buf);
    ft_out_write(vm->out, buf, n);
    NEXT(PRINTI);
}
/* ---- event records ---- */
L_LDFI: {
    uint32_t off = U32(1), size = pc[5];
    const ft_ctx *c = &vm->ctx;
    ft_i64 v = 0;
    if (c->raw && (ft_i64)off + size <= c->raw_len) {
        const char *q = c->raw + off;
        if (size == 1) { uint8_t x; memcpy(&x, q, 1); v = pc[6] ? (ft_i64)(int8_t)x : (ft_i64)x; }
        else if (size == 2) { uint16_t x; memcpy(&x, q, 2); v = pc[6] ? (ft_i64)(int16_t)x : (ft_i64)x; }
        else if (size == 4) { uint32_t x; memcpy(&x, q, 4); v = pc[6] ? (ft_i64)(int32_t)x : (ft_i64)x; }
        else memcpy(&v, q, 8);
    }
    *isp++ = v;
    NEXT(LDFI);
}
L_LDFS: {
    uint32_t off = U32(1), mode = pc[5], len = U32(6);
    const ft_ctx *c = &vm->ctx;
    const char *s = "";
    ft_i64 n = 0;
    if (c->raw && mode == 0) {
        if ((ft_i64)off + len <= c->raw_len)
            s = c->raw + off, n = len;
    } else if (c->raw && (ft_i64)off + 4 <= c->raw_len) {
        uint32_t loc;
        memcpy(&loc, c->raw + off, 4);
        ft_i64 start = (loc & 0xffff) + (mode == 2 ? (ft_i64)off + 4 : 0), l = loc >> 16;
        if (start + l <= c->raw_len)
            s = c->raw + start, n = l;
    }
    if (n) {
        const char *z = memchr(s, '\0', (size_t)n);
        if (z)
            n = z - s;
    }
    ft_str_set(vm, SPUSH(), s, n);
    NEXT(LDFS);
}
L_PRINTS: ssp -= stride; ft_out_write(vm->out, ((ft_str *)ssp)->s, ((ft_str *)ssp)->len); NEXT(PRINTS);

error:
    vm->errloc = errloc;
    if (vm->err_catchable && vm->ntries > 0) {
        ft_try *t = &vm->tries[--vm->ntries];
        depth = t->depth;
        LOAD_FRAME();
        isp = t->isp;
        ssp = t->ssp;
        memcpy(vm->caught, vm->errmsg, sizeof vm->caught);
        pc = code + t->pc;
        goto *labels[*pc];
    }
    return -1;
}

int ft_vm_run_probe(ft_vm *vm, int probe, const ft_ctx *ctx)
{
    const ft_prog *p = vm->prog;
    if (probe < 0 || (uint32_t)probe >= p->nprobes)
        return FT_EINVAL;
    vm->ctx = ctx ? *ctx : vm->self;
    vm->ctx.probe = probe;
    vm->actions = 0;
    int kind = p->probes[probe].kind;
    /* begin/end/error run where stap allows MAXACTION_INTERRUPTIBLE (10x). */
    int mult = (kind == FT_PROBE_BEGIN || kind == FT_PROBE_END || kind == FT_PROBE_ERROR) ? 10 : 1;
    vm->action_limit = vm->lim.maxaction > INT64_MAX / mult ? INT64_MAX : vm->lim.maxaction * mult;
    vm->ntries = 0;
    vm->hits[probe]++;
    int rc;
    if (vm->timing) {                 /* -t: handler time, min and max */
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        rc = exec(vm, &p->funcs[p->probes[probe].func]);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ft_i64 d = (ft_i64)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
        ft_i64 *t = &vm->htime[3 * (size_t)probe];
        t[0] += d;
        if (vm->hits[probe] == 1 || d < t[1])
            t[1] = d;
        if (d > t[2])
            t[2] = d;
    } else {
        rc = exec(vm, &p->funcs[p->probes[probe].func]);
    }
    vm->ntries = 0;
    if (rc == 0)
        return FT_OK;
    if (!vm->lim.suppress_handler_errors) {
        char buf[FT_ERRMSG_MAX + 512];
        write_loc(vm, buf, sizeof buf);
        ft_vm_diag(vm, "ERROR", buf);
        vm->nerrors++;
        if (vm->nerrors > vm->lim.maxerrors)
            vm->error_state = 1;
    }
    return 1;
}
