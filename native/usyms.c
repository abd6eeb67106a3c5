/* User addresses to symbols: /proc/PID/maps plus the ELF symbols of the
 * mapped files.
 *
 *   - per process (FT_US_PIDS, least recently used evicted): its executable
 *     mappings (start, end, file offset, dev:inode, path), read from
 *     /proc/PID/maps the first time one of its addresses is symbolized, and
 *     read again when an address falls outside all of them (a dlopen since),
 *     at most once a second.  A process that is gone has no maps: its
 *     addresses print raw.  exec and pid reuse drop the entry
 *     (ft_usyms_forget, from PERF_RECORD_COMM/FORK);
 *   - per file (FT_US_FILES, by dev:inode, least recently used evicted):
 *     its FUNC/IFUNC symbols from .symtab and .dynsym sorted by address, and
 *     its PT_LOAD segments (file offset -> link-time address).  The file is
 *     opened through /proc/PID/map_files/START-END (the very file mapped,
 *     even in another mount namespace or deleted), else by path, mapped
 *     read-only, and stays mapped: names point into it.
 *
 * Allocation happens only when a process's maps or a file's symbols are
 * read for the first time (or again); symbolizing an address of a known
 * mapping is a binary search.  Only 64-bit little-endian ELF files are
 * read (anything else prints as module+offset). */
#define _GNU_SOURCE 1
#include "backtrace.h"

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

typedef struct umap {
    uint64_t start, end, off;
    uint64_t dev, ino;
    uint32_t path;                   /* offset into the process's pool */
} umap;

typedef struct uproc {
    int pid;                         /* 0: free */
    int nmap;
    int proc_read;                   /* maps came from /proc (else only from MMAP2 records) */
    uint32_t pool_used;
    uint64_t used;                   /* LRU tick */
    int64_t read_ns;                 /* when maps were last read */
    umap maps[FT_US_MAPS];
    char pool[FT_US_POOL];
} uproc;

typedef struct usym {
    uint64_t addr, size;
    const char *name;
    int rank;                        /* among aliases, lower wins (better_alias) */
} usym;

typedef struct useg {
    uint64_t vaddr, off, filesz;
} useg;

typedef struct ufile {
    uint64_t dev, ino;               /* ino 0: free */
    uint64_t used;
    void *map;
    size_t map_len;
    usym *syms;
    size_t nsyms;
    useg segs[16];
    int nseg;
    ft_lines *lines;                 /* its DWARF line table (dwline.c), read on first use */
    int lines_read;
} ufile;

struct ft_usyms {
    uproc *procs;                    /* FT_US_PIDS */
    ufile files[FT_US_FILES];
    uint64_t tick;
};

ft_usyms *ft_usyms_new(void)
{
    ft_usyms *u = calloc(1, sizeof *u);
    if (u && !(u->procs = calloc(FT_US_PIDS, sizeof *u->procs))) {
        free(u);
        return NULL;
    }
    return u;
}

static void file_drop(ufile *f)
{
    if (f->map)
        munmap(f->map, f->map_len);
    free(f->syms);
    ft_lines_free(f->lines);
    memset(f, 0, sizeof *f);
}

void ft_usyms_free(ft_usyms *u)
{
    if (!u)
        return;
    for (int i = 0; i < FT_US_FILES; i++)
        file_drop(&u->files[i]);
    free(u->procs);
    free(u);
}

int ft_usyms_nfiles(const ft_usyms *u)
{
    int n = 0;
    for (int i = 0; u && i < FT_US_FILES; i++)
        n += u->files[i].ino != 0;
    return n;
}

