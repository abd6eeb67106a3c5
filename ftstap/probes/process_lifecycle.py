"""process[(PATH|PID)].begin, .end, .thread.begin, .thread.end and
process("PATH").syscall[.return]: stap's utrace-era process probes, served
by tracepoints (and, for a program, a uprobe at its entry point).

stap's task finder fires, in the task's own context:
  .begin         a new process (after fork, in the child), a new image
                 (after exec), and once for each process already running at
                 the start, when it next returns to user space;
  .thread.begin  the same for the other threads of a process;
  .end           an exec (the old image ends) and the death of a process's
                 last thread; .thread.end the death of any other thread;
  PATH           the processes running that executable (found through
                 $PATH and symlinks, as stap's find_executable); PID that one
                 process (attached at the start only: once it execs or dies,
                 its probes are done).
Only .syscall probes have context variables ($syscall, $argN, $return).

Here, each probe point becomes several event sources, each with a generated
prologue that keeps the probe's state (tapsets/process_lifecycle.stp, one
key per probe point) and runs the handler only when the probe fires:

  raw_syscalls:sys_exit   a task's return to user space.  A forked child's
                          first one is the fork's return (0 from clone,
                          clone3, fork or vfork); a task not seen begin
                          during the session was running before it.
  sched:sched_process_exec  in the new image, after the exec.
  sched:sched_process_exit  $group_dead tells the last thread (without the
                          field, older kernels: the thread group leader).
  task:task_newtask       in the creator: a new process runs its program.
  uprobe at PATH's ELF entry point: the process runs PATH now (an inode
                          match, exact where comparing exec's file name is
                          not); it fires after the dynamic loader ran.

process("PATH") probes also know the processes that run PATH when the probe
is bound (pass 2 reads /proc/*/exe); each is taken if the same pid still
has the same name when the session starts.  A process that starts running
PATH between pass 2 and the start is not seen.  Where a filter can select
the events in the kernel (a pid's thread ids, the fork returns, group_dead)
it is the guard of the handler (compile/kfilter.py pushes it down)."""
from __future__ import annotations

import itertools
import os

from ..errors import KernelError
from ..lang import ast as A
from .base import ContextVar, EventSource, Provider, Unservable
from .grammar import Grammar
from ..record import frozen
from .targets import SpecialTarget, TracepointTarget, UprobeTarget
from .tracepoint import tracepoint_source

_KEYS = itertools.count(1)
MAX_GUARD_TIDS = 64          # more: the sys_exit event is opened unfiltered
CLONE_SYSCALLS = ("clone", "clone3", "fork", "vfork")


class _Lifecycle:
    """What the sources of these probes add to their target: `guard`, under
    which the handler (prologue and body) runs, which compile/kfilter.py
    turns into the event's kernel filter; `only`, the code that replaces
    the handler of a source that only keeps the probe's state (the user's
    body, type checked where the probe fires, never runs there)."""

    def rewrite_body(self, block: A.Block) -> A.Block:
        if self.only is not None:
            return self.only
        gate = getattr(self, "gate", None)
        if gate is not None:
            block = A.Block(gate.body + (block,), loc=block.loc)
        if self.guard is None:
            return block
        return A.Block((A.If(self.guard, block, None, loc=block.loc),), loc=block.loc)


@frozen
class LifecycleTracepoint(_Lifecycle, TracepointTarget):
    guard: A.Expr | None = None
    only: A.Block | None = None
    gate: A.Block | None = None      # the firing test, where -L must see no prologue (.syscall)


@frozen
class LifecycleUprobe(_Lifecycle, UprobeTarget):
    guard: A.Expr | None = None
    only: A.Block | None = None


@frozen
class LifecycleBegin(_Lifecycle, SpecialTarget):
    guard: A.Expr | None = None
    only: A.Block | None = None


# -- small AST builders ---------------------------------------------------------
def _n(v: int) -> A.Number:
    return A.Number(v)


def _call(name: str, *args) -> A.Call:
    return A.Call(name, tuple(args))


def _var(name: str) -> A.Target:
    return A.Target("$" + name)


