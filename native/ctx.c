/* A session's setup and context: limits, the allocation of every global,
 * stack and string slot (ft_vm_new: nothing is allocated after it), the
 * event context of ftstap's own process for begin/end/timer probes, the
 * accessors for -G globals, and diagnostics to the error fd. */
#include "ftstap.h"
#include "vm.h"
#include "backtrace.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

void ft_limits_default(ft_limits *lim)
{
    memset(lim, 0, sizeof *lim);
    lim->maxaction = 1000;
    lim->maxnesting = 10;
    lim->maxstringlen = FT_MAXSTRINGLEN;
    lim->maxmapentries = FT_MAXMAPENTRIES;
    lim->maxerrors = 0;
    lim->maxskipped = 100;
    lim->hist_elision = FT_HIST_ELISION;
    lim->maxbacktrace = 20;
}

void ft_vm_diag(ft_vm *vm, const char *kind, const char *msg)
{
    char line[FT_ERRMSG_MAX + 64];
    ft_out_flush(vm->out);
    int n = snprintf(line, sizeof line, "%s: %s\n", kind, msg);
    if (n > (int)sizeof line - 1)
        n = (int)sizeof line - 1;
    for (int off = 0; off < n;) {
        ssize_t k = write(vm->err_fd, line + off, (size_t)(n - off));
        if (k <= 0)
            break;
        off += (int)k;
    }
}

/* ---- session setup ---- */

static ft_str *new_str(const ft_vm *vm)
{
    ft_str *s = calloc(1, vm->stride);
    return s;
}

static void self_context(ft_ctx *c)
{
    memset(c, 0, sizeof *c);
    c->pid = getpid();
    c->tid = getpid();
    c->uid = getuid();
    char name[17] = {0};
    if (prctl(PR_GET_NAME, name, 0, 0, 0) != 0)
        strcpy(name, "ftstap");
    memcpy(c->comm, name, sizeof c->comm - 1);
}

ft_vm *ft_vm_new(const ft_prog *p, const ft_limits *lim, int out_fd, int err_fd, char *err, int errlen)
{
    char dummy[8];
    if (!err || errlen <= 0) {
        err = dummy;
        errlen = (int)sizeof dummy;
    }
    err[0] = '\0';
    ft_vm *vm = calloc(1, sizeof *vm);
    if (!vm)
        goto nomem;
    vm->prog = p;
    ft_limits_default(&vm->lim);
    if (lim)
        vm->lim = *lim;
    if (vm->lim.maxstringlen < 2 || vm->lim.maxstringlen > (1 << 24) || vm->lim.maxnesting < 0 ||
        vm->lim.maxnesting > 10000 || vm->lim.maxmapentries < 1 || vm->lim.maxmapentries > (1 << 30)) {
        snprintf(err, (size_t)errlen, "bad limits");
        free(vm);
        return NULL;
    }
    vm->maxstr = vm->lim.maxstringlen;
    vm->stride = align8(sizeof(ft_str) + (size_t)vm->maxstr);
    vm->out = ft_out_new(out_fd, 1 << 16);
    vm->err_fd = err_fd;
    vm->g = calloc(p->nglobals ? p->nglobals : 1, sizeof *vm->g);
    size_t depth = (size_t)vm->lim.maxnesting + 2;
    vm->istack = calloc(depth * (size_t)(p->max_iframe + 1), sizeof(ft_i64));
    vm->sstack = calloc(depth * (size_t)(p->max_sframe + 1), vm->stride);
    vm->frames = calloc(depth, sizeof *vm->frames);
    size_t niters = depth * (size_t)(p->max_iters + 1);
    vm->iters = calloc(niters, sizeof *vm->iters);
    vm->iterbuf = calloc(niters * FT_MAX_KEYS, (size_t)vm->maxstr);
    vm->args = calloc((size_t)p->max_fmt_args + 1, sizeof *vm->args);
    vm->sres = new_str(vm);
    vm->tok = new_str(vm);
    vm->hits = calloc((size_t)p->nprobes + 1, sizeof *vm->hits);
    vm->htime = calloc(3 * ((size_t)p->nprobes + 1), sizeof *vm->htime);
    if (!vm->out || !vm->g || !vm->istack || !vm->sstack || !vm->frames || !vm->iters ||
        !vm->iterbuf || !vm->args || !vm->sres || !vm->tok || !vm->hits || !vm->htime)
        goto nomem;
    for (size_t i = 0; i < niters; i++)
        vm->iters[i].sbuf = vm->iterbuf + i * FT_MAX_KEYS * (size_t)vm->maxstr;
    for (uint32_t i = 0; i < p->nglobals; i++) {
        const ft_glob *g = &p->globals[i];
        ft_gval *v = &vm->g[i];
        if (g->nkeys) {
            ft_i64 cap = g->maxsize ? g->maxsize : vm->lim.maxmapentries;
            v->m = ft_map_new(g->keys, g->vtype, cap, g->flags & FT_G_WRAP, vm->maxstr, &g->cfg);
            if (!v->m)
                goto nomem;
        }
        if (g->vtype == FT_T_STAT && !(v->st = ft_stat_new(&g->cfg)))
            goto nomem;
        if (!g->nkeys && g->vtype == FT_T_STR) {
            if (!(v->s = new_str(vm)))
                goto nomem;
            if (g->init_str != (uint32_t)FT_NOLOC)
                ft_str_set(vm, v->s, p->strs[g->init_str].s, p->strs[g->init_str].len);
        }
        if (!g->nkeys && g->vtype == FT_T_INT)
            v->i = g->init_int;
    }
    self_context(&vm->self);
    vm->ctx = vm->self;
    vm->rng = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull + (uint64_t)getpid();
    return vm;
nomem:
    snprintf(err, (size_t)errlen, "out of memory for the session");
    ft_vm_free(vm);
    return NULL;
}

