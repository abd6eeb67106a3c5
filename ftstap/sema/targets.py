"""Typing `$var->member` chains, @cast and autocasts against the kernel's BTF.

A value that points at a known kernel type carries that type beside its stap
type (long): `@cast(p, "task_struct")` and `&...->member` make one, a local
assigned only such values of one type keeps it, and `->member` steps walk
it; so does a ternary whose branches agree, a call of a function whose
returns agree, and an array member (its elements).  Types come from BTF for
the module "kernel" (or none) and for header modules ("<sys/un.h>",
"kernel<linux/sched.h>"), which stap compiles and ftstap looks up in the
kernel's BTF (the same ABI types).  Tracepoint fields and user-space values
have no type to walk.  A `->member` on a value whose type is not known yet
(a function checked later) waits for the Checker's strict pass."""
from __future__ import annotations

from ..errors import FtstapError, SemanticError
from ..lang import ast as A

_KERNEL_MODULES = (None, "", "kernel", "vmlinux")


class CastType(int):
    """A BTF type id as @cast made it, remembering the module it was cast
    from: stap gives each cast module ("<sys/un.h>", "<sys/socket.h><sys/un.h>")
    its own types, so two casts agree only from the same module.  It is
    still the type id for BTF, and equal to a plain id."""
    origin: str

    def __new__(cls, tid: int, origin: str):
        self = super().__new__(cls, tid)
        self.origin = origin
        return self

    def __eq__(self, other):
        if isinstance(other, CastType):
            return int(self) == int(other) and self.origin == other.origin
        return int(self) == other

    def __ne__(self, other):
        return not self == other

    __hash__ = int.__hash__


