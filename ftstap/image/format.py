"""The program image format: what pass 4 writes, `ftstap --run` reads and
the C core loads.  Both sides share it: compile/ assembles images with
image/builder.py, runtime/ runs them; neither imports the other.

The layout is described once, in the comment at the top of
native/program.c (the loader, which checks every field); the struct
formats below follow it: header (magic, version, target machine tag,
CRC-32 of the body), the kernel release it was compiled for, strings, formats, locations, globals, functions,
probes, and the optional events section (one binary record per event id:
image/events.py's EventSpec, decoded and checked field by field by
image/eventcheck.py; the standalone ftstap-run reads the same records).
Enum values (probe kinds, value types, histogram kinds, aggregates, event
kinds and flags) come from native/ftstap.h through cffi (image/isa.py).

An image is untrusted input (`ftstap --run IMAGE`): read_image() refuses a
damaged, truncated or hostile one with one BadImage (an ImageLoadError, so
the user sees one `error:` line), never another exception; the C loader
then verifies the code.  It is read once per run: the ImageInfo it returns
is passed along (listing, event specs, -t's probe names).

Code: u8 opcode then its operands; sizes by kind letter: n 1; l g F b 2;
s f L j m 4; i 8.  Jump targets are byte offsets in the function's code.
"""
from __future__ import annotations

import struct
import zlib
from ..record import mutable

from ..errors import FtstapError
from .eventcheck import EVENT_MIN, read_event
from .events import EventSpec
from .isa import AGG, NO_LOCATION, PROBE_KINDS, VTYPES, opcode_by_number
from .target import Target, host

MAGIC = b"FTSTAPIM"
VERSION = 4                # FT_IMAGE_VERSION in native/program.h
KERNEL_MAX = 64            # bytes of the kernel release an image names (FT_KERNEL_MAX)
HEADER = struct.Struct("<8sI4sI")     # magic, version, target tag (image/target.py), checksum
HEADER_SIZE = HEADER.size

PROBE_KIND_NAMES = {v: k for k, v in PROBE_KINDS.items()}
VTYPE_NAMES = {VTYPES["long"]: "long", VTYPES["string"]: "string", VTYPES["stat"]: "stat"}
AGG_NAMES = {v: k for k, v in AGG.items()}

PACK = {"n": "<B", "l": "<H", "g": "<H", "F": "<H", "b": "<H",
        "s": "<I", "f": "<I", "L": "<I", "j": "<I", "m": "<I", "i": "<q"}


class ImageLoadError(FtstapError):
    """A program image the runtime refuses (corrupt, or from another version)."""
    kind = "error"


class ImageError(Exception):
    """The builder was used wrongly (unknown opcode, bad operand, unplaced label)."""


class BadImage(ImageError, ImageLoadError):
    """An image read_image() refuses: damaged, truncated, or not what ftstap
    writes.  An ImageLoadError, so the user sees one `error:` line."""

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
    kernel: str = ""            # the kernel release it was compiled for ("": any)
    strings: list[bytes] = []
    formats: list[int] = []
    locs: list[tuple[int, int, int, int]] = []
    globals: list[Global] = []
    functions: list[FuncInfo] = []
    probes: list[Probe] = []
    events: list[dict] = []

    def s(self, i: int) -> str:
        return self.strings[i].decode("utf-8", "surrogateescape")

    def specs(self) -> list[EventSpec]:
        """The event specs, by event id."""
        return [EventSpec.from_dict(e) for e in self.events]

    def event_probes(self) -> list[tuple[int, int]]:
        """[(probe index, event id)] of the event probes."""
        return [(i, p.event) for i, p in enumerate(self.probes) if p.kind == PROBE_KINDS["event"]]


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


def check_header(data: bytes, target: Target | None = None) -> None:
    """Magic, version, machine and checksum, before anything else is read
    (target: the machine the image must be for; None: this one)."""
    if len(data) < 12 or data[:8] != MAGIC:
        raise BadImage("bad program image: truncated image" if data and MAGIC.startswith(data[:8])
                       else "not an ftstap program image")
    version = struct.unpack_from("<I", data, 8)[0]
    if version != VERSION:
        raise BadImage(f"unsupported program image version {version} (this ftstap reads version "
                       f"{VERSION}: compile the script again)")
    if len(data) < HEADER_SIZE:
        raise BadImage("bad program image: truncated image")
    _, _, _, crc = HEADER.unpack_from(data)
    made_for, here = Target.unpack(data, 12), target or host()
    if made_for != here:
        raise BadImage(f"the program image is for {made_for.describe()}, this machine is "
                       f"{here.describe()}: compile the script for this machine")
    if zlib.crc32(memoryview(data)[HEADER_SIZE:]) != crc:
        raise BadImage("damaged program image (checksum mismatch)")


def check_kernel(info: ImageInfo, release: str | None = None) -> None:
    """Refuse an image compiled for another kernel (-r) before it runs here."""
    import os
    here = release or os.uname().release
    if info.kernel and info.kernel != here:
        raise BadImage(f"the program image is for kernel {info.kernel}, this kernel is {here}: compile "
                       "the script for this kernel (here, or with -r and this kernel's description)")


def read_image(data: bytes, target: Target | None = None) -> ImageInfo:
    """Parse an untrusted image: the header, the structure, what Python uses
    (names, probe kinds and handlers, event ids) and every event spec
    (image/eventcheck.py); the C loader verifies the code.  BadImage if bad.
    target: the machine it must be for (None: this one)."""
    check_header(data, target)
    r = _Reader(data)
    r.pos = HEADER_SIZE
    info = ImageInfo()
    n = r.take("<I")
    if n > KERNEL_MAX:
        raise r.fail("bad kernel release")
    info.kernel = r.raw(n).decode("utf-8", "surrogateescape")
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
        info.events = [read_event(r, info.strings, i) for i in range(r.count(EVENT_MIN, "event"))]
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
        info = opcode_by_number(code[pc])
        if info is None:
            raise ImageError(f"bad opcode {code[pc]} at {pc}")
        at, vals = pc + 1, []
        for kind in info.operands:
            size = struct.calcsize(PACK[kind])
            if at + size > len(code):
                raise ImageError(f"truncated instruction at {pc}")
            vals.append(struct.unpack_from(PACK[kind], code, at)[0])
            at += size
        yield pc, info.name, info.operands, vals
        pc = at
