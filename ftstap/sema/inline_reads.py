"""Kernel reads written in functions and locals, made reads at the event.

ftstap reads kernel memory only when a probe fires, through fetch-args of
the event (compile/kread.py): an expression rooted in a `$variable`.  stap's
tapset helpers take the pointer as a parameter (`inet_get_local_port(sock)`
is `@cast(sock, "inet_sock")->...`), and alias prologues put it in a local
first (`sock = $sk`).  This pass rewrites both into expressions rooted in
the `$variable`, in the probes whose events can read memory, so that

    probe kernel.function("tcp_sendmsg") { s = $sk; println(inet_get_local_port(s)) }

reads `@cast($sk, "inet_sock")->...` at the event.

  - A local assigned once in the handler, by a plain `=` of a value rooted
    in a `$variable`, stands for that value where a statement after it (in
    its block, or blocks nested there) reads through it (`@cast(local,
    ...)`, `local->member`): the event's values do not change while its
    handler runs.
  - A call to a function whose body reads through a parameter is replaced
    by the function's value, when the body is straight-line locals and one
    `return` (the shape of stap's helpers), refers to nothing but its
    parameters and locals, and every argument is free of side effects.  The
    arguments take the parameters' places, so the reads become the event's.

A read through the constant 0 (`get_sigset(0)`, `@cast(0, "T")->m`) is, as
in stap, a fault when it runs: `ERROR: kernel read fault at 0x0...`, in any
probe (the helper is inlined for that too).  Anything else stays as
written: compile/kread.py then says which reads it cannot do (a pointer in
a global, or from begin, timers and other probes without fetch-args)."""
from __future__ import annotations

from ..lang import ast as A
from ..lang.rewrite import rewrite

MAX_DEPTH = 8                  # functions inlined inside inlined functions


def inline_kernel_reads(insts, functions: dict, global_names) -> list:
    """insts with kernel reads through locals and helper functions rooted
    in their `$variables` (see the module's docstring).  global_names: never
    locals (a function called in between may change them)."""
    helpers = _Helpers(functions)
    for inst in insts:
        if not any(isinstance(n, (A.Cast, A.Call)) or (isinstance(n, A.Target) and not isinstance(n.base, str))
                   for n in A.walk(inst.body)):
            continue
        target = inst.source.target
        event = getattr(target, "fetch_args", False) or getattr(target, "kind", "") == "tracepoint"
        inst.body = null_faults(_Handler(helpers, global_names, event).block(inst.body))
    return insts


# ---------------------------------------------------------------- expressions

def root_of(e):
    """What an address expression starts from, through members, @casts and
    constant offsets: a `$variable`'s name, a Number, or None."""
    if isinstance(e, A.Target):
        if e.suffix:
            return None
        if isinstance(e.base, str):
            return e.base if e.base.startswith("$") and not e.base.startswith("$$") else None
        if e.addr and not (isinstance(e.base, A.Cast) and e.members):
            return None             # &@cast(p, "T")->m: p plus the member's offset; nothing else
        return root_of(e.base)
    if isinstance(e, A.Cast):
        return root_of(e.operand)
    if isinstance(e, A.Binary) and e.op in ("+", "-") and _offset(e.right):
        return root_of(e.left)
    return e if isinstance(e, A.Number) else None


def _offset(e) -> bool:
    """A constant byte offset: a number, or @offsetof's `&@cast(0, "T")->m`
    (as @container_of subtracts it)."""
    return isinstance(e, A.Number) or (isinstance(e, A.Target) and e.addr and isinstance(root_of(e), A.Number))


def rooted(e) -> bool:
    """Is e a value the kernel can compute at the event: a `$variable`, a
    member of one, an @cast of one (plus or minus a constant)?"""
    return isinstance(root_of(e), str)


def null_rooted(e) -> bool:
    """Is e the constant 0, or an address computed from it?"""
    root = root_of(e)
    return isinstance(root, A.Number) and root.value == 0


FAULT = "__kernel_read_fault"       # tapsets/kread_fault.stp


