"""int_arg(n), uint_arg(n), long_arg(n), ulong_arg(n), s32_arg(n),
u32_arg(n), s64_arg(n), u64_arg(n), pointer_arg(n), u_int_arg(n): the
probed call's n-th argument, as stap's tapset reads it from the registers.

They are lowered in pass 2 to what the event records of that argument:

- kprobes and uprobes: the argument register (kernel/arch.py: x86-64 %di %si %dx %cx %r8
  %r9, arm64 %x0..; a syscall's `__x64_sys_NAME` wrapper: the user's registers saved in
  its pt_regs), fetched by the event like a `$param` (pass 3 plans it);
- syscall entry tracepoints: the n-th syscall argument, a field of the
  record (raw_syscalls: `$args[n-1]`).

Anything else records no argument registers (other tracepoints, syscall
returns, timers, begin/end): a pass-2 error says so.  n must be a literal
1..6: the register is chosen when the event is defined."""
from __future__ import annotations

from ..errors import SemanticError
from ..lang import ast as A
from .program import ProbeInst
from ..lang.rewrite import rewrite

# name -> (bits, signed): how stap narrows the register
WIDTH = {"int_arg": (32, True), "s32_arg": (32, True), "uint_arg": (32, False), "u32_arg": (32, False),
         "u_int_arg": (32, False), "long_arg": (64, True), "ulong_arg": (64, False), "s64_arg": (64, True),
         "u64_arg": (64, False), "pointer_arg": (64, False)}


def _narrow(e: A.Expr, bits: int, signed: bool) -> A.Expr:
    if bits == 64:
        return e
    if signed:        # sign-extend the low 32 bits
        return A.Binary(">>", A.Binary("<<", e, A.Number(32)), A.Number(32))
    return A.Binary("&", e, A.Number(0xFFFFFFFF))


def _argument(source, n: int, call: A.Call) -> A.Expr:
    """The expression of argument n (1-based) at this probe's event."""
    from ..probes.base import ContextVar
    target = source.target
    if target.kind in ("kprobe", "uprobe"):
        from ..kernel import arch
        a = arch.current()
        regs = a.wrapper_args if target.kind == "kprobe" and target.symbol.startswith(a.syscall_wrapper) \
            else a.arg_regs
        name = f"__reg_arg{n}"
        source.context.setdefault(name, ContextVar(name, "long", "long", ("reg", regs[n - 1])))
        return A.Target("$" + name, loc=call.loc)
    if target.kind == "tracepoint" and not target.is_return:
        if target.system == "raw_syscalls" and "args" in source.context:
            return A.Target("$args", (A.Member(index=A.Number(n - 1)),), loc=call.loc)
        if target.system == "syscalls":
            fields = [v for v in source.context.values() if v.name != "__syscall_nr"]
            if n > len(fields):
                return A.Number(0, loc=call.loc)        # the call takes fewer: stap reads a dead register
            return A.Target("$" + fields[n - 1].name, loc=call.loc)
    raise SemanticError(
        f"{call.name}({n}) reads the probed call's argument registers, which probe point {source.pp} "
        f"does not record ({_why(target)})", call.loc,
        hint="kprobes, uprobes and syscall entry probes record them; a tracepoint's own fields are $vars")


def _why(target) -> str:
    if target.kind == "tracepoint" and target.is_return:
        return "a syscall exit records only the return value; use @entry or the entry probe"
    if target.kind == "tracepoint":
        return "a tracepoint record holds its fields only"
    return f"a {target.kind} event has no registers"


def _visit(source):
    def visit(node):
        if isinstance(node, A.Call) and node.name in WIDTH and len(node.args) == 1:
            arg = node.args[0]
            n = arg.value if isinstance(arg, A.Number) else None
            if n is None or not 1 <= n <= 6:
                raise SemanticError(f"{node.name}() takes a literal argument number 1..6 here: the register "
                                    "is chosen when the event is defined", node.loc)
            return _narrow(_argument(source, n, node), *WIDTH[node.name])
        return None
    return visit


def lower_arg_functions(insts: list[ProbeInst]) -> list[ProbeInst]:
    for inst in insts:
        if any(isinstance(n, A.Call) and n.name in WIDTH for n in A.walk(inst.body)):
            inst.body = rewrite(inst.body, _visit(inst.source))
    return insts
