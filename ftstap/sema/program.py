"""The result of pass 2: a checked program.

AST nodes are shared (an alias body appears in every probe it expands to),
so what pass 2 learns about a node lives in the probe's or function's own
tables, keyed by id(node): types, and which variable a symbol names."""
from __future__ import annotations

from ..record import mutable

from ..lang import ast as A
from ..probes.base import EventSource

LONG, STRING, STAT, HIST, VOID = "long", "string", "stat", "hist", "void"


@mutable(eq=False)
class Var:
    name: str
    kind: str                         # global, local, param
    type: str | None = None           # long, string, stat (value type for arrays)
    arity: int | None = None          # 0 scalar, N array with N keys, None unknown
    key_types: list = []
    decl: A.Global | None = None
    loc: object = None
    read: bool = False
    written: bool = False
    hist: list = []   # histogram shapes used on this stat
    shift: int = 0                    # @variance(x, N) scaling bits
    tapset: bool = False              # declared in the tapset library
    ctype: int | None = None          # locals: BTF type id the value points to (autocast)

    @property
    def is_array(self) -> bool:
        return bool(self.arity)


@mutable(eq=False)
class Context:
    """A body being checked: a probe or a function."""
    locals: dict[str, Var] = {}
    types: dict[int, str] = {}
    vars: dict[int, Var] = {}      # id(Symbol) -> Var
    ctypes: dict[int, int] = {}    # id(node) -> BTF type id pointed to


@mutable(eq=False)
class Func(Context):
    decl: A.Function = None
    params: list[Var] = []
    rtype: str | None = None
    tapset: bool = False

    @property
    def name(self) -> str:
        return self.decl.name


@mutable(eq=False)
class ProbeInst(Context):
    """One probe handler bound to one event source."""
    source: EventSource = None
    body: A.Block = None               # prologues + user body + epilogues
    point: A.ProbePoint = None         # what the user wrote
    user_probe: A.Probe = None
    index: int = 0

    @property
    def pp(self) -> str:
        return self.source.pp


@mutable
class Program:
    probes: list[ProbeInst]
    globals: dict[str, Var]
    functions: list[Func]
    warnings: list[str] = []
    limits: dict[str, int] = {}
    # what ftstap (not stap) warns about the kernel serving the script: shown
    # like warnings, suppressed by -w, never an error under -W (stap has none)
    notes: list[str] = []
