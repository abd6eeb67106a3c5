"""Expression code generation (a mixin of codegen.FunctionGen).

Every gen method takes `want`: whether the value must be left on the stack.
Values go to the integer or the string stack by their checked type."""
from __future__ import annotations

from ..errors import SemanticError
from ..lang import ast as A
from ..sema.program import HIST, LONG, STAT, STRING, VOID
from ..sema.elision import defined_truth
from .strings import decode, escape_format

INT_OPS = {"+": "ADD", "-": "SUB", "*": "MUL", "/": "DIV", "%": "MOD", "<<": "SHL", ">>": "SHR",
           ">>>": "SHRL", "&": "BAND", "|": "BOR", "^": "BXOR"}
CMP_INT = {"==": "EQ", "!=": "NE", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}
CMP_STR = {"==": "SEQ", "!=": "SNE", "<": "SLT", "<=": "SLE", ">": "SGT", ">=": "SGE"}
from ..image.isa import AGG
_CHAINED = frozenset(INT_OPS) | frozenset(CMP_INT) | {"."}   # every Binary operator but && and ||
CONV = {LONG: "%d", STRING: "%s"}


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


class ExprGen:
    def type_of(self, e) -> str | None:
        return self.ctx.types.get(id(e))

    def pop(self, t) -> None:
        if t == LONG:
            self.emit("POPI")
        elif t == STRING:
            self.emit("POPS")

    def gen(self, e: A.Expr, want: bool = True):
        t = getattr(self, "g_" + type(e).__name__)(e, want)
        return t

    def g_Number(self, e, want):
        if want:
            self.emit("PUSHI", _signed(e.value))
        return LONG

    def g_String(self, e, want):
        if want:
            self.emit("PUSHS", self.b.string(decode(e.value)))
        return STRING

    def g_Embedded(self, e, want):
        raise SemanticError("embedded C cannot run in ftstap (there is no compiler)", e.loc)

    # ---- variables -------------------------------------------------------
    def g_Symbol(self, e, want):
        var = self.ctx.vars[id(e)]
        t = var.type
        if not want:
            return t
        if var.kind == "global":
            self.emit("LDGI" if t == LONG else "LDGS", self.cg.global_id(var))
        else:
            self.emit("LDI" if t == LONG else "LDS", self.local(var))
        return t

    def store(self, var, t, want) -> None:
        if want:
            self.emit("DUPI" if t == LONG else "DUPS")
        if var.kind == "global":
            self.emit("STGI" if t == LONG else "STGS", self.cg.global_id(var))
        else:
            self.emit("STI" if t == LONG else "STS", self.local(var))

    def push_key(self, indexes) -> int:
        """Push the non-wildcard key columns; return the wildcard mask."""
        mask = 0
        for i, k in enumerate(indexes):
            if k is None:
                mask |= 1 << i
            else:
                self.gen(k)
        return mask

    def g_Index(self, e, want):
        if isinstance(e.base, A.Hist):
            return self.hist_bucket(e, want)
        var = self.ctx.vars[id(e.base)] if id(e.base) in self.ctx.vars else self.cg.program.globals[e.base.name]
        self.push_key(e.indexes)
        t = var.type
        self.emit("AGETI" if t == LONG else "AGETS", self.cg.global_id(var))
        if not want:
            self.pop(t)
        return t

    def ident_loc(self, index: A.Index) -> int:
        """Where an array access may fail: stap says "near identifier 'a'"."""
        return self.loc(index.base, f"identifier '{index.base.name}'")

    def array_var(self, sym: A.Symbol):
        return self.cg.program.globals[sym.name]

    def g_In(self, e, want):
        var = self.array_var(e.array)
        mask = self.push_key(e.keys)
        if mask:
            self.emit("AIN", self.cg.global_id(var), mask)
        else:
            self.emit("AEXISTS", self.cg.global_id(var))
        if not want:
            self.emit("POPI")
        return LONG

    # ---- operators ----------------------------------------------------------
    def g_Unary(self, e, want):
        self.gen(e.operand)
        if e.op == "-":
            self.emit("NEG")
        elif e.op == "~":
            self.emit("BNOT")
        elif e.op == "!":
            self.emit("NOT")
        if not want:
            self.emit("POPI")
        return LONG

    def g_Binary(self, e, want):
        """A left-deep chain (`a + b * c - d`, `x . y . z`) is compiled in one loop:
        the leftmost operand, then each right operand and its operator."""
        op = e.op
        if op in ("&&", "||"):
            return self.logical(e, want)
        first, nodes = A.left_chain(e, _CHAINED)
        self.gen(first)
        for n in nodes:
            self.gen(n.right)
            if n.op == ".":
                self.emit("CONCAT")
            elif n.op in CMP_INT:
                self.emit((CMP_STR if self.type_of(n.left) == STRING else CMP_INT)[n.op])
            elif n.op in ("/", "%"):
                self.emit(INT_OPS[n.op], self.loc(n, f"operator '{n.op}'"))
            else:
                self.emit(INT_OPS[n.op])
        t = STRING if op == "." else LONG
        if not want:
            self.pop(t)
        return t

    def logical(self, e, want):
        """`a && b && c`: the first false (true for ||) operand ends the chain."""
        false, end = self.label(), self.label()
        jump = "JZ" if e.op == "&&" else "JNZ"
        first, nodes = A.left_chain(e, (e.op,))
        for operand in [first] + [n.right for n in nodes]:
            self.gen(operand)
            self.emit(jump, false)
        self.emit("PUSHI", 1 if e.op == "&&" else 0)
        self.emit("JMP", end)
        self.place(false)
        self.emit("PUSHI", 0 if e.op == "&&" else 1)
        self.place(end)
        if not want:
            self.emit("POPI")
        return LONG

    def g_Ternary(self, e, want):
        truth = defined_truth(e.cond, self.ctx.types)      # @choose_defined: pass 2 pruned the other
        if truth is not None:
            return self.gen(e.then if truth else e.other, want)
        other, end = self.label(), self.label()
        self.gen(e.cond)
        self.emit("JZ", other)
        t = self.gen(e.then, want)
        self.emit("JMP", end)
        self.place(other)
        self.gen(e.other, want)
        self.place(end)
        return t

    def g_Regex(self, e, want):
        """`s =~ "re"` (native/rematch.c); the pattern is the literal's text as
        written, backslashes and all, as stap hands it to its matcher."""
        self.gen(e.left)
        self.emit("PUSHS", self.b.string(e.pattern))
        self.emit("CALLB", self.b.builtin("_regex_match"), self.loc(e, f"operator '{e.op}'"))
        if e.op == "!~":
            self.emit("PUSHI", 0)
            self.emit("EQ")
        if not want:
            self.emit("POPI")
        return LONG

    # ---- assignment -------------------------------------------------------------
    def g_Assign(self, e, want):
        op, target = e.op, e.target
        if op == "<<<":
            return self.stat_add(e, want)
        t = self.type_of(target) or self.type_of(e)
        if isinstance(target, A.Symbol):
            var = self.ctx.vars[id(target)]
            if op == "=":
                self.gen(e.value)
            else:
                self.g_Symbol(target, True)
                self.gen(e.value)
                self.combine(op, e)
            self.store(var, t, want)
            return t
        if isinstance(target, A.Index):
            gid = self.cg.global_id(self.array_var(target.base))
            if op == "=":
                self.push_key(target.indexes)
                self.gen(e.value)
                self.emit("ASETI" if t == LONG else "ASETS", gid, int(want), self.ident_loc(target))
                return t
            if op == "+=":
                self.push_key(target.indexes)
                self.gen(e.value)
                self.emit("AADDI", gid, int(want), self.ident_loc(target))
                return t
            self.push_key(target.indexes)
            self.emit("AREF", gid, self.ident_loc(target))
            self.emit("DUPI")
            self.emit("EGETI" if t == LONG else "EGETS", gid)
            self.gen(e.value)
            self.combine(op, e)
            self.emit("ESETI" if t == LONG else "ESETS", gid, int(want))
            return t
        raise SemanticError("cannot assign to this expression", e.loc)

    def combine(self, op: str, e) -> None:
        base = op[:-1]
        if base == ".":
            self.emit("CONCAT")
        elif base in ("/", "%"):
            self.emit(INT_OPS[base], self.loc(e, f"operator '{op}'"))
        else:
            self.emit(INT_OPS[base])

    def g_Crement(self, e, want):
        delta = 1 if e.op == "++" else -1
        target = e.operand
        if isinstance(target, A.Index):
            gid = self.cg.global_id(self.array_var(target.base))
            self.push_key(target.indexes)
            self.emit("PUSHI", delta)
            self.emit("AADDI", gid, int(want), self.ident_loc(target))
        else:
            var = self.ctx.vars[id(target)]
            if var.kind != "global":
                self.emit("INCLI", self.local(var), delta)
                if want:
                    self.emit("LDI", self.local(var))
            else:
                self.g_Symbol(target, True)
                self.emit("PUSHI", delta)
                self.emit("ADD")
                self.store(var, LONG, want)
        if want and e.post:
            self.emit("PUSHI", delta)
            self.emit("SUB")
        return LONG

    def stat_add(self, e, want):
        target = e.target
        if isinstance(target, A.Symbol):
            self.gen(e.value)
            self.emit("STADD", self.cg.global_id(self.ctx.vars[id(target)]))
        else:
            self.push_key(target.indexes)
            self.gen(e.value)
            self.emit("ASTADD", self.cg.global_id(self.array_var(target.base)), self.ident_loc(target))
        if want:
            self.emit("PUSHI", 0)
        return LONG

    # ---- statistics ---------------------------------------------------------------
    def stat_operand(self, operand):
        """(global id, is_array) after pushing any key."""
        if isinstance(operand, A.Symbol):
            return self.cg.global_id(self.cg.program.globals[operand.name]), False
        self.push_key(operand.indexes)
        return self.cg.global_id(self.array_var(operand.base)), True

    def g_Stat(self, e, want):
        gid, arr = self.stat_operand(e.operand)
        self.emit("ASTGET" if arr else "STGET", gid, AGG[e.op], self.loc(e, f"operator '{e.op}'"))
        if not want:
            self.emit("POPI")
        return LONG

    def print_hist(self, h: A.Hist) -> None:
        gid, arr = self.stat_operand(h.operand)
        self.emit("ASTHIST" if arr else "STHIST", gid, self.loc(h, f"operator '@hist_{h.kind}'"))

    def print_with_hist(self, e, want):
        """print(@hist_log(x)) and friends; sprint/sprintln build the text
        with STHISTS (the histogram as a string) and CONCAT."""
        if e.fmt is not None:
            raise SemanticError(f"{e.name} of a histogram is not supported yet", e.loc)
        if e.name.startswith("s"):
            for i, a in enumerate(e.args):
                if isinstance(a, A.Hist):
                    gid, arr = self.stat_operand(a.operand)
                    self.emit("ASTHISTS" if arr else "STHISTS", gid, self.loc(a, f"operator '@hist_{a.kind}'"))
                elif self.gen(a) == LONG:
                    self.emit("ITOS")
                if i:
                    self.emit("CONCAT")
            if e.name == "sprintln":
                self.emit("PUSHS", self.b.string("\n"))
                self.emit("CONCAT")
            if not want:
                self.emit("POPS")
            return STRING
        for a in e.args:
            if isinstance(a, A.Hist):
                self.print_hist(a)
            else:
                t = self.gen(a)
                self.emit("PRINTI" if t == LONG else "PRINTS")
        if e.name == "println":
            self.emit("PUSHS", self.b.string("\n"))
            self.emit("PRINTS")
        return VOID

    def hist_bucket(self, e, want):
        gid, arr = self.stat_operand(e.base.operand)
        self.gen(e.indexes[0])
        self.emit("ASTBKT" if arr else "STBKT", gid)
        if not want:
            self.emit("POPI")
        return LONG

    def g_Hist(self, e, want):
        raise SemanticError("a histogram can only be printed or indexed", e.loc)

    # ---- calls and output -------------------------------------------------------
    def g_Call(self, e, want):
        from ..sema.program import ProbeInst
        from .kread import current_task_field
        if e.name == "kernel_string" and len(e.args) == 1 and current_task_field(e.args[0]) == "execname":
            return self.context_builtin("execname", e, want)       # current->comm
        if e.name in ("kernel_string", "user_string") and len(e.args) == 1 \
                and isinstance(e.args[0], (A.Target, A.Cast)) and self.kernel_reads():
            # Read the string in the kernel, at the event: a :string/:ustring fetch-arg.
            from .kread import kernel_read
            t = kernel_read(self, e.args[0], "string" if e.name == "kernel_string" else "ustring")
            if not want:
                self.pop(t)
            return t
        f = self.cg.functions.get((e.name, len(e.args)))
        for a in e.args:
            self.gen(a)
        if f is not None:
            self.emit("CALL", self.cg.function_id(f), self.loc(e, f"identifier '{e.name}'"))
            t = f.rtype
        else:
            from ..image.isa import builtin
            if builtin(e.name) is None:
                raise SemanticError(f"function '{e.name}' is not available in ftstap's runtime yet", e.loc)
            self.emit("CALLB", self.b.builtin(e.name), self.loc(e, f"identifier '{e.name}'"))
            t = self.type_of(e)
        if not want and t in (LONG, STRING):
            self.pop(t)
        return t

    def g_Print(self, e, want):
        name = e.name
        if any(isinstance(a, A.Hist) for a in e.args):
            return self.print_with_hist(e, want)
        if e.fmt is not None and name.endswith("f"):
            fmt = decode(e.fmt)
        else:
            parts = [CONV[self.type_of(a)] for a in e.args]
            sep = escape_format(decode(e.fmt)) if e.fmt is not None else ""
            fmt = sep.join(parts)
            if name.endswith("ln"):
                fmt += "\n"
        for a in e.args:
            self.gen(a)
        if name.startswith("s"):
            self.emit("SPRINTF", self.b.format(fmt))
            if not want:
                self.emit("POPS")
            return STRING
        self.emit("PRINTF", self.b.format(fmt))
        return VOID

    # ---- target variables and friends ------------------------------------------
    def context_builtin(self, name: str, e, want) -> str:
        """A field of the current task that the event carries (compile/kread.py)."""
        self.emit("CALLB", self.b.builtin(name), self.loc(e, f"identifier '{name}'"))
        t = STRING if name == "execname" else LONG
        if not want:
            self.pop(t)
        return t


    def kernel_reads(self) -> bool:
        """Can this handler's event read kernel memory through fetch-args?"""
        from ..sema.program import ProbeInst
        from .kread import eprobe_mode
        return isinstance(self.ctx, ProbeInst) and (
            self.ctx.source.target.fetch_args or eprobe_mode(self))

    def fixed_index(self, m, e) -> int:
        """An index a fetch-arg can apply: the kernel reads the element at
        the event, so it must be known now."""
        from .shape import literal
        v = literal(m.index)
        if v is None or v[1] != "long":
            raise SemanticError(f"an index into '{e.base}' must be a number literal here: the "
                                "element is read by the kernel when the probe fires", m.loc or e.loc)
        return v[0]

    def g_Target(self, e, want):
        from ..sema.program import ProbeInst
        from .fields import load_field, pretty_vars
        from .kread import cast_address
        address = cast_address(self, e)
        if address is not None:            # &@cast(p, "T")->m: p + offset, no read
            return self.gen(address, want)
        if not isinstance(self.ctx, ProbeInst) or isinstance(e, A.VarRef):
            raise SemanticError("@var and @cast outside an event probe need kernel memory reads, "
                                "which only an event's fetch-args can do", e.loc)
        if isinstance(e, A.Cast):       # a cast alone is its operand's value, typed
            return self.gen(e.operand, want)
        from .kread import current_task_field, eprobe_mode, field_arg, kernel_read
        field = current_task_field(e)
        if field is not None:
            if field == "execname":
                raise SemanticError("the current task's comm is an array: read it with "
                                    "kernel_string(...) (or call execname())", e.loc)
            return self.context_builtin(field, e, want)
        source = self.ctx.source
        eprobe = eprobe_mode(self)
        plain = isinstance(e.base, str) and not (e.members or e.addr or e.suffix)
        if source.target.fetch_args or (eprobe and not plain):
            t = kernel_read(self, e)
        elif not isinstance(e, A.Target) or not isinstance(e.base, str):
            raise SemanticError(f"@cast and autocasts need kernel memory reads, which probe point "
                                f"{source.pp} cannot do", e.loc)
        elif len(e.members) == 1 and e.members[0].index is not None and not e.addr and not e.suffix:
            from .fields import load_element
            t = load_element(self, source.context.get(e.base[1:]), e.members[0].index, e)
        elif e.members or e.addr:
            raise SemanticError(f"'{e.base}' is a tracepoint field: it has no members to read", e.loc)
        elif e.base in ("$$vars", "$$parms", "$$locals"):
            t = pretty_vars(self, source, e, field_arg if eprobe else load_field)
        elif e.suffix:
            raise SemanticError(f"pretty-printing '{e.base}{e.suffix}' is not implemented yet", e.loc)
        else:
            var = source.context.get(e.base[1:])
            if var is None:
                raise SemanticError(f"unknown context variable '{e.base}'", e.loc)
            t = (field_arg if eprobe else load_field)(self, var, e)
        if not want:
            self.pop(t)
        return t

    g_Cast = g_VarRef = g_Target

    def g_Special(self, e, want):
        if e.op == "@defined":
            ok = self.type_of(e.args[0]) is not None
            if want:
                self.emit("PUSHI", int(ok))
            return LONG
        raise SemanticError(f"{e.op} is not supported yet", e.loc)
