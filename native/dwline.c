/* Source lines of user addresses: the DWARF line table (.debug_line,
 * versions 2 to 5) of an ELF file usyms.c has mapped, for usymfileline(),
 * usymfile() and usymline().
 *
 * Every line program is run once, when the first address of the file asks,
 * into one array of rows (address, file, line) sorted by address; an
 * end_sequence row ends each range, so an address between sequences has no
 * line.  File names point into the mapped file (.debug_line, or
 * .debug_line_str / .debug_str for DWARF 5 forms).  The file is untrusted
 * input: every read is bounds-checked, and a malformed unit ends the table
 * where it starts.  Compressed sections (SHF_COMPRESSED) are not read. */
#include "backtrace.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

typedef struct lrow {
    uint64_t addr;
    const char *dir, *name;          /* name NULL: the end of a sequence */
    uint32_t line;
    uint32_t order;                  /* rows at one address: the last one written wins */
} lrow;

struct ft_lines {
    lrow *rows;
    size_t n, cap;
};

typedef struct rd {
    const unsigned char *p, *end;
    int bad;
} rd;

typedef struct sect {
    const unsigned char *p;
    uint64_t len;
} sect;

static uint64_t rd_n(rd *r, int n)
{
    if (r->bad || r->end - r->p < n) {
        r->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);     /* ELF64 little-endian only (usyms.c) */
    r->p += n;
    return v;
}

static uint64_t rd_uleb(rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; !r->bad; shift += 7) {
        if (r->p >= r->end || shift > 63) {
            r->bad = 1;
            break;
        }
        unsigned char b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    return v;
}

static int64_t rd_sleb(rd *r)
{
    int64_t v = 0;
    int shift = 0;
    unsigned char b = 0;
    do {
        if (r->bad || r->p >= r->end || shift > 63) {
            r->bad = 1;
            return 0;
        }
        b = *r->p++;
        v |= (int64_t)((uint64_t)(b & 0x7f) << shift);
        shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40))
        v |= -((int64_t)1 << shift);
    return v;
}

static const char *rd_str(rd *r)
{
    const unsigned char *nul = r->bad ? NULL : memchr(r->p, '\0', (size_t)(r->end - r->p));
    if (!nul) {
        r->bad = 1;
        return NULL;
    }
    const char *s = (const char *)r->p;
    r->p = nul + 1;
    return s;
}

/* A string at offset off of a string section, or NULL. */
static const char *str_at(sect s, uint64_t off)
{
    if (!s.p || off >= s.len || !memchr(s.p + off, '\0', (size_t)(s.len - off)))
        return NULL;
    return (const char *)s.p + off;
}

static int add_row(ft_lines *L, uint64_t addr, const char *dir, const char *name, uint32_t line)
{
    if (L->n == L->cap) {
        size_t cap = L->cap ? L->cap * 2 : 256;
        lrow *r = realloc(L->rows, cap * sizeof *r);
        if (!r)
            return -1;
        L->rows = r;
        L->cap = cap;
    }
    L->rows[L->n] = (lrow){addr, dir, name, line, (uint32_t)L->n};
    L->n++;
    return 0;
}

enum { MAXF = 4096 };                 /* file and directory entries of one unit */

typedef struct unit {
    int version, offsz;
    unsigned min_len, line_range, opcode_base;
    int line_base, default_stmt;
    const unsigned char *oplens;
    const char *dirs[MAXF], *files[MAXF];
    uint32_t file_dir[MAXF];
    int ndirs, nfiles;
} unit;

/* One DWARF 5 directory or file entry table. */
static int v5_entries(rd *r, unit *u, int is_files, sect line_str, sect str)
{
    unsigned nfmt = (unsigned)rd_n(r, 1);
    uint64_t fmt[32][2];
    if (nfmt > 32)
        return -1;
    for (unsigned i = 0; i < nfmt; i++) {
        fmt[i][0] = rd_uleb(r);
        fmt[i][1] = rd_uleb(r);
    }
    uint64_t count = rd_uleb(r);
    for (uint64_t k = 0; k < count && !r->bad; k++) {
        const char *path = NULL;
        uint64_t dir = 0;
        for (unsigned i = 0; i < nfmt; i++) {
            uint64_t v = 0;
            const char *s = NULL;
            switch (fmt[i][1]) {
            case 0x08: s = rd_str(r); break;                                  /* DW_FORM_string */
            case 0x1f: s = str_at(line_str, rd_n(r, u->offsz)); break;        /* DW_FORM_line_strp */
            case 0x0e: s = str_at(str, rd_n(r, u->offsz)); break;             /* DW_FORM_strp */
            case 0x0f: v = rd_uleb(r); break;                                 /* DW_FORM_udata */
            case 0x0b: v = rd_n(r, 1); break;                                 /* DW_FORM_data1 */
            case 0x05: v = rd_n(r, 2); break;                                 /* DW_FORM_data2 */
            case 0x06: v = rd_n(r, 4); break;                                 /* DW_FORM_data4 */
            case 0x07: v = rd_n(r, 8); break;                                 /* DW_FORM_data8 */
            case 0x1e: rd_n(r, 8); rd_n(r, 8); break;                         /* DW_FORM_data16 */
            case 0x09: {                                                      /* DW_FORM_block */
                uint64_t n = rd_uleb(r);
                if (n > (uint64_t)(r->end - r->p))
                    r->bad = 1;
                else
                    r->p += n;
                break;
            }
            default: return -1;
            }
            if (fmt[i][0] == 1)          /* DW_LNCT_path */
                path = s;
            else if (fmt[i][0] == 2)     /* DW_LNCT_directory_index */
                dir = v;
        }
        if (is_files && u->nfiles < MAXF) {
            u->file_dir[u->nfiles] = (uint32_t)dir;
            u->files[u->nfiles++] = path;
        } else if (!is_files && u->ndirs < MAXF) {
            u->dirs[u->ndirs++] = path;
        }
    }
    return r->bad ? -1 : 0;
}