void ft_vm_free(ft_vm *vm)
{
    if (!vm)
        return;
    if (vm->end_session)
        vm->end_session(vm);         /* the event session, if one was started (session.h) */
    ft_bt_free(vm);
    free(vm->hits);
    free(vm->htime);
    for (uint32_t i = 0; vm->g && i < vm->prog->nglobals; i++) {
        ft_map_free(vm->g[i].m);
        ft_stat_free(vm->g[i].st);
        free(vm->g[i].s);
    }
    ft_out_free(vm->out);
    free(vm->g);
    free(vm->istack);
    free(vm->sstack);
    free(vm->frames);
    free(vm->iters);
    free(vm->iterbuf);
    free(vm->args);
    free(vm->sres);
    free(vm->tok);
    free(vm);
}

int ft_vm_flush(ft_vm *vm) { return ft_out_flush(vm->out); }
int ft_vm_set_bulk(ft_vm *vm, const int *fds, int n) { return ft_out_set_bulk(vm->out, fds, n, &vm->ctx.cpu); }
int ft_vm_set_rotation(ft_vm *vm, const char *pattern, ft_i64 limit, int keep, char *err, int errlen)
{
    return ft_out_set_rotation(vm->out, pattern, limit, keep, err, errlen);
}
ft_i64 ft_vm_error_count(const ft_vm *vm) { return vm->nerrors; }
int ft_vm_exit_requested(const ft_vm *vm) { return vm->exit_requested; }

static int scalar(const ft_vm *vm, int g, int type)
{
    return g >= 0 && (uint32_t)g < vm->prog->nglobals && !vm->prog->globals[g].nkeys &&
           vm->prog->globals[g].vtype == type;
}

int ft_vm_set_global_int(ft_vm *vm, int g, ft_i64 v)
{
    if (!scalar(vm, g, FT_T_INT))
        return FT_EINVAL;
    vm->g[g].i = v;
    return FT_OK;
}

int ft_vm_set_global_str(ft_vm *vm, int g, const char *s)
{
    if (!scalar(vm, g, FT_T_STR))
        return FT_EINVAL;
    ft_str_set(vm, vm->g[g].s, s, -1);
    return FT_OK;
}

ft_i64 ft_vm_global_int(ft_vm *vm, int g) { return scalar(vm, g, FT_T_INT) ? vm->g[g].i : 0; }
const char *ft_vm_global_str(ft_vm *vm, int g) { return scalar(vm, g, FT_T_STR) ? vm->g[g].s->s : NULL; }

/* ---- -t: per-probe hits and handler time ---- */

void ft_vm_set_timing(ft_vm *vm, int on) { vm->timing = on != 0; }

ft_i64 ft_vm_probe_hits(const ft_vm *vm, int probe)
{
    return probe >= 0 && (uint32_t)probe < vm->prog->nprobes ? vm->hits[probe] : 0;
}

ft_i64 ft_vm_probe_time(const ft_vm *vm, int probe, int which)
{
    if (probe < 0 || (uint32_t)probe >= vm->prog->nprobes || which < 0 || which > 2)
        return 0;
    return vm->htime[3 * (size_t)probe + (size_t)which];
}
