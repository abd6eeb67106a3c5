"""A readable listing of a program image (what `-p3` prints for the bytecode).

    global count: long[string] autoprint
    probe begin (priority 0) -> function 0
    function 0 "begin" () -> void, locals i:long
         0  PUSHI 0
        10  STI l0
        13  LDI l0                   ...

Operands are shown by kind: constants inline (strings quoted, formats
quoted), globals and functions by name, jump targets as offsets with a
label marker on their line, locations as FILE:LINE:COL.
"""
from __future__ import annotations

from ..image import isa
from ..image.format import (AGG_NAMES as _AGG_NAMES, NO_LOCATION, PROBE_KIND_NAMES, VTYPE_NAMES, ImageInfo,
                             decode, read_image)
_TYPE = {"i": "long", "s": "string", "v": "void"}


def _quote(b: bytes) -> str:
    s = b.decode("utf-8", "replace")
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def _operand(info: ImageInfo, fn, kind: str, value: int, op: str, pos: int) -> str:
    if kind == "i":
        return str(value)
    if kind == "s":
        return _quote(info.strings[value]) if value < len(info.strings) else f"s{value}?"
    if kind == "f":
        if value < len(info.formats) and info.formats[value] < len(info.strings):
            return "fmt " + _quote(info.strings[info.formats[value]])
        return f"f{value}?"
    if kind == "l":
        t = fn.ltypes[value] if value < len(fn.ltypes) else "?"
        return f"{'p' if value < fn.nparams else 'l'}{value}:{t}"
    if kind == "g":
        return info.globals[value].name if value < len(info.globals) else f"g{value}?"
    if kind == "F":
        return info.functions[value].name + "()" if value < len(info.functions) else f"F{value}?"
    if kind == "b":
        b = isa.builtins()
        return b[value].name + "()" if value < len(b) else f"b{value}?"
    if kind == "L":
        if value == NO_LOCATION or value >= len(info.locs):
            return "-"
        f, line, col, desc = info.locs[value]
        return f"@{info.s(f)}:{line}:{col}"
    if kind == "j":
        return f"->{value}"
    if kind == "m":
        return f"mask={value:#x}" if op in ("AIN", "ADELM", "FEBEGIN") else str(value)
    if kind == "n":
        if op in ("STGET", "ASTGET") or (op == "FESTAT" and pos == 2):
            return _AGG_NAMES.get(value, str(value))
        return str(value)
    return str(value)


def _global_line(g) -> str:
    t = VTYPE_NAMES.get(g.vtype, "?")
    if g.keys:
        t += "[" + ",".join(_TYPE[k] for k in g.keys) + "]"
    extra = []
    if g.maxsize:
        extra.append(f"size={g.maxsize}")
    if g.flags & 1:
        extra.append("wrap")
    if g.flags & 2:
        extra.append("autoprint")
    if g.hist[0] == 1:
        extra.append("hist_log")
    elif g.hist[0] == 2:
        extra.append(f"hist_linear({g.hist[1]},{g.hist[2]},{g.hist[3]})")
    return f"global {g.name}: {t}" + (" " + " ".join(extra) if extra else "")


def listing(image: bytes | ImageInfo) -> str:
    """Pass 3's listing, of an image for any machine (-r: compiled for another one)."""
    if not isinstance(image, ImageInfo):
        from ..image.target import Target
        made_for = Target.unpack(image, 12) if len(image) >= 16 else None
        info = read_image(image, made_for)
    else:
        info = image
    out: list[str] = []
    for g in info.globals:
        out.append(_global_line(g))
    for p in info.probes:
        kind = PROBE_KIND_NAMES.get(p.kind, str(p.kind))
        extra = f" priority {p.priority}" if p.priority else ""
        if p.interval_ns:
            extra += f" every {p.interval_ns}ns" + (f" +-{p.randomize_ns}ns" if p.randomize_ns else "")
        out.append(f"probe {p.name} [{kind}{extra}] -> function {p.func}")
    for i, fn in enumerate(info.functions):
        params = ", ".join(f"p{k}:{_TYPE[fn.ltypes[k]]}" for k in range(fn.nparams))
        locs = ", ".join(f"l{k}:{_TYPE[fn.ltypes[k]]}" for k in range(fn.nparams, len(fn.ltypes)))
        out.append("")
        out.append(f"function {i} {fn.name}({params}) -> {_TYPE.get(fn.ret, fn.ret)}"
                   + (f", locals {locs}" if locs else "") + (f", iterators {fn.niters}" if fn.niters else ""))
        instrs = list(decode(fn.code))
        targets = {v for _, _, kinds, vals in instrs for k, v in zip(kinds, vals) if k == "j"}
        for pc, name, kinds, vals in instrs:
            ops = " ".join(_operand(info, fn, k, v, name, n) for n, (k, v) in enumerate(zip(kinds, vals)))
            mark = ">" if pc in targets else " "
            out.append(f"  {mark}{pc:5d}  {name:<8} {ops}".rstrip())
    return "\n".join(out) + "\n"
