"""Pass 3: the checked program to bytecode, one function per probe handler
and per script function, in a program image (image/builder.py)."""
from __future__ import annotations

from ..errors import SemanticError
from ..record import mutable
from ..lang import ast as A
from ..sema.program import LONG, STAT, STRING, Func, ProbeInst, Program
from ..sema.elision import defined_truth
from .exprgen import AGG, ExprGen
from ..image.builder import ImageBuilder
from ..image.target import target_of

@mutable
class Translation:
    """What pass 3 returns: the image, the event specs in it (by event id)
    with the pass-2 sources they serve, and what -p3 reports about them."""
    image: bytes
    specs: list                   # image.events.EventSpec
    sources: list                 # probes.base.EventSource
    filters: dict = {}            # event id -> kernel filter (compile/kfilter.py)
    counted: dict = {}            # event id -> what its count adds to (compile/counting.py)
    stacks: dict = {}             # event id -> True: callchain; "ksyms": kernel symbols (compile/needs.py)
    task: set = set()             # events whose handler acts only for target() (taskscope.py)


def _tcode(t) -> str:
    return {LONG: "i", STRING: "s", None: "v", "void": "v"}.get(t, "v")


class FunctionGen(ExprGen):
    def __init__(self, cg: "CodeGen", ctx, fb):
        self.cg, self.b, self.ctx, self.fb = cg, cg.b, ctx, fb
        self.slots: dict[int, int] = {}
        self.loops: list[tuple] = []      # (break label, continue label)
        self.iter_depth = 0

    # ---- emission helpers --------------------------------------------------------
    def emit(self, op, *operands):
        self.fb.emit(op, *operands)

    def label(self):
        return self.fb.label()

    def place(self, lbl):
        self.fb.place(lbl)

    def loc(self, node, desc: str) -> int:
        l = getattr(node, "loc", None)
        if l is None:
            return self.b.no_location
        return self.b.location(l.file, l.line, l.col, desc)

    def local(self, var) -> int:
        slot = self.slots.get(id(var))
        if slot is None:
            slot = self.slots[id(var)] = self.fb.local(_tcode(var.type))
        return slot

    # ---- statements ------------------------------------------------------------------
    def stmt(self, s) -> None:
        k = type(s)
        if k is A.Block:
            for x in s.body:
                self.stmt(x)
            return
        if k is A.Null:
            return
        self.emit("ACTION", 1, self.loc(s, "statement"))
        getattr(self, "s_" + k.__name__)(s)

    def s_ExprStmt(self, s):
        self.gen(s.expr, want=False)

    def s_If(self, s):
        truth = defined_truth(s.cond, self.ctx.types)      # pass 2 pruned the dead branch
        if truth is not None:
            live = s.then if truth else s.other
            if live is not None:
                self.stmt(live)
            return
        other, end = self.label(), self.label()
        self.gen(s.cond)
        self.emit("JZ", other)
        self.stmt(s.then)
        if s.other is not None:
            self.emit("JMP", end)
        self.place(other)
        if s.other is not None:
            self.stmt(s.other)
            self.place(end)

    def loop(self, cond, body, step=None):
        """Inverted loop: the test sits at the bottom and jumps back while
        true, so an iteration costs one conditional jump instead of a test,
        a JZ and a JMP (entry jumps to the test once)."""
        top, cont, test, end = self.label(), self.label(), self.label(), self.label()
        if cond is not None:
            self.emit("JMP", test)
        self.place(top)
        self.loops.append((end, cont))
        self.stmt(body)
        self.loops.pop()
        self.place(cont)
        if step is not None:
            self.gen(step, want=False)
        self.place(test)
        if cond is None:
            self.emit("JMP", top)
        else:
            self.jump_if(cond, top)
        self.place(end)

    LOOP_REL = {"==": 0, "!=": 1, "<": 2, "<=": 3, ">": 4, ">=": 5}
    LOOP_JUMP = {"==": "JEQ", "!=": "JNE", "<": "JLT", "<=": "JLE", ">": "JGT", ">=": "JGE"}

    def jump_if(self, cond, target):
        """Jump to target if cond holds: an integer comparison becomes one
        compare-and-jump (JCMPLI for `local REL constant`, else Jcc)."""
        if (isinstance(cond, A.Binary) and cond.op in self.LOOP_REL
                and self.type_of(cond.left) == LONG and self.type_of(cond.right) == LONG):
            left, right = cond.left, cond.right
            k = right.value if isinstance(right, A.Number) else None
            if (isinstance(right, A.Unary) and right.op == "-" and isinstance(right.operand, A.Number)):
                k = -right.operand.value
            var = self.ctx.vars.get(id(left)) if isinstance(left, A.Symbol) else None
            if var is not None and var.kind != "global" and k is not None:
                k = (k + (1 << 63)) % (1 << 64) - (1 << 63)     # as the VM's 64-bit wrap
                self.emit("JCMPLI", self.local(var), self.LOOP_REL[cond.op], k, target)
                return
            self.gen(left)
            self.gen(right)
            self.emit(self.LOOP_JUMP[cond.op], target)
            return
        self.gen(cond)
        self.emit("JNZ", target)

    def s_While(self, s):
        self.loop(s.cond, s.body)

    def s_For(self, s):
        if s.init is not None:
            self.gen(s.init, want=False)
        self.loop(s.cond, s.body, s.step)

    def s_Break(self, s):
        if not self.loops:
            raise SemanticError("break outside a loop", s.loc)
        self.emit("JMP", self.loops[-1][0])

    def s_Continue(self, s):
        if not self.loops:
            raise SemanticError("continue outside a loop", s.loc)
        self.emit("JMP", self.loops[-1][1])

    def s_Next(self, s):
        self.emit("NEXT")

    def s_Return(self, s):
        if s.value is None:
            self.emit("RET")
            return
        if getattr(self.ctx, "rtype", None) not in (LONG, STRING):
            raise SemanticError(f"unresolved return type of function '{self.ctx.name}'", s.loc)
        t = self.gen(s.value)
        self.emit("RETI" if t == LONG else "RETS")

    def s_Delete(self, s):
        t = s.target
        if isinstance(t, A.Symbol):
            var = self.ctx.vars[id(t)]
            if var.kind == "global":
                self.emit("GCLR", self.cg.global_id(var))
            else:
                self.emit("PUSHI" if var.type == LONG else "PUSHS", 0 if var.type == LONG else self.b.string(""))
                self.store(var, var.type, False)
            return
        gid = self.cg.global_id(self.array_var(t.base))
        mask = self.push_key(t.indexes)
        if mask:
            self.emit("ADELM", gid, mask)
        else:
            self.emit("ADEL", gid)

    def s_Try(self, s):
        catch, end = self.label(), self.label()
        self.emit("TRY", catch)
        self.stmt(s.body)
        self.emit("ENDTRY")
        self.emit("JMP", end)
        self.place(catch)
        if s.var is not None:
            self.emit("ERRMSG")
            self.store(self.ctx.vars[id(s.var)], STRING, False)
        self.stmt(s.handler)
        self.place(end)

    def hist_foreach(self, s):
        """foreach (b in @hist_*(x)) is a counted loop over bucket indexes."""
        h = s.array
        if h.kind == "log":
            nbuckets = 128
        else:
            start, stop, interval = (p.value if isinstance(p, A.Number) else -p.operand.value for p in h.params)
            nbuckets = (stop - start) // interval + 3
        kv = self.ctx.vars[id(s.keys[0])]
        limit = None
        if s.limit is not None:
            limit = self.fb.local("i")
            self.gen(s.limit)
            self.emit("STI", limit)
        self.emit("PUSHI", 0)
        self.store(kv, LONG, False)
        top, cont, end = self.label(), self.label(), self.label()
        self.place(top)
        self.g_Symbol(s.keys[0], True)
        self.emit("PUSHI", nbuckets)
        self.emit("JGE", end)
        if limit is not None:
            self.g_Symbol(s.keys[0], True)
            self.emit("LDI", limit)
            self.emit("JGE", end)
        self.loops.append((end, cont))
        self.stmt(s.body)
        self.loops.pop()
        self.place(cont)
        self.g_Symbol(s.keys[0], True)
        self.emit("PUSHI", 1)
        self.emit("ADD")
        self.store(kv, LONG, False)
        self.emit("JMP", top)
        self.place(end)

    def s_Foreach(self, s):
        if isinstance(s.array, A.Hist):
            return self.hist_foreach(s)
        var = self.array_var(s.array)
        gid = self.cg.global_id(var)
        slot = self.iter_depth
        self.iter_depth += 1
        self.fb.iterators(self.iter_depth)
        mask = (1 << len(s.keys)) - 1     # no slice: every column is a wildcard
        if s.slice is not None:
            mask = self.push_key(s.slice)
        if s.limit is not None:
            self.gen(s.limit)
        column = 0 if s.sort_column == -1 else s.sort_column
        direction = 0 if s.sort_column == 0 else (1 if s.sort_dir > 0 else 2)
        agg = AGG.get(s.sort_stat or "@count", 0) if var.type == STAT else 0
        self.emit("FEBEGIN", slot, gid, column, direction, agg, int(s.limit is not None), mask)
        top, end = self.label(), self.label()
        self.place(top)
        self.emit("FENEXT", slot, end)
        for i, k in enumerate(s.keys):
            kv = self.ctx.vars[id(k)]
            self.emit("FEKEYI" if kv.type == LONG else "FEKEYS", slot, gid, i)
            self.store(kv, kv.type, False)
        if s.value is not None:
            vv = self.ctx.vars[id(s.value)]
            if var.type == STAT:
                self.emit("FESTAT", slot, gid, AGG["@count"], self.loc(s, "foreach"))
            else:
                self.emit("FEVALI" if vv.type == LONG else "FEVALS", slot, gid)
            self.store(vv, vv.type, False)
        self.loops.append((end, top))
        self.stmt(s.body)
        self.loops.pop()
        self.emit("JMP", top)
        self.place(end)
        self.iter_depth -= 1


