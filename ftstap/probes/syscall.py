"""syscall.NAME[.return], nd_syscall.NAME[.return] (and their wildcards):
bound to the kernel's syscalls:sys_enter_*/sys_exit_* tracepoints, with the
variables stap's syscall tapset defines (probes/sysdefs.py and its table).

Each expansion carries a prologue setting stap's locals: `name`, `argstr`
on entry, `retval` and `retstr` on return, every tracepoint field by its
kernel name, and the table's own variables (`filename`, `flags_str`, ...).
Pass 2 drops the assignments a handler never reads.

A syscall stap knows under another name is served by the kernel's
(`stat` by sys_enter_newstat, `pread` by sys_enter_pread64); one with no
tracepoint on this kernel but a number in the syscall table (delete_module
without CONFIG_MODULES) by raw_syscalls, its events picked by number in the
handler; one this architecture never has (statfs64 on x86_64) binds
nothing, as stap's optional alias targets do.  String variables are read
from the process's memory after the event (process_vm_readv): a process
that has already exited reads as its address."""
from __future__ import annotations


from ..lang import ast as A
from ..lang.rewrite import rewrite
from .base import EventSource, Provider, Unservable, has_wildcard, match
from .grammar import Grammar
from .sysdefs import expr, parse_table
from .targets import SpecialTarget
from .tracepoint import tracepoint_source

RESERVED = frozenset(["name", "argstr", "retval", "retstr"])
# char * arguments stap's tapset shows as (quoted) strings under their own
# name; other pointers keep the address (the table adds NAME_str where stap has one)
STRING_ARGS = frozenset("filename pathname path uname u_name specialfile".split())

_DEFS = None


def defs():
    global _DEFS
    if _DEFS is None:
        from .sysdefs_table import TABLE
        _DEFS = parse_table(TABLE)
    return _DEFS


def local_name(f) -> str:
    """The local a syscall argument becomes; stap's reserved names get a suffix."""
    if f.name in RESERVED:
        return f.name + ("_uaddr" if "*" in f.ctype else "_arg")
    return f.name


def _assign(name: str, value: A.Expr) -> A.Stmt:
    return A.ExprStmt(A.Assign("=", A.Symbol(name), value))


def _is_string(f) -> bool:
    return f.name in STRING_ARGS and f.ctype.replace(" ", "") in ("constchar*", "char*")


def _arg_conversion(f) -> tuple[str, A.Expr]:
    """How the default argstr shows one argument."""
    var = A.Symbol(local_name(f))
    ctype = f.ctype
    if _is_string(f):
        return "%s", var
    if "*" in ctype:
        return "%p", var
    if ctype.startswith("unsigned") or ctype.startswith("u") or "size_t" == ctype:
        return "%u", var
    return "%d", var


def entry_prologue(name: str, fields, d=None, rename=None) -> A.Block:
    body = [_assign("name", A.String(name))]
    set_by_table = {v for v, _ in d.items} if d else set()
    convs, args = [], []
    for f in fields:
        if f.name == "__syscall_nr":
            continue
        var = local_name(f)
        if var not in set_by_table:
            value = A.Target("$" + f.name)
            body.append(_assign(var, A.Call("user_string_quoted", (value,)) if _is_string(f) else value))
        if "*" in f.ctype and var + "_uaddr" not in set_by_table and not var.endswith("_uaddr"):
            body.append(_assign(var + "_uaddr", A.Target("$" + f.name)))
        conv, e = _arg_conversion(f)
        convs.append(conv)
        args.append(e)
    if d:
        for var, text in d.items:
            body.append(_assign(var, expr(text, rename)))
        if d.argstr is not None:
            fmt, args = "", []
            for glue, conv, text in d.argstr:
                fmt += ("" if glue or not fmt else ", ") + conv
                args.append(expr(text, rename))
            body.append(_assign("argstr", A.Print("sprintf", fmt, tuple(args))))
            return A.Block(tuple(body))
    body.append(_assign("argstr", A.Print("sprintf", ", ".join(convs), tuple(args))
                        if args else A.String("")))
    return A.Block(tuple(body))


def strings_at_event(body: A.Block) -> A.Block:
    """user_string_quoted($param) read by the kernel at the event: a
    kprobe's ustring fetch-arg (compile/kread.py, sema/syscall_strings.py),
    quoted here; the address when the kernel could not read it."""
    def visit(n):
        if isinstance(n, A.Call) and n.name == "user_string_quoted" and len(n.args) == 1 \
                and isinstance(n.args[0], A.Target) and isinstance(n.args[0].base, str) \
                and not n.args[0].members:
            t = n.args[0]
            return A.Call("__user_string_quoted_at_event", (A.Call("user_string", (t,), n.loc), t), n.loc)
        return None
    return rewrite(body, visit)


def return_prologue(name: str, retval: A.Expr | None = None, d=None, rename=None) -> A.Block:
    """name, retval, retstr and the table's return variables (those from
    the call's arguments through @entry: sema/entry.py)."""
    body = [_assign("name", A.String(name)),
            _assign("retval", retval if retval is not None else A.Target("$ret")),
            _assign("retstr", A.Call("return_str", (A.Number(1), A.Symbol("retval"))))]
    for var, text in (d.ret_items if d else ()):
        body.append(_assign(var, expr(text, rename)))
    return A.Block(tuple(body))


