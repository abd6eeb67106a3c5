"""The assembler pass 3 writes to: string constants, printf formats, source
locations, globals, functions (bytecode by opcode name, with labels),
probes and event specs, serialized into a program image
(image/format.py).  Opcode numbers and operand kinds come from the built
C module (image/isa.py), never from a table here."""
from __future__ import annotations

import os
import struct
import zlib
from ..record import mutable

from . import isa
from .eventcheck import EVENT_HEAD, INTS, TEXTS
from .format import HEADER, KERNEL_MAX, MAGIC, NO_LOCATION, PACK, VERSION, Global, ImageError, Probe
from .target import Target, host
from .isa import AGG, FLAG_AUTOPRINT, FLAG_WRAP, HIST_LINEAR, HIST_LOG, HIST_NONE, PROBE_KINDS, VTYPES

@mutable
class Label:
    """A jump target inside one function; place it with FunctionBuilder.place()."""
    fn: "FunctionBuilder"
    offset: int | None = None
    name: str = ""


def _hist(hist) -> tuple[int, int, int, int]:
    """Normalize a histogram shape: None, "log", ("log",), ("linear", start, stop,
    interval) or pass 2's ("hist_linear", (start, stop, interval))."""
    if not hist:
        return HIST_NONE, 0, 0, 0
    if isinstance(hist, str):
        kind, params = hist, ()
    else:
        kind, *rest = hist
        params = tuple(rest[0]) if len(rest) == 1 and isinstance(rest[0], (tuple, list)) else tuple(rest)
    kind = kind.lstrip("@").replace("hist_", "")
    if kind == "log":
        return HIST_LOG, 0, 0, 0
    if kind == "linear" and len(params) == 3:
        return (HIST_LINEAR, *(int(p) for p in params))
    raise ImageError(f"bad histogram shape {hist!r}")


class FunctionBuilder:
    """Bytecode of one function or probe handler.  Locals are numbered from 0,
    parameters first; emit() takes an opcode name and its operands."""

    def __init__(self, image: "ImageBuilder", fid: int, name: str, ret: str, params: str):
        if ret not in ("v", "i", "s") or any(t not in "is" for t in params):
            raise ImageError(f"function {name}: bad signature {ret!r} {params!r}")
        self.image, self.id, self.name, self.ret = image, fid, name, ret
        self.nparams = len(params)
        self.ltypes: list[str] = list(params)
        self.niters = 0
        self.code = bytearray()
        self.fixups: list[tuple[int, Label]] = []
        self.finished = False

    def local(self, type_: str) -> int:
        """A new local of type 'i' or 's' (also 'long'/'string'); returns its index."""
        t = {"long": "i", "string": "s"}.get(type_, type_)
        if t not in ("i", "s"):
            raise ImageError(f"bad local type {type_!r}")
        self.ltypes.append(t)
        return len(self.ltypes) - 1

    def iterators(self, n: int) -> None:
        """Make sure the frame has at least n foreach iterator slots."""
        self.niters = max(self.niters, n)

    def label(self, name: str = "") -> Label:
        return Label(self, None, name)

    def place(self, label: Label) -> None:
        """Bind a label to the next instruction."""
        if label.fn is not self or label.offset is not None:
            raise ImageError(f"label {label.name!r} placed twice or in another function")
        label.offset = len(self.code)

    mark = place

    @property
    def pc(self) -> int:
        return len(self.code)

    def emit(self, op: str, *operands) -> "FunctionBuilder":
        info = isa.opcode(op)
        if info is None:
            raise ImageError(f"unknown opcode {op}")
        if len(operands) != len(info.operands):
            raise ImageError(f"{op} takes {len(info.operands)} operands ({info.operands!r}), "
                             f"got {len(operands)}")
        self.code.append(info.number)
        for kind, value in zip(info.operands, operands):
            self.code += self._operand(op, kind, value)
        return self

    def __getattr__(self, name: str):
        # fb.PUSHI(5) is fb.emit("PUSHI", 5)
        if name.isupper() and isa.opcode(name) is not None:
            return lambda *operands: self.emit(name, *operands)
        raise AttributeError(name)

    def _operand(self, op: str, kind: str, value) -> bytes:
        img = self.image
        if kind == "j":
            if not isinstance(value, Label):
                raise ImageError(f"{op}: jump operand must be a Label")
            self.fixups.append((len(self.code), value))   # where this operand will start
            return b"\0\0\0\0"
        if kind == "s" and isinstance(value, str):
            value = img.string(value)
        elif kind == "f" and isinstance(value, str):
            value = img.format(value)
        elif kind == "g" and isinstance(value, str):
            value = img.global_id(value)
        elif kind == "F":
            if isinstance(value, FunctionBuilder):
                value = value.id
            elif isinstance(value, str):
                value = img.function_id(value)
        elif kind == "b" and isinstance(value, str):
            value = img.builtin(value)
        elif kind == "L" and value is None:
            value = NO_LOCATION
        elif kind == "n" and isinstance(value, str):
            value = AGG[value]
        try:
            return struct.pack(PACK[kind], int(value))
        except (struct.error, TypeError, ValueError) as e:
            raise ImageError(f"{op}: bad operand {value!r} of kind {kind!r}: {e}") from None

    def finish(self) -> None:
        """Resolve jump targets (serialize() does it for unfinished functions)."""
        if self.finished:
            return
        for at, label in self.fixups:
            if label.offset is None:
                raise ImageError(f"function {self.name}: label {label.name!r} never placed")
            struct.pack_into("<I", self.code, at, label.offset)
        self.finished = True



