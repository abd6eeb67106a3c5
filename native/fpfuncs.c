/* stap's floatingpoint tapset: IEEE 754 doubles carried in a long (its
 * 64 bits), as stap's softfloat-based fp_* functions carry them.  The
 * arithmetic is the machine's (SSE2 on x86_64: round to nearest even, the
 * same results softfloat gives); no libm, so that every binary linking the
 * core links as before: sqrt and the IEEE remainder are single x86
 * instructions. */
#include "ftstap.h"
#include "vm.h"
#include "tapfuncs.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNUSED (void)vm, (void)ia, (void)sa, (void)iret, (void)sret

static double d_of(ft_i64 v) { double d; memcpy(&d, &v, sizeof d); return d; }
static ft_i64 l_of(double d) { ft_i64 v; memcpy(&v, &d, sizeof v); return v; }

TFB(fp_add) { UNUSED; *iret = l_of(d_of(ia[0]) + d_of(ia[1])); return 0; }
TFB(fp_sub) { UNUSED; *iret = l_of(d_of(ia[0]) - d_of(ia[1])); return 0; }
TFB(fp_mul) { UNUSED; *iret = l_of(d_of(ia[0]) * d_of(ia[1])); return 0; }
TFB(fp_div) { UNUSED; *iret = l_of(d_of(ia[0]) / d_of(ia[1])); return 0; }
TFB(fp_eq) { UNUSED; *iret = d_of(ia[0]) == d_of(ia[1]); return 0; }
TFB(fp_lt) { UNUSED; *iret = d_of(ia[0]) < d_of(ia[1]); return 0; }
TFB(fp_le) { UNUSED; *iret = d_of(ia[0]) <= d_of(ia[1]); return 0; }
TFB(long_to_fp) { UNUSED; *iret = l_of((double)ia[0]); return 0; }

TFB(fp32_to_fp64)
{
    UNUSED;
    uint32_t bits = (uint32_t)ia[0];
    float f;
    memcpy(&f, &bits, sizeof f);
    *iret = l_of((double)f);
    return 0;
}

TFB(fp_sqrt)
{
    UNUSED;
#if defined(__x86_64__)
    double r, x = d_of(ia[0]);
    __asm__("sqrtsd %1, %0" : "=x"(r) : "x"(x));
    *iret = l_of(r);
    return 0;
#else
    return ft_vm_fail(vm, "fp_sqrt is not implemented on this architecture");
#endif
}

/* fp_rem(a, b): the IEEE remainder a - n*b, n the integer nearest a/b
   (ties to even), exact: the x87's fprem1, repeated until complete */
TFB(fp_rem)
{
    UNUSED;
#if defined(__x86_64__)
    long double r;
    __asm__("1: fprem1\n\tfnstsw %%ax\n\ttestb $4, %%ah\n\tjnz 1b"
            : "=t"(r) : "0"((long double)d_of(ia[0])), "u"((long double)d_of(ia[1])) : "ax", "cc");
    *iret = l_of((double)r);
    return 0;
#else
    return ft_vm_fail(vm, "fp_rem is not implemented on this architecture");
#endif
}

/* fp_to_long(fp, rounding, exact): rounding as softfloat numbers them (0
   nearest even, 1 toward zero, 2 down, 3 up, 4 nearest away from zero,
   6 to odd); exact only raises softfloat's inexact flag, which nothing
   reads.  NaN and values out of range give INT64_MIN, as x86 does. */
TFB(fp_to_long)
{
    UNUSED;
    double x = d_of(ia[0]);
    if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0)) {
        *iret = INT64_MIN;
        return 0;
    }
    ft_i64 t = (ft_i64)x;                       /* toward zero */
    double frac = x - (double)t;                /* exact: |x| < 2^63 */
    switch (ia[1]) {
    case 0:                                     /* nearest, ties to even */
        if (frac > 0.5 || (frac == 0.5 && (t & 1))) t++;
        else if (frac < -0.5 || (frac == -0.5 && (t & 1))) t--;
        break;
    case 2: if (frac < 0) t--; break;           /* down */
    case 3: if (frac > 0) t++; break;           /* up */
    case 4:                                     /* nearest, ties away */
        if (frac >= 0.5) t++;
        else if (frac <= -0.5) t--;
        break;
    case 6: if (frac != 0) t |= 1; break;       /* to odd */
    default: break;                             /* 1: toward zero */
    }
    *iret = t;
    return 0;
}

/* fp_to_string(fp, precision): decimal, precision digits after the point */
TFB(fp_to_string)
{
    UNUSED;
    char b[512];
    int prec = ia[1] < 0 ? 0 : ia[1] > 60 ? 60 : (int)ia[1];
    int n = snprintf(b, sizeof b, "%.*f", prec, d_of(ia[0]));
    ft_str_set(vm, sret, b, n < (int)sizeof b ? n : (int)sizeof b - 1);
    return 0;
}

/* string_to_fp(s): the double a decimal string denotes (0 when it is none) */
TFB(string_to_fp)
{
    UNUSED;
    *iret = l_of(strtod(sa[0]->s, NULL));
    return 0;
}
