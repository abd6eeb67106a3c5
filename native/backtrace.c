/* The backtrace builtins over an event's callchain.
 *
 * An event whose handler needs a backtrace is opened with
 * PERF_SAMPLE_CALLCHAIN (pass 3 decides: compile/needs.py).  records.c
 * points ft_ctx at the sample's callchain -- u64 instruction pointers,
 * each part after a PERF_CONTEXT_KERNEL / PERF_CONTEXT_USER marker -- and
 * at the first bytes of the user stack (PERF_SAMPLE_STACK_USER); both are
 * valid while the handler runs.  Here the chain is split into its kernel
 * and user frames, each capped at MAXBACKTRACE (-D, default 20), and
 * formatted as stap does:
 *
 *   backtrace(), ubacktrace()      "0xffffffff81234567 0xffffffff81234000"
 *   print_/sprint_backtrace()      " 0xffffffff8123abcd : vfs_read+0x1d/0x190 [kernel]\n" per frame
 *   print_/sprint_ubacktrace()     " 0x00005555555551a9 : main+0x12/0x40 [/path/prog]\n" per frame
 *   print_/sprint_stack(bt), print_/sprint_ustack(bt): the same from a backtrace() string
 *   stack(n), ustack(n), caller(), caller_addr(), symname/symdata, usymname/usymdata
 *
 * Kernel frames are named from the table ksyms.c builds out of
 * /proc/kallsyms (loaded only when some probe needs it); user frames
 * through usyms.c (/proc/PID/maps and the mapped files' ELF symbols).
 *
 * The frame-pointer walk the kernel does for user stacks cannot see the
 * caller of a function stopped at its first instruction (a uprobe on
 * process("p").function("f")): the return address is on top of the stack,
 * not yet behind a frame pointer.  When the first user frame is the very
 * start of a function, the word on top of the user stack is that caller,
 * and it is put back in. */
#include "ftstap.h"
#include "vm.h"
#include "backtrace.h"

#include <stdio.h>
#include <stdlib.h>
#include <linux/perf_event.h>

#define MAXFRAMES 256

typedef struct frames {
    uint64_t a[MAXFRAMES];
    int n;
} frames;

static int cap_frames(const ft_vm *vm)
{
    ft_i64 m = vm->lim.maxbacktrace;
    if (m <= 0)
        m = 20;
    return m > MAXFRAMES ? MAXFRAMES : (int)m;
}

static ft_bt *bt_of(ft_vm *vm)
{
    if (!vm->bt)
        vm->bt = calloc(1, sizeof *vm->bt);
    return vm->bt;
}

static ft_usyms *usyms_of(ft_vm *vm)
{
    ft_bt *bt = bt_of(vm);
    if (bt && !bt->u)
        bt->u = ft_usyms_new();
    return bt ? bt->u : NULL;
}

void ft_bt_free(ft_vm *vm)
{
    if (!vm->bt)
        return;
    ft_ksyms_free(vm->bt->k);
    ft_usyms_free(vm->bt->u);
    free(vm->bt);
    vm->bt = NULL;
}

void ft_bt_task_changed(ft_vm *vm, int pid)
{
    if (vm->bt)
        ft_usyms_forget(vm->bt->u, pid);
}

int ft_bt_track_maps(ft_vm *vm)
{
    ft_bt *bt = bt_of(vm);
    if (!bt)
        return FT_ENOMEM;
    bt->track_maps = 1;
    return FT_OK;
}

void ft_bt_mmap2(ft_vm *vm, const char *body, size_t n)
{
    struct {
        uint32_t pid, tid;
        uint64_t addr, len, pgoff;
        uint32_t maj, min;
        uint64_t ino, gen;
        uint32_t prot, flags;
    } r;
    if (n <= sizeof r || !(vm->bt && vm->bt->track_maps))
        return;
    memcpy(&r, body, sizeof r);
    if (!(r.prot & 4))               /* PROT_EXEC */
        return;
    const char *name = body + sizeof r;
    if (!memchr(name, '\0', n - sizeof r))
        return;
    ft_usyms_add_map(usyms_of(vm), (int)r.pid, r.addr, r.len, r.pgoff, (uint64_t)r.maj << 32 | r.min, r.ino,
                     name);
}

int ft_bt_load_kallsyms(ft_vm *vm, const char *text, ft_i64 len)
{
    ft_bt *bt = bt_of(vm);
    if (!bt || len < 0)
        return FT_ENOMEM;
    ft_ksyms *k = ft_ksyms_parse(text, (size_t)len);
    if (!k)
        return FT_ENOMEM;
    ft_ksyms_free(bt->k);
    bt->k = k;
    return (int)ft_ksyms_count(k);
}

