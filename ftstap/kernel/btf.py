"""A reader for BTF (kernel Documentation/bpf/btf.rst), enough for pass 2/3:
function parameters, struct member offsets, type names and sizes.

Layout: a 24-byte header (magic 0xeB9F, version, flags, hdr_len, then
type_off/type_len/str_off/str_len relative to the end of the header), a
type section of variable-length records (12-byte `btf_type` followed by
kind-specific data) and a string section.  Type ids are the 1-based
ordinal of the record (0 is void); split BTF (modules) continues the ids
and string offsets of its base.  Every module's BTF continues vmlinux's
ids, so two modules number their types alike: `base.split()` gives each
module its own id range after those already loaded (its ids are shifted),
and the base hands an id in that range to the module's reader, so one
reader walks types whichever BTF holds them.

Speed: one pass over the type section records each record's start (~55 ms
for vmlinux); names are looked up by searching the string section and then
the type section for that string offset, so no name index is built unless
someone asks to glob over all names.
"""
from __future__ import annotations

import array
import bisect
import fnmatch
import struct
import sys
from ..record import frozen
from typing import NamedTuple

from ftstap.errors import KernelError

VMLINUX = "/sys/kernel/btf/vmlinux"
MAGIC = 0xEB9F

(UNKN, INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT,
 FUNC, FUNC_PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG, ENUM64) = range(20)
KIND_NAMES = ("UNKN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF",
              "VOLATILE", "CONST", "RESTRICT", "FUNC", "FUNC_PROTO", "VAR", "DATASEC",
              "FLOAT", "DECL_TAG", "TYPE_TAG", "ENUM64")
# Words (u32) after the 12-byte common part: fixed, and per vlen item.
_FIXED = [0] * 32
_PER = [0] * 32
for _k, _n in ((INT, 1), (ARRAY, 3), (VAR, 1), (DECL_TAG, 1)):
    _FIXED[_k] = _n
for _k, _n in ((STRUCT, 3), (UNION, 3), (ENUM, 2), (FUNC_PROTO, 2), (DATASEC, 3), (ENUM64, 3)):
    _PER[_k] = _n
_MODIFIERS = frozenset({TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG})
INT_SIGNED, INT_CHAR, INT_BOOL = 1, 2, 4


class Member(NamedTuple):
    name: str            # "" for an anonymous struct/union member
    type: int
    bit_offset: int
    bitfield_size: int   # 0 when not a bitfield


class Param(NamedTuple):
    name: str
    type: int


class FuncParam(NamedTuple):
    name: str
    type: int
    ctype: str           # C-like spelling, e.g. "const char *"


class Step(NamedTuple):
    deref: bool          # the value in hand is a pointer: load it, enter that object
    offset: int          # byte offset of the member in its object


@frozen
class BtfType:
    id: int
    kind: int
    name: str
    size: int            # INT/STRUCT/UNION/ENUM/ENUM64/FLOAT/DATASEC; else 0
    type: int            # referenced type for PTR/TYPEDEF/CONST/.../FUNC/FUNC_PROTO/VAR
    vlen: int
    kflag: bool
    extra: tuple = ()    # kind-specific: members, params, enumerators, array info...

    @property
    def kind_name(self) -> str:
        return KIND_NAMES[self.kind] if self.kind < len(KIND_NAMES) else f"KIND{self.kind}"


@frozen
class MemberChain:
    """Result of member_chain(): where `$v->a->b` lives.

    `offset` is the byte offset of the last member within the last object
    entered; `steps` has one (deref, offset) per name.  `fetch_expr(base)`
    gives the kprobe/uprobe fetch-arg that reads the final member."""
    offset: int
    type: int
    steps: tuple[Step, ...]
    bit_offset: int = 0      # within the byte at `offset`, for bitfields
    bitfield_size: int = 0

    def fetch_expr(self, base: str, bias: int = 0) -> str:
        """bias: added to base before the first dereference (`@cast(p - 8, "T")->m`)."""
        expr, acc = base, None
        for s in self.steps:
            if s.deref:
                if acc is not None:
                    expr = f"{acc:+d}({expr})"   # load the pointer member first
                    acc = s.offset
                else:
                    acc = s.offset + bias
            else:
                acc = (acc or 0) + s.offset
        return f"{acc or 0:+d}({expr})"