def null_faults(body):
    """body with each read through a NULL pointer made the run-time fault
    stap raises there (`@defined(...)` keeps asking about the member)."""
    def visit(n):
        if isinstance(n, A.Special) and n.op == "@defined":
            return n
        if isinstance(n, A.Target) and not isinstance(n.base, str) and not n.addr and n.members \
                and null_rooted(n.base):
            # a member the type lacks stays the compile error it is
            return A.Ternary(A.Special("@defined", (n,), n.loc), A.Call(FAULT, (), n.loc), n, n.loc)
        return None
    return rewrite(body, visit)


def reads_through(e) -> list:
    """The operands e reads through: @cast operands and the bases of
    member chains on expressions."""
    out = []
    for n in A.walk(e):
        if isinstance(n, A.Cast):
            out.append(n.operand)
        elif isinstance(n, A.Target) and not isinstance(n.base, str):
            out.append(n.base)
    return out


def pure(e) -> bool:
    """No side effect: may be copied or moved (calls count as pure: the
    library's helpers are; stap's optimizer assumes as much of functions)."""
    return not any(isinstance(n, (A.Assign, A.Crement, A.Print, A.Embedded)) for n in A.walk(e))


def uses(e, name: str) -> int:
    return sum(isinstance(n, A.Symbol) and n.name == name for n in A.walk(e))


def calls(e) -> bool:
    return any(isinstance(n, A.Call) for n in A.walk(e))


def substitute(e, names: dict):
    """e with each Symbol named in names replaced by its expression."""
    return rewrite(e, lambda n: names.get(n.name) if isinstance(n, A.Symbol) else None)


def _through_locals(e, env: dict):
    """e with the locals it reads through replaced by their rooted values."""
    def visit(n):
        if isinstance(n, A.Cast) and isinstance(n.operand, A.Symbol) and n.operand.name in env:
            return A.Cast(env[n.operand.name], n.type, n.module, n.loc)
        if isinstance(n, A.Target) and isinstance(n.base, A.Symbol) and n.base.name in env:
            return A.Target(env[n.base.name], n.members, n.addr, n.suffix, n.loc)
        return None
    return rewrite(e, visit) if env else e


# ---------------------------------------------------------------- functions

class _Helpers:
    """The functions worth inlining: (parameter names, value) of those that
    read kernel memory through a parameter, directly or by calling one that
    does."""

    def __init__(self, functions: dict):
        self.functions, self._seen = functions, {}

    def get(self, name: str, nargs: int):
        key = (name, nargs)
        if key not in self._seen:
            self._seen[key] = None              # a recursive call reads nothing more
            f = self.functions.get(key)
            helper = _value_of(f.decl) if f is not None else None
            if helper is not None and not self._reads(*helper):
                helper = None
            self._seen[key] = helper
        return self._seen[key]

    def _reads(self, params, value) -> bool:
        def uses_param(e):
            return any(isinstance(n, A.Symbol) and n.name in params for n in A.walk(e))
        if any(uses_param(op) for op in reads_through(value)):
            return True
        return any(isinstance(n, A.Call) and any(uses_param(a) for a in n.args)
                   and self.get(n.name, len(n.args)) is not None for n in A.walk(value))


def _value_of(decl: A.Function):
    """(parameter names, the returned expression) of a function made of
    straight-line `local = expr` and a final `return expr`; else None.
    A value with a call is never copied or dropped: the local (or, at the
    call site, the argument) holding it must be used exactly once."""
    if not isinstance(decl.body, A.Block):
        return None
    stmts = _straight(decl.body)
    if not stmts or not isinstance(stmts[-1], A.Return) or stmts[-1].value is None:
        return None
    params = [p.name for p in decl.params]
    env: dict = {}
    for s in stmts[:-1]:
        a = s.expr if isinstance(s, A.ExprStmt) else None
        if not (isinstance(a, A.Assign) and a.op == "=" and isinstance(a.target, A.Symbol)
                and a.target.name not in params and a.target.name not in env and pure(a.value)):
            return None
        env[a.target.name] = substitute(a.value, env)
    later = [s.expr.value for s in stmts[:-1]] + [stmts[-1].value]
    for i, name in enumerate(env):
        if calls(env[name]) and sum(uses(e, name) for e in later[i + 1:]) != 1:
            return None
    value = substitute(stmts[-1].value, env)
    free = {n.name for n in A.walk(value) if isinstance(n, A.Symbol)}
    if not free <= set(params) or not pure(value):
        return None                 # a global or an unset local: not the function's value alone
    return params, value


