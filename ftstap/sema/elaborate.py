"""Pass 2 entry point: from parsed scripts to a checked Program bound to
this kernel's event sources."""
from __future__ import annotations

from ..errors import ErrorList, FtstapError, SemanticError
from ..lang import ast as A
from ..options import SYSTEMTAP_VERSION
from .probes import Binder
from .program import VOID, Func, ProbeInst, Program, Var
from .checks import unused_warnings
from .conditions import check_condition
from .types import Checker
from .versions import apply_version_gates


MAX_PARAMS = 255   # the program image holds a function's parameter count in a byte

def _collect(scripts: list[A.Script], tapset_flags: list[bool]):
    globals_: dict[str, Var] = {}
    functions: dict[tuple[str, int], Func] = {}
    aliases: list[A.ProbeAlias] = []
    probes: list[A.Probe] = []
    for script, is_tapset in zip(scripts, tapset_flags):
        for item in script.items:
            if isinstance(item, A.Global):
                if item.name in globals_ and not is_tapset:
                    old = globals_[item.name]
                    if old.decl is not None and old.decl.loc is not None and not old.decl.private:
                        raise SemanticError(f"duplicate global '{item.name}'", item.loc)
                g = Var(item.name, "global", decl=item, loc=item.loc, tapset=is_tapset)
                if item.size is not None or item.wrap:
                    g.arity = None  # an array: arity fixed by its uses
                if item.init is not None:
                    g.type = "string" if isinstance(item.init, A.String) else "long"
                    g.arity = 0
                    g.written = True
                globals_[item.name] = g
            elif isinstance(item, A.Function):
                key = (item.name, len(item.params))
                if len(item.params) > MAX_PARAMS:
                    raise SemanticError(f"function '{item.name}' has {len(item.params)} parameters, more than "
                                        f"the {MAX_PARAMS} a function can take", item.params[MAX_PARAMS].loc)
                if key in functions and not functions[key].tapset and not is_tapset:
                    raise SemanticError(f"function '{item.name}' with {len(item.params)} parameter(s) "
                                        f"is defined twice", item.loc)
                if key in functions and is_tapset and not functions[key].tapset:
                    continue  # the user's definition wins over the library's
                f = Func(decl=item, tapset=is_tapset,
                         params=[Var(p.name, "param", type=p.type, arity=0, loc=p.loc) for p in item.params],
                         rtype=item.rtype or (VOID if isinstance(item.body, A.Embedded) else None))
                functions[key] = f
            elif isinstance(item, A.ProbeAlias):
                aliases.append(item)
            elif isinstance(item, A.Probe) and not is_tapset:
                probes.append(item)
    return globals_, functions, aliases, probes


