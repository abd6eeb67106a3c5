/* printf: formats are parsed once into directives, then applied per event. */
#ifndef FT_FMT_H
#define FT_FMT_H
#ifndef FTSTAP_H_INCLUDED
#include "ftstap.h"
#endif
#include <stdint.h>
#include "out.h"

#define FT_F_LEFT 1       /* '-' */
#define FT_F_PLUS 2       /* '+' */
#define FT_F_SPACE 4      /* ' ' */
#define FT_F_SPECIAL 8    /* '#' */
#define FT_F_ZEROPAD 16   /* '0' */

#define FT_FMT_NONE (-1)  /* width/precision not given */
#define FT_FMT_STAR (-2)  /* width/precision taken from the next argument */

typedef struct ft_dir {
    char conv;            /* 0 for literal text, else the conversion letter */
    uint8_t flags;        /* FT_F_* */
    int32_t width, prec;  /* >= 0, FT_FMT_NONE or FT_FMT_STAR */
    int32_t off, len;     /* literal text: a slice of ft_fmt.text */
} ft_dir;

struct ft_fmt {
    int ndirs, nargs;
    ft_dir *dirs;
    uint8_t *argtypes;    /* FT_T_INT / FT_T_STR per argument */
    char *text;           /* copy of the format string */
};

/* Apply a parsed format through a writer. */
void ft_fmt_write(const ft_fmt *f, const ft_val *args, int nargs, ft_wr *w);

#endif
