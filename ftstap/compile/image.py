"""Program images (pass 4): the byte blob the C core loads and runs.

ImageBuilder is the assembler codegen writes to: string constants, printf
formats, source locations, globals, functions (bytecode by opcode name, with
labels) and probes, serialized by `serialize()`.  `read_image()` parses an
image back (for the disassembler and tests).  Opcode numbers and operand
kinds come from the built C module (native/opcodes.def through
ftstap.runtime.native), never from a table here.

Layout (little-endian; u8/u16/u32/i64; str = u32 length + bytes), the same
as the comment at the top of native/program.c:

    header   b"FTSTAPIM", u32 version (2), u32 CRC-32 (zlib.crc32) of the
             body: every byte after these 16, checked before anything else
    strings  u32 n, n x str
    formats  u32 n, n x u32 string id
    locs     u32 n, n x (u32 file string, u32 line, u32 col, u32 desc string)
    globals  u32 n, each: u32 name, u8 vtype (1 int 2 str 3 stat), u8 nkeys,
             nkeys x u8 ('i'/'s'), u8 flags (1 wrap, 2 autoprint), i64 maxsize,
             u8 hist (0 none 1 log 2 linear), i64 start, i64 stop, i64 interval,
             u8 variance shift, i64 init int, u32 init string (0xffffffff: "")
    funcs    u32 n, each: u32 name, u8 ret ('v'/'i'/'s'), u8 nparams,
             u16 nlocals, nlocals x u8 ('i'/'s', parameters first),
             u8 iterator slots, u32 code length, code
    probes   u32 n, each: u32 name, u8 kind, i64 priority, i64 interval ns,
             i64 randomize ns, u32 handler function, u32 event id
    events   optional, only when events exist: u32 n, n x str (one JSON
             object per event id: what ftstap/runtime/session.py creates
             and opens for the probes whose event id it is; checked field
             by field by ftstap/compile/imageevents.py)

An image is untrusted input (`ftstap --run IMAGE`): read_image() refuses a
damaged, truncated or hostile one with one BadImage (an ImageLoadError, so
the user sees one `error:` line), never another exception; the C loader
then verifies the code.

Code: u8 opcode then its operands; sizes by kind letter: n 1; l g F b 2;
s f L j m 4; i 8.  Jump targets are byte offsets in the function's code.
"""
from __future__ import annotations

import json
import struct
import zlib
from ..record import mutable

from ..runtime import native

MAGIC = b"FTSTAPIM"
VERSION = 2
HEADER_SIZE = 16           # magic, version, checksum
NO_LOCATION = 0xFFFFFFFF

PROBE_KINDS = {"begin": 1, "end": 2, "error": 3, "timer": 4, "never": 5, "event": 6}
PROBE_KIND_NAMES = {v: k for k, v in PROBE_KINDS.items()}
VTYPES = {"i": 1, "long": 1, "s": 2, "string": 2, "stat": 3}
VTYPE_NAMES = {1: "long", 2: "string", 3: "stat"}
HIST_NONE, HIST_LOG, HIST_LINEAR = 0, 1, 2
AGG = {"@count": 1, "@sum": 2, "@min": 3, "@max": 4, "@avg": 5, "@variance": 6}
FLAG_WRAP, FLAG_AUTOPRINT = 1, 2

_PACK = {"n": "<B", "l": "<H", "g": "<H", "F": "<H", "b": "<H",
         "s": "<I", "f": "<I", "L": "<I", "j": "<I", "m": "<I", "i": "<q"}


class ImageError(Exception):
    """The builder was used wrongly (unknown opcode, bad operand, unplaced label)."""


class BadImage(ImageError, native.ImageLoadError):
    """An image read_image() refuses: damaged, truncated, or not what ftstap
    writes.  An ImageLoadError, so the user sees one `error:` line."""


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
        info = native.opcode(op)
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
        if name.isupper() and native.opcode(name) is not None:
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
            return struct.pack(_PACK[kind], int(value))
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


@mutable
class Global:
    name: str
    vtype: int
    keys: str = ""
    flags: int = 0
    maxsize: int = 0
    hist: tuple = (0, 0, 0, 0)
    shift: int = 0
    init_int: int = 0
    init_str: int = NO_LOCATION


@mutable
class Probe:
    name: str
    kind: int
    func: int
    priority: int = 0
    interval_ns: int = 0
    randomize_ns: int = 0
    event: int = 0