def _reads(node, out: set[str]) -> None:
    """Names read anywhere under node (assignment targets excluded)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, A.Symbol):
            out.add(n.name)
        elif isinstance(n, A.Assign) and isinstance(n.target, A.Symbol):
            if n.op != "=":
                out.add(n.target.name)
            stack.append(n.value)
        elif isinstance(n, (tuple, list)):
            stack.extend(n)
        else:
            fields = getattr(type(n), "_fields", None)
            if fields:
                stack.extend(getattr(n, f) for f in fields if f != "loc")


def _array_names(node) -> set[str]:
    """Names used as arrays (indexed, `in`, foreach, delete) under node."""
    out = set()
    for n in A.walk(node):
        base = n.base if isinstance(n, A.Index) else n.array if isinstance(n, (A.In, A.Foreach)) else None
        if isinstance(base, A.Symbol):
            out.add(base.name)
    return out


def _prune_prologue(prologue: A.Block, reads: set[str], globals_) -> A.Block:
    """Drop `x = pure-expr` statements of a generated prologue whose x is never
    read, or is one of the user's globals (a generated local never overwrites
    a global that merely shares its name, e.g. select()'s `n`).  A tapset's
    own global (input.line's `__input_line = ""`) is the global: kept."""
    keep = []
    for s in prologue.body:
        if isinstance(s, A.ExprStmt) and isinstance(s.expr, A.Assign) and s.expr.op == "=" \
                and isinstance(s.expr.target, A.Symbol) and not getattr(globals_.get(s.expr.target.name),
                                                                        "tapset", False) and (
                    s.expr.target.name not in reads or s.expr.target.name in globals_):
            continue
        keep.append(s)
    return A.Block(tuple(keep), loc=prologue.loc)


def _probe_body(binding, user: A.Probe, point: A.ProbePoint, globals_, library=frozenset()) -> A.Block:
    """Generated prologues and the library's alias prologues lose the
    assignments to locals nothing reads (stap elides them too, silently)."""
    body: list[A.Stmt] = []
    generated = binding.source.prologue
    prologues = ([generated] if generated is not None else []) + list(binding.prologues)
    fixed = [user.body] + list(binding.epilogues) + [p for p in binding.prologues if id(p) not in library]
    prunable = [p for p in prologues if p is generated or id(p) in library]
    reads: set[str] = set()
    _reads(fixed, reads)
    while True:
        pruned = {id(p): _prune_prologue(p, reads, globals_) for p in prunable}
        more = set(reads)
        _reads(list(pruned.values()), more)
        if more == reads:
            break
        reads = more
    body.extend(pruned.get(id(p), p) for p in prologues)
    body.extend([user.body] + list(binding.epilogues))
    block = A.Block(tuple(body), loc=user.body.loc)
    if point.condition is not None:
        check_condition(point.condition, globals_)
        block = A.Block((A.If(point.condition, block, None, loc=point.loc),), loc=user.body.loc)
    rewrite = getattr(binding.source.target, "rewrite_body", None)    # procfs: $value
    return rewrite(block) if rewrite is not None else block


def run_pass2(user: A.Script, tapsets: list[A.Script], features, *, unoptimized: bool = False,
              limits: dict | None = None, guru: bool = False, skip_badvars: bool = False,
              program: str | None = None, language: str = SYSTEMTAP_VERSION,
              check_version: bool = False) -> Program:
    """language: --compatible's SystemTap version; check_version: warn of
    what depends on it (sema/versions.py)."""
    scripts = list(tapsets) + [user]
    globals_, functions, aliases, probes = _collect(scripts, [True] * len(tapsets) + [False])
    binder = Binder(aliases, features, program)       # program: -c/-x's, for process.function(...)
    library_bodies = {id(al.body) for t in tapsets for al in t.items if isinstance(al, A.ProbeAlias)}
    # Names the user's code uses as arrays are (auto-)globals: prologue
    # locals sharing the name are dropped, as for declared globals.
    shadowing = dict(globals_)
    shadowing.update(dict.fromkeys(_array_names(probes + [f.decl for f in functions.values() if not f.tapset])))
    insts: list[ProbeInst] = []
    errors: list[FtstapError] = []
    warnings: list[str] = []
    notes: list[str] = []                  # the providers' word on how a point is served: never fatal
    plain_insts: set[int] = set()          # bodies that are the user's code alone (sema/elision.py)
    for probe in probes:
        for point in probe.points:
            try:
                bindings = binder.bind(point)
            except FtstapError as e:
                errors.append(e)
                continue
            for b in bindings:
                version_warning = apply_version_gates(b.source, language, check_version, point.loc)
                if version_warning and version_warning not in warnings:
                    warnings.append(version_warning)
                plain = (b.source.prologue is None and not b.prologues and not b.epilogues
                         and point.condition is None)
                if b.source.warning and b.source.warning not in warnings:
                    warnings.append(b.source.warning)
                if b.source.note and b.source.note not in notes:
                    notes.append(b.source.note)
                insts.append(ProbeInst(source=b.source, body=_probe_body(b, probe, point, shadowing, library_bodies),
                                       point=point,
                                       user_probe=probe, index=len(insts)))
                if plain:
                    plain_insts.add(id(insts[-1]))
            if bindings and point.sufficient:       # `A !, B`: A resolved, B is not tried
                break
    if errors:
        raise ErrorList(errors, "semantic")
    if not insts:
        why = " (every probe point was optional and matched nothing on this kernel)" if probes else ""
        raise ErrorList([SemanticError("no probes found" + why, probes[0].loc if probes else user.loc)],
                        "semantic")
    from .argfuncs import lower_arg_functions   # int_arg(n)...: registers or syscall fields
    from .entry import lower_entry              # @entry: twins on the entry events
    from .pretty import expand_pretty           # $$parms, $file$ on kprobes: sprintf of reads
    from .rawtp import lower_raw_arguments      # kernel.trace()'s $args: a kprobe on its iterator
    from .syscall_strings import lower_syscall_strings   # filename read at the event by a kprobe
    from .inline_reads import inline_kernel_reads   # @cast(param) in helpers: reads at the event
    insts = expand_pretty(inline_kernel_reads(insts, functions, shadowing), features)
    insts = lower_arg_functions(lower_entry(lower_syscall_strings(lower_raw_arguments(insts, features), features),
                                            globals_, features))
    if not unoptimized:                         # stap's optimizer: statements with no effect go first
        from .deadcode import drop_no_effect
        for inst in insts:
            inst.body = drop_no_effect(inst.body)
    if skip_badvars:                            # --skip-badvars: unknown $vars read as 0
        from .badvars import skip_bad_variables
        insts = skip_bad_variables(insts)
    user_funcs = [f for f in functions.values() if not f.tapset]
    checker = Checker(globals_, functions, guru=guru, features=features)
    contexts: list = list(insts) + (user_funcs if unoptimized else [])
    try:
        # Functions join the fixpoint as calls reach them.
        for _ in range(50):
            checker.check(contexts, strict=False)
            reached = [f for f in functions.values() if id(f) in checker.called and f not in contexts]
            if not reached:
                break
            contexts.extend(reached)
        checker.check(contexts)
        _final_checks(globals_, contexts)
        checker.effects.check()
    except SemanticError as e:
        raise ErrorList([e], "semantic") from None
    if not unoptimized:                    # stap's probe elision: handlers that do nothing
        from .elision import elide_empty
        insts = elide_empty(insts, plain_insts)
        if not insts:
            raise ErrorList([SemanticError("no probes found (every probe's handler does nothing; "
                                           "-u keeps them)", probes[0].loc)], "semantic")
    used = [c for c in contexts if isinstance(c, Func)]
    warnings.extend(unused_warnings(globals_, contexts, getattr(user.loc, "source", None)))
    from .fieldstrings import late_string_warnings
    return Program(insts, globals_, used, warnings, dict(limits or {}), notes + late_string_warnings(insts, features))


def _final_checks(globals_: dict[str, Var], contexts) -> None:
    for g in globals_.values():
        if (g.read or g.written) and g.type is None:
            raise SemanticError(f"unresolved type for global '{g.name}'", g.loc)
    for c in contexts:
        for v in c.locals.values():
            if v.type is None:
                raise SemanticError(f"unresolved type for local '{v.name}'", v.loc)
        if isinstance(c, Func):
            for p in c.params:
                if p.type is None:
                    raise SemanticError(f"unresolved type for parameter '{p.name}' of '{c.name}'", p.loc)