/* The header of one unit, up to its line program. */
static int header(rd *r, unit *u, sect line_str, sect str)
{
    u->version = (int)rd_n(r, 2);
    if (u->version < 2 || u->version > 5)
        return -1;
    if (u->version == 5)
        rd_n(r, 2);                       /* address_size, segment_selector_size */
    uint64_t hlen = rd_n(r, u->offsz);
    if (r->bad || hlen > (uint64_t)(r->end - r->p))
        return -1;
    const unsigned char *program = r->p + hlen;
    u->min_len = (unsigned)rd_n(r, 1);
    if (u->version >= 4)
        rd_n(r, 1);                       /* maximum_operations_per_instruction (VLIW) */
    u->default_stmt = (int)rd_n(r, 1);
    u->line_base = (int)(signed char)rd_n(r, 1);
    u->line_range = (unsigned)rd_n(r, 1);
    u->opcode_base = (unsigned)rd_n(r, 1);
    if (r->bad || !u->line_range || !u->opcode_base || (uint64_t)(r->end - r->p) < u->opcode_base - 1)
        return -1;
    u->oplens = r->p;
    r->p += u->opcode_base - 1;
    u->ndirs = u->nfiles = 0;
    if (u->version == 5) {
        if (v5_entries(r, u, 0, line_str, str) || v5_entries(r, u, 1, line_str, str))
            return -1;
    } else {
        u->dirs[u->ndirs++] = NULL;        /* 0: the compilation directory, not in the table */
        for (const char *d; (d = rd_str(r)) && *d;)
            if (u->ndirs < MAXF)
                u->dirs[u->ndirs++] = d;
        u->files[u->nfiles++] = NULL;      /* files count from 1 */
        for (const char *f; (f = rd_str(r)) && *f;) {
            uint64_t dir = rd_uleb(r);
            rd_uleb(r);                    /* mtime */
            rd_uleb(r);                    /* length */
            if (u->nfiles < MAXF) {
                u->file_dir[u->nfiles] = (uint32_t)dir;
                u->files[u->nfiles++] = f;
            }
        }
    }
    if (r->bad || program > r->end)
        return -1;
    r->p = program;
    return 0;
}

static int emit(ft_lines *L, const unit *u, uint64_t addr, uint64_t file, int64_t line)
{
    if (file >= (uint64_t)u->nfiles || !u->files[file] || line <= 0 || line > UINT32_MAX)
        return 0;                          /* no file to name: no row */
    uint32_t d = u->file_dir[file];
    const char *dir = d < (uint32_t)u->ndirs ? u->dirs[d] : NULL;
    return add_row(L, addr, dir, u->files[file], (uint32_t)line);
}

