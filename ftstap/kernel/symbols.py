"""Symbols: the kernel's (/proc/kallsyms) and a user binary's (ELF, SDT notes).

Kernel: name lookups and globs search the kallsyms text directly (it is
~5 MB; a full parse takes ~150 ms), the sorted address table for
symbolizing backtraces is built on first use.

User: uprobes take *file offsets*, not virtual addresses; an address in a
PT_LOAD segment maps to `vaddr - p_vaddr + p_offset`.
"""
from __future__ import annotations

import bisect
import fnmatch
import os
import re
import shutil
import struct
from typing import NamedTuple

from ftstap.errors import KernelError

KALLSYMS = "/proc/kallsyms"
TEXT_TYPES = frozenset("tTwW")
_LINE_RE = re.compile(r"^([0-9a-fA-F]+) (\S) (\S+)(?:\t\[(\S+)\])?\s*$")


class KSym(NamedTuple):
    address: int
    type: str            # nm-style letter: T/t text, D/d data, ...
    name: str
    module: str | None   # None for vmlinux

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_TYPES


def parse_kallsyms_line(line: str) -> KSym | None:
    """`ffffffff81000000 T _stext` or `... t fn\t[mod]`; None if not a symbol line."""
    m = _LINE_RE.match(line)
    if not m:
        return None
    return KSym(int(m.group(1), 16), m.group(2), m.group(3), m.group(4))


