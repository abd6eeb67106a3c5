"""Code for `$name` in event probes: load a field of the raw event record.

Tracepoints (and the tracefs events behind uprobes and kprobes) deliver a
record laid out as the event's format file says; pass 3 turns each `$name`
into one opcode with the field's offset, size and signedness, or, for
strings, its kind (a fixed char array, __data_loc or __rel_loc)."""
from __future__ import annotations

import sys

from ..errors import SemanticError
from ..sema.program import LONG, STRING

STRING_FIXED, STRING_DATA_LOC, STRING_REL_LOC = 0, 1, 2

# Syscall tracepoints keep every argument in an 8-byte slot whatever its C
# type, unsigned (`int dfd` of -100 reads 0x00000000ffffff9c): such a field
# is read at its C width and signedness, as stap's tapsets do (__int32()).
# (size, signed) of the C types syscall arguments use; little-endian.
NARROW_TYPES = {"int": (4, True), "unsigned int": (4, False), "pid_t": (4, True), "uid_t": (4, False),
                "gid_t": (4, False), "qid_t": (4, False), "clockid_t": (4, True), "timer_t": (4, True),
                "key_serial_t": (4, True), "mqd_t": (4, True), "rwf_t": (4, True), "umode_t": (2, False)}


def narrowed(f) -> tuple[int, bool] | None:
    """(C size, signed) of a field its record widens to 8 bytes, else None."""
    if f.size == 8 and not f.is_array and sys.byteorder == "little":
        return NARROW_TYPES.get(getattr(f, "ctype", ""))
    return None


def _width(f) -> tuple[int, bool]:
    return narrowed(f) or (f.size, f.signed)


def load_field(gen, var, node) -> str:
    """Emit the load of context variable `var` (a probes.base.ContextVar)."""
    f = var.fetch
    if f is None or not hasattr(f, "offset"):
        raise SemanticError(f"context variable '${var.name}' cannot be read by this probe yet", node.loc)
    if var.type == STRING:
        if f.loc == "data":
            mode, length = STRING_DATA_LOC, 0
        elif f.loc == "rel":
            mode, length = STRING_REL_LOC, 0
        else:
            mode, length = STRING_FIXED, f.size
        gen.emit("LDFS", f.offset, mode, length)
        return STRING
    if f.is_array or f.size not in (1, 2, 4, 8):
        raise SemanticError(f"'${var.name}' is an array ({f.decl}); only numbers and strings can be read",
                            node.loc)
    size, signed = _width(f)
    gen.emit("LDFI", f.offset, size, int(signed))
    return LONG


def load_element(gen, var, index, node) -> str:
    """$field[i] of a fixed-size array field, i a constant."""
    from ..lang import ast as A
    f = var.fetch
    if not isinstance(index, A.Number):
        raise SemanticError(f"'${var.name}[...]' needs a constant index", node.loc)
    count = f.dims[0]
    elsize = f.size // count if count else 0
    if index.value >= count or elsize not in (1, 2, 4, 8):
        raise SemanticError(f"index {index.value} is outside '${var.name}' ({f.decl})", node.loc)
    signed = f.signed and not f.ctype.startswith("unsigned")
    gen.emit("LDFI", f.offset + index.value * elsize, elsize, int(signed))
    return LONG


def pretty_vars(gen, source, node, load=load_field) -> str:
    """$$vars / $$parms: "name=value" for every field, stap-style."""
    parts, loads = [], []
    for name, var in source.context.items():
        if var.fetch is None or not hasattr(var.fetch, "offset") or (
                var.type == LONG and (var.fetch.is_array or var.fetch.size not in (1, 2, 4, 8))):
            continue
        parts.append(f'{name}="%s"' if var.type == STRING else f"{name}=%#x")
        loads.append(var)
    for var in loads:
        load(gen, var, node)
    gen.emit("SPRINTF", gen.b.format(" ".join(parts)))
    return STRING
