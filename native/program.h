/* A loaded program image: the C structures program.c builds from the bytes
 * Python serialized (format documented at the top of program.c). */
#ifndef FT_PROGRAM_H
#define FT_PROGRAM_H
#ifndef FTSTAP_H_INCLUDED
#include "ftstap.h"
#endif
#include <stdint.h>
#include <string.h>

#define FT_IMAGE_VERSION 4    /* the image layout of program.c (and ftstap/image/format.py) */

/* The machine images are compiled for and this core runs on: the header's
   tag (ELF e_machine, byte order 1 little / 2 big, pointer bytes), as
   ftstap/image/target.py writes it. */
#if defined(__x86_64__)
#define FT_HOST_MACHINE 62
#elif defined(__aarch64__)
#define FT_HOST_MACHINE 183
#elif defined(__riscv) && __riscv_xlen == 64
#define FT_HOST_MACHINE 243
#elif defined(__i386__)
#define FT_HOST_MACHINE 3
#elif defined(__arm__)
#define FT_HOST_MACHINE 40
#else
#define FT_HOST_MACHINE 0
#endif
#define FT_HOST_BYTEORDER (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? 1 : 2)
#define FT_HOST_WORDSIZE ((int)sizeof(void *))

enum {
#define OP(name, kinds, ip, ipu, sp, spu, doc) FT_OP_##name,
#include "opcodes.def"
#undef OP
    FT_NOPS
};

typedef struct ft_pstr {      /* a string constant */
    const char *s;            /* NUL-terminated (a copy owned by the program) */
    uint32_t len;
} ft_pstr;

typedef struct ft_loc {
    uint32_t file, line, col, desc;   /* desc: "operator '/'", "identifier 'x'" */
} ft_loc;

typedef struct ft_pfmt {
    ft_fmt *fmt;
    int nargs, nint, nstr;
} ft_pfmt;

typedef struct ft_glob {
    uint32_t name;
    uint8_t vtype;            /* FT_T_INT / FT_T_STR / FT_T_STAT */
    uint8_t nkeys;            /* 0: scalar */
    char keys[FT_MAX_KEYS + 1];   /* 'i'/'s' per column, NUL-terminated */
    uint8_t nikeys, nskeys;   /* integer / string key columns */
    uint8_t flags;            /* FT_G_* */
    ft_i64 maxsize;           /* 0: MAXMAPENTRIES */
    ft_stat_cfg cfg;          /* statistics: histogram, variance shift */
    ft_i64 init_int;
    uint32_t init_str;        /* string id, or FT_NOLOC for "" */
} ft_glob;

typedef struct ft_func {
    uint32_t name;
    uint8_t ret;              /* 'v', 'i' or 's' */
    uint8_t nparams;
    uint16_t nlocals;
    uint8_t niters;
    char *ltypes;             /* 'i'/'s' per local */
    int nint_params, nstr_params;   /* parameters per stack */
    int nint_locals, nstr_locals;   /* locals per stack (parameters included) */
    int max_istack, max_sstack;     /* operand stack depth found by the verifier */
    uint8_t *code;            /* a private copy; local operands rewritten to stack slots */
    uint32_t codelen;
} ft_func;

typedef struct ft_probe {
    uint32_t name;            /* probe point text, for pp() and listings */
    uint8_t kind;             /* FT_PROBE_* */
    ft_i64 priority;          /* begin(N)/end(N) */
    ft_i64 interval_ns, randomize_ns;  /* timer probes */
    uint32_t func;            /* handler: a void function without parameters */
    uint32_t event;           /* event id (part 4) */
} ft_probe;

typedef struct ft_pevent {    /* one kernel event of the events section (image/events.py's EventSpec) */
    uint8_t kind;             /* FT_EVK_* */
    uint8_t flags;            /* FT_EVF_* */
    uint16_t maxactive;
    uint32_t type;            /* perf type (FT_EVK_PERF) */
    ft_i64 config, offset, sample_period, sample_freq;
    uint32_t pp, system, event, path, symbol, filter;   /* string ids; FT_NOLOC: none */
    uint16_t nargs, nfields;
    uint32_t *args;           /* fetch-arg string ids */
    uint32_t *field_names;    /* fetch-arg name string ids, and the record offset pass 3 planned */
    uint16_t *field_offsets;
} ft_pevent;

#define FT_KERNEL_MAX 64       /* bytes of the kernel release an image names (format.py KERNEL_MAX) */

struct ft_prog {
    char kernel[FT_KERNEL_MAX + 1];   /* the kernel release it was compiled for ("": any) */
    uint32_t nstrs, nfmts, nlocs, nglobals, nfuncs, nprobes;
    ft_pstr *strs;
    ft_pfmt *fmts;
    ft_loc *locs;
    ft_glob *globals;
    ft_func *funcs;
    ft_probe *probes;
    uint32_t nevents;
    ft_pevent *events;
    int max_iframe, max_sframe;   /* largest frame (locals + operand stack) */
    int max_iters, max_fmt_args;
    char *blob;                   /* string constants */
};

/* builtins.c: a builtin reads its arguments in place on the stacks and
   leaves an int result in *iret or a string result in *sret; it returns 0,
   or -1 after ft_vm_fail() for a (catchable) run-time error. */
typedef struct ft_str ft_str;
typedef int (*ft_bfn)(ft_vm *vm, const ft_i64 *ia, ft_str *const *sa, ft_i64 *iret, ft_str *sret);
typedef struct ft_builtin {
    const char *name;
    const char *args;         /* 'i'/'s' per argument */
    char ret;                 /* 'i', 's', 'v' */
    ft_bfn fn;
} ft_builtin;
extern const ft_builtin ft_builtins[];
extern const int ft_nbuiltins;

/* operand kinds: the size of each kind letter of opcodes.def, a constant
 * expression so the VM's instruction lengths are computed at compile time */
#define FT_KIND_SIZE(k) ((k) == 'n' ? 1                                                    \
                         : (k) == 'l' || (k) == 'g' || (k) == 'F' || (k) == 'b' ? 2          \
                         : (k) == 's' || (k) == 'f' || (k) == 'L' || (k) == 'j' || (k) == 'm' ? 4 \
                         : (k) == 'i' ? 8 : 0)
static inline int ft_kind_size(char k) { return FT_KIND_SIZE(k); }

/* A string constant, "" for FT_NOLOC (an absent event field). */
static inline const char *ft_prog_str(const ft_prog *p, uint32_t id)
{
    return id < p->nstrs ? p->strs[id].s : "";
}

static inline uint32_t ft_rd_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t ft_rd_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline ft_i64 ft_rd_i64(const uint8_t *p) { ft_i64 v; memcpy(&v, p, 8); return v; }

/* "x86_64 (64-bit, little-endian)": a header's machine tag, for messages */
const char *ft_machine_describe(unsigned machine, unsigned order, unsigned word, char *buf, size_t n);
/* 1 (with msg) when p was compiled for another kernel release than this one. */
int ft_prog_kernel_mismatch(const ft_prog *p, char *msg, size_t n);

/* verify.c: check one function of a loaded image; 0, or -1 with a message in err */
int ft_verify_func(ft_prog *p, ft_func *f, char *err, int errlen);
extern const char *const ft_op_kinds[];
extern const signed char ft_op_effects[][4];

#endif
