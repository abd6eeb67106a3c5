/* Backtraces: what ksyms.c (kernel symbol table), usyms.c (user symbols
 * through /proc/PID/maps and ELF files) and backtrace.c (the callchain of
 * an event and the backtrace builtins) share.  The public API is the
 * "backtraces" section of ftstap.h.
 *
 * ksyms.c and usyms.c depend on nothing but libc, so native/tests can test
 * them on their own. */
#ifndef FT_BACKTRACE_H
#define FT_BACKTRACE_H
#include <stddef.h>
#include <stdint.h>

/* One symbolized address.  name is NULL when no symbol covers the address;
   module is "kernel", a module name, or the path of a mapped file (NULL
   when unknown); off is from the symbol (or, without one, from the start
   of the module's file); size is the symbol's (0: unknown). */
typedef struct ft_sym {
    const char *name;
    size_t name_len;                 /* name may go on past this ("f@@GLIBC_2.2.5") */
    const char *module;
    uint64_t off, size;
} ft_sym;

/* The line print_backtrace writes for one address, stap's format:
     " 0xffffffff8123abcd : vfs_read+0x1d/0x190 [kernel]\n"
     " 0x00007f2a1c02409b [/usr/lib/x86_64-linux-gnu/libc.so.6+0x2409b]\n"  (no symbol)
     " 0x00007f2a1c02409b\n"                                               (nothing known)
   into buf (NUL-terminated, truncated to cap - 1); returns the full length. */
size_t ft_sym_line(char *buf, size_t cap, uint64_t addr, const ft_sym *s);
/* "name+0x1d/0x190 [kernel]" (symdata), or "0x..." when unknown. */
size_t ft_sym_data(char *buf, size_t cap, uint64_t addr, const ft_sym *s);

/* -- ksyms.c: kernel text symbols (t/T/w/W) of a /proc/kallsyms text,
 * sorted by address, in two allocations.  A symbol extends to the next
 * higher address; aliases at one address resolve to the first listed. */
typedef struct ft_ksyms ft_ksyms;
ft_ksyms *ft_ksyms_parse(const char *text, size_t len);    /* NULL: out of memory */
void ft_ksyms_free(ft_ksyms *k);
size_t ft_ksyms_count(const ft_ksyms *k);
/* 0 and *out filled, or -1 when no symbol covers addr. */
int ft_ksyms_find(const ft_ksyms *k, uint64_t addr, ft_sym *out);

/* -- usyms.c: user addresses of a process.  Per pid, its executable
 * mappings from /proc/PID/maps (read on first use, again when an address
 * falls outside every known mapping, at most once a second); per mapped
 * file, its ELF function symbols (.symtab and .dynsym), read on first use.
 * Bounded: FT_US_PIDS processes, FT_US_FILES files, least recently used
 * evicted.  Reading a file allocates; symbolizing a known address does not. */
#define FT_US_PIDS 64
#define FT_US_MAPS 128               /* executable mappings kept per process */
#define FT_US_POOL 8192              /* bytes of mapping paths per process */
#define FT_US_FILES 32
typedef struct ft_usyms ft_usyms;
ft_usyms *ft_usyms_new(void);
void ft_usyms_free(ft_usyms *u);
/* 0: a symbol; 1: only the mapping is known (out->name NULL, out->module
   the file, out->off the offset in it); -1: nothing (the process is gone
   or the address is in no executable mapping). */
int ft_usyms_find(ft_usyms *u, int pid, uint64_t addr, ft_sym *out);
/* PERF_RECORD_MMAP2 of an executable mapping: known even once pid is gone. */
void ft_usyms_add_map(ft_usyms *u, int pid, uint64_t start, uint64_t len, uint64_t off, uint64_t dev,
                      uint64_t ino, const char *path);