void ft_usyms_forget(ft_usyms *u, int pid)
{
    if (!u)
        return;
    for (int i = 0; i < FT_US_PIDS; i++)
        if (u->procs[i].pid == pid)
            u->procs[i].pid = 0;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- /proc/PID/maps ---- */

static uint64_t hexnum(const char **p)
{
    uint64_t v = 0;
    for (;; (*p)++) {
        int c = (unsigned char)**p, d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
        if (d < 0)
            return v;
        v = v << 4 | (uint64_t)d;
    }
}

static void add_map(uproc *P, umap m, const char *path, size_t n)
{
    if (P->nmap >= FT_US_MAPS || P->pool_used + n + 1 > FT_US_POOL)
        return;
    m.path = P->pool_used;
    memcpy(P->pool + P->pool_used, path, n);
    P->pool[P->pool_used + n] = '\0';
    P->pool_used += (uint32_t)n + 1;
    P->maps[P->nmap++] = m;
}

/* One line: "start-end perms offset major:minor inode   path" */
static void map_line(uproc *P, const char *l, const char *eol)
{
    const char *p = l;
    umap m = {0};
    m.start = hexnum(&p);
    if (*p++ != '-')
        return;
    m.end = hexnum(&p);
    if (*p++ != ' ' || eol - p < 5 || p[2] != 'x')
        return;                      /* only executable mappings */
    p += 5;
    m.off = hexnum(&p);
    p++;
    uint64_t major = hexnum(&p);
    p++;
    uint64_t minor = hexnum(&p);
    m.dev = major << 32 | minor;
    while (*p == ' ')
        p++;
    m.ino = 0;
    while (*p >= '0' && *p <= '9')
        m.ino = m.ino * 10 + (uint64_t)(*p++ - '0');
    while (p < eol && *p == ' ')
        p++;
    add_map(P, m, p, (size_t)(eol - p));
}

static int read_maps(uproc *P, int pid)
{
    char path[64], buf[16384];
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    P->read_ns = now_ns();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;                   /* gone: keep what MMAP2 records told */
    size_t have = 0;
    P->nmap = 0;
    P->pool_used = 1;
    P->pool[0] = '\0';
    P->proc_read = 1;
    for (;;) {
        ssize_t k = read(fd, buf + have, sizeof buf - 1 - have);
        if (k <= 0)
            break;
        have += (size_t)k;
        buf[have] = '\0';
        char *l = buf, *eol;
        while ((eol = memchr(l, '\n', (size_t)(buf + have - l)))) {
            *eol = '\0';
            map_line(P, l, eol);
            l = eol + 1;
        }
        have = (size_t)(buf + have - l);
        memmove(buf, l, have);
        if (have == sizeof buf - 1)
            have = 0;                /* a line longer than the buffer: skip it */
    }
    close(fd);
    return P->nmap ? 0 : -1;
}

static uproc *proc_slot(ft_usyms *u, int pid, int *created)
{
    uproc *free_slot = NULL, *oldest = &u->procs[0];
    for (int i = 0; i < FT_US_PIDS; i++) {
        uproc *P = &u->procs[i];
        if (P->pid == pid && pid) {
            P->used = ++u->tick;
            *created = 0;
            return P;
        }
        if (!P->pid && !free_slot)
            free_slot = P;
        if (P->used < oldest->used)
            oldest = P;
    }
    uproc *P = free_slot ? free_slot : oldest;
    P->pid = pid;
    P->used = ++u->tick;
    P->nmap = 0;
    P->proc_read = 0;
    P->read_ns = 0;
    P->pool_used = 1;
    P->pool[0] = '\0';
    *created = 1;
    return P;
}

void ft_usyms_add_map(ft_usyms *u, int pid, uint64_t start, uint64_t len, uint64_t off, uint64_t dev,
                      uint64_t ino, const char *path)
{
    int created;
    if (!u || pid <= 0 || !len)
        return;
    uproc *P = proc_slot(u, pid, &created);
    uint64_t end = start + len;
    int w = 0;
    for (int i = 0; i < P->nmap; i++)          /* the new mapping replaces what it overlaps */
        if (P->maps[i].end <= start || P->maps[i].start >= end)
            P->maps[w++] = P->maps[i];
    P->nmap = w;
    umap m = {start, end, off, dev, ino, 0};
    add_map(P, m, path, strlen(path));
}

static const umap *find_map(const uproc *P, uint64_t addr)
{
    for (int i = 0; i < P->nmap; i++)
        if (addr >= P->maps[i].start && addr < P->maps[i].end)
            return &P->maps[i];
    return NULL;
}

/* ---- ELF files ---- */

/* Aliases at one address (getpid, __getpid): a sized symbol, then the name
   with fewer leading underscores, then global over weak over local, then by
   name -- the same choice whatever the order in the file. */
static int alias_rank(const Elf64_Sym *s, const char *name)
{
    int under = 0;
    while (name[under] == '_' && under < 7)
        under++;
    int bind = ELF64_ST_BIND(s->st_info);
    return (s->st_size ? 0 : 64) + under * 4 + (bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2);
}

static int by_addr(const void *a, const void *b)
{
    const usym *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    if (x->rank != y->rank)
        return x->rank - y->rank;
    return strcmp(x->name, y->name);
}

static int in_file(const ufile *f, uint64_t off, uint64_t len)
{
    return off <= f->map_len && len <= f->map_len - off;
}

/* Read the symbols of f (already mapped): 0, or -1 when it is no ELF64 LE. */
static int load_elf(ufile *f)
{
    const unsigned char *b = f->map;
    if (f->map_len < sizeof(Elf64_Ehdr) || memcmp(b, ELFMAG, SELFMAG) || b[EI_CLASS] != ELFCLASS64 ||
        b[EI_DATA] != ELFDATA2LSB)
        return -1;
    Elf64_Ehdr eh;
    memcpy(&eh, b, sizeof eh);
    for (int i = 0; i < eh.e_phnum && f->nseg < 16; i++) {
        uint64_t o = eh.e_phoff + (uint64_t)i * eh.e_phentsize;
        Elf64_Phdr ph;
        if (eh.e_phentsize < sizeof ph || !in_file(f, o, sizeof ph))
            break;
        memcpy(&ph, b + o, sizeof ph);
        if (ph.p_type == PT_LOAD)
            f->segs[f->nseg++] = (useg){ph.p_vaddr, ph.p_offset, ph.p_filesz};
    }
    if (eh.e_shentsize < sizeof(Elf64_Shdr) || !in_file(f, eh.e_shoff, (uint64_t)eh.e_shnum * eh.e_shentsize))
        return 0;
    size_t cap = 0;
    for (int pass = 0; pass < 2; pass++) {   /* count, then fill */
        size_t n = 0;
        for (int i = 0; i < eh.e_shnum; i++) {
            Elf64_Shdr sh, st;
            memcpy(&sh, b + eh.e_shoff + (uint64_t)i * eh.e_shentsize, sizeof sh);
            if ((sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) || sh.sh_link >= eh.e_shnum ||
                !in_file(f, sh.sh_offset, sh.sh_size) || sh.sh_entsize < sizeof(Elf64_Sym))
                continue;
            memcpy(&st, b + eh.e_shoff + (uint64_t)sh.sh_link * eh.e_shentsize, sizeof st);
            if (!in_file(f, st.sh_offset, st.sh_size) || !st.sh_size)
                continue;
            const char *strs = (const char *)b + st.sh_offset;
            for (uint64_t k = 0; k + sh.sh_entsize <= sh.sh_size; k += sh.sh_entsize) {
                Elf64_Sym s;
                memcpy(&s, b + sh.sh_offset + k, sizeof s);
                int type = ELF64_ST_TYPE(s.st_info);
                if ((type != STT_FUNC && type != STT_GNU_IFUNC) || !s.st_value || s.st_shndx == SHN_UNDEF ||
                    s.st_name >= st.sh_size || !memchr(strs + s.st_name, '\0', st.sh_size - s.st_name))
                    continue;
                if (pass == 1 && n < cap)
                    f->syms[n] = (usym){s.st_value, s.st_size, strs + s.st_name,
                                        alias_rank(&s, strs + s.st_name)};
                n++;
            }
        }
        if (pass == 0) {
            if (!n)
                return 0;
            if (!(f->syms = malloc(n * sizeof *f->syms)))
                return -1;
            cap = n;
        } else {
            f->nsyms = n < cap ? n : cap;
        }
    }
    qsort(f->syms, f->nsyms, sizeof *f->syms, by_addr);
    /* one symbol per address: the best alias sorts first (.symtab and .dynsym repeat each other) */
    size_t w = 0;
    for (size_t r = 0; r < f->nsyms; r++)
        if (!w || f->syms[w - 1].addr != f->syms[r].addr)
            f->syms[w++] = f->syms[r];
    f->nsyms = w;
    return 0;
}

static ufile *file_of(ft_usyms *u, int pid, const umap *m, const char *path)
{
    ufile *slot = NULL, *oldest = &u->files[0];
    for (int i = 0; i < FT_US_FILES; i++) {
        ufile *f = &u->files[i];
        if (f->ino && f->ino == m->ino && f->dev == m->dev) {
            f->used = ++u->tick;
            return f->map ? f : NULL;
        }
        if (!f->ino && !slot)
            slot = f;
        if (f->used < oldest->used)
            oldest = f;
    }
    if (!m->ino)
        return NULL;                 /* anonymous, [vdso], ... */
    ufile *f = slot ? slot : oldest;
    file_drop(f);
    f->dev = m->dev;
    f->ino = m->ino;
    f->used = ++u->tick;
    char mf[96];
    snprintf(mf, sizeof mf, "/proc/%d/map_files/%llx-%llx", pid, (unsigned long long)m->start,
             (unsigned long long)m->end);
    int fd = open(mf, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && path[0] == '/')
        fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0)
        return NULL;                 /* remembered as unreadable until evicted */
    if (fstat(fd, &sb) == 0 && sb.st_size > 0 && (uint64_t)sb.st_ino == m->ino) {
        void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            f->map = p;
            f->map_len = (size_t)sb.st_size;
            if (load_elf(f) != 0) {
                munmap(p, f->map_len);
                free(f->syms);
                f->syms = NULL;
                f->nsyms = 0;
                f->map = NULL;
            }
        }
    }
    close(fd);
    return f->map ? f : NULL;
}