/* Run one unit's line program (r: the program; end: the unit's end). */
static int program(rd *r, const unit *u, ft_lines *L)
{
    uint64_t addr = 0, file = 1;
    int64_t line = 1;
    while (!r->bad && r->p < r->end) {
        unsigned op = (unsigned)rd_n(r, 1);
        if (op >= u->opcode_base) {        /* special: advance both, then a row */
            unsigned adj = op - u->opcode_base;
            addr += (uint64_t)(adj / u->line_range) * u->min_len;
            line += u->line_base + (int)(adj % u->line_range);
            if (emit(L, u, addr, file, line))
                return -1;
            continue;
        }
        switch (op) {
        case 0: {                          /* extended */
            uint64_t len = rd_uleb(r);
            if (!len || len > (uint64_t)(r->end - r->p))
                return r->bad = 1, 0;
            const unsigned char *next = r->p + len;
            unsigned sub = (unsigned)rd_n(r, 1);
            if (sub == 1) {                /* end_sequence */
                if (add_row(L, addr, NULL, NULL, 0))
                    return -1;
                addr = 0, file = 1, line = 1;
            } else if (sub == 2 && len == 9) {
                addr = rd_n(r, 8);         /* set_address */
            }
            r->p = next;
            break;
        }
        case 1: if (emit(L, u, addr, file, line)) return -1; break;           /* copy */
        case 2: addr += rd_uleb(r) * u->min_len; break;                       /* advance_pc */
        case 3: line += rd_sleb(r); break;                                    /* advance_line */
        case 4: file = rd_uleb(r); break;                                     /* set_file */
        case 8: addr += (uint64_t)((255 - u->opcode_base) / u->line_range) * u->min_len; break;
        case 9: addr += rd_n(r, 2); break;                                    /* fixed_advance_pc */
        default:                           /* set_column, negate_stmt, ...: their operands skipped */
            for (unsigned i = 0; i < u->oplens[op - 1]; i++)
                rd_uleb(r);
        }
    }
    return 0;
}

static int by_addr(const void *a, const void *b)
{
    const lrow *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    if ((x->name != NULL) != (y->name != NULL))
        return x->name ? 1 : -1;                         /* an end before a start at the same address */
    return x->order < y->order ? -1 : x->order > y->order;
}

/* The sections named name, or {NULL, 0}. */
static sect section(const unsigned char *b, size_t len, const Elf64_Ehdr *eh, const char *name)
{
    sect none = {NULL, 0};
    if (eh->e_shentsize < sizeof(Elf64_Shdr) || eh->e_shstrndx >= eh->e_shnum ||
        eh->e_shoff > len || (uint64_t)eh->e_shnum * eh->e_shentsize > len - eh->e_shoff)
        return none;
    Elf64_Shdr names;
    memcpy(&names, b + eh->e_shoff + (uint64_t)eh->e_shstrndx * eh->e_shentsize, sizeof names);
    sect strtab = {b + names.sh_offset, names.sh_size};
    if (names.sh_offset > len || names.sh_size > len - names.sh_offset)
        return none;
    for (int i = 0; i < eh->e_shnum; i++) {
        Elf64_Shdr sh;
        memcpy(&sh, b + eh->e_shoff + (uint64_t)i * eh->e_shentsize, sizeof sh);
        const char *n = str_at(strtab, sh.sh_name);
        if (n && strcmp(n, name) == 0) {
            if (sh.sh_type == SHT_NOBITS || (sh.sh_flags & SHF_COMPRESSED) || sh.sh_offset > len ||
                sh.sh_size > len - sh.sh_offset)
                return none;
            return (sect){b + sh.sh_offset, sh.sh_size};
        }
    }
    return none;
}

ft_lines *ft_lines_read(const unsigned char *b, size_t len)
{
    if (len < sizeof(Elf64_Ehdr))
        return NULL;
    Elf64_Ehdr eh;
    memcpy(&eh, b, sizeof eh);
    sect lines = section(b, len, &eh, ".debug_line");
    if (!lines.p)
        return NULL;
    sect line_str = section(b, len, &eh, ".debug_line_str"), str = section(b, len, &eh, ".debug_str");
    ft_lines *L = calloc(1, sizeof *L);
    unit *u = malloc(sizeof *u);
    rd all = {lines.p, lines.p + lines.len, 0};
    while (L && u && !all.bad && all.p < all.end) {
        rd r = all;
        uint64_t ulen = rd_n(&r, 4);
        u->offsz = 4;
        if (ulen == 0xffffffffu) {         /* 64-bit DWARF */
            ulen = rd_n(&r, 8);
            u->offsz = 8;
        }
        if (r.bad || ulen > (uint64_t)(r.end - r.p))
            break;
        all.p = r.p + ulen;
        r.end = r.p + ulen;
        if (header(&r, u, line_str, str) == 0 && program(&r, u, L) != 0)
            break;                         /* out of memory: what was read stays */
    }
    free(u);
    if (L && !L->n) {
        free(L);
        return NULL;
    }
    if (L)
        qsort(L->rows, L->n, sizeof *L->rows, by_addr);
    return L;
}

void ft_lines_free(ft_lines *L)
{
    if (L) {
        free(L->rows);
        free(L);
    }
}

int ft_lines_find(const ft_lines *L, uint64_t va, const char **dir, const char **name, uint32_t *line)
{
    if (!L)
        return -1;
    size_t lo = 0, hi = L->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (L->rows[mid].addr <= va)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo || !L->rows[lo - 1].name)
        return -1;                         /* before the first row, or past a sequence's end */
    *dir = L->rows[lo - 1].dir;
    *name = L->rows[lo - 1].name;
    *line = L->rows[lo - 1].line;
    return 0;
}