def _straight(block: A.Block) -> list:
    """The statements of a block, nested plain blocks flattened; None if
    any is not a plain statement."""
    out = []
    for s in block.body:
        if isinstance(s, A.Block):
            inner = _straight(s)
            if inner is None:
                return None
            out.extend(inner)
        elif isinstance(s, (A.ExprStmt, A.Return, A.Null)):
            if not isinstance(s, A.Null):
                out.append(s)
        else:
            return None
    return out


# ---------------------------------------------------------------- handlers

class _Handler:
    """Rewrites one probe handler, statement by statement."""

    def __init__(self, helpers: _Helpers, global_names, event: bool):
        self.helpers, self.global_names = helpers, global_names
        self.event = event              # the probe's event can read kernel memory
        self.env: dict = {}             # local -> its rooted value, after its one assignment
        self.assigned: dict = {}        # local -> times the handler assigns it

    def block(self, body: A.Block) -> A.Block:
        for n in A.walk(body):
            for t in _assigned_names(n):
                self.assigned[t] = self.assigned.get(t, 0) + 1
        return self._seq(body)

    def _seq(self, block: A.Block) -> A.Block:
        """A block: its statements in order, locals becoming known as they
        are assigned."""
        out = [self._stmt(s) for s in block.body]
        changed = any(x is not y for x, y in zip(out, block.body))
        return A.Block(tuple(out), block.loc) if changed else block

    def _stmt(self, s):
        if isinstance(s, A.Block):
            return self._seq(s)
        if isinstance(s, (A.If, A.While, A.For, A.Foreach, A.Try)):
            # a branch or a loop body knows what came before it; what it
            # assigns is known inside it only (it may not run)
            new = {}
            for f in type(s)._fields:
                v = getattr(s, f)
                if isinstance(v, A.Stmt):
                    saved = dict(self.env)
                    new[f] = self._stmt(v)
                    self.env = saved
                else:
                    new[f] = v if f == "loc" or v is None else self._rewrite(v)
            return type(s)(**new) if any(new[f] is not getattr(s, f) for f in new) else s
        s2 = self._rewrite(s)
        a = s2.expr if isinstance(s2, A.ExprStmt) else None
        if (isinstance(a, A.Assign) and a.op == "=" and isinstance(a.target, A.Symbol)
                and self.assigned.get(a.target.name) == 1 and a.target.name not in self.global_names
                and rooted(a.value)):
            self.env[a.target.name] = a.value      # the event's value: the same wherever it is read
        return s2

    def _rewrite(self, node, depth: int = 0):
        node = _through_locals(node, self.env)
        if depth >= MAX_DEPTH:
            return node
        return rewrite(node, lambda n: self._call(n, depth) if isinstance(n, A.Call) else None)

    def _call(self, call: A.Call, depth: int):
        args = [self._rewrite(a, depth) for a in call.args]
        same = all(a is b for a, b in zip(args, call.args))
        kept = None if same else A.Call(call.name, tuple(args), call.loc)
        helper = self.helpers.get(call.name, len(args))
        if helper is None or not all(pure(a) for a in args):
            return kept
        params, value = helper
        if any(calls(a) and uses(value, p) != 1 for p, a in zip(params, args)):
            return kept                 # the call would run twice, or not at all
        # a local argument stands for its rooted value (assigned once, before)
        args = [self.env.get(a.name, a) if isinstance(a, A.Symbol) else a for a in args]
        inlined = substitute(value, dict(zip(params, args)))
        ops = reads_through(inlined)
        if not all((self.event and rooted(op)) or null_rooted(op) for op in ops):
            return kept                 # not all at the event: kread.py says why
        return self._rewrite(inlined, depth + 1)


def _assigned_names(n) -> list:
    if isinstance(n, (A.Assign, A.Crement)):
        t = n.target if isinstance(n, A.Assign) else n.operand
        return [t.name] if isinstance(t, A.Symbol) else []
    if isinstance(n, A.Foreach):
        return [k.name for k in n.keys] + ([n.value.name] if n.value else [])
    if isinstance(n, A.Try) and n.var is not None:
        return [n.var.name]
    if isinstance(n, A.Delete) and isinstance(n.target, A.Symbol):
        return [n.target.name]
    return []