/* A file offset as the link-time address the symbols and lines use. */
static int vaddr_of(const ufile *f, uint64_t foff, uint64_t *va)
{
    for (int i = 0; i < f->nseg; i++)
        if (foff >= f->segs[i].off && foff < f->segs[i].off + f->segs[i].filesz) {
            *va = foff - f->segs[i].off + f->segs[i].vaddr;
            return 0;
        }
    return -1;
}

static int sym_in(const ufile *f, uint64_t foff, ft_sym *out)
{
    uint64_t va = 0;
    if (vaddr_of(f, foff, &va) != 0 || !f->nsyms)
        return -1;
    size_t lo = 0, hi = f->nsyms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->syms[mid].addr <= va)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo)
        return -1;
    const usym *s = &f->syms[lo - 1];
    uint64_t off = va - s->addr;
    uint64_t bound = s->size ? s->size : (lo < f->nsyms ? f->syms[lo].addr - s->addr : 0);
    if (bound && off >= bound)
        return -1;
    out->name = s->name;
    out->name_len = strcspn(s->name, "@");
    out->off = off;
    out->size = s->size;
    return 0;
}

/* The mapping of addr in pid (maps read again if it is new), or NULL. */
static const umap *mapping(ft_usyms *u, int pid, uint64_t addr, const char **path)
{
    int created;
    uproc *P = proc_slot(u, pid, &created);
    if (created)
        read_maps(P, pid);
    const umap *m = find_map(P, addr);
    if (!m && (!P->proc_read || now_ns() - P->read_ns > 1000000000)) {
        read_maps(P, pid);
        m = find_map(P, addr);
    }
    if (m)
        *path = P->pool + m->path;
    return m;
}