def _or(exprs: list) -> A.Expr | None:
    """exprs joined by ||, as a balanced tree (the kernel filter's parentheses nest log n deep)."""
    if len(exprs) <= 1:
        return exprs[0] if exprs else None
    half = len(exprs) // 2
    return A.Binary("||", _or(exprs[:half]), _or(exprs[half:]))


def _eq(a, b) -> A.Binary:
    return A.Binary("==", a, b)


def _fire_if(call: A.Expr, pid: int | None = None) -> A.Block:
    """`if (pid() != PID) next; if (!call) next`: the handler runs when call is 1."""
    body = []
    if pid is not None:
        body.append(A.If(A.Binary("!=", _call("pid"), _n(pid)), A.Next(), None))
    body.append(A.If(A.Unary("!", call), A.Next(), None))
    return A.Block(tuple(body))


class _Never:
    """The state-keeping code of a source where the handler never runs."""

    def __init__(self, *calls):
        self.block = A.Block(tuple(A.ExprStmt(c) for c in calls))


# -- the events ----------------------------------------------------------------
class _Builder:
    """The event sources of one probe point."""

    def __init__(self, features, pp: str):
        self.features, self.pp = features, pp
        self.key = next(_KEYS)

    def tp(self, system: str, event: str, hidden: dict[str, str], prologue=None, guard=None,
           context: dict | None = None) -> EventSource:
        """A tracepoint source whose fields listed in hidden (field -> name)
        the prologue and guard read as $name (stap offers them no variables).
        prologue: a Block, or a _Never (the source only keeps state)."""
        if not self.features.has_tracepoint(system, event):
            raise Unservable(f"{self.pp} needs the {system}:{event} tracepoint")
        src = tracepoint_source(self.features, system, event, self.pp)
        ctx = dict(context or {})
        for field, name in hidden.items():
            var = src.context[field]
            ctx[name] = ContextVar(name, var.type, var.ctype, var.fetch)
        t = src.target
        if isinstance(prologue, _Never):
            target = LifecycleTracepoint(t.system, t.event, t.id, t.is_return, guard=None, only=prologue.block)
            return EventSource(target, self.pp, ctx)
        return EventSource(LifecycleTracepoint(t.system, t.event, t.id, t.is_return, guard=guard),
                           self.pp, ctx, prologue=prologue)

    def group_dead(self) -> tuple[dict, A.Expr]:
        """(hidden fields, expression) of 'the process's last thread exits'."""
        if "group_dead" in self.fields("sched", "sched_process_exit"):
            return {"group_dead": "__pl_gd"}, _var("__pl_gd")
        return {}, _eq(_call("tid"), _call("pid"))

    def fields(self, system: str, event: str) -> set:
        try:
            return {f.name for f in self.features.tracepoint_format(system, event).fields}
        except (KernelError, OSError):
            return set()

    def fork_return(self) -> A.Expr:
        """The guard of a fork's return in the child: clone & co. returning 0."""
        from ..kernel import arch
        a = arch.of(self.features)
        nrs = [nr for nr in (arch.syscall_nr(a, n) for n in CLONE_SYSCALLS) if nr >= 0]
        return A.Binary("&&", _or([_eq(_var("__pl_id"), _n(nr)) for nr in nrs]), _eq(_var("__pl_ret"), _n(0)))

    def sys_exit(self, prologue, guard=None) -> EventSource:
        return self.tp("raw_syscalls", "sys_exit", {"id": "__pl_id", "ret": "__pl_ret"}, prologue, guard)

    def exit(self, prologue_of, guard_dead: int | None = None) -> EventSource:
        """sched_process_exit; prologue_of(group_dead expression); guard_dead
        1/0: only the exits where the process dies / does not."""
        hidden, gd = self.group_dead()
        guard = None
        if guard_dead is not None:
            guard = _eq(gd, _n(guard_dead)) if hidden else None
            if not hidden:      # no field: the test stays in the prologue
                inner = prologue_of(gd)       # (a firing prologue: a Block)
                test = gd if guard_dead else A.Unary("!", gd)
                prologue = A.Block((A.If(A.Unary("!", test), A.Next(), None),) + tuple(inner.body))
                return self.tp("sched", "sched_process_exit", hidden, prologue)
        return self.tp("sched", "sched_process_exit", hidden, prologue_of(gd), guard)

    def exec(self, prologue=None, guard=None) -> EventSource:
        return self.tp("sched", "sched_process_exec", {"pid": "__pl_pid"}, prologue, guard)


