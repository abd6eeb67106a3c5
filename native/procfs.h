/* procfs probes (procfs.c) and the HTTP server that serves them (http.c).
 * A procfs probe's image entry carries its file name as a string id in
 * `event`, its maxsize in `interval_ns` and its umask in `randomize_ns`
 * (program.c checks them). */
#ifndef FT_PROCFS_H
#define FT_PROCFS_H
#ifndef FTSTAP_H_INCLUDED
#include "ftstap.h"
#endif
#include <stddef.h>

/* What a procfs handler's $value reads and writes (ft_ctx.procfs). */
typedef struct ft_procfs_io {
    const char *in;            /* write probes: the text written */
    ft_i64 in_len;
    char *out;                 /* read probes: the file's content, at most out_cap bytes */
    ft_i64 out_len, out_cap;
} ft_procfs_io;

/* The probe of file name[0..n) (write: its write probe, else its read
   probe), or -1; *exists is set when some probe serves that file. */
int ft_procfs_find(const ft_vm *vm, const char *name, size_t n, int write, int *exists);
/* The next such probe after probe `after` (-1: the first), or -1. */
int ft_procfs_next(const ft_vm *vm, const char *name, size_t n, int write, int after);
/* stap's mode of the file: read 0400 / write 0200 by default, 0444 / 0222
   less the umask given with .umask(M). */
int ft_procfs_mode(const ft_vm *vm, const char *name, size_t n);
/* Run a read probe (io->out set up by the caller) or a write probe over
   io->in, split into MAXSTRINGLEN-1 byte writes as stap's buffer splits
   them; every event up to now is handled first.  0, or -1 after an error. */
int ft_procfs_run(ft_vm *vm, int probe, ft_procfs_io *io);
ft_i64 ft_procfs_maxsize(const ft_vm *vm, int probe);

/* http.c: the server of a session; closed by ft_http_close */
struct ft_http;
void ft_http_free(struct ft_http *h);

typedef struct ft_str ft_str;
int ft_b_procfs_value(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret);
int ft_b_procfs_set_value(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret);
int ft_b_procfs_append_value(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret);

#define FT_PROCFS_BUILTINS                         \
    {"_procfs_value", "", 's', ft_b_procfs_value},  \
    {"_procfs_set_value", "s", 'v', ft_b_procfs_set_value}, \
    {"_procfs_append_value", "s", 'v', ft_b_procfs_append_value},

#endif
