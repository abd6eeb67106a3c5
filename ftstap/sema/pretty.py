"""Pretty-printing on probes whose values the kernel reads (kprobes,
uprobes): `$$vars`, `$$parms`, `$$locals`, `$$return` and the `$`/`$$`
suffixes (`$file$`, `$$parms$`), as stap prints them:

    $$parms      file=0xffff8880... buf=0x7ffd... count=0x2000 pos=0xffffc900...
    $file$       {.f_mode=29, .f_op=0xffffffff8243a0c0, .f_path={...}, ...}
    $file$$      the same with nested structs expanded too (two levels)

Without a suffix every value is hex; with one, integers are decimal,
pointers hex, char arrays quoted strings and structs/unions `{.m=...}` one
level deep (`$$`: two), deeper ones `{...}` and other arrays `[...]`.
Types come from BTF; a value with no type (a uprobe parameter without DWARF
types here) prints as hex.

Pass 2 rewrites each such target into `sprintf(FORMAT, $a, $b->m, ...)`
before @entry is lowered, so in a .return probe they print the values at
entry as `$a` does; each of those values is one kernel read at the event
(compile/kread.py), so the whole string describes one moment."""
from __future__ import annotations

from ..errors import KernelError, SemanticError
from ..lang import ast as A
from ..lang.rewrite import rewrite

HEX = "0x%x"
MAX_READS = 64       # per printed value: kprobe_events takes at most 128 fetch-args per event


class _Printer:
    def __init__(self, btf, loc, suffix: str):
        self.btf = btf
        self.loc = loc
        self.levels = 2 if suffix == "$$" else 1     # struct levels expanded
        self.fmt: list[str] = []
        self.args: list[A.Expr] = []

    def read(self, conv: str, target: A.Expr) -> None:
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
            if self.btf.describe(rid).startswith("char["):       # the kernel reads it as a string
                self.fmt.append('"')
                self.read("%s", A.Call("kernel_string", (target,), self.loc))
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
            if len(self.args) >= MAX_READS:       # a big struct: its first members (stap's string is cut too)
                self.fmt.append("...")
                break
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


def expand_pretty(insts, features) -> list:
    """insts with $$vars/$$parms/$$locals/$$return and `$x$`/`$x$$` of the
    probes that read kernel (or process) memory at the event rewritten."""
    out = []
    for inst in insts:
        if getattr(inst.source.target, "fetch_args", False) and any(_pretty(n) for n in A.walk(inst.body)):
            btf = _Btf(features)
            inst.body = rewrite(inst.body, lambda n: _expand(n, inst.source, btf) if _pretty(n) else None)
        out.append(inst)
    return out


class _Btf:
    """The kernel's BTF, read when a typed value is first printed."""

    def __init__(self, features):
        self.features, self._btf = features, None

    def get(self):
        if self._btf is None:
            self._btf = self.features.btf_reader()
        return self._btf


def _pretty(n) -> bool:
    return isinstance(n, A.Target) and (bool(n.suffix) or (isinstance(n.base, str) and n.base.startswith("$$")))


def _expand(e: A.Target, source, btf: _Btf) -> A.Print:
    """The sprintf of reads that prints e as stap does."""
    pretty = bool(e.suffix)
    base = e.base if isinstance(e.base, str) else None
    if base in ("$$vars", "$$parms", "$$locals", "$$return"):
        names = _context_names(source, base)
        typed = [getattr(source.context[n], "btf_type", None) for n in names]
        p = _Printer(btf.get() if pretty and any(t is not None for t in typed) else None, e.loc, e.suffix)
        for i, (name, tid) in enumerate(zip(names, typed)):
            if i:
                p.fmt.append(" ")
            p.fmt.append(f"{name}=")
            p.value(A.Target("$" + name, (), loc=e.loc), tid, 0, pretty)
        return p.sprintf()
    plain = A.Target(e.base, e.members, loc=e.loc)       # the value itself, without the suffix
    tid, pointee = _type_of(plain, source, btf)
    p = _Printer(btf.get() if tid is not None else None, e.loc, e.suffix)
    if pointee and tid is not None:      # @cast(p, "T")$: p points at a T
        p.struct(plain, p.btf.resolve(tid), 0, True)
    else:
        p.value(plain, tid, 0, True)
    return p.sprintf()


def _type_of(e: A.Target, source, btf: _Btf) -> tuple[int | None, bool]:
    """(BTF type id, whether the value points at it) of a target expression;
    (None, False) where no type is known (it then prints as hex)."""
    if isinstance(e.base, str):
        var = source.context.get(e.base[1:])
        tid, pointee = getattr(var, "btf_type", None), False
    elif isinstance(e.base, A.Cast):
        from .targets import TargetTyper
        tid, pointee = TargetTyper(None, btf.features).lookup(e.base.type, e.base.module, e.loc), True
    else:
        return None, False
    if tid is None or not e.members:
        return tid, pointee
    steps = []
    for m in e.members:
        if m.name is not None:
            steps.append(m.name)
        elif isinstance(m.index, A.Number):
            steps.append(m.index.value)
        else:
            return None, False
    try:
        return btf.get().member_chain(tid, steps, pointee).type, False
    except KernelError as ex:
        raise SemanticError(str(ex), e.loc) from None


def _context_names(source, base: str) -> list[str]:
    """The context variables $$parms/$$vars/$$return print, in order."""
    params = [n for n in source.context if n != "return"]
    if base == "$$return":
        return ["return"] if "return" in source.context else []
    if base == "$$locals":
        return []                        # BTF has no locals
    return params
