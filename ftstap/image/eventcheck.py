"""The events section of a program image, read as the untrusted input it is.

Each event is one binary record (read_event), read into the dict that
image/events.py's EventSpec.to_dict() gives, which the session turns into tracefs paths, kprobe/uprobe/eprobe definitions
and perf_event_open calls, as root.  So every field is checked against what
the compiler writes: its type, its range (what the C side takes), and
for anything that ends up in a tracefs path or definition, its characters
(no whitespace, newline, `/` or `..` can add a definition, leave the
session's group or point at another file).  Anything else is refused with
one clear error naming the event and the field.
"""
from __future__ import annotations

import json
import os
import re
import struct

from .isa import EVENT_FLAGS, EVENT_KINDS, NO_LOCATION

KINDS = ("tracepoint", "eprobe", "uprobe", "kprobe", "perf")
# fields every kind may carry (compile/eventspecs.py's `common`, and the needs of pass 3)
COMMON = {"kind", "pp", "is_return", "callchain", "ksyms", "filter", "counting", "task", "args", "fields"}
BY_KIND = {"tracepoint": ({"system", "event"}, {"system", "event"}),
           "eprobe": ({"system", "event"}, {"system", "event"}),
           "uprobe": ({"path", "offset", "symbol"}, {"path"}),
           "kprobe": ({"symbol", "offset", "maxactive"}, {"symbol"}),
           "perf": ({"type", "config", "sample_period", "sample_freq"}, set())}
BOOLS = ("is_return", "callchain", "ksyms", "counting", "task")
I64 = (-(1 << 63), (1 << 63) - 1)
INT_RANGES = {"offset": (0, I64[1]), "maxactive": (0, 4096), "type": (0, (1 << 31) - 1), "config": I64,
              "sample_period": (0, I64[1]), "sample_freq": (0, I64[1])}

MAX_TEXT = 4096
MAX_ARGS = 128                       # the kernel's MAX_TRACE_ARGS
TRACE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,127}")        # a tracefs system or event name
KSYMBOL = re.compile(r"[A-Za-z_.$][A-Za-z0-9_.$]{0,511}")         # a kallsyms name
ARG = re.compile(r"([A-Za-z_][A-Za-z0-9_]{0,31})=(\S+):(s8|u8|s16|u16|s32|u32|s64|u64|string|ustring)")
FETCH_BASE = re.compile(r"%[a-z][a-z0-9]{1,5}|\$[A-Za-z_][A-Za-z0-9_]{0,127}")
DEREF = re.compile(r"[+-][0-9]{1,10}\((.*)\)")


class _Bad(Exception):
    pass


