"""The typed AST of a stap script: frozen dataclasses, each with a `loc`.

Locations never take part in equality (see source.Loc), so a script and its
-p1 reprint parse to equal trees.  Sequences are tuples.
"""
from __future__ import annotations

from typing import Optional, Union

from ..record import dataclass
from .source import Loc

_NOLOC = None


# ---------------------------------------------------------------- expressions
class Expr:
    """Base of expressions."""


@dataclass
class Number(Expr):
    value: int                      # as written, 0 .. 2**64-1
    loc: Loc = _NOLOC


@dataclass
class String(Expr):
    value: str                      # raw text between the quotes, escapes kept
    loc: Loc = _NOLOC


@dataclass
class Symbol(Expr):
    name: str
    loc: Loc = _NOLOC


@dataclass
class Member:
    """One step of a target expression: `->name` or `[index]`."""
    name: Optional[str] = None
    index: Optional[Expr] = None
    loc: Loc = _NOLOC


@dataclass
class Target(Expr):
    """`$var`, `$var->a[2]`, `&$var`, `$var$`, `$$vars`, `@var("x")->y`,
    `@cast(e, "type")->f`, and autocasts `(expr)->f` alike: a base plus
    member steps, an address-of flag and a pretty-print suffix ('$'/'$$')."""
    base: Union[str, Expr]          # "$name" / "$$vars" or an expression
    members: tuple[Member, ...] = ()
    addr: bool = False
    suffix: str = ""
    loc: Loc = _NOLOC


@dataclass
class Cast(Expr):
    """@cast(operand, "type" [, "module"])"""
    operand: Expr
    type: str
    module: Optional[str] = None
    loc: Loc = _NOLOC


@dataclass
class VarRef(Expr):
    """@var("name[@file]" [, "module"])"""
    name: str
    module: Optional[str] = None
    loc: Loc = _NOLOC


@dataclass
class Unary(Expr):
    op: str                         # + - ! ~
    operand: Expr
    loc: Loc = _NOLOC


@dataclass
class Crement(Expr):
    op: str                         # ++ --
    operand: Expr
    post: bool
    loc: Loc = _NOLOC


@dataclass
class Binary(Expr):
    op: str                         # * / % + - . << >> >>> & ^ | < > <= >= == != && ||
    left: Expr
    right: Expr
    loc: Loc = _NOLOC


@dataclass
class Regex(Expr):
    op: str                         # =~ !~
    left: Expr
    pattern: str                    # raw string literal text
    loc: Loc = _NOLOC


@dataclass
class Ternary(Expr):
    cond: Expr
    then: Expr
    other: Expr
    loc: Loc = _NOLOC


@dataclass
class Assign(Expr):
    op: str                         # = += -= ... .= <<<
    target: Expr
    value: Expr
    loc: Loc = _NOLOC


@dataclass
class Index(Expr):
    """`a[i, j]` on an array, `@hist_log(s)[3]` on a histogram.  A None index
    is a `*` wildcard (slices in foreach, `in` and delete)."""
    base: Expr                      # Symbol or Hist
    indexes: tuple[Optional[Expr], ...]
    loc: Loc = _NOLOC


@dataclass
class In(Expr):
    """`[i, j] in a` (a single key is a one-element tuple)."""
    keys: tuple[Optional[Expr], ...]
    array: Expr                     # Symbol or Hist
    loc: Loc = _NOLOC


@dataclass
class Call(Expr):
    name: str
    args: tuple[Expr, ...]
    loc: Loc = _NOLOC


@dataclass
class Print(Expr):
    """print/printf/println/printd/printdln/sprint/sprintf/sprintln/sprintd/
    sprintdln. `fmt` is the format (printf family) or the delimiter (printd)."""
    name: str
    fmt: Optional[str]
    args: tuple[Expr, ...]
    loc: Loc = _NOLOC


@dataclass
class Stat(Expr):
    """@count @sum @min @max @avg @variance(x [, shift])"""
    op: str
    operand: Expr
    params: tuple[int, ...] = ()
    loc: Loc = _NOLOC


@dataclass
class Hist(Expr):
    """@hist_log(x) / @hist_linear(x, start, stop, interval)"""
    kind: str                       # "log" or "linear"
    operand: Expr
    params: tuple[Expr, ...] = ()
    loc: Loc = _NOLOC


@dataclass
class Special(Expr):
    """The @-operators with one argument list that need no node of their own:
    @defined(e) @entry(e) @perf("n") @probewrite(v) @const("N")
    @kregister(n) @uregister(n) @kderef(size, addr) @uderef(size, addr)."""
    op: str
    args: tuple[Expr, ...]
    loc: Loc = _NOLOC


@dataclass
class Embedded(Expr):
    """%{ C code %} used as an expression (parsed; -g only; never run)."""
    code: str
    loc: Loc = _NOLOC


# ---------------------------------------------------------------- statements
class Stmt:
    """Base of statements."""


@dataclass
class Block(Stmt):
    body: tuple[Stmt, ...]
    loc: Loc = _NOLOC


@dataclass
class ExprStmt(Stmt):
    expr: Expr
    loc: Loc = _NOLOC


