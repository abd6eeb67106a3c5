"""stap's syscall tapset variables, as a table: what each `syscall.NAME`
(and `nd_syscall.NAME`) defines beyond the tracepoint's own fields.

One line per syscall (tables in sysdefs_table.py):

    NAME[=TP|TP...] : VAR=EXPR VAR=EXPR ... [| ARGSTR]

`=TP` names the syscalls:sys_enter_TP tracepoints that serve it, the first
this kernel has (stat=newstat|stat); `=#a,b,c` serves it from
raw_syscalls:sys_enter filtered on its number, the arguments named a, b, c
(`=#a@_sysctl`: its number is _sysctl's);
`=-` says no kernel of this architecture has it: the alias exists and binds
nothing.  EXPR is `$field`, a number, a "string", a local already set, or
`func(EXPR, ...)`, or `@entry(EXPR)` (return probes: its value at the
call's entry, sema/entry.py).  `VAR<=VERSION=EXPR` is a variable stap's
tapset defines only up to that SystemTap release (sema/versions.py applies
--compatible and --check-version).  ARGSTR lists `CONV:EXPR` items joined with ", "
(`+CONV:EXPR` appends without a separator); without it, argstr shows every
argument.  `NAME.return : ...` adds variables to the return probe.

Every field of the tracepoint is a local by its kernel name too (`const
char *` ones as quoted strings read from user memory, pointers also as
NAME_uaddr), unless the table sets that name."""
from __future__ import annotations

import re

from ..lang import ast as A

_TOKEN = re.compile(r'\s*(?:([$@]?[A-Za-z_][A-Za-z0-9_]*)|(-?0x[0-9a-fA-F]+|-?\d+)|("(?:[^"\\]|\\.)*")|([(),]))')


class Def:
    __slots__ = ("name", "tracepoints", "raw_args", "absent", "kernel_name", "items", "argstr", "ret_items",
                 "until")

    def __init__(self, name):
        self.name = name
        self.tracepoints: list[str] = [name]
        self.raw_args: list[str] | None = None
        self.absent = False
        self.kernel_name = ""           # a raw syscall's name in the syscall table, if not NAME
        self.items: list[tuple[str, str]] = []
        self.argstr: list[tuple[bool, str, str]] | None = None
        self.ret_items: list[tuple[str, str]] = []
        self.until: dict[str, str] = {}   # VAR -> the last SystemTap release that defines it


def _items(text: str, until: dict[str, str]) -> list[tuple[str, str]]:
    out = []
    for item in text.split():
        var, _, expr = item.partition("=")
        if var.endswith("<"):                  # VAR<=VERSION=EXPR
            var, (version, _, expr) = var[:-1], expr.partition("=")
            until[var] = version
        out.append((var, expr or "$" + var))
    return out


def _argstr(text: str) -> list[tuple[bool, str, str]]:
    out = []
    for part in re.split(r",\s+", text.strip()):
        glue = part.startswith("+")
        conv, _, expr = part.lstrip("+").partition(":")
        out.append((glue, conv, expr))
    return out


def parse_table(text: str) -> dict[str, Def]:
    defs: dict[str, Def] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        head, _, rest = line.partition(":")
        body, _, argstr = rest.partition("|")
        name, _, tps = head.strip().partition("=")
        is_return = name.endswith(".return")
        name = name[:-7] if is_return else name
        d = defs.setdefault(name, Def(name))
        if is_return:
            d.ret_items.extend(_items(body, d.until))
            continue
        if tps == "-":
            d.absent = True
        elif tps.startswith("#"):
            args, _, d.kernel_name = tps[1:].partition("@")
            d.raw_args = [a for a in args.split(",") if a]
        elif tps:
            d.tracepoints = tps.split("|")
        d.items.extend(_items(body, d.until))
        if argstr.strip():
            d.argstr = _argstr(argstr)
    return defs


def expr(text: str, rename: dict[str, str] | None = None) -> A.Expr:
    """The tiny expression language of the table, as AST."""
    toks = [m for m in _TOKEN.finditer(text)]
    pos = 0

    def parse(i):
        m = toks[i]
        name, num, string, punct = m.groups()
        if num is not None:
            return A.Number(int(num, 0)), i + 1
        if string is not None:
            return A.String(bytes(string[1:-1], "utf-8").decode("unicode_escape")), i + 1
        if name.startswith("$"):
            field = name[1:]
            if rename and field in rename:
                return A.Target("$args", (A.Member(index=A.Number(rename[field])),)), i + 1
            return A.Target(name), i + 1
        if i + 1 < len(toks) and toks[i + 1].group(4) == "(":
            args, i = [], i + 2
            while toks[i].group(4) != ")":
                a, i = parse(i)
                args.append(a)
                if toks[i].group(4) == ",":
                    i += 1
            if name.startswith("@"):
                return A.Special(name, tuple(args)), i + 1      # @entry($field)
            return A.Call(name, tuple(args)), i + 1
        return A.Symbol(name), i + 1

    if not toks:
        raise ValueError(f"empty expression in the syscall table: {text!r}")
    e, pos = parse(0)
    return e
