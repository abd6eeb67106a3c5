"""Kernel event filters from handler conditions (issue 6, "push filters
into the kernel").

A tracepoint probe whose handler is `PROLOGUE; if (COND) STMT` (see
compile/shape.py) does nothing when COND is false.  When COND is `&&`/`||`
of comparisons between a literal and

    $field  (a whole integer field: not an array, pointer or string)
    tid()   -> common_pid   (the kernel's pid is the thread id)
    cpu()   -> CPU
    execname() -> COMM      (== and != only)

(or a prologue local set to one of those), it becomes the event's tracefs
filter, installed with PERF_EVENT_IOC_SET_FILTER: records the kernel rejects
are never written to the ring.

The condition also stays in the bytecode.  So results are equal by
construction: the filter only has to let through every event the condition
accepts, and where a kernel rejects the filter (EINVAL) the session opens
the event unfiltered.  Comparisons are translated only where the kernel's
comparison agrees exactly with the VM's 64-bit signed one:

  - a literal outside the field's range is not translated (the kernel
    would truncate it to the field's size);
  - unsigned 8-byte fields only with == and != (the VM compares them as
    signed 64-bit numbers, the kernel as unsigned);
  - strings without glob characters (the kernel matches `*?[` as globs),
    quotes, backslashes or bytes outside printable ASCII, and not empty;
  - pid() is not translated: common_pid is the thread id, so a filter on
    it would drop the other threads of the process.

FTSTAP_NO_PUSHDOWN=1 in the environment turns this (and counting mode)
off, for comparing results both ways."""
from __future__ import annotations

import os

from ..lang import ast as A
from .shape import handler_shape, literal, plain_field, resolve

_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_GLOB_OR_QUOTE = set('*?[]"\\')
GENERIC = {"tid": ("common_pid", 4, True), "cpu": ("CPU", 4, True)}


def pushdown_enabled() -> bool:
    return os.environ.get("FTSTAP_NO_PUSHDOWN", "") in ("", "0")


def kernel_filter(inst) -> str | None:
    """The tracefs filter of inst's handler condition, or None."""
    if not inst.source.target.record_fields or not pushdown_enabled():
        return None
    shape = handler_shape(inst)
    if shape is None or not isinstance(shape.last, A.If) or shape.last.other is not None:
        return None
    return _cond(inst, shape, shape.last.cond, top=True)


def _cond(inst, shape, e, top=False) -> str | None:
    if isinstance(e, A.Binary) and e.op in ("&&", "||"):
        left, right = _cond(inst, shape, e.left), _cond(inst, shape, e.right)
        if left is None or right is None:
            return None
        text = f"{left} {e.op} {right}"
        return text if top else f"({text})"
    if isinstance(e, A.Binary) and e.op in _FLIP:
        op, subject, lit = e.op, resolve(inst, shape, e.left), resolve(inst, shape, e.right)
        if literal(subject) and not literal(lit):
            op, subject, lit = _FLIP[op], lit, subject
        value = literal(lit) if lit is not None else None
        if subject is None or value is None:
            return None
        return _compare(inst, subject, op, *value)
    return None


def _compare(inst, subject, op: str, value, vtype: str) -> str | None:
    if isinstance(subject, A.Call) and not subject.args and subject.name == "execname":
        if vtype != "string" or op not in ("==", "!=") or not _plain_string(value):
            return None
        if inst.source.context.get("COMM") is not None:
            return None                  # an event field named COMM would shadow the generic one
        return f'COMM {op} "{value}"'
    if vtype != "long":
        return None
    if isinstance(subject, A.Call) and not subject.args and subject.name in GENERIC:
        name, size, signed = GENERIC[subject.name]
        if name == "CPU" and inst.source.context.get("CPU") is not None:
            return None
        return _number(name, size, signed, op, value)
    if plain_field(subject):
        var = inst.source.context.get(subject.base[1:])
        f = getattr(var, "fetch", None)
        if var is None or var.type != "long" or f is None or not hasattr(f, "offset"):
            return None
        if f.is_array or getattr(f, "is_pointer", False) or f.size not in (1, 2, 4, 8) or f.name in ("CPU", "COMM"):
            return None
        from .fields import narrowed
        narrow = narrowed(f)
        if narrow:          # the handler reads its C width; the kernel compares the zero-extended slot
            size, signed = narrow
            if op not in ("==", "!=") or _number(f.name, size, signed, op, value) is None:
                return None
            return f"{f.name} {op} {value % (1 << (size * 8))}"
        return _number(f.name, f.size, bool(f.signed), op, value)
    return None


def _number(name: str, size: int, signed: bool, op: str, value: int) -> str | None:
    bits = size * 8
    if signed:
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    elif size == 8:
        if op not in ("==", "!="):
            return None
        return f"{name} {op} {value % (1 << 64)}"
    else:
        lo, hi = 0, (1 << bits) - 1
    if not lo <= value <= hi:
        return None
    return f"{name} {op} {value}"


def _plain_string(s: str) -> bool:
    return bool(s) and all(" " <= c <= "~" for c in s) and not (_GLOB_OR_QUOTE & set(s))
