"""-p1 output: the AST printed back as stap source in one canonical form.

Every compound expression is parenthesized, so precedence never has to be
reconstructed and the output parses back to an equal tree."""
from __future__ import annotations

from . import ast as A


def _q(raw: str) -> str:
    return f'"{raw}"'


def _lit(e) -> str:
    if isinstance(e, A.String):
        return _q(e.value)
    if isinstance(e.value, int) and e.value >= 1 << 63:       # a probe point's -N is kept as 2^64 - N
        return str(e.value - (1 << 64))
    return str(e.value)


def expr(e: A.Expr) -> str:
    f = _EXPR.get(type(e))
    if f is None:
        raise TypeError(f"cannot print {type(e).__name__}")
    return f(e)


def _index_list(keys) -> str:
    return ", ".join("*" if k is None else expr(k) for k in keys)


def _target(e: A.Target) -> str:
    base = e.base if isinstance(e.base, str) else _paren_base(e.base)
    out = ("&" if e.addr else "") + base
    for m in e.members:
        out += f"->{m.name}" if m.name is not None else f"[{expr(m.index)}]"
    if e.suffix:
        glued = (isinstance(e.base, str) and not e.members) or (e.members and e.members[-1].name)
        out += e.suffix if glued else " " + e.suffix
    return out


def _paren_base(b: A.Expr) -> str:
    if isinstance(b, (A.Cast, A.VarRef)):
        return expr(b)
    return f"({expr(b)})"


def _binary(e: A.Binary) -> str:
    """A left-deep chain of one precedence level in one pair of parentheses
    (`(a + b - c)`): it parses back to the same tree, and no chain is too long."""
    first, nodes = A.left_chain(e)
    return "(" + " ".join([expr(first)] + [f"{n.op} {expr(n.right)}" for n in nodes]) + ")"


def _print(e: A.Print) -> str:
    parts = ([_q(e.fmt)] if e.fmt is not None else []) + [expr(a) for a in e.args]
    return f"{e.name}({', '.join(parts)})"


def _special(e: A.Special) -> str:
    return f"{e.op}({', '.join(expr(a) for a in e.args)})"


def _stat(e: A.Stat) -> str:
    extra = "".join(f", {p}" for p in e.params)
    return f"{e.op}({expr(e.operand)}{extra})"


def _hist(e: A.Hist) -> str:
    extra = "".join(f", {expr(p)}" for p in e.params)
    return f"@hist_{e.kind}({expr(e.operand)}{extra})"


def _index(e: A.Index) -> str:
    return f"{expr(e.base)}[{_index_list(e.indexes)}]"


def _in(e: A.In) -> str:
    return f"([{_index_list(e.keys)}] in {expr(e.array)})"


def _cast(e: A.Cast) -> str:
    mod = f", {_q(e.module)}" if e.module is not None else ""
    return f"@cast({expr(e.operand)}, {_q(e.type)}{mod})"


def _var(e: A.VarRef) -> str:
    mod = f", {_q(e.module)}" if e.module is not None else ""
    return f"@var({_q(e.name)}{mod})"


_EXPR = {
    A.Number: lambda e: str(e.value),
    A.String: lambda e: _q(e.value),
    A.Symbol: lambda e: e.name,
    A.Target: _target,
    A.Cast: _cast,
    A.VarRef: _var,
    A.Unary: lambda e: f"({e.op}{expr(e.operand)})",
    A.Crement: lambda e: f"({expr(e.operand)}{e.op})" if e.post else f"({e.op}{expr(e.operand)})",
    A.Binary: _binary,
    A.Regex: lambda e: f"({expr(e.left)} {e.op} {_q(e.pattern)})",
    A.Ternary: lambda e: f"({expr(e.cond)} ? {expr(e.then)} : {expr(e.other)})",
    A.Assign: lambda e: f"({expr(e.target)} {e.op} {expr(e.value)})",
    A.Index: _index,
    A.In: _in,
    A.Call: lambda e: f"{e.name}({', '.join(expr(a) for a in e.args)})",
    A.Print: _print,
    A.Stat: _stat,
    A.Hist: _hist,
    A.Special: _special,
    A.Embedded: lambda e: f"%{{{e.code}%}}",
}