/* ---- the event's frames ---- */

static int has_chain(const ft_vm *vm)
{
    return (vm->ctx.flags & FT_CTX_EVENT) && (vm->ctx.flags & FT_CTX_CHAIN) && vm->ctx.chain;
}

/* The kernel (user = 0) or user (user = 1) part of the callchain. */
static void chain_part(ft_vm *vm, int user, frames *f)
{
    f->n = 0;
    if (!has_chain(vm))
        return;
    int cap = cap_frames(vm);
    const char *p = vm->ctx.chain;
    uint64_t ctx = PERF_CONTEXT_KERNEL;
    for (ft_i64 i = 0; i < vm->ctx.nchain && f->n < cap; i++) {
        uint64_t ip;
        memcpy(&ip, p + 8 * i, 8);
        if (ip >= (uint64_t)PERF_CONTEXT_MAX) {
            ctx = ip;
            continue;
        }
        if ((ctx == (uint64_t)PERF_CONTEXT_USER) == (user != 0))
            f->a[f->n++] = ip;
    }
    if (!user || f->n == 0 || vm->ctx.nustack < 8)
        return;
    /* a function stopped at its first instruction: its caller is on top of the stack */
    ft_sym s;
    ft_usyms *u = usyms_of(vm);
    if (ft_usyms_find(u, (int)vm->ctx.pid, f->a[0], &s) != 0 || s.off != 0)
        return;
    uint64_t ret;
    memcpy(&ret, vm->ctx.ustack, 8);
    if (ret == 0 || (f->n > 1 && f->a[1] == ret))
        return;
    int n = f->n < cap ? f->n + 1 : cap;
    memmove(&f->a[2], &f->a[1], (size_t)(n - 2) * sizeof f->a[0]);
    f->a[1] = ret;
    f->n = n;
}

/* "0x1 0x2 ..." -> frames (print_stack and friends) */
static void parse_frames(const ft_vm *vm, const ft_str *s, frames *f)
{
    int cap = cap_frames(vm);
    const char *p = s->s;
    f->n = 0;
    while (*p && f->n < MAXFRAMES && f->n < cap) {
        char *e;
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        unsigned long long v = strtoull(p, &e, 16);
        if (e == p)
            break;
        f->a[f->n++] = v;
        p = e;
    }
}

/* ---- symbolization ---- */