@dataclass
class Null(Stmt):
    loc: Loc = _NOLOC


@dataclass
class If(Stmt):
    cond: Expr
    then: Stmt
    other: Optional[Stmt] = None
    loc: Loc = _NOLOC


@dataclass
class While(Stmt):
    cond: Expr
    body: Stmt
    loc: Loc = _NOLOC


@dataclass
class For(Stmt):
    init: Optional[Expr]
    cond: Optional[Expr]
    step: Optional[Expr]
    body: Stmt
    loc: Loc = _NOLOC


@dataclass
class Foreach(Stmt):
    """foreach ([k1, k2] in arr[slice] limit n), foreach (v = [k] in arr), ...

    sort_column: 0 = none, -1 = the value, N = the N-th key (1-based).
    sort_dir: +1 ascending, -1 descending.  sort_stat: the aggregate used to
    sort a statistics array by value (e.g. "@count"), or None."""
    keys: tuple[Symbol, ...]
    value: Optional[Symbol]
    array: Expr                     # Symbol or Hist
    slice: Optional[tuple[Optional[Expr], ...]]
    sort_column: int
    sort_dir: int
    sort_stat: Optional[str]
    limit: Optional[Expr]
    body: Stmt
    loc: Loc = _NOLOC


@dataclass
class Break(Stmt):
    loc: Loc = _NOLOC


@dataclass
class Continue(Stmt):
    loc: Loc = _NOLOC


@dataclass
class Next(Stmt):
    loc: Loc = _NOLOC


@dataclass
class Return(Stmt):
    value: Optional[Expr]
    loc: Loc = _NOLOC


@dataclass
class Delete(Stmt):
    target: Expr                    # Symbol (whole array or scalar) or Index
    loc: Loc = _NOLOC


@dataclass
class Try(Stmt):
    body: Block
    var: Optional[Symbol]
    handler: Block
    loc: Loc = _NOLOC


# ------------------------------------------------------------ declarations
@dataclass
class Component:
    """One dotted piece of a probe point: a name (may hold * and ** wildcards)
    and an optional literal argument."""
    name: str
    arg: Optional[Union[Number, String]] = None
    loc: Loc = _NOLOC


@dataclass
class ProbePoint:
    components: tuple[Component, ...]
    optional: bool = False          # trailing ?
    sufficient: bool = False        # trailing !
    condition: Optional[Expr] = None  # if (expr)
    loc: Loc = _NOLOC


@dataclass
class Probe:
    points: tuple[ProbePoint, ...]
    body: Block
    privileged: bool = False        # defined in a tapset (may use guru-only constructs)
    loc: Loc = _NOLOC


@dataclass
class ProbeAlias:
    """probe NAME[, NAME] = POINTS { prologue }  or  += POINTS { epilogue }"""
    names: tuple[ProbePoint, ...]
    epilogue: bool
    points: tuple[ProbePoint, ...]
    body: Block
    loc: Loc = _NOLOC


@dataclass
class Global:
    name: str
    size: Optional[int] = None      # [N]
    wrap: bool = False              # %
    init: Optional[Union[Number, String]] = None
    private: bool = False
    loc: Loc = _NOLOC


@dataclass
class Param:
    name: str
    type: Optional[str] = None      # "long", "string" or None (inferred)
    loc: Loc = _NOLOC


@dataclass
class Function:
    name: str
    params: tuple[Param, ...]
    rtype: Optional[str]
    body: Union[Block, Embedded]
    prio: Optional[int] = None
    private: bool = False
    loc: Loc = _NOLOC


@dataclass
class TopEmbedded:
    code: str
    loc: Loc = _NOLOC


@dataclass
class Script:
    _ignore = ("loc", "name")
    items: tuple[object, ...]
    name: str = ""
    loc: Loc = _NOLOC

    def of(self, kind):
        return [i for i in self.items if isinstance(i, kind)]


# The operators of each left-associative precedence level (expressions.py).
LEVELS = ("||", "&&", "|", "^", "&", "< > <= >= == !=", "<< >> >>>", ".", "+ -", "* / %")
LEVEL_OF = {op: frozenset(level.split()) for level in LEVELS for op in level.split()}


def left_chain(e: Binary, ops=None) -> tuple[Expr, list[Binary]]:
    """A left-deep chain `a op b op c ...` of Binary nodes whose operators are
    in `ops` (default: e's precedence level), without recursion: the leftmost
    operand and the nodes from the innermost out.  Flat chains of 10,000 terms
    are common in generated scripts; nothing walks them recursively."""
    ops = LEVEL_OF.get(e.op, (e.op,)) if ops is None else ops
    nodes = []
    while isinstance(e, Binary) and e.op in ops:
        nodes.append(e)
        e = e.left
    nodes.reverse()
    return e, nodes


def walk(node):
    """Every AST node under `node` (lists and tuples looked into), itself
    included, in no particular order."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, (list, tuple)):
            stack.extend(n)
            continue
        fields = getattr(type(n), "_fields", None)
        if fields is None:
            continue
        yield n
        stack.extend(getattr(n, f, None) for f in fields if f != "loc")