class ImageBuilder:
    """Assembles a program image.  Every add returns the id that opcodes use."""

    no_location = NO_LOCATION

    def __init__(self):
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
        b = native.builtin(name)
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
        to_dict(), e.g. runtime.session.EventSpec); returns the event id
        that probe(..., kind="event", event=ID) takes."""
        d = spec.to_dict() if hasattr(spec, "to_dict") else dict(spec)
        json.dumps(d)           # must be JSON: it is stored in the image
        self.events.append(d)
        return len(self.events) - 1

    # ---- output ----
    def serialize(self) -> bytes:
        for fb in self.functions:
            fb.finish()
        out = bytearray()
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
            out += struct.pack("<I", len(self.events))
            for e in self.events:
                b = json.dumps(e, sort_keys=True).encode()
                out += struct.pack("<I", len(b)) + b
        return MAGIC + struct.pack("<II", VERSION, zlib.crc32(out)) + bytes(out)

    build = serialize


# ---- reading an image back -------------------------------------------------------------

@mutable
class FuncInfo:
    name: str
    ret: str
    nparams: int
    ltypes: str
    niters: int
    code: bytes


@mutable
class ImageInfo:
    strings: list[bytes] = []
    formats: list[int] = []
    locs: list[tuple[int, int, int, int]] = []
    globals: list[Global] = []
    functions: list[FuncInfo] = []
    probes: list[Probe] = []
    events: list[dict] = []

    def s(self, i: int) -> str:
        return self.strings[i].decode("utf-8", "surrogateescape")


class _Reader:
    """Bounds-checked reads of an untrusted image; every failure is a BadImage."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    @staticmethod
    def fail(reason: str) -> BadImage:
        return BadImage(f"bad program image: {reason}")

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise self.fail("truncated image")
        vals = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return vals if len(vals) > 1 else vals[0]

    def raw(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise self.fail("truncated image")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return bytes(b)

    def count(self, each: int, what: str) -> int:
        """A count of items of at least `each` bytes: bounded by what is left."""
        n = self.take("<I")
        if n * each > len(self.data) - self.pos:
            raise self.fail(f"bad {what} count {n}")
        return n

    def letters(self, n: int, allowed: bytes, what: str) -> str:
        b = self.raw(n)
        if any(c not in allowed for c in b):
            raise self.fail(f"bad {what}")
        return b.decode("ascii")


def check_header(data: bytes) -> None:
    """Magic, version and checksum, before anything else is read."""
    if len(data) < HEADER_SIZE:
        raise BadImage("bad program image: truncated image" if data and MAGIC.startswith(data[:8])
                       else "not an ftstap program image")
    magic, version, crc = struct.unpack_from("<8sII", data)
    if magic != MAGIC:
        raise BadImage("not an ftstap program image")
    if version != VERSION:
        raise BadImage(f"unsupported program image version {version} (this ftstap reads version "
                       f"{VERSION}: compile the script again)")
    if zlib.crc32(memoryview(data)[HEADER_SIZE:]) != crc:
        raise BadImage("damaged program image (checksum mismatch)")


def read_image(data: bytes) -> ImageInfo:
    """Parse an untrusted image: the header, the structure, what Python uses
    (names, probe kinds and handlers, event ids) and every event spec
    (imageevents.py); the C loader verifies the code.  BadImage if bad."""
    from .imageevents import read_events
    check_header(data)
    r = _Reader(data)
    r.pos = HEADER_SIZE
    info = ImageInfo()
    info.strings = [r.raw(r.take("<I")) for _ in range(r.count(4, "string"))]

    def name(sid: int, what: str) -> str:
        if sid >= len(info.strings):
            raise r.fail(f"{what}: bad string id {sid}")
        return info.s(sid)

    info.formats = [r.take("<I") for _ in range(r.count(4, "format"))]
    info.locs = [r.take("<IIII") for _ in range(r.count(16, "location"))]
    for i in range(r.count(40, "global")):
        sid, vtype, nkeys = r.take("<IBB")
        keys = r.letters(nkeys, b"is", f"global {i} key type")
        flags, maxsize, h, a, b, c, shift, ii, istr = r.take("<BqBqqqBqI")
        info.globals.append(Global(name(sid, f"global {i}"), vtype, keys, flags, maxsize, (h, a, b, c),
                                   shift, ii, istr))
    for i in range(r.count(13, "function")):
        sid, ret, nparams, nlocals = r.take("<IBBH")
        ltypes = r.letters(nlocals, b"is", f"function {i} local type")
        niters, n = r.take("<BI")
        if ret not in b"vis" or nparams > nlocals:
            raise r.fail(f"function {i}: bad signature")
        info.functions.append(FuncInfo(name(sid, f"function {i}"), chr(ret), nparams, ltypes, niters, r.raw(n)))
    for i in range(r.count(37, "probe")):
        sid, kind, prio, ival, rnd, func, event = r.take("<IBqqqII")
        if kind not in PROBE_KIND_NAMES or func >= len(info.functions):
            raise r.fail(f"probe {i}: bad kind or handler")
        info.probes.append(Probe(name(sid, f"probe {i}"), kind, func, prio, ival, rnd, event))
    if r.pos != len(data):
        info.events = read_events([r.raw(r.take("<I")) for _ in range(r.count(4, "event"))], r.fail)
    if r.pos != len(data):
        raise r.fail("trailing bytes after the image")
    for i, p in enumerate(info.probes):
        if p.kind == PROBE_KINDS["event"] and p.event >= len(info.events):
            raise r.fail(f"probe {i}: bad event id {p.event}")
    return info


def decode(code: bytes):
    """Yield (offset, opcode name, operand kinds, operand values) for each instruction."""
    pc = 0
    while pc < len(code):
        info = native.opcode_by_number(code[pc])
        if info is None:
            raise ImageError(f"bad opcode {code[pc]} at {pc}")
        at, vals = pc + 1, []
        for kind in info.operands:
            size = struct.calcsize(_PACK[kind])
            if at + size > len(code):
                raise ImageError(f"truncated instruction at {pc}")
            vals.append(struct.unpack_from(_PACK[kind], code, at)[0])
            at += size
        yield pc, info.name, info.operands, vals
        pc = at