class ImageBuilder:
    """Assembles a program image.  Every add returns the id that opcodes use."""

    no_location = NO_LOCATION

    def __init__(self, target: Target | None = None, kernel: str | None = None):
        self.target = target or host()          # the machine the image is for
        # the kernel release it was compiled for (-r: a described one); runs refuse another
        self.kernel = os.uname().release if kernel is None else kernel
        self.strings: list[bytes] = []
        self._string_ids: dict[bytes, int] = {}
        self.formats: list[int] = []
        self._format_ids: dict[int, int] = {}
        self.locs: list[tuple[int, int, int, int]] = []
        self._loc_ids: dict[tuple, int] = {}
        self.globals: list[Global] = []
        self._global_ids: dict[str, int] = {}
        self.functions: list[FunctionBuilder] = []
        self._function_ids: dict[str, int] = {}
        self.probes: list[Probe] = []
        self.events: list[dict] = []

    # ---- constants ----
    def string(self, s: str | bytes) -> int:
        b = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else bytes(s)
        sid = self._string_ids.get(b)
        if sid is None:
            sid = self._string_ids[b] = len(self.strings)
            self.strings.append(b)
        return sid

    def format(self, text: str | bytes) -> int:
        """A printf format (checked when the image is loaded)."""
        sid = self.string(text)
        fid = self._format_ids.get(sid)
        if fid is None:
            fid = self._format_ids[sid] = len(self.formats)
            self.formats.append(sid)
        return fid

    def location(self, file: str, line: int, col: int, desc: str) -> int:
        """Where an opcode may fail: ERROR: MSG near DESC at FILE:LINE:COL."""
        key = (self.string(file), int(line), int(col), self.string(desc))
        lid = self._loc_ids.get(key)
        if lid is None:
            lid = self._loc_ids[key] = len(self.locs)
            self.locs.append(key)
        return lid

    def builtin(self, name: str) -> int:
        b = isa.builtin(name)
        if b is None:
            raise ImageError(f"unknown builtin {name}")
        return b.number

    # ---- globals ----
    def add_global(self, name: str, vtype: str = "i", keys: str = "", size: int = 0, wrap: bool = False,
                   hist=None, init=None, autoprint: bool = False, shift: int = 0) -> int:
        """Declare a global: vtype 'i'/'s'/'stat' (or 'long'/'string'), keys one
        'i'/'s' per key column ('' for a scalar), size (0: MAXMAPENTRIES), wrap
        (`global a%`), hist (None, "log", ("linear", start, stop, interval)),
        init (scalar initial value), autoprint (written, never read)."""
        if name in self._global_ids:
            raise ImageError(f"global {name} declared twice")
        if vtype not in VTYPES or any(k not in "is" for k in keys) or len(keys) > 9:
            raise ImageError(f"global {name}: bad type {vtype!r} keys {keys!r}")
        g = Global(name, VTYPES[vtype], keys, (FLAG_WRAP if wrap else 0) | (FLAG_AUTOPRINT if autoprint else 0),
                   int(size or 0), _hist(hist), int(shift))
        if init is not None:
            if isinstance(init, (str, bytes)):
                g.init_str = self.string(init)
            else:
                g.init_int = int(init)
        self.string(name)
        gid = self._global_ids[name] = len(self.globals)
        self.globals.append(g)
        return gid

    global_ = add_global

    def global_id(self, name: str) -> int:
        return self._global_ids[name]

    # ---- code ----
    def function(self, name: str, ret: str = "v", params: str = "") -> FunctionBuilder:
        """A script function (ret 'v'/'i'/'s', params one 'i'/'s' each) or a
        probe handler (ret 'v', no params).  Names need not be unique."""
        fb = FunctionBuilder(self, len(self.functions), name, ret, params)
        self.string(name)
        self._function_ids.setdefault(name, fb.id)
        self.functions.append(fb)
        return fb

    def function_id(self, name: str) -> int:
        return self._function_ids[name]

    def probe(self, name: str, kind, func, priority: int = 0, interval_ns: int = 0,
              randomize_ns: int = 0, event: int = 0) -> int:
        """A probe: kind 'begin'/'end'/'error'/'timer'/'never'/'event'; func the
        handler (FunctionBuilder or id); begin(N)/end(N) priority; timers fire
        every interval_ns +- randomize_ns."""
        k = PROBE_KINDS[kind] if isinstance(kind, str) else int(kind)
        fid = func.id if isinstance(func, FunctionBuilder) else int(func)
        self.string(name)
        self.probes.append(Probe(name, k, fid, int(priority), int(interval_ns), int(randomize_ns), int(event)))
        return len(self.probes) - 1

    def event(self, spec) -> int:
        """A kernel event for event probes (a dict, or anything with
        to_dict(), e.g. image.events.EventSpec); returns the event id
        that probe(..., kind="event", event=ID) takes."""
        d = spec.to_dict() if hasattr(spec, "to_dict") else dict(spec)
        self._event_bytes(d)      # refused now if it cannot be stored
        self.events.append(d)
        return len(self.events) - 1

    def _event_bytes(self, d: dict) -> bytes:
        """One record of the events section (layout: native/program.c)."""
        unknown = set(d) - set(TEXTS) - set(INTS) - set(isa.EVENT_FLAGS) - {"kind", "args", "fields"}
        if unknown or d.get("kind") not in isa.EVENT_KINDS:
            raise ImageError(f"bad event spec {d!r}")
        flags = sum(bit for name, bit in isa.EVENT_FLAGS.items() if d.get(name))
        texts = [self.string(d[t]) if d.get(t) else NO_LOCATION for t in TEXTS]
        args, fields = d.get("args", []), d.get("fields", {})
        try:
            out = EVENT_HEAD.pack(isa.EVENT_KINDS[d["kind"]], flags, *(int(d.get(n, 0)) for n in INTS), *texts)
            out += struct.pack(f"<H{len(args)}I", len(args), *(self.string(a) for a in args))
            out += struct.pack("<H", len(fields))
            for name, off in fields.items():
                out += struct.pack("<IH", self.string(name), off)
        except (struct.error, TypeError, ValueError) as e:
            raise ImageError(f"bad event spec {d!r}: {e}") from None
        return out

    # ---- output ----
    def serialize(self) -> bytes:
        for fb in self.functions:
            fb.finish()
        out = bytearray()
        kernel = self.kernel.encode("utf-8", "surrogateescape")[:KERNEL_MAX]
        out += struct.pack("<I", len(kernel)) + kernel
        out += struct.pack("<I", len(self.strings))
        for s in self.strings:
            out += struct.pack("<I", len(s)) + s
        out += struct.pack("<I", len(self.formats))
        for f in self.formats:
            out += struct.pack("<I", f)
        out += struct.pack("<I", len(self.locs))
        for loc in self.locs:
            out += struct.pack("<IIII", *loc)
        out += struct.pack("<I", len(self.globals))
        for g in self.globals:
            out += struct.pack("<IBB", self._string_ids[g.name.encode("utf-8", "surrogateescape")],
                               g.vtype, len(g.keys))
            out += g.keys.encode()
            out += struct.pack("<BqBqqqBqI", g.flags, g.maxsize, g.hist[0], g.hist[1], g.hist[2], g.hist[3],
                               g.shift, g.init_int, g.init_str)
        out += struct.pack("<I", len(self.functions))
        for fb in self.functions:
            out += struct.pack("<IBBH", self.string(fb.name), ord(fb.ret), fb.nparams, len(fb.ltypes))
            out += "".join(fb.ltypes).encode()
            out += struct.pack("<BI", fb.niters, len(fb.code)) + bytes(fb.code)
        out += struct.pack("<I", len(self.probes))
        for p in self.probes:
            out += struct.pack("<IBqqqII", self.string(p.name), p.kind, p.priority, p.interval_ns,
                               p.randomize_ns, p.func, p.event)
        if self.events:
            # the strings the events name were added to the table when they were
            # added (event()), so the table written above already holds them
            out += struct.pack("<I", len(self.events))
            for e in self.events:
                out += self._event_bytes(e)
        return HEADER.pack(MAGIC, VERSION, self.target.pack(), zlib.crc32(out)) + bytes(out)

    build = serialize

