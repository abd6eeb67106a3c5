"""The instruction set and the C core's constants, as the built C module
states them: the one place that imports ftstap._native.

Opcode numbers and operand kinds (native/opcodes.def), the builtin table,
the syscall table and the enum values of native/ftstap.h are read from the
module cffi built, so Python never keeps a second copy of them.  Both the
compiler (assembling, disassembling) and the runtime (runtime/native.py,
which loads and runs images through `lib`) take them from here.
"""
from __future__ import annotations

import functools
from ..record import frozen

try:
    from .._native import ffi, lib
except ImportError as e:  # pragma: no cover - an uninstalled checkout
    raise ImportError("ftstap's C core is not built: run `python3 ftstap/_build.py` "
                      "or `pip install -e .`") from e


@frozen
class OpInfo:
    number: int
    name: str
    operands: str      # kind letters, see native/opcodes.def
    doc: str
    effect: tuple      # (int pop, int push, str pop, str push); -1 where variable


@frozen
class BuiltinInfo:
    number: int
    name: str
    args: str          # 'i'/'s' per argument
    ret: str           # 'i', 's' or 'v'


def cstr(p) -> str:
    """A C string from the core (NULL: "")."""
    return ffi.string(p).decode("utf-8", "replace") if p != ffi.NULL else ""


@functools.lru_cache(maxsize=None)
def opcodes() -> tuple[OpInfo, ...]:
    return tuple(OpInfo(i, cstr(lib.ft_opcode_name(i)), cstr(lib.ft_opcode_operands(i)),
                        cstr(lib.ft_opcode_doc(i)), tuple(lib.ft_opcode_effect(i, k) for k in range(4)))
                 for i in range(lib.ft_opcode_count()))


@functools.lru_cache(maxsize=None)
def _ops_by_name() -> dict[str, OpInfo]:
    return {o.name: o for o in opcodes()}


def opcode(name: str) -> OpInfo | None:
    return _ops_by_name().get(name)


def opcode_by_number(n: int) -> OpInfo | None:
    ops = opcodes()
    return ops[n] if 0 <= n < len(ops) else None


@functools.lru_cache(maxsize=None)
def builtins() -> tuple[BuiltinInfo, ...]:
    return tuple(BuiltinInfo(i, cstr(lib.ft_builtin_name(i)), cstr(lib.ft_builtin_args(i)),
                             chr(lib.ft_builtin_ret(i)))
                 for i in range(lib.ft_builtin_count()))


def builtin(name: str) -> BuiltinInfo | None:
    for b in builtins():
        if b.name == name:
            return b
    return None


def syscall_nr(name: str, machine: int | None = None) -> int:
    """The number of syscall NAME on this architecture, or on the one of ELF
    e_machine `machine` (the core's tables: native/syscall_tables.c), or -1."""
    if machine is None:
        return lib.ft_syscall_nr(name.encode())
    return lib.ft_syscall_nr_for(machine, name.encode())


def describe_kernel(fd: int) -> None:
    """Write the running kernel's description to fd (native/describe.c,
    ftstap/kernel/kinfo.py); KernelError if it cannot be written."""
    from ..errors import KernelError
    err = ffi.new("char[]", 256)
    if lib.ft_describe(fd, err, 256) != 0:
        raise KernelError(ffi.string(err).decode("utf-8", "replace"))


# native/ftstap.h's enums, as the image format and the event flags use them
PROBE_KINDS = {"begin": lib.FT_PROBE_BEGIN, "end": lib.FT_PROBE_END, "error": lib.FT_PROBE_ERROR,
               "timer": lib.FT_PROBE_TIMER, "never": lib.FT_PROBE_NEVER, "event": lib.FT_PROBE_EVENT,
               "procfs_read": lib.FT_PROBE_PROCFS_READ, "procfs_write": lib.FT_PROBE_PROCFS_WRITE}
VTYPES = {"i": lib.FT_T_INT, "long": lib.FT_T_INT, "s": lib.FT_T_STR, "string": lib.FT_T_STR,
          "stat": lib.FT_T_STAT}
HIST_NONE, HIST_LOG, HIST_LINEAR = lib.FT_HIST_NONE, lib.FT_HIST_LOG, lib.FT_HIST_LINEAR
AGG = {"@count": lib.FT_AGG_COUNT, "@sum": lib.FT_AGG_SUM, "@min": lib.FT_AGG_MIN, "@max": lib.FT_AGG_MAX,
       "@avg": lib.FT_AGG_AVG, "@variance": lib.FT_AGG_VARIANCE}
FLAG_WRAP, FLAG_AUTOPRINT = lib.FT_G_WRAP, lib.FT_G_AUTOPRINT
NO_LOCATION = lib.FT_NOLOC
MAX_KEYS = lib.FT_MAX_KEYS
EV_FREQ, EV_CALLCHAIN, EV_RETURN, EV_NORAW, EV_INHERIT, EV_DEFER_CLOSE, EV_COUNT, EV_PERIOD = (
    lib.FT_EV_FREQ, lib.FT_EV_CALLCHAIN, lib.FT_EV_RETURN, lib.FT_EV_NORAW, lib.FT_EV_INHERIT,
    lib.FT_EV_DEFER_CLOSE, lib.FT_EV_COUNT, lib.FT_EV_PERIOD)
# the image's events section: EventSpec.kind and its boolean fields
EVENT_KINDS = {"tracepoint": lib.FT_EVK_TRACEPOINT, "eprobe": lib.FT_EVK_EPROBE, "uprobe": lib.FT_EVK_UPROBE,
               "kprobe": lib.FT_EVK_KPROBE, "perf": lib.FT_EVK_PERF}
EVENT_FLAGS = {"is_return": lib.FT_EVF_RETURN, "callchain": lib.FT_EVF_CALLCHAIN, "ksyms": lib.FT_EVF_KSYMS,
               "counting": lib.FT_EVF_COUNTING, "task": lib.FT_EVF_TASK}