int ft_usyms_line(ft_usyms *u, int pid, uint64_t addr, const char **dir, const char **name, uint32_t *line)
{
    const char *path;
    const umap *m = u && pid > 0 ? mapping(u, pid, addr, &path) : NULL;
    ufile *f = m ? file_of(u, pid, m, path) : NULL;
    uint64_t va;
    if (!f || vaddr_of(f, addr - m->start + m->off, &va) != 0)
        return -1;
    if (!f->lines_read) {                /* allocates once per file */
        f->lines = ft_lines_read(f->map, f->map_len);
        f->lines_read = 1;
    }
    return ft_lines_find(f->lines, va, dir, name, line);
}

int ft_usyms_find(ft_usyms *u, int pid, uint64_t addr, ft_sym *out)
{
    memset(out, 0, sizeof *out);
    if (!u || pid <= 0)
        return -1;
    const char *path;
    const umap *m = mapping(u, pid, addr, &path);
    if (!m)
        return -1;
    uint64_t foff = addr - m->start + m->off;
    out->module = path[0] ? path : NULL;
    out->off = foff;
    ufile *f = file_of(u, pid, m, path);
    if (f && sym_in(f, foff, out) == 0)
        return 0;
    out->name = NULL;
    out->off = foff;
    out->size = 0;
    return out->module ? 1 : -1;
}