class CodeGen:
    def __init__(self, program: Program, features=None):
        self.program = program
        # -r: the described kernel, and its machine (an arm64 description compiles arm64 images)
        self.b = ImageBuilder(target_of(features), kernel=getattr(features, "release", None))
        self.gids: dict[int, int] = {}
        self.fids: dict[int, int] = {}
        self.functions = {(f.name, len(f.params)): f for f in program.functions}
        self.events: list = []            # EventSources of "event" probes, by event id
        self.features = features
        self.plans: dict[int, object] = {}   # id(EventSource) -> its FetchPlan (compile/fetch.py)
        self.eprobes: dict[int, bool] = {}   # id(EventSource) -> a tracepoint served by an eprobe
        self.filters: dict[int, str] = {}  # event id -> tracefs filter (compile/kfilter.py)
        self.counted: dict[int, str] = {}  # event id -> what its count adds to (compile/counting.py)
        self._counting = None
        self.task_events: set[int] = set()  # events whose handler acts only for target() (taskscope.py)

    def fetch_plan(self, source):
        """The fetch-args of a kprobe/uprobe/eprobe event; they become its
        EventSpec's args (compile/eventspecs.py)."""
        from .fetch import FetchPlan
        plan = self.plans.get(id(source))
        if plan is None:
            plan = self.plans[id(source)] = FetchPlan(source)
        return plan

    def serve_by_eprobe(self, inst) -> bool:
        """A tracepoint handler reading through a pointer is served by an
        eprobe on that tracepoint (compile/kread.py); its record is the
        eprobe's fetch-args, so kernel filters on the tracepoint's fields
        do not apply to it."""
        src = inst.source
        if not src.target.record_fields:
            return False
        if id(src) not in self.eprobes:
            from .kread import reads_kernel_memory
            reads = reads_kernel_memory(inst)
            if reads and not (self.features and self.features.has_eprobes):
                raise SemanticError(f"probe point {inst.pp} reads kernel memory through a pointer, which on "
                                    "a tracepoint needs event probes (CONFIG_EPROBE_EVENTS): this kernel "
                                    "lacks them", getattr(inst.point, "loc", None))
            self.eprobes[id(src)] = reads
        return self.eprobes[id(src)]

    def global_id(self, var) -> int:
        gid = self.gids.get(id(var))
        if gid is None:
            hist = var.hist[0] if var.hist else None
            keys = "".join(_tcode(k) for k in var.key_types) if var.is_array else ""
            init = None
            if var.decl is not None and var.decl.init is not None:
                init = var.decl.init.value
                if isinstance(var.decl.init, A.String):
                    from .strings import decode
                    init = decode(init)
                elif init >= 1 << 63:
                    init -= 1 << 64
            size = var.decl.size if var.decl is not None else None
            wrap = bool(var.decl.wrap) if var.decl is not None else False
            vtype = "stat" if var.type == STAT else _tcode(var.type)
            gid = self.gids[id(var)] = self.b.add_global(var.name, vtype, keys, size or 0, wrap, hist, init,
                                                         autoprint=var.written and not var.read and not var.tapset,  # stap: user globals only
                                                         shift=var.shift)
        return gid

    def function_id(self, f: Func) -> int:
        fid = self.fids.get(id(f))
        if fid is None:
            params = "".join(_tcode(p.type) for p in f.params)
            fb = self.b.function(f.name, _tcode(f.rtype), params)
            fid = self.fids[id(f)] = fb.id
            if isinstance(f.decl.body, A.Embedded):
                raise SemanticError(f"function '{f.name}' is embedded C, which ftstap cannot run "
                                    f"(there is no compiler)", f.decl.loc)
            gen = FunctionGen(self, f, fb)
            for p in f.params:
                gen.slots[id(p)] = len(gen.slots)
            gen.stmt(f.decl.body)
            # A function that falls off its end returns 0 or "".
            if f.rtype == LONG:
                fb.emit("PUSHI", 0)
                fb.emit("RETI")
            elif f.rtype == STRING:
                fb.emit("PUSHS", self.b.string(""))
                fb.emit("RETS")
            else:
                fb.emit("RET")
            fb.finish()
        return fid

    def probe(self, inst: ProbeInst) -> None:
        target = inst.source.target
        kind = target.probe_kind
        event = 0
        if kind == "event":
            # The runtime opens self.events[event] and runs this probe for its records.
            event = len(self.events)
            self.events.append(inst.source)
            from .kfilter import kernel_filter
            flt = None if self.serve_by_eprobe(inst) else kernel_filter(inst)
            if flt:
                self.filters[event] = flt
            from .taskscope import task_scoped
            if task_scoped(inst):
                self.task_events.add(event)
        fb = self.b.function(inst.pp, "v", "")
        gen = FunctionGen(self, inst, fb)
        if self._counting is None:
            from .counting import plan
            self._counting = plan(self.program)
        counter = self._counting.get(id(inst)) if kind == "event" else None
        if getattr(target, "only_enables", False):   # sema/rawtp.py: a counter that writes no record
            self.counted[event] = f"nothing (a callback, so that __traceiter_{target.event} runs)"
            self.filters.pop(event, None)
        elif counter is not None:
            from .counting import emit_apply
            emit_apply(gen, inst, counter)       # counting mode: runs once at stop with the total
            self.counted[event] = counter.describe()
            if counter.filter:
                self.filters[event] = counter.filter
            else:
                self.filters.pop(event, None)
        else:
            gen.stmt(inst.body)
        fb.emit("RET")
        fb.finish()
        interval_ns, randomize_ns = target.timing
        if kind.startswith("procfs"):             # the file it serves, by name (native/procfs.h)
            event = self.b.string(target.file)
        self.b.probe(inst.pp, kind, fb.id, priority=target.priority,
                     interval_ns=interval_ns, randomize_ns=randomize_ns, event=event)

    def stack_needs(self) -> dict:
        """{event id: True} for events whose handler reads a backtrace, and
        "ksyms": some probe names kernel addresses (compile/needs.py)."""
        from .needs import Needs
        needs, out, ids = Needs(self.program), {}, {id(src): i for i, src in enumerate(self.events)}
        for inst in self.program.probes:
            got = needs(inst)
            if "callchain" in got and id(inst.source) in ids:
                out[ids[id(inst.source)]] = True
            if "ksyms" in got:
                out["ksyms"] = True
        return out

    def translate(self) -> Translation:
        """Pass 3: the image and the event specs it carries."""
        # Globals enter the image as code refers to them (unused library
        # globals stay out); user globals set by -G are declared first.
        for inst in self.program.probes:
            self.probe(inst)
        # The events go into the image (after every fetch plan is complete), so
        # `--run IMAGE` on another machine knows what to create and open.
        stacks = self.stack_needs()
        specs = []
        if self.events:
            from .eventspecs import spec_from_source
        for i, src in enumerate(self.events):
            spec = spec_from_source(src, self.plans.get(id(src)), callchain=i in stacks)
            spec.ksyms = spec.callchain and stacks.get("ksyms", False)
            spec.filter = self.filters.get(i, "")
            spec.counting = i in self.counted
            spec.task = i in self.task_events
            self.b.event(spec)
            specs.append(spec)
        return Translation(self.b.serialize(), specs, list(self.events), self.filters, self.counted, stacks,
                           self.task_events)

    def build(self) -> bytes:
        """The program image alone (translate() has the rest)."""
        return self.translate().image
