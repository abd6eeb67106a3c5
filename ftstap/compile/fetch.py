"""Pass 3 fetch planning for kprobes and uprobes: what each handler needs
from the kernel becomes fetch-args of the event definition.

The record of a kprobe/uprobe event is laid out by tracefs: the 8 bytes of
common fields, then `__probe_ip` (entry) or `__probe_func`, `__probe_ret_ip`
(return), then each fetch-arg in order, packed: 8 bytes for s64/u64, 4 for
s32/u32, 2, 1, and a 4-byte __data_loc for strings.  So the offsets are
known here, before the event exists; the runtime checks them against the
created event's format file."""
from __future__ import annotations

from ..record import mutable

from ..errors import SemanticError

_SIZES = {"s8": 1, "u8": 1, "s16": 2, "u16": 2, "s32": 4, "u32": 4, "s64": 8, "u64": 8}


@mutable
class Fetched:
    """One fetch-arg, shaped like a tracefs Field so compile.fields can load it."""
    name: str
    expr: str
    type: str                    # s64 u32 ... string ustring
    offset: int
    size: int
    signed: bool
    loc: str | None = None       # "data" for strings (a __data_loc field)
    dims: tuple = ()
    decl: str = ""

    @property
    def is_array(self) -> bool:
        return False

    @property
    def arg(self) -> str:
        return f"{self.name}={self.expr}:{self.type}"


@mutable
class FetchPlan:
    """The fetch-args of one kprobe/uprobe/eprobe event, in record order
    (they become the EventSpec's args: compile/eventspecs.py)."""
    source: object               # probes.base.EventSource
    args: list[Fetched] = []
    _by_key: dict = {}

    @property
    def first_offset(self) -> int:
        return self.source.target.first_fetch_offset

    def add(self, expr: str, type_: str) -> Fetched:
        key = (expr, type_)
        got = self._by_key.get(key)
        if got is not None:
            return got
        offset = self.first_offset + sum(a.size for a in self.args)
        if type_ in ("string", "ustring"):
            f = Fetched(f"a{len(self.args)}", expr, type_, offset, 4, False, loc="data")
        else:
            f = Fetched(f"a{len(self.args)}", expr, type_, offset, _SIZES[type_], type_[0] == "s")
        self.args.append(f)
        self._by_key[key] = f
        return f


def base_expr(var, loc) -> str:
    """The fetch-arg expression of a context variable's own value."""
    spec = var.fetch
    if isinstance(spec, tuple) and spec and spec[0] == "reg":
        return spec[1]
    if isinstance(spec, tuple) and spec and spec[0] == "retval":
        return "$retval"
    if isinstance(spec, tuple) and spec and spec[0] == "entry":
        raise SemanticError(f"'${var.name}' in a .return probe means its value at entry, which a "
                            "return probe cannot fetch: save it in a global from the entry probe", loc)
    raise SemanticError(f"'${var.name}' cannot be fetched by this probe", loc)


def int_type(btf, tid: int | None) -> str:
    """s64/u32/... for a BTF integer, enum or pointer type (pointers: u64)."""
    if btf is None or tid is None:
        return "s64"
    info = btf.int_info(btf.resolve(tid))
    if info is None:
        return "u64"
    size, signed = info
    if size not in (1, 2, 4, 8):
        return "s64"
    return f"{'s' if signed else 'u'}{size * 8}"