class BTF:
    """Parsed BTF blob.  `BTF.vmlinux()` is the running kernel's, cached."""

    _vmlinux: "BTF | None" = None

    def __init__(self, data: bytes, base: "BTF | None" = None, path: str = "<bytes>"):
        self.path = path
        self.data = bytes(data)
        self.base = base
        if len(self.data) < 24:
            raise KernelError(f"{path}: too short to be BTF")
        magic = struct.unpack_from("<H", self.data, 0)[0]
        if magic == MAGIC:
            self._endian = "<"
        elif magic == 0x9FEB:
            self._endian = ">"
        else:
            raise KernelError(f"{path}: not BTF (magic {magic:#06x})")
        e = self._endian
        _m, self.version, self.flags, hdr_len, type_off, type_len, str_off, str_len = \
            struct.unpack_from(e + "HBBIIIII", self.data, 0)
        t0, s0 = hdr_len + type_off, hdr_len + str_off
        if t0 + type_len > len(self.data) or s0 + str_len > len(self.data) or type_len % 4:
            raise KernelError(f"{path}: BTF sections run past the end of the blob")
        self._types_raw = self.data[t0:t0 + type_len]
        self._strs = self.data[s0:s0 + str_len]
        words = array.array("I")
        words.frombytes(self._types_raw)
        if (e == "<") != (sys.byteorder == "little"):
            words.byteswap()
        self._w = words
        self._first_id = base.count if base else 1
        self._shift = 0                       # added to this blob's own ids (split BTF: base.split)
        self._splits: list[BTF] = []          # modules split from this base, in id order
        self._split_ends: list[int] = []      # the id after each split's last
        self.modules: dict[str, BTF | None] = {}   # split BTF by module name (None: it has none)
        self._str_base = len(base._strs) + base._str_base if base else 0
        self._offs = self._index()
        self._cache: dict[int, BtfType] = {}
        self._names: dict[str, list[int]] | None = None
        self._ptr_size: int | None = None

    @classmethod
    def load(cls, path: str = VMLINUX, base: "BTF | None" = None) -> "BTF":
        try:
            with open(path, "rb") as f:
                return cls(f.read(), base, path)
        except FileNotFoundError:
            raise KernelError(f"{path} does not exist: this kernel has no BTF "
                              "(needs CONFIG_DEBUG_INFO_BTF)") from None
        except OSError as e:
            raise KernelError(f"cannot read {path}: {e.strerror}") from None

    def split(self, data: bytes, path: str, module: str = "") -> "BTF":
        """A module's BTF over this (vmlinux's): its own type ids are moved
        past every module split before it, and this reader serves them."""
        m = BTF(data, self, path)
        if module:
            self.modules[module] = m
        start = self._split_ends[-1] if self._split_ends else self.count
        m._shift = start - self.count
        self._splits.append(m)
        self._split_ends.append(start + len(m._offs))
        return m

    def _ext(self, tid: int) -> int:
        """An id as this blob spells it -> the id readers use."""
        return tid + self._shift if tid >= self._first_id else tid

    @classmethod
    def vmlinux(cls) -> "BTF":
        if cls._vmlinux is None:
            cls._vmlinux = cls.load(VMLINUX)
        return cls._vmlinux

    def _index(self) -> array.array:
        # The one full pass: the word index where each record starts.
        w, fixed, per = self._w, _FIXED, _PER
        offs = array.array("I")
        ap = offs.append
        i, n = 0, len(w)
        while i < n:
            ap(i)
            info = w[i + 1]
            k = info >> 24 & 31
            i += 3 + fixed[k] + (info & 0xFFFF) * per[k]
        if i != n:
            raise KernelError(f"{self.path}: truncated BTF type section")
        return offs

    # -- basic access -------------------------------------------------------
    @property
    def count(self) -> int:
        """Number of type ids, void included (the next free id)."""
        return self._first_id + len(self._offs)

    def __len__(self) -> int:
        return self.count

    def string(self, off: int) -> str:
        if off < self._str_base:
            return self.base.string(off)
        off -= self._str_base
        end = self._strs.find(b"\0", off)
        return self._strs[off:end if end >= 0 else None].decode("utf-8", "replace")

    def type(self, tid: int) -> BtfType:
        """The type with id `tid` (0 is void)."""
        t = self._cache.get(tid)
        if t is not None:
            return t
        own = tid - self._shift
        if tid == 0:
            t = BtfType(0, UNKN, "void", 0, 0, 0, False)
        elif self._first_id <= own < self.count:
            t = self._decode(own)
        elif self.base is not None:
            return self.base.type(tid)        # vmlinux's, or another module's
        else:
            k = bisect.bisect_right(self._split_ends, tid)
            if tid < self.count or k == len(self._splits):
                raise KernelError(f"BTF type id {tid} out of range "
                                  f"(have {self._split_ends[-1] if self._split_ends else self.count})")
            return self._splits[k].type(tid)
        self._cache[tid] = t
        return t

    def _decode(self, tid: int) -> BtfType:
        w, x = self._w, self._ext
        i = self._offs[tid - self._first_id]
        name_off, info, st = w[i], w[i + 1], w[i + 2]
        kind, vlen, kflag = info >> 24 & 31, info & 0xFFFF, bool(info >> 31)
        j = i + 3
        extra: tuple = ()
        if kind == INT:
            enc = w[j]
            extra = (enc >> 24 & 0xF, enc >> 16 & 0xFF, enc & 0xFF)   # encoding, offset, bits
        elif kind == ARRAY:
            extra = (x(w[j]), x(w[j + 1]), w[j + 2])                    # elem, index, nelems
        elif kind in (STRUCT, UNION):
            ms = []
            for k in range(vlen):
                mo = w[j + 3 * k + 2]
                bits, size = (mo & 0xFFFFFF, mo >> 24) if kflag else (mo, 0)
                ms.append(Member(self.string(w[j + 3 * k]), x(w[j + 3 * k + 1]), bits, size))
            extra = tuple(ms)
        elif kind == ENUM:
            vals = []
            for k in range(vlen):
                v = w[j + 2 * k + 1]
                if kflag and v >= 1 << 31:     # kflag: signed values
                    v -= 1 << 32
                vals.append((self.string(w[j + 2 * k]), v))
            extra = tuple(vals)
        elif kind == ENUM64:
            vals = []
            for k in range(vlen):
                v = w[j + 3 * k + 1] | w[j + 3 * k + 2] << 32
                if kflag and v >= 1 << 63:
                    v -= 1 << 64
                vals.append((self.string(w[j + 3 * k]), v))
            extra = tuple(vals)
        elif kind == FUNC_PROTO:
            extra = tuple(Param(self.string(w[j + 2 * k]), x(w[j + 2 * k + 1])) for k in range(vlen))
        elif kind == DATASEC:
            extra = tuple((x(w[j + 3 * k]), w[j + 3 * k + 1], w[j + 3 * k + 2]) for k in range(vlen))
        elif kind in (VAR, DECL_TAG):
            extra = (w[j],)
        sized = kind in (INT, STRUCT, UNION, ENUM, ENUM64, FLOAT, DATASEC)
        return BtfType(x(tid), kind, self.string(name_off), st if sized else 0,
                       0 if sized else x(st), vlen, kflag, extra)

    # -- lookup by name -----------------------------------------------------
    def _string_offsets(self, name: str) -> list[int]:
        needle, out, s = b"\0" + name.encode() + b"\0", [], self._strs
        pos = s.find(needle)
        while pos >= 0:
            out.append(pos + 1 + self._str_base)
            pos = s.find(needle, pos + 1)
        return out

    INDEX_AFTER = 64     # lookups by scanning before the name index pays for itself (~100 ms)

    def find(self, name: str, kind: int | None = None) -> list[int]:
        """Ids of the types named `name` (of `kind` if given), base first.
        A few lookups scan the blob; many (kernel.trace("*") binds every
        tracepoint's iterator) build the name index once."""
        ids = self.base.find(name, kind) if self.base else []
        self._finds = getattr(self, "_finds", 0) + 1
        if self._names is None and self._finds > self.INDEX_AFTER:
            self.names()
        if self._names is not None:
            found = self._names.get(name, [])
        else:
            found = []
            raw, offs, fmt = self._types_raw, self._offs, self._endian + "I"
            for so in self._string_offsets(name):
                pat = struct.pack(fmt, so)
                pos = raw.find(pat)
                while pos >= 0:
                    if pos % 4 == 0:
                        k = bisect.bisect_left(offs, pos // 4)
                        if k < len(offs) and offs[k] == pos // 4:
                            found.append(self._ext(k + self._first_id))
                    pos = raw.find(pat, pos + 1)
            found.sort()
        ids += [t for t in found if kind is None or self.type(t).kind == kind]
        return ids

    def pointer_to(self, tid: int) -> int | None:
        """The id of an unnamed `tid *` type already in the blob, if any."""
        raw, offs = self._types_raw, self._offs
        own = tid - self._shift
        pat = struct.pack(self._endian + "III", 0, PTR << 24, own if own >= self._first_id else tid)
        pos = raw.find(pat)
        while pos >= 0:
            if pos % 4 == 0:
                k = bisect.bisect_left(offs, pos // 4)
                if k < len(offs) and offs[k] == pos // 4:
                    return self._ext(k + self._first_id)
            pos = raw.find(pat, pos + 1)
        return None

    def find_one(self, name: str, kind: int | None = None) -> int | None:
        ids = self.find(name, kind)
        return ids[0] if ids else None

    def names(self) -> dict[str, list[int]]:
        """Every named type: name -> ids.  Builds an index (~100 ms)."""
        if self._names is None:
            idx: dict[str, list[int]] = {}
            w, first = self._w, self._first_id
            for k, i in enumerate(self._offs):
                if w[i]:
                    idx.setdefault(self.string(w[i]), []).append(self._ext(k + first))
            self._names = idx
        return self._names

    def glob(self, pattern: str, kind: int | None = FUNC) -> list[str]:
        """Sorted names matching a shell glob (functions by default)."""
        hits = fnmatch.filter(self.names().keys(), pattern)
        if kind is not None:
            hits = [n for n in hits if any(self.type(t).kind == kind for t in self._names[n])]
        if self.base:
            hits = set(hits) | set(self.base.glob(pattern, kind))
        return sorted(hits)

    # -- functions ----------------------------------------------------------
    def func(self, name: str) -> BtfType:
        """A module's own function before a base's one of the same name."""
        ids = self.find(name, FUNC)
        own = [t for t in ids if t >= self._first_id + self._shift]
        tid = (own or ids or [None])[0]
        if tid is None:
            raise KernelError(f"function {name} is not in the kernel's BTF ({self.path})")
        return self.type(tid)

    def func_params(self, name: str) -> list[FuncParam]:
        """Parameters of kernel function `name`, in order."""
        proto = self.type(self.func(name).type)
        return [FuncParam(p.name, p.type, self.describe(p.type)) for p in proto.extra
                if not (p.type == 0 and not p.name)]          # drop the "..." marker

    def func_return(self, name: str) -> int:
        return self.type(self.func(name).type).type

    # -- type algebra -------------------------------------------------------
    def resolve(self, tid: int) -> int:
        """Skip typedef/const/volatile/restrict/type_tag."""
        for _ in range(64):
            t = self.type(tid)
            if t.kind not in _MODIFIERS:
                return tid
            tid = t.type
        raise KernelError(f"BTF type {tid}: modifier chain too long")

    def kind(self, tid: int) -> int:
        return self.type(self.resolve(tid)).kind

    @property
    def pointer_size(self) -> int:
        if self._ptr_size is None:   # sizeof(long) is sizeof(void *) on Linux
            tid = self.find_one("long unsigned int", INT) or self.find_one("long int", INT)
            self._ptr_size = self.type(tid).size if tid else 8
        return self._ptr_size

    def size(self, tid: int) -> int:
        """sizeof() the type; 0 for void, functions and forward declarations."""
        t = self.type(self.resolve(tid))
        if t.kind == PTR:
            return self.pointer_size
        if t.kind == ARRAY:
            return t.extra[2] * self.size(t.extra[0])
        return t.size

    def int_info(self, tid: int) -> tuple[int, bool] | None:
        """(size, signed) for integer-like types (ints, enums, pointers)."""
        t = self.type(self.resolve(tid))
        if t.kind == INT:
            return t.size, bool(t.extra[0] & INT_SIGNED)
        if t.kind in (ENUM, ENUM64):
            return t.size, t.kflag
        if t.kind == PTR:
            return self.pointer_size, False
        return None

    def describe(self, tid: int, name: str = "") -> str:
        """A C-like spelling of the type: "struct file *", "char[16]",
        "int (*)(int)".  With `name`, a declaration of that name."""
        t = self.type(tid)
        k = t.kind
        sep = " " if name and name[0] != "[" else ""
        if k == UNKN:
            return "void" + sep + name
        if k in (INT, FLOAT, TYPEDEF):
            return t.name + sep + name
        if k in (STRUCT, UNION, ENUM, ENUM64, FWD):
            tag = {STRUCT: "struct", UNION: "union", FWD: "union" if t.kflag else "struct"}.get(k, "enum")
            return f"{tag} {t.name or '(anon)'}" + sep + name
        if k in (CONST, VOLATILE, RESTRICT):
            q = {CONST: "const", VOLATILE: "volatile", RESTRICT: "restrict"}[k]
            if self.type(t.type).kind == PTR:        # qualifier on the pointer itself
                return self.describe(t.type, f"{q} {name}".rstrip())
            return f"{q} {self.describe(t.type, name)}"
        if k == TYPE_TAG:
            return self.describe(t.type, name)
        if k == PTR:
            inner = self.type(t.type)
            if inner.kind in (FUNC_PROTO, ARRAY):
                return self.describe(t.type, f"(*{name})")
            return self.describe(t.type, f"*{name}")
        if k == ARRAY:
            elem, _idx, n = t.extra
            return self.describe(elem, f"{name}[{n}]")
        if k == FUNC_PROTO:
            args = ", ".join("..." if (p.type == 0 and not p.name) else self.describe(p.type)
                             for p in t.extra) or "void"
            return self.describe(t.type, f"{name}({args})")
        if k == FUNC:        # with parameter names: "int f(int dfd, const char *filename)"
            proto = self.type(t.type)
            if proto.kind != FUNC_PROTO:
                return self.describe(t.type, t.name)
            args = ", ".join("..." if (p.type == 0 and not p.name) else self.describe(p.type, p.name)
                             for p in proto.extra) or "void"
            return self.describe(proto.type, f"{t.name}({args})")
        if k == VAR:
            return self.describe(t.type, t.name)
        return t.name or t.kind_name

    # -- structs --------------------------------------------------------------
    def members(self, tid: int) -> tuple[Member, ...]:
        t = self.type(self.resolve(tid))
        if t.kind not in (STRUCT, UNION):
            raise KernelError(f"{self.describe(tid)} is not a struct or union")
        return t.extra

    def member(self, tid: int, name: str) -> Member | None:
        """Member `name` of a struct/union, looking through anonymous
        members; bit_offset is from the start of the outer type."""
        for m in self.members(tid):
            if m.name == name:
                return m
            if not m.name and self.kind(m.type) in (STRUCT, UNION):
                sub = self.member(m.type, name)
                if sub is not None:
                    return sub._replace(bit_offset=sub.bit_offset + m.bit_offset)
        return None

    def member_chain(self, tid: int, names: list, pointee: bool = False) -> MemberChain:
        """Resolve `$v->a->b[2]` for a value of type `tid` (pointee: a value
        that points at a `tid`, as `@cast(v, "tid")` makes): each step is a
        member name or an int index.  Going through a pointer is a
        dereference (a new object); through an embedded struct or array
        element just adds the offset."""
        steps: list[Step] = []
        cur, bit_off, bf = tid, 0, 0
        for k, name in enumerate(names):
            if pointee and k == 0:           # the value is a `tid *`
                kind, ref, elem = PTR, tid, tid
            else:
                t = self.type(self.resolve(cur))
                kind, ref = t.kind, t.type
                elem = t.extra[0] if kind == ARRAY else ref
            if isinstance(name, int):
                if kind not in (ARRAY, PTR):
                    raise KernelError(f"cannot index {self.describe(cur)}: not an array or pointer")
                steps.append(Step(kind == PTR, name * self.size(elem)))
                bit_off, bf, cur = 0, 0, elem
                continue
            deref = kind == PTR
            target = self.resolve(ref) if deref else self.resolve(cur)
            if self.type(target).kind not in (STRUCT, UNION):
                raise KernelError(f"cannot take member '{name}' of {self.describe(cur)}: "
                                  "not a struct, union or pointer to one")
            m = self.member(target, name)
            if m is None:
                known = ", ".join(x.name for x in self.members(target) if x.name)
                raise KernelError(f"{self.describe(target)} has no member '{name}' "
                                  f"(members: {known})")
            steps.append(Step(deref, m.bit_offset // 8))
            bit_off, bf, cur = m.bit_offset % 8, m.bitfield_size, m.type
        off = 0
        for s in steps:
            off = s.offset if s.deref else off + s.offset
        return MemberChain(off, cur, tuple(steps), bit_off, bf)