int ft_bt_load_proc_kallsyms(ft_vm *vm)
{
    FILE *f = fopen("/proc/kallsyms", "re");
    if (!f)
        return -1;
    size_t cap = 1 << 20, n = 0, r;
    char *text = malloc(cap);
    while (text && (r = fread(text + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *t = realloc(text, cap *= 2);
            if (!t)
                free(text);
            text = t;
        }
    }
    fclose(f);
    int rc = text ? ft_bt_load_kallsyms(vm, text, (ft_i64)n) : FT_ENOMEM;
    free(text);
    return rc < 0 ? FT_ENOMEM : 0;
}

/* The kernel's symbol table when no event's stacks made the session load
   it (symname(addr) in a begin probe, on a value read from a record):
   read from /proc/kallsyms the first time a kernel address is named. */
static void load_on_first_use(ft_vm *vm)
{
    ft_bt *bt = bt_of(vm);
    if (!bt || bt->k || bt->k_tried)
        return;
    bt->k_tried = 1;
    ft_bt_load_proc_kallsyms(vm);
}

static int ksym(ft_vm *vm, uint64_t a, ft_sym *s)
{
    memset(s, 0, sizeof *s);
    load_on_first_use(vm);
    return vm->bt && vm->bt->k ? ft_ksyms_find(vm->bt->k, a, s) : -1;
}

static int usym(ft_vm *vm, uint64_t a, ft_sym *s)
{
    memset(s, 0, sizeof *s);
    int r = ft_usyms_find(usyms_of(vm), (int)vm->ctx.pid, a, s);
    return r;
}

/* Output: the script's output (print_*), or a string of at most MAXSTRINGLEN - 1 (sprint_*). */
typedef struct sink {
    ft_vm *vm;
    ft_str *str;                     /* NULL: vm->out */
    ft_i64 cap;
} sink;

static void emit(sink *k, const char *p, size_t n)
{
    if (!k->str) {
        ft_out_write(k->vm->out, p, (ft_i64)n);
        return;
    }
    ft_i64 room = k->cap - k->str->len;
    if ((ft_i64)n > room)
        n = room > 0 ? (size_t)room : 0;
    memcpy(k->str->s + k->str->len, p, n);
    k->str->len += (uint32_t)n;
    k->str->s[k->str->len] = '\0';
}

static void sink_init(sink *k, ft_vm *vm, ft_str *sret)
{
    k->vm = vm;
    k->str = sret;
    k->cap = vm->lim.maxstringlen - 1;
    if (sret) {
        sret->len = 0;
        sret->s[0] = '\0';
    }
}

static void symbolized(ft_vm *vm, const frames *f, int user, ft_str *sret)
{
    sink k;
    sink_init(&k, vm, sret);
    char line[1024];
    for (int i = 0; i < f->n; i++) {
        ft_sym s;
        int r = user ? usym(vm, f->a[i], &s) : ksym(vm, f->a[i], &s);
        size_t n = ft_sym_line(line, sizeof line, f->a[i], r >= 0 ? &s : NULL);
        emit(&k, line, n < sizeof line ? n : sizeof line - 1);
    }
}

static void hex_list(ft_vm *vm, const frames *f, ft_str *sret)
{
    sink k;
    sink_init(&k, vm, sret);
    char b[24];
    for (int i = 0; i < f->n; i++) {
        int n = snprintf(b, sizeof b, i ? " 0x%llx" : "0x%llx", (unsigned long long)f->a[i]);
        if (k.str->len + n > k.cap)
            break;                   /* whole addresses only */
        emit(&k, b, (size_t)n);
    }
}

/* ---- builtins ---- */

#define EB(name) int ft_b_##name(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
#define UNUSED (void)vm, (void)ia, (void)sa, (void)iret, (void)sret

EB(backtrace) { UNUSED; frames f; chain_part(vm, 0, &f); hex_list(vm, &f, sret); return 0; }
EB(ubacktrace) { UNUSED; frames f; chain_part(vm, 1, &f); hex_list(vm, &f, sret); return 0; }
EB(print_backtrace) { UNUSED; frames f; chain_part(vm, 0, &f); symbolized(vm, &f, 0, NULL); return 0; }
EB(sprint_backtrace) { UNUSED; frames f; chain_part(vm, 0, &f); symbolized(vm, &f, 0, sret); return 0; }
EB(print_ubacktrace) { UNUSED; frames f; chain_part(vm, 1, &f); symbolized(vm, &f, 1, NULL); return 0; }
EB(sprint_ubacktrace) { UNUSED; frames f; chain_part(vm, 1, &f); symbolized(vm, &f, 1, sret); return 0; }
EB(print_stack) { UNUSED; frames f; parse_frames(vm, sa[0], &f); symbolized(vm, &f, 0, NULL); return 0; }
EB(sprint_stack) { UNUSED; frames f; parse_frames(vm, sa[0], &f); symbolized(vm, &f, 0, sret); return 0; }
EB(print_ustack) { UNUSED; frames f; parse_frames(vm, sa[0], &f); symbolized(vm, &f, 1, NULL); return 0; }
EB(sprint_ustack) { UNUSED; frames f; parse_frames(vm, sa[0], &f); symbolized(vm, &f, 1, sret); return 0; }

/* stack(n)/ustack(n): the address of frame n (0 is where the event hit), 0 past the end */
EB(stack) { UNUSED; frames f; chain_part(vm, 0, &f); *iret = ia[0] >= 0 && ia[0] < f.n ? (ft_i64)f.a[ia[0]] : 0; return 0; }
EB(ustack) { UNUSED; frames f; chain_part(vm, 1, &f); *iret = ia[0] >= 0 && ia[0] < f.n ? (ft_i64)f.a[ia[0]] : 0; return 0; }

/* caller_addr(): the kernel frame that called the one the event hit in; caller(): "name 0xaddr" */
EB(caller_addr) { UNUSED; frames f; chain_part(vm, 0, &f); *iret = f.n > 1 ? (ft_i64)f.a[1] : 0; return 0; }
EB(caller)
{
    UNUSED;
    frames f;
    chain_part(vm, 0, &f);
    uint64_t a = f.n > 1 ? f.a[1] : 0;
    ft_sym s;
    char b[600];
    int n;
    if (a && ksym(vm, a, &s) == 0)
        n = snprintf(b, sizeof b, "%.*s 0x%llx", (int)s.name_len, s.name, (unsigned long long)a);
    else
        n = snprintf(b, sizeof b, "0x%llx 0x%llx", (unsigned long long)a, (unsigned long long)a);
    ft_str_set(vm, sret, b, n < (int)sizeof b ? n : (int)sizeof b - 1);
    return 0;
}

static void name_of(ft_vm *vm, uint64_t a, int user, int data, ft_str *sret)
{
    ft_sym s;
    char b[1024];
    size_t n;
    int r = user ? usym(vm, a, &s) : ksym(vm, a, &s);
    if (data)
        n = ft_sym_data(b, sizeof b, a, r == 0 ? &s : NULL);
    else if (r == 0)
        n = (size_t)snprintf(b, sizeof b, "%.*s", (int)s.name_len, s.name);
    else
        n = (size_t)snprintf(b, sizeof b, "0x%llx", (unsigned long long)a);
    ft_str_set(vm, sret, b, (ft_i64)(n < sizeof b ? n : sizeof b - 1));
}

EB(symname) { UNUSED; name_of(vm, (uint64_t)ia[0], 0, 0, sret); return 0; }
EB(symdata) { UNUSED; name_of(vm, (uint64_t)ia[0], 0, 1, sret); return 0; }
EB(usymname) { UNUSED; name_of(vm, (uint64_t)ia[0], 1, 0, sret); return 0; }
EB(usymdata) { UNUSED; name_of(vm, (uint64_t)ia[0], 1, 1, sret); return 0; }

/* uaddr(): the user-space address the current task was at when the event
   fired: the top user frame of the event's callchain (0 in a task with no
   user part, such as a kernel thread, and in begin/end/timer probes) */
EB(uaddr) { UNUSED; frames f; chain_part(vm, 1, &f); *iret = f.n ? (ft_i64)f.a[0] : 0; return 0; }

/* umodname(addr): the short name (basename) of the file mapped at user
   address addr in the current process; an error when nothing is */
EB(umodname)
{
    UNUSED;
    ft_sym s;
    if (usym(vm, (uint64_t)ia[0], &s) < 0 || !s.module)
        return ft_vm_fail(vm, "umodname: no module mapped at 0x%llx", (unsigned long long)ia[0]);
    const char *base = strrchr(s.module, '/');
    base = base ? base + 1 : s.module;
    ft_str_set(vm, sret, base, (ft_i64)strlen(base));
    return 0;
}

/* _usymline(addr, what): the source line of a user address of the current
   process from its file's DWARF line table (dwline.c): "FILE:LINE" (what
   0), FILE (1) or LINE (2), FILE with the table's directory when it names
   one; the address in hex when the line is not known (as stap). */
EB(_usymline)
{
    UNUSED;
    const char *dir = NULL, *name = NULL;
    uint32_t line = 0;
    char b[1024];
    int n;
    if (ft_usyms_line(usyms_of(vm), (int)vm->ctx.pid, (uint64_t)ia[0], &dir, &name, &line) != 0) {
        n = snprintf(b, sizeof b, "0x%llx", (unsigned long long)ia[0]);
    } else if (ia[1] == 2) {
        n = snprintf(b, sizeof b, "%u", (unsigned)line);
    } else {
        int joined = name[0] != '/' && dir && dir[0];
        n = snprintf(b, sizeof b, "%s%s%s", joined ? dir : "", joined ? "/" : "", name);
        if (ia[1] == 0 && n >= 0 && n < (int)sizeof b)
            n += snprintf(b + n, sizeof b - (size_t)n, ":%u", (unsigned)line);
    }
    ft_str_set(vm, sret, b, (ft_i64)(n < 0 ? 0 : n < (int)sizeof b ? n : (int)sizeof b - 1));
    return 0;
}

/* ---- tests: one address as print_backtrace / print_ubacktrace writes it ---- */

ft_i64 ft_bt_kernel_line(ft_vm *vm, ft_i64 addr, char *buf, ft_i64 cap)
{
    ft_sym s;
    int r = ksym(vm, (uint64_t)addr, &s);
    return (ft_i64)ft_sym_line(buf, (size_t)cap, (uint64_t)addr, r == 0 ? &s : NULL);
}

ft_i64 ft_bt_user_line(ft_vm *vm, ft_i64 pid, ft_i64 addr, char *buf, ft_i64 cap)
{
    ft_sym s;
    memset(&s, 0, sizeof s);
    int r = ft_usyms_find(usyms_of(vm), (int)pid, (uint64_t)addr, &s);
    return (ft_i64)ft_sym_line(buf, (size_t)cap, (uint64_t)addr, r >= 0 ? &s : NULL);
}