class TargetTyper:
    """Kept by the Checker; ctypes are stored per context, by id(node), in
    ctx.ctypes (a BTF type id: the pointed-to type of a pointer value)."""

    def __init__(self, checker, features):
        self.checker = checker
        self.features = features
        self._btf = None

    # ---- BTF access ----------------------------------------------------------------
    def btf(self, loc):
        if self._btf is None:
            try:
                if self.features is None:
                    raise FtstapError("no kernel features")
                self._btf = self.features.btf_reader()
            except FtstapError as e:
                raise SemanticError(f"cannot resolve kernel types: {e}", loc) from None
        return self._btf

    def lookup(self, name: str, module, loc) -> int:
        if module is None:
            self._user_context(name, loc)
        # "a:b:c" lists modules to try in turn; the kernel's BTF serves "kernel"
        # and headers, a loaded module's own BTF serves that module.
        mods = [None] if module is None else [m.split("<")[0] if m.startswith("kernel<") else m
                                              for m in module.split(":")]
        header = not any(m in _KERNEL_MODULES for m in mods) and all(m.startswith("<") for m in mods)
        from ..kernel import btf as B
        base = name.strip()
        kinds = (B.STRUCT, B.UNION, B.TYPEDEF, B.INT, B.ENUM)
        for prefix, ks in (("struct ", (B.STRUCT,)), ("union ", (B.UNION,)), ("enum ", (B.ENUM,))):
            if base.startswith(prefix):
                base, kinds = base[len(prefix):].strip(), ks
        if base.endswith("*"):
            raise SemanticError(f"@cast type '{name}' must name the pointed-to type, not a pointer", loc)
        readers = [self.btf(loc)] if header else []
        for m in mods:
            if m in _KERNEL_MODULES:
                readers.append(self.btf(loc))
            elif not m.startswith("<"):
                readers += [r for r in [self._module_btf(m, loc)] if r is not None]
        if not readers:
            raise SemanticError(f"@cast to '{name}' in module '{module}' needs its debuginfo (DWARF) or "
                                "its BTF (/sys/kernel/btf/MODULE, for a loaded module): ftstap reads no "
                                "DWARF, and no such module is loaded here", loc)
        for btf in readers:
            for k in kinds:
                tid = btf.find_one(base, k)
                if tid is not None:
                    return tid
        if header:      # stap compiles the header; the kernel's BTF has the same ABI types
            raise SemanticError(f"type '{name}' of header {module} is not in the kernel's BTF, "
                                "which is where ftstap looks header types up (it uses no C compiler)", loc)
        raise SemanticError(f"type '{name}' is not in the BTF of {module or 'the kernel'}", loc)

    def _module_btf(self, module: str, loc):
        if self.features is None:
            return None
        try:
            return self.features.module_btf(module)
        except FtstapError:
            return None

    def _user_context(self, name: str, loc) -> None:
        """@cast with no module looks the type up in the probe's own module,
        as stap does (a function: in its callers' probes): in a process
        probe, that is the program, whose types ftstap cannot read."""
        from ..probes.targets import UprobeTarget
        if self.checker is None:             # pass 3 looking up what pass 2 checked
            return
        for inst in self.checker.effects.probes_reaching(self.checker.ctx):
            target = getattr(getattr(inst, "source", None), "target", None)
            if isinstance(target, UprobeTarget):
                raise SemanticError(
                    f"type '{name}' not found in '{target.path}': @cast with no module looks the type up "
                    f"in the probe's own module (here a process: its debuginfo, which ftstap cannot read)",
                    loc, hint=f'name the module: @cast(p, "{name}", "kernel")')

    # ---- typing ------------------------------------------------------------------
    def ctypes(self) -> dict:
        return self.checker.ctx.ctypes

    def of(self, e) -> int | None:
        """The kernel type e points to, if known."""
        if isinstance(e, A.Cast):
            return CastType(self.lookup(e.type, e.module, e.loc), e.module or "kernel")
        if isinstance(e, A.Symbol):
            v = self.checker.ctx.vars.get(id(e))
            if v is not None and v.kind == "local":
                return getattr(v, "ctype", None)
            return None
        if isinstance(e, A.Target):
            if e.addr:
                return self.ctypes().get(id(e))
            return self.ctypes().get(("elements", id(e)))       # an array member: its elements
        if isinstance(e, A.Assign) and e.op == "=":
            return self.of(e.value)
        if isinstance(e, A.Ternary):
            a, b = self.of(e.then), self.of(e.other)
            return a if b is None or a == b else None if a is not None else b
        if isinstance(e, A.Call):
            f = self.checker.functions.get((e.name, len(e.args)))
            return getattr(f, "ctype", None) if f is not None else None
        return None

    def returned(self, f, value) -> None:
        """A function returning only values that point at one type has it."""
        t = self.of(value)
        seen = getattr(f, "ctype_seen", None)
        if seen is None:
            f.ctype_seen = seen = set()
        if t not in seen:
            seen.add(t)
            new = t if seen == {t} else None
            if getattr(f, "ctype", None) != new:
                f.ctype = new
                self.checker.changed = True

    def assigned(self, var, value) -> None:
        """A local takes the pointed-to type of what it is assigned, when
        every assignment agrees; otherwise it has none."""
        if var.kind != "local":
            return
        t = self.of(value)
        seen = getattr(var, "ctype_seen", None)
        if seen is None:
            var.ctype_seen = {t}
        else:
            seen.add(t)
        var.ctype = t if var.ctype_seen == {t} else None

    def member_chain(self, e: A.Target, start: int, what: str, pointee: bool = False):
        """Walk e.members from a value of type `start` (pointee: a value
        pointing at a `start`, as @cast and `&` make; btf.member_chain
        computes the same walk's offsets in pass 3)."""
        from ..kernel import btf as B
        btf = self.btf(e.loc)
        from ..kernel.btf import PTR
        cur = start
        for k, m in enumerate(e.members):
            if m.name is None:
                if pointee and k == 0:        # (T *)v indexed: an element of type T
                    continue
                t = btf.type(btf.resolve(cur))
                if t.kind not in (B.ARRAY, PTR):
                    raise SemanticError(f"cannot index {btf.describe(cur)} in {what}: "
                                        f"not an array or pointer", m.loc or e.loc)
                cur = t.extra[0] if t.kind == B.ARRAY else t.type
                continue
            t = btf.type(btf.resolve(cur))
            target = btf.resolve(t.type) if t.kind == PTR else t.id
            if btf.type(target).kind not in (B.STRUCT, B.UNION):
                raise SemanticError(f"cannot take member '{m.name}' of {btf.describe(cur)} in {what}: "
                                    f"not a struct, union or pointer to one", m.loc or e.loc)
            mem = btf.member(target, m.name)
            if mem is None:
                known = [x.name for x in btf.members(target) if x.name]
                close = [k for k in known if k.startswith(m.name[:3])][:5]
                raise SemanticError(f"unknown member '{m.name}' of {btf.describe(target)} in {what}",
                                    m.loc or e.loc,
                                    hint=f"did you mean {', '.join(close)}?" if close else
                                    f"members: {', '.join(known[:12])}{'...' if len(known) > 12 else ''}")
            cur = mem.type
        return cur

    def target(self, e: A.Target, base_tid: int | None, what: str, pointee: bool = False) -> None:
        """Check e's member steps from a value of type base_tid (pointee: a
        value pointing at one; None: unknown).  Records the result's
        pointed-to type for `&...`."""
        if not e.members:
            if e.addr and base_tid is not None:
                self.ctypes()[id(e)] = base_tid
            return
        if base_tid is None:
            if not self.checker.strict:        # maybe known once the functions are checked
                self.checker.deferred = True
                return
            first = next((m.name for m in e.members if m.name), "?")
            raise SemanticError(f"the type of {what} is unknown, so it has no member '{first}'", e.loc,
                                hint="give it a type with @cast(value, \"struct_name\")->member")
        end = self.member_chain(e, base_tid, what, pointee)
        if e.addr:
            self.ctypes()[id(e)] = end
        else:
            from ..kernel import btf as B
            btf = self.btf(e.loc)
            t = btf.type(btf.resolve(end))
            if t.kind in (B.STRUCT, B.UNION) and not e.suffix:
                # stap: a whole struct has no value (so `@defined($p->rcu)` is false); `&` or `$` it
                raise SemanticError(f"the member {'.'.join(m.name or '[]' for m in e.members)} of {what} is a "
                                    f"{btf.describe(end)}, which has no value", e.loc,
                                    hint="take its address with & or print it with a $ suffix")
            if t.kind == B.ARRAY:
                self.ctypes()[("elements", id(e))] = t.extra[0]