class _Writer:
    def __init__(self):
        self.lines: list[str] = []
        self.level = 0

    def line(self, text: str) -> None:
        self.lines.append("  " * self.level + text)

    def block(self, b: A.Block, head: str) -> None:
        self.line(head + "{")
        self.level += 1
        for s in b.body:
            self.stmt(s)
        self.level -= 1
        self.line("}")

    def sub(self, s: A.Stmt, head: str) -> None:
        if isinstance(s, A.Block):
            self.block(s, head + " ")
        else:
            self.line(head)
            self.level += 1
            self.stmt(s)
            self.level -= 1

    def stmt(self, s: A.Stmt) -> None:
        if isinstance(s, A.Block):
            self.block(s, "")
        elif isinstance(s, A.ExprStmt):
            e = s.expr
            text = expr(e)
            # Top-level assignments read better without their parentheses.
            if isinstance(e, A.Assign):
                text = text[1:-1]
            self.line(text + ";")
        elif isinstance(s, A.Null):
            self.line(";")
        elif isinstance(s, A.If):
            self.sub(s.then, f"if ({expr(s.cond)})")
            if s.other is not None:
                self.sub(s.other, "else")
        elif isinstance(s, A.While):
            self.sub(s.body, f"while ({expr(s.cond)})")
        elif isinstance(s, A.For):
            parts = ["" if x is None else expr(x) for x in (s.init, s.cond, s.step)]
            self.sub(s.body, f"for ({parts[0]}; {parts[1]}; {parts[2]})")
        elif isinstance(s, A.Foreach):
            self.sub(s.body, f"foreach ({foreach_header(s)})")
        elif isinstance(s, A.Break):
            self.line("break;")
        elif isinstance(s, A.Continue):
            self.line("continue;")
        elif isinstance(s, A.Next):
            self.line("next;")
        elif isinstance(s, A.Return):
            self.line("return;" if s.value is None else f"return {expr(s.value)};")
        elif isinstance(s, A.Delete):
            self.line(f"delete {expr(s.target)};")
        elif isinstance(s, A.Try):
            self.block(s.body, "try ")
            self.block(s.handler, f"catch ({s.var.name}) " if s.var else "catch ")
        else:
            raise TypeError(f"cannot print {type(s).__name__}")


def foreach_header(s: A.Foreach) -> str:
    mark = "+" if s.sort_dir > 0 else "-"
    keys = [k.name + (mark if s.sort_column == i + 1 else "") for i, k in enumerate(s.keys)]
    out = ""
    if s.value is not None:
        out = s.value.name + (mark if s.sort_column == -1 and s.sort_stat is None else "") + " = "
    out += f"[{', '.join(keys)}] in {expr(s.array)}"
    if s.slice is not None:
        out += f"[{_index_list(s.slice)}]"
    if s.sort_stat is not None:
        out += f" {s.sort_stat}{mark}"
    elif s.sort_column == -1 and s.value is None:
        out += mark
    if s.limit is not None:
        out += f" limit {expr(s.limit)}"
    return out


def probe_point(p: A.ProbePoint) -> str:
    parts = []
    for c in p.components:
        parts.append(c.name + (f"({_lit(c.arg)})" if c.arg is not None else ""))
    out = ".".join(parts)
    if p.optional:
        out += "?"
    if p.sufficient:
        out += "!"
    if p.condition is not None:
        out += f" if ({expr(p.condition)})"
    return out


def _global(g: A.Global) -> str:
    out = ("private " if g.private else "") + "global " + g.name
    if g.size is not None:
        out += f"[{g.size}]"
    if g.wrap:
        out += "%"
    if g.init is not None:
        out += f" = {_lit(g.init)}"
    return out


def _function_head(f: A.Function) -> str:
    params = ", ".join(p.name + (f":{p.type}" if p.type else "") for p in f.params)
    out = ("private " if f.private else "") + "function " + f.name
    out += (f":{f.rtype}" if f.rtype else "") + f"({params})"
    if f.prio is not None:
        out += f":{f.prio}"
    return out


def script(s: A.Script) -> str:
    w = _Writer()
    for item in s.items:
        if isinstance(item, A.Probe):
            w.block(item.body, "probe " + ", ".join(probe_point(p) for p in item.points) + " ")
        elif isinstance(item, A.ProbeAlias):
            head = "probe " + ", ".join(probe_point(p) for p in item.names)
            head += (" += " if item.epilogue else " = ") + ", ".join(probe_point(p) for p in item.points)
            w.block(item.body, head + " ")
        elif isinstance(item, A.Global):
            w.line(_global(item))
        elif isinstance(item, A.Function):
            if isinstance(item.body, A.Embedded):
                w.line(_function_head(item) + f" %{{{item.body.code}%}}")
            else:
                w.block(item.body, _function_head(item) + " ")
        elif isinstance(item, A.TopEmbedded):
            w.line(f"%{{{item.code}%}}")
        else:
            raise TypeError(f"cannot print {type(item).__name__}")
    return "\n".join(w.lines) + ("\n" if w.lines else "")
