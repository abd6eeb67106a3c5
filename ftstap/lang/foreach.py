"""The foreach statement, the most intricate in the language:

  foreach ([k1, k2-] in arr[*, 3] limit 10) stmt
  foreach (v = [k1, k2] in arr+) stmt
  foreach (k in stats @count-) stmt

At most one sort mark (`+`/`-`) in the whole header: on a key, on the value
variable, or after the array (sort by value, by an aggregate for stats)."""
from __future__ import annotations

from . import ast as A
from .expressions import STAT_OPS
from .lexer import IDENT


def _sort_mark(p) -> int:
    t = p.peek()
    if t.is_op("+", "-"):
        p.next()
        return 1 if t.value == "+" else -1
    return 0


def parse_foreach(p, kw) -> A.Foreach:
    p.expect_op("(")
    sort_column, sort_dir = 0, 0

    def set_sort(column: int, direction: int, tok) -> None:
        nonlocal sort_column, sort_dir
        if not direction:
            return
        if sort_dir:
            p.error("multiple sort directives in foreach", tok)
        sort_column, sort_dir = column, direction

    value = None
    t = p.peek()
    if t.kind == IDENT and (p.peek(1).is_op("=") or (p.peek(1).is_op("+", "-") and p.peek(2).is_op("="))):
        name = p.expect_name("a variable name")
        set_sort(-1, _sort_mark(p), name)
        p.expect_op("=")
        value = A.Symbol(name.value, loc=name.loc)

    keys = []
    if p.peek().is_op("["):
        p.next()
        while True:
            k = p.expect_name("a key variable name")
            keys.append(A.Symbol(k.value, loc=k.loc))
            set_sort(len(keys), _sort_mark(p), k)
            sep = p.next()
            if sep.is_op("]"):
                break
            if not sep.is_op(","):
                p.error("expected ',' or ']'", sep)
    else:
        k = p.expect_name("a key variable name or '['")
        keys.append(A.Symbol(k.value, loc=k.loc))
        set_sort(1, _sort_mark(p), k)

    t = p.peek()
    if not t.is_ident("in"):
        p.error("expected 'in'", t)
    p.next()
    array = p.indexable()
    slice_ = None
    if p.peek().is_op("["):
        p.next()
        slice_ = p.index_list("]")

    sort_stat = None
    t = p.peek()
    if t.kind == IDENT and t.value[0] == "@":
        if t.value not in STAT_OPS or t.value == "@variance":
            p.error("expected an aggregate (@count, @sum, @min, @max, @avg) to sort by", t)
        p.next()
        sort_stat = t.value
        mark = p.peek()
        direction = _sort_mark(p)
        if not direction:
            p.error("expected '+' or '-' after the aggregate", mark)
        set_sort(-1, direction, mark)
    else:
        set_sort(-1, _sort_mark(p), t)

    limit = None
    if p.peek().is_ident("limit"):
        p.next()
        limit = p.expression()
    p.expect_op(")")
    body = p.statement()
    return A.Foreach(tuple(keys), value, array, slice_, sort_column, sort_dir or 1, sort_stat,
                     limit, body, loc=kw.loc)
