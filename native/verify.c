/* Program images: the verifier (program.c loads, then calls it per function).
 *
 * It follows every path through a function, tracking the depth of both
 * stacks: every instruction must be reached with one depth, never pop below
 * the locals, and never fall off the end; every operand (global, function,
 * builtin, format, jump target, slot) must fit what the opcode accepts.  It
 * records each function's largest depth so the VM can size its stacks once.
 * An image is untrusted input: a bad one is an error message, never a crash
 * in the interpreter. */
#include "ftstap.h"
#include "fmt.h"
#include "program.h"

#include <stdio.h>
#include <stdlib.h>

#define FT_MAX_DEPTH 4096     /* operand stack entries per frame */

typedef struct vctx {
    char *err;
    int errlen;
    ft_prog *p;
    ft_func *f;
    const char *fname;
} vctx;

static int vfail(vctx *v, uint32_t pc, const char *msg)
{
    snprintf(v->err, (size_t)v->errlen, "function %s at %u: %s", v->fname, pc, msg);
    return -1;
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

int ft_verify_func(ft_prog *p, ft_func *f, char *err, int errlen)
{
    vctx v = {err, errlen, p, f, p->strs[f->name].s};
    uint32_t n = f->codelen;
    if (n == 0)
        return vfail(&v, 0, "empty function");
    uint16_t *slots = malloc(((size_t)f->nlocals + 1) * sizeof *slots);
    uint8_t *start = calloc(n, 1);
    int32_t *idep = malloc(n * sizeof *idep), *sdep = malloc(n * sizeof *sdep);
    uint32_t *work = malloc(n * sizeof *work);
    int rc = -1;
    if (!slots || !start || !idep || !sdep || !work) {
        snprintf(err, (size_t)errlen, "out of memory");
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