def executable(name: str) -> str:
    """stap's find_executable: a path as given, else through $PATH; symlinks
    resolved; it must be an ELF file."""
    from ..kernel.symbols import local_path, resolve_program
    path = resolve_program(name)
    try:
        with open(local_path(path), "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise KernelError(f"cannot read {path}: {e.strerror}") from None
    if magic != b"\x7fELF":
        raise KernelError(f"{path} is not an ELF executable")
    return path


def entry_offset(path: str) -> int:
    """The file offset of the ELF entry point (uprobe.entry_symbols' _start)."""
    from ..kernel.symbols import ElfFile
    from .uprobe import entry_symbols
    start = entry_symbols(path, ElfFile(path)).get("_start")
    if start is None:
        raise KernelError(f"{path}: its entry point is in no loadable segment of a 64-bit little-endian ELF file")
    return start.offset


def running(path: str) -> list[tuple[int, str, list[int]]]:
    """(pid, name, thread ids) of the processes running path now (not ftstap itself)."""
    out = []
    me = os.getpid()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            if os.readlink(f"/proc/{d}/exe") != path:
                continue
            with open(f"/proc/{d}/comm") as f:
                comm = f.read().rstrip("\n")
            tids = sorted(int(t) for t in os.listdir(f"/proc/{d}/task") if t.isdigit())
        except OSError:
            continue
        out.append((int(d), comm, tids))
    return out


class ProcessLifecycleProvider(Provider):
    grammar = Grammar(("process[.thread].begin", "process[.thread].end",
                       "process(string|number)[.thread].begin  PATH: that program; PID: that process",
                       "process(string|number)[.thread].end",
                       "process(string).syscall[.return]"))

    def resolve(self, comps, features):
        m = self.grammar.match(comps)
        if m is None or m.wrong:
            return None
        which = "syscall" if "syscall" in m else ("begin" if "begin" in m else "end")
        thread = "thread" in m
        arg = m.get("process", True)
        arg = None if arg is True else arg
        if features.events_root is None:
            raise Unservable(f"process probes need tracefs: {features.tracefs_error or 'not mounted'}")
        suffix = ("thread." if thread else "") + which + (".return" if "return" in m else "")
        if arg is None:
            return _anyone(_Builder(features, f"process.{suffix}"), which, thread)
        if isinstance(arg, int):
            if arg < 1:
                raise Unservable(f"process({arg}): no such process id")
            return _one_pid(_Builder(features, f"process({arg}).{suffix}"), arg, which, thread)
        try:
            path = executable(arg)
        except KernelError as e:
            return [_nothing(_Builder(features, f'process("{arg}").{suffix}'), e, which, "return" in m)]
        if not features.uprobe_events:
            raise Unservable('process("PATH") probes need uprobe_events (CONFIG_UPROBE_EVENTS)')
        b = _Builder(features, f'process("{path}").{suffix}')
        return _program(b, path, which, thread, "return" in m)

    def listing(self, features):
        return [f"process.{t}{w}" for t in ("", "thread.") for w in ("begin", "end")]


def _nothing(b: _Builder, why: Exception, which: str, is_return: bool) -> EventSource:
    """A program that is not there (or no ELF file): no process runs it, so
    the probe never fires; stap's find_executable falls back to the name
    as given too.  A warning says so; $syscall & co. still type check."""
    ctx = {}
    if which == "syscall":
        from .process_syscall import syscall_context
        src = tracepoint_source(b.features, "raw_syscalls", "sys_exit" if is_return else "sys_enter", b.pp)
        ctx = syscall_context(src, is_return)
    why = str(why).split(" (")[0] if "in PATH" in str(why) else str(why)      # not the whole $PATH
    return EventSource(SpecialTarget("never"), b.pp, ctx,
                       warning=f"WARNING: {b.pp}: {why}: no process runs it, the probe never fires")


# -- process.X: every process ---------------------------------------------------
def _anyone(b: _Builder, which: str, thread: bool) -> list[EventSource]:
    k = _n(b.key)
    if which == "begin":
        out = [b.sys_exit(_fire_if(_call("__pl_first", k, _n(int(thread)))))]
        if not thread:
            out.append(b.exec(_fire_if(_call("__pl_exec", k))))
        out.append(b.exit(lambda gd: _Never(_call("__pl_exit", k))))
        return out
    if thread:
        return [b.exit(lambda gd: A.Block(()), guard_dead=0)]
    return [b.exec(), b.exit(lambda gd: A.Block(()), guard_dead=1)]


# -- process(PID).X: one process ------------------------------------------------
def _tids(pid: int) -> list[int]:
    try:
        return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task") if t.isdigit())
    except OSError:
        return []


def _one_pid(b: _Builder, pid: int, which: str, thread: bool) -> list[EventSource]:
    k = _n(b.key)
    if which == "begin":
        if not thread:
            return [b.sys_exit(_fire_if(_call("__pl_first", k, _n(0)), pid), _eq(_call("tid"), _n(pid)))]
        tids = [t for t in _tids(pid) if t != pid]
        guard = None
        if len(tids) <= MAX_GUARD_TIDS:
            guard = _or([_eq(_call("tid"), _n(t)) for t in tids] + [b.fork_return()])
        return [b.sys_exit(_fire_if(_call("__pl_first", k, _n(1)), pid), guard)]
    if thread:
        return [b.exit(lambda gd: _fire_if(_n(1), pid), guard_dead=0)]
    return [b.exec(_fire_if(_call("__pl_once", k)), _eq(_var("__pl_pid"), _n(pid))),
            b.exit(lambda gd: _fire_if(_call("__pl_once", k), pid), guard_dead=1)]


# -- process("PATH").X: the processes running a program ------------------------
def _program(b: _Builder, path: str, which: str, thread: bool, is_return: bool) -> list[EventSource]:
    k = _n(b.key)
    try:
        off = entry_offset(path)
    except (KernelError, OSError) as e:
        raise Unservable(str(e)) from None
    # the processes running it now, here (-r: another machine's, whose processes are not known here)
    now = [] if b.features.described else running(path)
    enter = _call("__pl_enter", k)
    fires_on_entry = which == "begin" and not thread
    if fires_on_entry:
        out = [EventSource(LifecycleUprobe(path, off, "_start"), b.pp, {}, prologue=_fire_if(enter))]
    else:
        out = [EventSource(LifecycleUprobe(path, off, "_start", only=_Never(enter).block), b.pp, {})]
    if now:
        seeds = _Never(*(_call("__pl_seed", k, _n(p), A.String(comm)) for p, comm, _ in now))
        out.append(EventSource(LifecycleBegin("begin", -(1 << 62), only=seeds.block), b.pp, {}))
    out.append(b.tp("task", "task_newtask", {"pid": "__pl_child", "clone_flags": "__pl_flags"},
                    _Never(_call("__pl_newtask", k, _var("__pl_child"), _var("__pl_flags")))))
    exec_call = _call("__pl_exec_in", k)
    out.append(b.exec(_fire_if(exec_call) if which == "end" and not thread else _Never(exec_call)))
    want = 0 if which != "end" else (2 if thread else 1)
    out.append(b.exit(lambda gd: (_fire_if if want else _Never)(_call("__pl_exit_in", k, gd, _n(want)))))
    if which == "begin":
        tids = [t for _, _, ts in now for t in ts]
        guard = None
        if len(tids) <= MAX_GUARD_TIDS:
            guard = _or([_eq(_call("tid"), _n(t)) for t in tids] + [b.fork_return()])
        out.append(b.sys_exit(_fire_if(_call("__pl_first_in", k, _n(int(thread)))), guard))
    elif which == "syscall":      # first: -l/-L show its variables (sema/probelist.py)
        from .process_syscall import syscall_context
        event = "sys_exit" if is_return else "sys_enter"
        src = tracepoint_source(b.features, "raw_syscalls", event, b.pp)
        t = src.target
        target = LifecycleTracepoint(t.system, t.event, t.id, t.is_return, gate=_fire_if(_call("__pl_in", k)))
        out.insert(0, EventSource(target, b.pp, syscall_context(src, is_return)))
    return out
