/* Regular expression matching for `=~` (see regex.h).  Patterns are string
 * literals (pass 2 checked them with the same regcomp), so each is compiled
 * once and kept for the session; the cache and the last match belong to the
 * thread that runs handlers, as stap keeps its last match in the probe's
 * context. */
#include "rematch.h"
#include "vm.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#define FT_RE_CACHE 64          /* distinct patterns kept compiled */
#define FT_RE_GROUPS 10         /* subexpressions 0..9 recorded */

typedef struct {
    char *pattern;
    regex_t re;
} ft_re_entry;

static __thread ft_re_entry re_cache[FT_RE_CACHE];
static __thread int re_used, re_next;
/* the last match: a copy of the subject and where each group lies in it */
static __thread char *last_subject;
static __thread regmatch_t last_groups[FT_RE_GROUPS];
static __thread int last_ngroups = -1;      /* -1: the last =~ failed (or none yet) */

static regex_t *compiled(ft_vm *vm, const char *pattern)
{
    for (int i = 0; i < re_used; i++)
        if (strcmp(re_cache[i].pattern, pattern) == 0)
            return &re_cache[i].re;
    int slot = re_used < FT_RE_CACHE ? re_used++ : re_next++ % FT_RE_CACHE;
    ft_re_entry *e = &re_cache[slot];
    if (e->pattern) {                       /* full: replace the oldest */
        regfree(&e->re);
        free(e->pattern);
        e->pattern = NULL;
    }
    int rc = regcomp(&e->re, pattern, REG_EXTENDED);
    if (rc != 0) {
        char why[128];
        regerror(rc, &e->re, why, sizeof why);
        if (slot == re_used - 1)
            re_used--;
        ft_vm_fail(vm, "invalid regular expression '%s': %s", pattern, why);
        return NULL;
    }
    e->pattern = strdup(pattern);
    if (!e->pattern) {
        regfree(&e->re);
        if (slot == re_used - 1)
            re_used--;
        ft_vm_fail(vm, "out of memory compiling a regular expression");
        return NULL;
    }
    return &e->re;
}

int ft_b__regex_match(ft_vm *vm, const ft_i64 *ia, struct ft_str *const *sa, ft_i64 *iret, struct ft_str *sret)
{
    (void)ia, (void)sret;
    regex_t *re = compiled(vm, sa[1]->s);
    if (!re)
        return -1;
    regmatch_t groups[FT_RE_GROUPS];
    if (regexec(re, sa[0]->s, FT_RE_GROUPS, groups, 0) != 0) {
        last_ngroups = -1;
        *iret = 0;
        return 0;
    }
    char *copy = strdup(sa[0]->s);
    if (!copy)
        return ft_vm_fail(vm, "out of memory saving a regular expression match");
    free(last_subject);
    last_subject = copy;
    memcpy(last_groups, groups, sizeof groups);
    last_ngroups = (int)re->re_nsub + 1;    /* the whole match is subexpression 0 */
    *iret = 1;
    return 0;
}

int ft_b_matched(ft_vm *vm, const ft_i64 *ia, struct ft_str *const *sa, ft_i64 *iret, struct ft_str *sret)
{
    (void)sa, (void)iret;
    ft_i64 n = ia[0];
    if (last_ngroups < 0)
        return ft_vm_fail(vm, "matched(%lld): the last use of =~ did not match", (long long)n);
    if (n < 0 || n >= last_ngroups)
        return ft_vm_fail(vm, "matched(%lld): the last match has subexpressions 0 to %d", (long long)n,
                          last_ngroups - 1);
    if (n >= FT_RE_GROUPS)
        return ft_vm_fail(vm, "matched(%lld): only subexpressions 0 to %d are kept", (long long)n,
                          FT_RE_GROUPS - 1);
    regmatch_t g = last_groups[n];
    if (g.rm_so >= 0)                       /* a group that took no part in the match is "" */
        ft_str_set(vm, sret, last_subject + g.rm_so, (ft_i64)(g.rm_eo - g.rm_so));
    return 0;
}

int ft_b_matched_str(ft_vm *vm, const ft_i64 *ia, struct ft_str *const *sa, ft_i64 *iret, struct ft_str *sret)
{
    ft_i64 zero = 0;
    (void)ia;
    return ft_b_matched(vm, &zero, sa, iret, sret);
}

int ft_b_ngroups(ft_vm *vm, const ft_i64 *ia, struct ft_str *const *sa, ft_i64 *iret, struct ft_str *sret)
{
    (void)ia, (void)sa, (void)sret;
    if (last_ngroups < 0)
        return ft_vm_fail(vm, "ngroups(): the last use of =~ did not match");
    *iret = last_ngroups;
    return 0;
}
