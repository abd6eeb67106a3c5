/* procfs probes: stap's files under /proc/systemtap/MODULE/, which ftstap
 * serves from its own process (http.c) since it has no kernel module.
 *
 * A read probe runs on each read (each GET) with an empty $value and the
 * file's content is what it leaves there, at most maxsize bytes
 * (.maxsize(N), else MAXSTRINGLEN); a write probe runs on each write with
 * $value the text written, split into MAXSTRINGLEN-1 byte pieces as
 * stap's write buffer splits a long write.  The handler's $value is
 * rewritten at pass 2 (probes/procfs.py) into the builtins below. */
#define _GNU_SOURCE 1
#include "ftstap.h"
#include "vm.h"
#include "program.h"
#include "session.h"
#include "procfs.h"

#include <string.h>

static const char *file_of(const ft_vm *vm, int probe)
{
    return vm->prog->strs[vm->prog->probes[probe].event].s;
}

/* The kind of probe i if it is a procfs probe of file name[0..n), else 0. */
static int serves(const ft_vm *vm, uint32_t i, const char *name, size_t n)
{
    int k = vm->prog->probes[i].kind;
    if (k != FT_PROBE_PROCFS_READ && k != FT_PROBE_PROCFS_WRITE)
        return 0;
    const char *f = file_of(vm, (int)i);
    return strlen(f) == n && memcmp(f, name, n) == 0 ? k : 0;
}

int ft_procfs_next(const ft_vm *vm, const char *name, size_t n, int write, int after)
{
    for (uint32_t i = after < 0 ? 0 : (uint32_t)after + 1; i < vm->prog->nprobes; i++) {
        int k = serves(vm, i, name, n);
        if (k && (k == FT_PROBE_PROCFS_WRITE) == !!write)
            return (int)i;
    }
    return -1;
}

int ft_procfs_find(const ft_vm *vm, const char *name, size_t n, int write, int *exists)
{
    int found = -1;
    if (exists)
        *exists = 0;
    for (uint32_t i = 0; i < vm->prog->nprobes; i++) {
        int k = serves(vm, i, name, n);
        if (!k)
            continue;
        if (exists)
            *exists = 1;
        if (found < 0 && (k == FT_PROBE_PROCFS_WRITE) == !!write)
            found = (int)i;
    }
    return found;
}

int ft_procfs_mode(const ft_vm *vm, const char *name, size_t n)
{
    int mode = 0;
    for (uint32_t i = 0; i < vm->prog->nprobes; i++) {
        int k = serves(vm, i, name, n);
        if (!k)
            continue;
        ft_i64 umask = vm->prog->probes[i].randomize_ns;
        int bits = k == FT_PROBE_PROCFS_READ ? 0444 : 0222;
        mode |= umask < 0 ? (bits & 0700) : (bits & ~(int)umask);
    }
    return mode;
}

ft_i64 ft_procfs_maxsize(const ft_vm *vm, int probe)
{
    ft_i64 m = vm->prog->probes[probe].interval_ns;
    return m > 0 ? m : vm->lim.maxstringlen;
}

static int run_once(ft_vm *vm, int probe, ft_procfs_io *io)
{
    ft_ctx c = ft_loop_here(vm);
    c.procfs = io;
    ft_i64 before = vm->nerrors;
    ft_vm_run_probe(vm, probe, &c);
    vm->ctx.procfs = NULL;
    return vm->nerrors > before ? -1 : 0;
}

int ft_procfs_run(ft_vm *vm, int probe, ft_procfs_io *io)
{
    if (vm->session)                /* the handler sees every event up to now, as a timer does */
        ft_session_drain(vm, ft_mono_now());
    int rc = 0;
    if (vm->prog->probes[probe].kind == FT_PROBE_PROCFS_READ) {
        io->out_len = 0;
        rc = run_once(vm, probe, io);
    } else {
        ft_i64 piece = vm->lim.maxstringlen > 1 ? vm->lim.maxstringlen - 1 : 1;
        ft_procfs_io part = *io;
        ft_i64 off = 0;
        do {                         /* an empty write still runs the probe once */
            part.in = io->in + off;
            part.in_len = io->in_len - off < piece ? io->in_len - off : piece;
            if (run_once(vm, probe, &part))
                rc = -1;
            off += part.in_len;
        } while (off < io->in_len && !vm->exit_requested && !vm->error_state);
    }
    ft_out_flush(vm->out);
    return rc;
}

ft_i64 ft_procfs_call(ft_vm *vm, const char *name, int write, const char *text, ft_i64 len, char *out,
                      ft_i64 cap)
{
    int probe = ft_procfs_find(vm, name, strlen(name), write, NULL);
    if (probe < 0 || cap <= 0)
        return FT_EINVAL;
    ft_i64 max = ft_procfs_maxsize(vm, probe);
    ft_procfs_io io = {text ? text : "", text ? len : 0, out, 0, max < cap - 1 ? max : cap - 1};
    ft_procfs_run(vm, probe, &io);
    out[io.out_len] = '\0';
    return io.out_len;
}

/* ---- the builtins $value becomes ---- */

static ft_procfs_io *io_of(ft_vm *vm)
{
    ft_procfs_io *io = vm->ctx.procfs;
    if (!io)
        ft_vm_fail(vm, "$value outside a procfs probe");
    return io;
}

int ft_b_procfs_value(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
{
    (void)ia, (void)sa, (void)iret;
    ft_procfs_io *io = io_of(vm);
    if (!io)
        return -1;
    ft_str_set(vm, sret, io->in ? io->in : "", io->in ? io->in_len : 0);
    return 0;
}

static int put(ft_vm *vm, ft_str *const *sa, int append)
{
    ft_procfs_io *io = io_of(vm);
    if (!io)
        return -1;
    if (!io->out)
        return ft_vm_fail(vm, "$value of a procfs write probe cannot be assigned");
    if (!append)
        io->out_len = 0;
    ft_i64 n = sa[0]->len, room = io->out_cap - io->out_len;
    if (n > room)
        n = room;
    if (n > 0) {
        memcpy(io->out + io->out_len, sa[0]->s, (size_t)n);
        io->out_len += n;
    }
    return 0;
}

int ft_b_procfs_set_value(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
{
    (void)ia, (void)iret, (void)sret;
    return put(vm, sa, 0);
}

int ft_b_procfs_append_value(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
{
    (void)ia, (void)iret, (void)sret;
    return put(vm, sa, 1);
}