def glob_to_regex(pattern: str) -> str:
    """A shell glob over symbol names (`*`, `?`, `[..]`) as a regex fragment
    that cannot run past the name."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append(r"[^\s\[]*")
        elif c == "?":
            out.append(r"[^\s\[]")
        elif c == "[":
            j = pattern.find("]", i + 2 if pattern[i + 1:i + 2] in ("!", "^") else i + 1)
            if j < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1:j]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


class Kallsyms:
    """/proc/kallsyms (or the same text from a snapshot)."""

    _current: "Kallsyms | None" = None

    def __init__(self, text: str, path: str = KALLSYMS):
        self.text = text if text.endswith("\n") else text + "\n"
        self.path = path
        self._addrs: list[int] | None = None
        self._syms: list[KSym] | None = None

    @classmethod
    def load(cls, path: str = KALLSYMS) -> "Kallsyms":
        if path == KALLSYMS and cls._current is not None:
            return cls._current
        try:
            with open(path) as f:
                ks = cls(f.read(), path)
        except OSError as e:
            raise KernelError(f"cannot read {path}: {e.strerror}") from None
        if path == KALLSYMS:
            cls._current = ks
        return ks

    @property
    def has_addresses(self) -> bool:
        """False when kptr_restrict hides addresses (all zero)."""
        for line in self.text[:4096].splitlines()[:20]:
            s = parse_kallsyms_line(line)
            if s and s.address:
                return True
        return False

    INDEX_AFTER = 64     # lookups by scanning before indexing every name pays (~0.3 s)

    def _lines_named(self, name: str) -> list[str] | None:
        """The lines of symbols called name, from an index built once many
        lookups were made (None before)."""
        self._lookups = getattr(self, "_lookups", 0) + 1
        if getattr(self, "_by_name", None) is None and self._lookups > self.INDEX_AFTER:
            idx: dict[str, list[str]] = {}
            for line in self.text.splitlines():
                parts = line.split(None, 3)
                if len(parts) >= 3:
                    idx.setdefault(parts[2], []).append(line)
            self._by_name = idx
        by_name = getattr(self, "_by_name", None)
        return None if by_name is None else by_name.get(name, [])

    def lookup_all(self, name: str) -> list[KSym]:
        lines = self._lines_named(name)
        if lines is not None:
            out = [s for s in map(parse_kallsyms_line, lines) if s and s.name == name]
            out.sort(key=lambda s: (s.module is not None, not s.is_text, s.address))
            return out
        out, t = [], self.text
        for needle in (f" {name}\n", f" {name}\t"):
            pos = t.find(needle)
            while pos >= 0:
                start = t.rfind("\n", 0, pos) + 1
                end = t.find("\n", pos + 1)
                s = parse_kallsyms_line(t[start:end])
                if s and s.name == name:
                    out.append(s)
                pos = t.find(needle, pos + 1)
        out.sort(key=lambda s: (s.module is not None, not s.is_text, s.address))
        return out

    def lookup(self, name: str) -> KSym | None:
        """The symbol `name`, vmlinux text symbols first."""
        hits = self.lookup_all(name)
        return hits[0] if hits else None

    def address_of(self, name: str) -> int | None:
        s = self.lookup(name)
        return s.address if s else None

    def modules(self) -> set[str]:
        """The modules whose symbols kallsyms lists (the loaded ones; not the
        kernel's own pseudo-modules such as [__builtin__ftrace])."""
        return {m for m in re.findall(r"\t\[(\S+)\]$", self.text, re.M) if not m.startswith("__builtin")}

    def glob(self, pattern: str, module: str | None = None) -> list[KSym]:
        """Text symbols whose name matches a shell glob, in address order.
        Compiler-made clones (`foo.cold`, `foo.isra.0`) only match when the
        pattern itself has a dot."""
        rx = re.compile(r"^([0-9a-fA-F]+) ([tTwW]) (" + glob_to_regex(pattern)
                        + r")(?:\t\[(\S+)\])?$", re.M)
        out = []
        for m in rx.finditer(self.text):
            if "." in m.group(3) and "." not in pattern:
                continue
            if module is not None and not fnmatch.fnmatchcase(m.group(4) or "", module):
                continue
            out.append(KSym(int(m.group(1), 16), m.group(2), m.group(3), m.group(4)))
        return out

    def _table(self) -> tuple[list[int], list[KSym]]:
        if self._addrs is None:
            syms = [KSym(int(a, 16), ty, n, mod or None) for a, ty, n, mod in
                    re.findall(r"^([0-9a-fA-F]+) ([tTwW]) (\S+)(?:\t\[(\S+)\])?$", self.text, re.M)]
            syms.sort(key=lambda s: s.address)
            self._syms = syms
            self._addrs = [s.address for s in syms]
        return self._addrs, self._syms

    def symbolize(self, address: int) -> tuple[KSym, int, int] | None:
        """(symbol, offset, size) of the text symbol containing `address`;
        size is the distance to the next symbol (0 for the last one)."""
        addrs, syms = self._table()
        i = bisect.bisect_right(addrs, address) - 1
        if i < 0 or address == 0:
            return None
        # several names can share an address: the first one with a bigger
        # address bounds the symbol
        j = bisect.bisect_right(addrs, addrs[i])
        size = addrs[j] - addrs[i] if j < len(addrs) else 0
        if size and address - addrs[i] >= size:
            return None
        return syms[i], address - addrs[i], size

    def format_address(self, address: int) -> str:
        """`name+0x1a/0x80 [module]` like stap's backtraces, or the hex address."""
        hit = self.symbolize(address)
        if hit is None:
            return f"0x{address:x}"
        s, off, size = hit
        return f"{s.name}+0x{off:x}/0x{size:x}" + (f" [{s.module}]" if s.module else " [kernel]")


# ============================================================================
# user binaries

SYSROOT: str | None = None     # --sysroot DIR: the target's root file system (set_sysroot)
TARGET_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def set_sysroot(path: str | None) -> None:
    global SYSROOT
    if path is not None and not os.path.isdir(path):
        raise KernelError(f"--sysroot {path}: no such directory")
    SYSROOT = os.path.realpath(path) if path else None


def local_path(path: str) -> str:
    """Where this machine reads the target's file `path` (under --sysroot)."""
    return SYSROOT + path if SYSROOT else path


def _in_sysroot(path: str) -> str:
    """path (absolute, on the target) with its symlinks resolved as the
    target resolves them: absolute links stay inside the sysroot."""
    parts, out, hops = [p for p in path.split("/") if p], "", 0
    while parts:
        p = parts.pop(0)
        if p in ("", "."):
            continue
        if p == "..":
            out = out.rsplit("/", 1)[0]
            continue
        nxt = out + "/" + p
        local = SYSROOT + nxt
        if os.path.islink(local):
            hops += 1
            if hops > 40:
                raise KernelError(f"too many symbolic links under --sysroot {SYSROOT}: {path}")
            link = os.readlink(local)
            parts = [q for q in link.split("/") if q] + parts
            if link.startswith("/"):
                out = ""
            continue
        out = nxt
    return out or "/"


def resolve_program(name: str) -> str:
    """Absolute, symlink-free path of a program: a path as given, else
    through PATH (like stap's process("ls")).  Under --sysroot, the
    target's path, found in the sysroot (the target's PATH: TARGET_PATH)."""
    if SYSROOT:
        if "/" in name and not name.startswith("/"):
            raise KernelError(f"process(\"{name}\"): with --sysroot a program is an absolute path on the "
                              "target or a name found in its PATH")
        cands = [name] if "/" in name else [f"{d}/{name}" for d in TARGET_PATH.split(":")]
        for c in cands:
            path = _in_sysroot(c)
            if os.path.isfile(SYSROOT + path):
                return path
        raise KernelError(f"cannot find program '{name}' under --sysroot {SYSROOT}"
                          + ("" if "/" in name else f" (in {TARGET_PATH})"))
    if "/" in name:
        path = os.path.abspath(name)
    else:
        found = shutil.which(name)
        if found is None:
            raise KernelError(f"cannot find program '{name}' in PATH "
                              f"({os.environ.get('PATH', '')})")
        path = found
    path = os.path.realpath(path)
    if not os.path.isfile(path):
        raise KernelError(f"no such file: {path}")
    return path


class ElfSymbol(NamedTuple):
    name: str
    address: int       # virtual address as linked (relative to 0 for PIE)
    size: int
    offset: int        # file offset, for uprobe_events
    binding: str       # STB_GLOBAL, STB_LOCAL, STB_WEAK


class SdtArg(NamedTuple):
    size: int          # bytes
    signed: bool
    operand: str       # assembler operand: %rdi, -8(%rbp), $5


class SdtNote(NamedTuple):
    """One `.note.stapsdt` probe (process("x").mark("name"))."""
    provider: str
    name: str
    pc: int            # address of the probe's nop, adjusted for prelink
    semaphore: int     # address of the is-enabled counter, 0 if none
    args: str          # raw argument string: "-4@%edi 8@-8(%rbp)"
    pc_offset: int     # file offset of pc, for uprobe_events
    semaphore_offset: int  # file offset of the semaphore (uprobe ref_ctr_offset), 0 if none

    @property
    def arguments(self) -> list[SdtArg]:
        out = []
        for a in self.args.split():
            size, at, operand = a.partition("@")
            if not at:
                out.append(SdtArg(8, True, a))   # old notes carry bare operands
                continue
            n = int(size)
            out.append(SdtArg(abs(n), n < 0, operand))
        return out


_NT_STAPSDT = 3


def parse_sdt_notes(data: bytes, ptr_size: int, endian: str = "<") -> list[tuple]:
    """Raw (provider, name, pc, base, semaphore, args) from the bytes of a
    .note.stapsdt section: ELF notes of owner "stapsdt", type 3."""
    out, off, q = [], 0, "Q" if ptr_size == 8 else "I"
    while off + 12 <= len(data):
        namesz, descsz, ntype = struct.unpack_from(endian + "III", data, off)
        off += 12
        owner = data[off:off + namesz].rstrip(b"\0")
        off += (namesz + 3) & ~3
        desc = data[off:off + descsz]
        off += (descsz + 3) & ~3
        if owner != b"stapsdt" or ntype != _NT_STAPSDT or len(desc) < 3 * ptr_size:
            continue
        pc, base, sem = struct.unpack_from(endian + q * 3, desc, 0)
        strs = desc[3 * ptr_size:].split(b"\0")
        if len(strs) < 3:
            continue
        provider, name, args = (s.decode("utf-8", "replace") for s in strs[:3])
        out.append((provider, name, pc, base, sem, args))
    return out


class ElfFile:
    """Function symbols, address-to-offset mapping and SDT notes of an ELF."""

    def __init__(self, path: str):
        from elftools.elf.elffile import ELFFile
        from elftools.common.exceptions import ELFError
        self.path = path                         # the target's path (under --sysroot: local_path)
        from ..compilereads import note_file     # the program cache stamps it (imagecache.py)
        note_file(local_path(path))
        try:
            with open(local_path(path), "rb") as f:
                elf = ELFFile(f)
                self.is_pie = elf.header["e_type"] == "ET_DYN"
                self.machine = elf.header["e_machine"]
                self.ptr_size = 8 if elf.elfclass == 64 else 4
                self._endian = "<" if elf.little_endian else ">"
                self.segments = [(s["p_vaddr"], s["p_memsz"], s["p_offset"], s["p_filesz"])
                                 for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
                self._functions = self._read_functions(elf)
                sec = elf.get_section_by_name(".note.stapsdt")
                self._sdt_raw = sec.data() if sec is not None else b""
                base = elf.get_section_by_name(".stapsdt.base")
                self._sdt_base = base["sh_addr"] if base is not None else None
                self.build_id = self._read_build_id(elf)
                self.dynamic_functions = self._read_dynamic_functions(elf)
        except FileNotFoundError:
            raise KernelError(f"no such file: {path}") from None
        except (ELFError, struct.error) as e:
            raise KernelError(f"{path} is not a readable ELF file: {e}") from None
        except OSError as e:
            raise KernelError(f"cannot read {path}: {e.strerror}") from None
        self._sorted = sorted(self._functions, key=lambda s: s.address)
        self._starts = [s.address for s in self._sorted]

    def _read_functions(self, elf) -> list[ElfSymbol]:
        # Parsed with struct.iter_unpack: pyelftools' per-symbol objects cost
        # ~100 us each (0.2 s for libc).
        if self.ptr_size == 8:    # st_name, st_info, st_other, st_shndx, st_value, st_size
            fmt, order = self._endian + "IBBHQQ", (0, 1, 3, 4, 5)
        else:                     # st_name, st_value, st_size, st_info, st_other, st_shndx
            fmt, order = self._endian + "IIIBBH", (0, 3, 5, 1, 2)
        size = struct.calcsize(fmt)
        binds = {0: "STB_LOCAL", 1: "STB_GLOBAL", 2: "STB_WEAK"}
        seen, out = set(), []
        for secname in (".symtab", ".dynsym"):
            sec = elf.get_section_by_name(secname)
            if sec is None or sec["sh_type"] == "SHT_NOBITS":
                continue
            data = sec.data()
            strtab = elf.get_section(sec["sh_link"]).data()
            data = data[:len(data) - len(data) % size]
            for rec in struct.iter_unpack(fmt, data):
                name_off, info, shndx, value, sym_size = (rec[i] for i in order)
                if (info & 0xF) not in (2, 10) or value == 0 or shndx == 0:  # FUNC, GNU_IFUNC
                    continue
                end = strtab.find(b"\0", name_off)
                name = strtab[name_off:end].decode("utf-8", "replace").split("@")[0]
                if (name, value) in seen:
                    continue
                seen.add((name, value))
                off = self.vaddr_to_offset(value, strict=False)
                if off is not None:
                    out.append(ElfSymbol(name, value, sym_size, off, binds.get(info >> 4, "STB_OTHER")))
        return out

    @staticmethod
    def _read_dynamic_functions(elf) -> dict[str, int]:
        """`_init` and `_fini` from DT_INIT/DT_FINI: the dynamic section keeps
        their addresses even in a stripped binary."""
        sec = elf.get_section_by_name(".dynamic")
        if sec is None or sec["sh_type"] == "SHT_NOBITS":
            return {}
        names = {"DT_INIT": "_init", "DT_FINI": "_fini"}
        return {names[t.entry.d_tag]: t.entry.d_val for t in sec.iter_tags()
                if t.entry.d_tag in names and t.entry.d_val}

    @staticmethod
    def _read_build_id(elf) -> str | None:
        sec = elf.get_section_by_name(".note.gnu.build-id")
        if sec is None:
            return None
        for note in sec.iter_notes():
            if note["n_type"] == "NT_GNU_BUILD_ID":
                return note["n_desc"]
        return None

    def vaddr_to_offset(self, vaddr: int, strict: bool = True) -> int | None:
        """File offset of a virtual address inside a PT_LOAD segment."""
        for p_vaddr, memsz, p_offset, filesz in self.segments:
            if p_vaddr <= vaddr < p_vaddr + memsz:
                if vaddr - p_vaddr >= filesz and strict:
                    # .bss: not in the file; ref counters normally are not here
                    raise KernelError(f"{self.path}: address {vaddr:#x} is not backed by the file")
                return vaddr - p_vaddr + p_offset
        if strict:
            raise KernelError(f"{self.path}: address {vaddr:#x} is in no loadable segment")
        return None

    def functions(self) -> list[ElfSymbol]:
        return list(self._sorted)

    def function(self, name: str) -> ElfSymbol | None:
        """A function by name; a global definition wins over a local one."""
        hits = [s for s in self._functions if s.name == name]
        hits.sort(key=lambda s: s.binding != "STB_GLOBAL")
        return hits[0] if hits else None

    def glob(self, pattern: str) -> list[ElfSymbol]:
        rx = re.compile(glob_to_regex(pattern) + r"\Z")
        return [s for s in self._sorted if rx.match(s.name)]

    def symbolize(self, address: int) -> tuple[ElfSymbol, int] | None:
        """(function, offset) containing a link-time address."""
        i = bisect.bisect_right(self._starts, address) - 1
        if i < 0:
            return None
        s = self._sorted[i]
        if address - s.address >= max(s.size, 1):
            return None
        return s, address - s.address

    def sdt_notes(self) -> list[SdtNote]:
        out = []
        for provider, name, pc, base, sem, args in parse_sdt_notes(
                self._sdt_raw, self.ptr_size, self._endian):
            if self._sdt_base is not None and base:
                delta = self._sdt_base - base      # the binary was prelinked/moved
                pc += delta
                if sem:
                    sem += delta
            out.append(SdtNote(provider, name, pc, sem, args, self.vaddr_to_offset(pc),
                               self.vaddr_to_offset(sem) if sem else 0))
        return out

    def sdt_note(self, provider: str, name: str) -> list[SdtNote]:
        """Notes of one marker (a marker can appear at several sites)."""
        return [n for n in self.sdt_notes() if n.provider == provider and n.name == name]