def _text(v, what: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(v, str):
        raise _Bad(f"{what} is not a string")
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        raise _Bad(f"{what} is not valid UTF-8") from None
    if len(v) > limit or not v.isprintable():
        raise _Bad(f"{what} is too long or has control characters")
    return v


def _word(v, what: str, pattern: re.Pattern) -> str:
    if not isinstance(v, str) or not pattern.fullmatch(v):
        raise _Bad(f"bad {what} {_show(v)}")
    return v


def _show(v) -> str:
    s = json.dumps(v, ensure_ascii=True)
    return s if len(s) <= 40 else s[:37] + "..."


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def _fetch(expr: str) -> bool:
    """A fetch-arg expression as pass 3 writes it: %reg, $var, $retval, or
    OFFSET(expr) dereferences of one (compile/fetch.py, kernel/btf.py)."""
    for _ in range(32):
        m = DEREF.fullmatch(expr)
        if m is None:
            return FETCH_BASE.fullmatch(expr) is not None
        expr = m.group(1)
    return False


def _args(v) -> list[str]:
    if not isinstance(v, list) or len(v) > MAX_ARGS:
        raise _Bad("args is not a list of at most 128 fetch-args")
    for a in v:
        m = ARG.fullmatch(a) if isinstance(a, str) else None
        if m is None or not _fetch(m.group(2)):
            raise _Bad(f"bad fetch-arg {_show(a)}")
    return v


def check_event(d) -> dict:
    """d if it is an event spec the compiler could have written, else _Bad."""
    if not isinstance(d, dict):
        raise _Bad("not an event spec")
    kind = d.get("kind")
    if kind not in KINDS:
        raise _Bad(f"bad kind {_show(kind)}")
    allowed, required = BY_KIND[kind]
    extra = set(d) - COMMON - allowed
    if extra:
        raise _Bad(f"field {_show(sorted(extra)[0])} is not for {_a(kind)} event")
    missing = required - set(d)
    if missing:
        raise _Bad(f"{_a(kind)} event needs {sorted(missing)[0]}")
    for k, v in d.items():
        if k in BOOLS and not isinstance(v, bool):
            raise _Bad(f"{k} is not true or false")
        if k in INT_RANGES:
            lo, hi = INT_RANGES[k]
            if type(v) is not int or not lo <= v <= hi:
                raise _Bad(f"{k} {_show(v)} is not a number in [{lo}, {hi}]")
    _text(d.get("pp", ""), "pp")
    _text(d.get("filter", ""), "filter")
    if kind in ("tracepoint", "eprobe"):
        _word(d["system"], "system name", TRACE_NAME)
        _word(d["event"], "event name", TRACE_NAME)
    if kind == "kprobe":
        _word(d["symbol"], "kernel symbol", KSYMBOL)
    if kind == "uprobe":
        path = _text(d["path"], "path")
        if not path.startswith("/") or os.path.normpath(path) != path or any(c.isspace() for c in path):
            raise _Bad(f"bad path {_show(path)}")
        sym = _text(d.get("symbol", ""), "symbol", 1024)
        if any(c.isspace() for c in sym):
            raise _Bad(f"bad symbol {_show(sym)}")
    names = {ARG.fullmatch(a).group(1) for a in _args(d.get("args", []))}
    fields = d.get("fields", {})
    if not isinstance(fields, dict):
        raise _Bad("fields is not a mapping")
    for name, off in fields.items():
        if name not in names or type(off) is not int or not 0 <= off < 1 << 16:
            raise _Bad(f"bad field {_show(name)} at {_show(off)}")
    return d


# One event of the events section (native/program.c has the layout): kind,
# flags, maxactive, perf type, config, offset, sample period and frequency,
# then the string ids of pp, system, event, path, symbol and filter (~0:
# none), u16 + the fetch-args' string ids, u16 + (name string id, u16 offset)
EVENT_HEAD = struct.Struct("<BBHIqqqq6I")
EVENT_MIN = EVENT_HEAD.size + 4
TEXTS = ("pp", "system", "event", "path", "symbol", "filter")
INTS = ("maxactive", "type", "config", "offset", "sample_period", "sample_freq")
KIND_NAMES = {v: k for k, v in EVENT_KINDS.items()}
ALL_FLAGS = sum(EVENT_FLAGS.values())


def read_event(r, strings: list[bytes], i: int) -> dict:
    """Event i of an image's events section, at r (image/format.py's reader,
    whose fail() makes the exception), as the dict EventSpec.to_dict()
    gives, checked as the compiler writes it."""
    head = r.take(EVENT_HEAD.format)
    try:
        def text(sid: int, what: str) -> str:
            if sid >= len(strings):
                raise _Bad(f"{what}: bad string id {sid}")
            try:
                return strings[sid].decode("utf-8")
            except UnicodeDecodeError:
                raise _Bad(f"{what} is not valid UTF-8") from None

        kind, flags, *rest = head
        if kind not in KIND_NAMES:
            raise _Bad(f"bad kind {kind}")
        if flags & ~ALL_FLAGS:
            raise _Bad(f"bad flags {flags:#x}")
        d = {"kind": KIND_NAMES[kind]}
        d.update((name, True) for name, bit in EVENT_FLAGS.items() if flags & bit)
        d.update((name, v) for name, v in zip(INTS, rest[:6]) if v)
        for name, sid in zip(TEXTS, rest[6:]):
            if sid != NO_LOCATION and (v := text(sid, name)):
                d[name] = v
        args = [text(r.take("<I"), "fetch-arg") for _ in range(r.take("<H"))]
        if args:
            d["args"] = args
        fields = {}
        for _ in range(r.take("<H")):
            name, off = text(r.take("<I"), "field"), r.take("<H")
            if name in fields:
                raise _Bad(f"field {_show(name)} twice")
            fields[name] = off
        if fields:
            d["fields"] = fields
        return check_event(d)
    except _Bad as e:
        raise r.fail(f"event {i}: {e}") from None