def _raw_filter(nrs) -> A.Stmt:
    """`if (!($id == N || ...)) next`: a raw_syscalls event of another call."""
    cond = None
    for nr in nrs:
        test = A.Binary("==", A.Target("$id"), A.Number(nr))
        cond = test if cond is None else A.Binary("||", cond, test)
    return A.If(A.Unary("!", cond), A.Next(), None)


class SyscallProvider(Provider):
    # .maxactive(N) tunes a kretprobe's instances in stap (its syscall.*.return are
    # kprobes); a tracepoint misses no return, so here it only has to be in range
    grammar = Grammar(("syscall.NAME[.return|.return.maxactive(number)]  (syscalls:sys_enter_NAME/sys_exit_NAME)",
                       "nd_syscall.NAME[.return|.return.maxactive(number)]"))

    def resolve(self, comps, features):
        m = self.grammar.match(comps)
        if m is None:
            return None
        is_return = "return" in m
        pattern = m["NAME"]
        if "maxactive" in m:
            from .kprobe import MAXACTIVE_MAX
            if m.wrong or not 0 <= m["maxactive"] <= MAXACTIVE_MAX:
                raise Unservable(f"maxactive value out of range [0,{MAXACTIVE_MAX}]")
        if features.events_root is None:
            raise Unservable(f"syscall probes need tracefs: {features.tracefs_error or 'not mounted'}")
        if "syscalls" not in features.tracepoint_systems():
            raise Unservable("this kernel has no syscalls:* tracepoints (CONFIG_FTRACE_SYSCALLS)")
        family = comps[0].name
        from ..kernel import formatcache       # formats of this boot, kept between runs
        formatcache.preload(features, "syscalls")
        out = []
        for name, how in sorted(self._names(features, pattern).items()):
            pp = f"{family}.{name}" + (".return" if is_return else "") + \
                (f".maxactive({m['maxactive']})" if "maxactive" in m else "")
            out.append(self._source(features, name, how, pp, is_return))
        formatcache.save(features, "syscalls")
        return out

    def _names(self, features, pattern) -> dict:
        """{stap name: tracepoint name, ("raw", numbers) or "never"} matching pattern."""
        events = features.tracepoint_events("syscalls")
        kernel = {e[10:] for e in events if e.startswith("sys_enter_")}
        table = defs()
        names: dict = {}
        hidden = set()
        for n, d in table.items():
            if d.absent or d.raw_args is not None or d.tracepoints == [n]:
                continue
            for tp in d.tracepoints:
                if tp in kernel:
                    if tp in table:
                        hidden.add(n)          # mmap2 = mmap: not twice in syscall.*
                    else:
                        hidden.add(tp)         # newstat is stat's: stap has no syscall.newstat
                    break
        wild = has_wildcard(pattern)
        for n in kernel:
            if match(pattern, n) and not (wild and n in hidden):
                names[n] = n
        for n, d in table.items():
            if not match(pattern, n) or n in names or (wild and n in hidden):
                continue
            if d.absent or d.raw_args is not None:
                if wild:
                    continue                   # exact names only: no raw_syscalls event for syscall.*
                if d.absent:
                    names[n] = "never"
                else:
                    nrs = self._numbers(features, n)
                    if nrs:
                        names[n] = ("raw", nrs)
                continue
            tp = next((t for t in d.tracepoints if t in kernel), None)
            if tp is not None:
                names[n] = tp
        return names

    @staticmethod
    def _numbers(features, name):
        from ..kernel import arch
        a = arch.of(features)
        if name == "ni_syscall":
            return a.ni_syscalls
        d = defs().get(name)
        nr = arch.syscall_nr(a, (d.kernel_name if d else "") or name)
        return (nr,) if nr >= 0 else ()

    def _source(self, features, name, how, pp, is_return):
        src = self._unversioned_source(features, name, how, pp, is_return)
        d = defs().get(name)
        if d and d.until:
            src.version_gates = dict(d.until)
        return src

    def _unversioned_source(self, features, name, how, pp, is_return):
        d = defs().get(name)
        if how == "never":
            src = EventSource(SpecialTarget("never"), pp)
            src.prologue = (return_prologue(name, A.Number(0)) if is_return
                            else entry_prologue(name, (), d))     # binds nothing: no @entry
            return src
        if isinstance(how, tuple):
            nrs = how[1]
            src = tracepoint_source(features, "raw_syscalls", "sys_exit" if is_return else "sys_enter", pp,
                                    is_return)
            rename = {a: i for i, a in enumerate(d.raw_args)}
            pro = (return_prologue(name, None, d, rename) if is_return else entry_prologue(name, (), d, rename))
            src.prologue = A.Block((_raw_filter(nrs),) + pro.body)
            return src
        prefix = "sys_exit_" if is_return else "sys_enter_"
        src = tracepoint_source(features, "syscalls", prefix + how, pp, is_return)
        if is_return:
            src.prologue = return_prologue(name, None, d)
        else:
            fmt = features.tracepoint_format("syscalls", prefix + how)
            src.prologue = entry_prologue(name, fmt.fields, d)
        return src

    def listing(self, features):
        if features.events_root is None or "syscalls" not in features.tracepoint_systems():
            return []
        names = self._names(features, "*")
        return sorted([f"syscall.{n}" for n in names] + [f"syscall.{n}.return" for n in names])
