"""Pretty-printing on probes whose values the kernel reads (kprobes,
uprobes): `$$vars`, `$$parms`, `$$locals`, `$$return` and the `$`/`$$`
suffixes (`$file$`, `$$parms$`), as stap prints them:

    $$parms      file=0xffff8880... buf=0x7ffd... count=0x2000 pos=0xffffc900...
    $file$       {.f_mode=29, .f_op=0xffffffff8243a0c0, .f_path={...}, ...}
    $file$$      the same with nested structs expanded too (two levels)

Without a suffix every value is hex; with one, integers are decimal,
pointers hex, char arrays quoted strings and structs/unions `{.m=...}` one
level deep (`$$`: two), deeper ones `{...}` and other arrays `[...]`.
Each printed value is one kernel read at the event (compile/kread.py), so
the whole string describes one moment.  Types come from BTF; a value with
no type (a uprobe parameter without DWARF types here) prints as hex."""
from __future__ import annotations

from ..errors import KernelError, SemanticError
from ..lang import ast as A

HEX = "0x%x"
MAX_READS = 100      # kprobe_events takes at most 128 fetch-args per event


class _Printer:
    def __init__(self, gen, loc, suffix: str):
        from .kread import Chain
        self.chain = Chain(gen, gen.ctx.source)
        self.loc = loc
        self.levels = 2 if suffix == "$$" else 1     # struct levels expanded
        self.fmt: list[str] = []
        self.args: list[A.Expr] = []

    @property
    def btf(self):
        return self.chain.btf

    def read(self, conv: str, target: A.Target) -> None:
        if len(self.args) >= MAX_READS:
            raise SemanticError(f"pretty-printing this value needs more than {MAX_READS} kernel reads at the "
                                "event; print the members you need instead", self.loc)
        self.fmt.append(conv)
        self.args.append(target)

    def value(self, target: A.Target, tid, depth: int, pretty: bool) -> None:
        """One value of BTF type tid (None: untyped), read through target."""
        if tid is None or not pretty:
            self.read(HEX, target)
            return
        from ..kernel import btf as B
        rid = self.btf.resolve(tid)
        t = self.btf.type(rid)
        if t.kind == B.PTR:
            pointee = self.btf.resolve(t.type)
            if self.btf.type(pointee).kind in (B.STRUCT, B.UNION) and depth == 0:
                self.struct(target, pointee, depth, through_pointer=True)    # $file$: the struct it points at
            else:
                self.read(HEX, target)
        elif t.kind in (B.INT, B.ENUM, B.ENUM64):
            info = self.btf.int_info(rid)
            self.read("%d" if info is None or info[1] else "%u", target)
        elif t.kind == B.ARRAY:
            if self.btf.describe(rid).startswith("char["):
                self.fmt.append('"')
                self.read("%s", target)
                self.fmt.append('"')
            else:
                self.fmt.append("[...]")
        elif t.kind in (B.STRUCT, B.UNION):
            self.struct(target, rid, depth, through_pointer=False)
        else:
            self.fmt.append("?")

    def struct(self, target: A.Target, tid, depth: int, through_pointer: bool) -> None:
        if depth >= self.levels:
            self.fmt.append("{...}")
            return
        self.fmt.append("{")
        first = True
        for m in self.btf.members(tid):
            if not first:
                self.fmt.append(", ")
            first = False
            if not m.name:                       # an anonymous struct/union member
                self.fmt.append("{...}")
                continue
            self.fmt.append(f".{m.name}=")
            member = A.Target(target.base, target.members + (A.Member(name=m.name, loc=self.loc),), loc=self.loc)
            try:
                if getattr(m, "bitfield_size", 0):
                    self.read("%d", member)
                else:
                    self.value(member, m.type, depth + 1, True)
            except KernelError:
                self.fmt.append("?")
        self.fmt.append("}")

    def sprintf(self) -> A.Print:
        text = "".join(self.fmt)
        if not self.args:                # nothing read: a constant string
            return A.Print("sprintf", text.replace("%", "%%"), (), self.loc)
        return A.Print("sprintf", text, tuple(self.args), self.loc)


def pretty_kernel_read(gen, e: A.Target) -> A.Print:
    """The sprintf of kernel reads that prints e as stap does."""
    source = gen.ctx.source
    p = _Printer(gen, e.loc, e.suffix)
    pretty = bool(e.suffix)
    base = e.base if isinstance(e.base, str) else None
    if base in ("$$vars", "$$parms", "$$locals", "$$return"):
        names = _context_names(source, base)
        for i, name in enumerate(names):
            if i:
                p.fmt.append(" ")
            p.fmt.append(f"{name}=")
            var = source.context[name]
            p.value(A.Target("$" + name, (), loc=e.loc), getattr(var, "btf_type", None), 0, pretty)
        return p.sprintf()
    plain = A.Target(e.base, e.members, loc=e.loc)       # the value itself, without the suffix
    try:
        _expr, tid, pointee = p.chain(plain)
    except KernelError as ex:
        raise SemanticError(str(ex), e.loc) from None
    if pointee and tid is not None:      # @cast(p, "T")$: p points at a T
        p.struct(plain, p.btf.resolve(tid), 0, True)
    else:
        p.value(plain, tid, 0, True)
    return p.sprintf()


def _context_names(source, base: str) -> list[str]:
    """The context variables $$parms/$$vars/$$return print, in order."""
    params = [n for n in source.context if n != "return"]
    if base == "$$return":
        return ["return"] if "return" in source.context else []
    if base == "$$locals":
        return []                        # BTF has no locals
    return params
