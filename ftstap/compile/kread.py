"""Kernel memory reads at the event: `$p->a->b`, `@cast(v, "T")->f[2]` and
nestings of them become one fetch-arg of the event definition, which the
kernel evaluates when the probe fires (the memory may have changed by the
time user space reads the record).

kprobes and uprobes take fetch-args directly.  A tracepoint has none, so a
tracepoint probe whose handler reads through a field (`@cast($timer,
"timer_list")->function`) is served by an event probe (eprobe, `e:` in
dynamic_events) on that tracepoint: its record carries only fetch-args, so
every field the handler reads becomes one (`$field`).  eprobes write only
to the ftrace ring buffer, never to perf, so the session reads them from a
tracefs instance of its own (native/ftrace.c).  Kernels without
CONFIG_EPROBE_EVENTS get an error naming it."""
from __future__ import annotations

from ..errors import KernelError, SemanticError
from ..lang import ast as A
from ..sema.program import LONG, STRING


# Fields of the current task that every event already carries: the sample's
# pid/tid and the comm table (execname()) give them without a kernel read.
CURRENT_TASK_FIELDS = {"pid": "tid", "tgid": "pid", "comm": "execname"}


def current_task_field(e) -> str | None:
    """The context builtin standing for `@cast(task_current(),
    "task_struct")->pid|tgid|comm`, else None."""
    if not (isinstance(e, A.Target) and isinstance(e.base, A.Cast) and len(e.members) == 1
            and not e.addr and not e.suffix):
        return None
    cast, m = e.base, e.members[0]
    if not (isinstance(cast.operand, A.Call) and cast.operand.name == "task_current" and not cast.operand.args
            and cast.type.strip() in ("task_struct", "struct task_struct")
            and cast.module in (None, "", "kernel")):
        return None
    return CURRENT_TASK_FIELDS.get(m.name)


def reads_kernel_memory(inst) -> bool:
    """Does this tracepoint handler read through a pointer?  `$array[i]` of
    a fixed-size record field does not, nor do the current task's fields
    the event carries (current_task_field)."""
    for n in A.walk(inst.body):
        if not isinstance(n, A.Target) or not (n.members or n.addr) or current_task_field(n):
            continue
        if isinstance(n.base, str):
            var = inst.source.context.get(n.base[1:])
            dims = getattr(getattr(var, "fetch", None), "dims", None)
            if dims and len(n.members) == 1 and n.members[0].index is not None and not n.addr:
                continue
        return True
    return False


def eprobe_mode(gen) -> bool:
    return gen.cg.eprobes.get(id(gen.ctx.source), False)


def _field_type(f, node) -> str:
    """The eprobe fetch type of a tracepoint record field."""
    if (f.is_array and f.ctype.startswith("char")) or f.loc in ("data", "rel"):
        return "string"
    if f.is_array or f.size not in (1, 2, 4, 8):
        raise SemanticError(f"field '{f.name}' ({f.decl}) cannot be fetched by an event probe", node.loc)
    from .fields import narrowed
    size, signed = narrowed(f) or (f.size, f.signed)      # an int in a syscall's 8-byte slot: s32
    return f"{'s' if signed else 'u'}{size * 8}"


def field_arg(gen, var, node) -> str:
    """A tracepoint field read in eprobe mode: a `$field` fetch-arg."""
    from .fields import load_field
    from ..probes.base import ContextVar
    f = var.fetch
    typ = _field_type(f, node)
    fetched = gen.cg.fetch_plan(gen.ctx.source).add(f"${f.name}", typ)
    return load_field(gen, ContextVar(var.name, STRING if typ == "string" else LONG, fetch=fetched), node)


class Chain:
    """Walks a target expression into (fetch expression of its value, the
    BTF type id, whether the value points at that type)."""

    def __init__(self, gen, source):
        from ..kernel.features import KernelFeatures
        self.gen, self.source = gen, source
        self.features = gen.cg.features or KernelFeatures.current()
        self.bias = 0           # of the @cast just walked: its operand was `p + N`
        self.bitfield = None    # (bit offset in its byte, width) of the member just walked, if a bitfield
        self._btf = self._typer = None

    @property
    def btf(self):
        if self._btf is None:
            self._btf = self.features.btf_reader()
        return self._btf

    def base(self, e: A.Target) -> tuple[str, int | None]:
        from .fetch import base_expr
        var = self.source.context.get(e.base[1:])
        if var is None:
            raise SemanticError(f"unknown context variable '{e.base}'", e.loc)
        if self.source.target.record_fields:          # an eprobe: the field's value
            f = var.fetch
            if f is None or not hasattr(f, "offset") or f.is_array or f.loc:
                raise SemanticError(f"'{e.base}' is not a number, so it cannot be read through", e.loc)
            return f"${f.name}", None
        return base_expr(var, e.loc), getattr(var, "btf_type", None)

    def __call__(self, e) -> tuple[str, int | None, bool]:
        if isinstance(e, A.Cast):
            operand, bias = e.operand, 0
            operand = cast_address(self.gen, operand) or operand     # @cast(&@cast(p, "T")->m, "U"): p + offset
            while isinstance(operand, A.Binary) and operand.op in ("+", "-"):   # @container_of: p - offset
                k = _constant(self.gen, operand.right)
                if k is None:
                    break
                bias += k if operand.op == "+" else -k
                operand = operand.left
            expr, _tid, _p = self(operand)
            self.bias = bias
            if self._typer is None:
                from ..sema.targets import TargetTyper
                self._typer = TargetTyper(None, self.features)
            return expr, self._typer.lookup(e.type, e.module, e.loc), True
        if not isinstance(e, A.Target):
            raise SemanticError("only $variables, their members and @cast of them can be read "
                                "by the kernel at the event", e.loc)
        if e.suffix or e.addr or (isinstance(e.base, str) and e.base.startswith("$$")):
            raise SemanticError(f"'{e.base if isinstance(e.base, str) else '@cast'}"
                                f"{e.suffix}' is not supported on kernel reads yet", e.loc)
        self.bias = 0
        if isinstance(e.base, str):
            expr, tid = self.base(e)
            pointee = False
        else:
            expr, tid, pointee = self(e.base)
        bias, self.bias = self.bias, 0
        if bias and not e.members:
            raise SemanticError("an address computed from a $variable is read by the kernel only through a "
                                "member: @cast(p - N, \"T\")->member", e.loc)
        if not e.members:
            return expr, tid, pointee
        if tid is None:
            raise SemanticError(f"'{e.base if isinstance(e.base, str) else 'this value'}' has no type "
                                "to take members of here", e.loc,
                                hint='give it one with @cast(value, "struct_name")->member')
        steps = [m.name if m.name is not None else self.gen.fixed_index(m, e) for m in e.members]
        chain = self.btf.member_chain(tid, steps, pointee)
        self.bitfield = (chain.bit_offset, chain.bitfield_size) if chain.bitfield_size else None
        return chain.fetch_expr(expr, bias), chain.type, False


