/* stap's `=~` / `!~` and the regex tapset (rematch.c): POSIX extended regular
 * expressions (leftmost-longest, as stap's own matcher), compiled once per
 * pattern, and the last successful match's subexpressions for matched(n),
 * matched_str() and ngroups(). */
#ifndef FT_REMATCH_H
#define FT_REMATCH_H
#ifndef FTSTAP_H_INCLUDED
#include "ftstap.h"
#endif

struct ft_str;
#define FT_REB(name) int ft_b_##name(ft_vm *vm, const ft_i64 *ia, struct ft_str *const *sa, ft_i64 *iret, struct ft_str *sret)
FT_REB(_regex_match);   /* _regex_match(subject, pattern): 1 when it matches */
FT_REB(matched);
FT_REB(matched_str);
FT_REB(ngroups);
#define FT_RE_BUILTINS \
    {"_regex_match", "ss", 'i', ft_b__regex_match}, \
    {"matched", "i", 's', ft_b_matched}, \
    {"matched_str", "", 's', ft_b_matched_str}, \
    {"ngroups", "", 'i', ft_b_ngroups},
#endif
