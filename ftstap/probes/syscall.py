"""syscall.NAME[.return], nd_syscall.NAME[.return] (and their wildcards):
generated from the kernel's syscalls:sys_enter_*/sys_exit_* tracepoints
rather than written out 350 times.

Each expansion carries a prologue setting stap's locals: `name`, every
argument by its kernel (man page) name, `argstr` on entry; `retval` and
`retstr` on return.  Pass 2 drops the assignments a handler never reads."""
from __future__ import annotations

from ..lang import ast as A
from .base import EventSource, Provider, Unservable, has_wildcard, match
from .grammar import Grammar
from .tracepoint import tracepoint_source



RESERVED = frozenset(["name", "argstr", "retval", "retstr"])


def local_name(f) -> str:
    """The local a syscall argument becomes; stap's reserved names get a suffix."""
    if f.name in RESERVED:
        return f.name + ("_uaddr" if "*" in f.ctype else "_arg")
    return f.name


def _assign(name: str, value: A.Expr) -> A.Stmt:
    return A.ExprStmt(A.Assign("=", A.Symbol(name), value))


def _arg_conversion(f) -> tuple[str, A.Expr]:
    """How argstr shows one argument."""
    var = A.Symbol(local_name(f))
    ctype = f.ctype
    if "char" in ctype and "*" in ctype:
        return "%s", A.Call("user_string_quoted", (var,))
    if "*" in ctype:
        return "%p", var
    if ctype.startswith("unsigned") or ctype.startswith("u") or "size_t" == ctype:
        return "%u", var
    return "%d", var


def entry_prologue(name: str, fmt) -> A.Block:
    body = [_assign("name", A.String(name))]
    convs, args = [], []
    for f in fmt.fields:
        if f.name == "__syscall_nr":
            continue
        body.append(_assign(local_name(f), A.Target("$" + f.name)))
        conv, expr = _arg_conversion(f)
        convs.append(conv)
        args.append(expr)
    body.append(_assign("argstr", A.Print("sprintf", ", ".join(convs), tuple(args))
                        if args else A.String("")))
    return A.Block(tuple(body))


def return_prologue(name: str) -> A.Block:
    return A.Block((
        _assign("name", A.String(name)),
        _assign("retval", A.Target("$ret")),
        _assign("retstr", A.Call("return_str", (A.Number(1), A.Symbol("retval")))),
    ))


class SyscallProvider(Provider):
    grammar = Grammar(("syscall.NAME[.return]  (syscalls:sys_enter_NAME/sys_exit_NAME)", "nd_syscall.NAME[.return]"))

    def resolve(self, comps, features):
        m = self.grammar.match(comps)
        if m is None:
            return None
        is_return = "return" in m
        pattern = m["NAME"]
        if features.events_root is None:
            raise Unservable(f"syscall probes need tracefs: {features.tracefs_error or 'not mounted'}")
        if "syscalls" not in features.tracepoint_systems():
            raise Unservable("this kernel has no syscalls:* tracepoints (CONFIG_FTRACE_SYSCALLS)")
        prefix = "sys_exit_" if is_return else "sys_enter_"
        events = features.tracepoint_events("syscalls")
        names = [e[len(prefix):] for e in events if e.startswith(prefix)]
        if not has_wildcard(pattern):
            names = [pattern] if pattern in names else []
        out = []
        family = comps[0].name
        for name in sorted(n for n in names if match(pattern, n)):
            pp = f"{family}.{name}" + (".return" if is_return else "")
            src = tracepoint_source(features, "syscalls", prefix + name, pp, is_return)
            fmt = features.tracepoint_format("syscalls", prefix + name)
            src.prologue = return_prologue(name) if is_return else entry_prologue(name, fmt)
            out.append(src)
        return out

    def listing(self, features):
        if features.events_root is None or "syscalls" not in features.tracepoint_systems():
            return []
        out = []
        for e in features.tracepoint_events("syscalls"):
            if e.startswith("sys_enter_"):
                out.append("syscall." + e[10:])
            elif e.startswith("sys_exit_"):
                out.append("syscall." + e[9:] + ".return")
        return sorted(out)