/* pid exec'd or was reused: forget its mappings. */
void ft_usyms_forget(ft_usyms *u, int pid);
/* Files with symbols loaded now (tests). */
int ft_usyms_nfiles(const ft_usyms *u);
/* usymfileline() & co: the source line of a user address, from the DWARF
   line table of its file (read on first use): 0 with *dir (NULL when the
   table names none), *name and *line; -1 when unknown. */
int ft_usyms_line(ft_usyms *u, int pid, uint64_t addr, const char **dir, const char **name, uint32_t *line);

/* -- dwline.c: an ELF file's .debug_line rows, sorted by address -- */
typedef struct ft_lines ft_lines;
ft_lines *ft_lines_read(const unsigned char *elf, size_t len);      /* NULL: no line table */
void ft_lines_free(ft_lines *L);
int ft_lines_find(const ft_lines *L, uint64_t va, const char **dir, const char **name, uint32_t *line);

/* -- backtrace.c -- */
typedef struct ft_bt {
    ft_ksyms *k;                     /* set by ft_bt_load_kallsyms, or on first use */
    int k_tried;                     /* read /proc/kallsyms on first use once only */
    ft_usyms *u;                     /* made on first user symbolization */
    int track_maps;                  /* rings ask for MMAP2 records (ft_bt_track_maps) */
} ft_bt;
#ifdef FT_VM_H
void ft_bt_free(ft_vm *vm);
void ft_bt_task_changed(ft_vm *vm, int pid);   /* records.c: exec, or a new process */
/* records.c: PERF_RECORD_MMAP2 body (u32 pid, tid; u64 addr, len, pgoff; u32 maj, min; u64 ino, gen;
   u32 prot, flags; char filename[]) */
void ft_bt_mmap2(ft_vm *vm, const char *body, size_t n);

#define BTB(name) int ft_b_##name(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret)
BTB(backtrace); BTB(ubacktrace);
BTB(print_backtrace); BTB(sprint_backtrace);
BTB(print_ubacktrace); BTB(sprint_ubacktrace);
BTB(print_stack); BTB(sprint_stack);
BTB(print_ustack); BTB(sprint_ustack);
BTB(stack); BTB(ustack);
BTB(caller); BTB(caller_addr);
BTB(symname); BTB(symdata); BTB(usymname); BTB(usymdata); BTB(umodname); BTB(uaddr);
BTB(_usymline);
#undef BTB

#define FT_BT_BUILTINS \
    {"backtrace", "", 's', ft_b_backtrace}, \
    {"ubacktrace", "", 's', ft_b_ubacktrace}, \
    {"print_backtrace", "", 'v', ft_b_print_backtrace}, \
    {"sprint_backtrace", "", 's', ft_b_sprint_backtrace}, \
    {"print_ubacktrace", "", 'v', ft_b_print_ubacktrace}, \
    {"sprint_ubacktrace", "", 's', ft_b_sprint_ubacktrace}, \
    {"print_stack", "s", 'v', ft_b_print_stack}, \
    {"sprint_stack", "s", 's', ft_b_sprint_stack}, \
    {"print_ustack", "s", 'v', ft_b_print_ustack}, \
    {"sprint_ustack", "s", 's', ft_b_sprint_ustack}, \
    {"stack", "i", 'i', ft_b_stack}, \
    {"ustack", "i", 'i', ft_b_ustack}, \
    {"caller", "", 's', ft_b_caller}, \
    {"caller_addr", "", 'i', ft_b_caller_addr}, \
    {"symname", "i", 's', ft_b_symname}, \
    {"symdata", "i", 's', ft_b_symdata}, \
    {"usymname", "i", 's', ft_b_usymname}, \
    {"usymdata", "i", 's', ft_b_usymdata}, \
    {"umodname", "i", 's', ft_b_umodname}, \
    {"uaddr", "", 'i', ft_b_uaddr},

/* added after the others (builtins.c), so images keep their builtin numbers */
#define FT_LINE_BUILTINS \
    {"_usymline", "ii", 's', ft_b__usymline},
#endif

#endif