def _constant(gen, e) -> int | None:
    """A number, or `&@cast(0, "T")->m` (@offsetof): its value; else None."""
    if isinstance(e, A.Number):
        return e.value
    at = cast_address(gen, e)
    if isinstance(at, A.Binary) and isinstance(at.left, A.Number) and isinstance(at.right, A.Number):
        return at.left.value + at.right.value
    return None


def cast_address(gen, e) -> A.Expr | None:
    """`&@cast(p, "T")->a.b[2]` (and `&@cast(p, "T")[n]`) when no pointer is
    followed after p: p plus a constant offset, computed by the handler
    itself (no kernel read, so in any probe: @cast_module_sizeof is
    `&@cast(0, "T")[1]`).  None for anything else."""
    if not (isinstance(e, A.Target) and e.addr and isinstance(e.base, A.Cast) and e.members and not e.suffix):
        return None
    chain = Chain(gen, gen.ctx.source if hasattr(gen.ctx, "source") else None)
    from ..sema.targets import TargetTyper
    try:
        tid = TargetTyper(None, chain.features).lookup(e.base.type, e.base.module, e.base.loc)
        steps = [m.name if m.name is not None else gen.fixed_index(m, e) for m in e.members]
        walk = chain.btf.member_chain(tid, steps, True)
    except KernelError as ex:
        raise SemanticError(str(ex), e.loc) from None
    if any(s.deref for s in walk.steps[1:]):
        return None
    return A.Binary("+", e.base.operand, A.Number(walk.offset, loc=e.loc), loc=e.loc)


def kernel_read(gen, e, string_type: str | None = None) -> str:
    """Emit the load of target expression e read by the kernel at the event
    (string_type: "string"/"ustring" for kernel_string()/user_string())."""
    from .fetch import int_type
    from .fields import load_field
    from ..probes.base import ContextVar
    source = gen.ctx.source
    chain = Chain(gen, source)
    expr, tid, pointee = chain(e)
    plan = gen.cg.fetch_plan(source)
    btf = chain.btf if tid is not None else None
    is_array = btf is not None and not pointee and btf.describe(tid).endswith("]")
    if string_type is not None and not is_array:
        expr = f"+0({expr})"          # a char *: the string is where it points
    if string_type is None and is_array and btf.describe(tid).startswith("char["):
        string_type = "string"
    name = e.base if isinstance(e, A.Target) and isinstance(e.base, str) else "@cast"
    if string_type is not None:
        return load_field(gen, ContextVar(name, STRING, fetch=plan.add(expr, string_type)), e)
    if chain.bitfield is not None:
        return _bitfield(gen, plan, expr, chain.bitfield, btf.int_info(btf.resolve(tid)), name, e)
    return load_field(gen, ContextVar(name, LONG, fetch=plan.add(expr, int_type(btf, None if pointee else tid))), e)


def _bitfield(gen, plan, expr, bitfield, info, name, e) -> str:
    """A bitfield member: the bytes that hold it, read by the kernel, then
    shifted and masked (sign-extended if its type is signed) by the handler."""
    from .fields import load_field
    from ..probes.base import ContextVar
    bit, width = bitfield
    container = next(c for c in (8, 16, 32, 64) if bit + width <= c)
    load_field(gen, ContextVar(name, LONG, fetch=plan.add(expr, f"u{container}")), e)
    gen.emit("PUSHI", bit)
    gen.emit("SHRL")
    gen.emit("PUSHI", (1 << width) - 1)
    gen.emit("BAND")
    if info is not None and info[1] and width < 64:
        gen.emit("PUSHI", 64 - width)
        gen.emit("SHL")
        gen.emit("PUSHI", 64 - width)
        gen.emit("SHR")
    return LONG
