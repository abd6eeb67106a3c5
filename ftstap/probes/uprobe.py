"""process("path").function("f")[.call|.return], .statement("f+off"),
.mark("name") (SDT notes) and process(PID)...  (process.begin/.end & co.:
probes/process_lifecycle.py.)

Symbols come from the ELF file (pyelftools); parameters, without DWARF,
are $arg1..$arg6 (x86-64 argument registers)."""
from __future__ import annotations

import os
import struct

from ..errors import KernelError
from .base import ContextVar, EventSource, Provider, Unservable, has_wildcard
from .grammar import Grammar
from ..kernel import arch
from .targets import UprobeTarget


def _args_context(features, is_return: bool) -> dict[str, ContextVar]:
    regs = arch.of(features).arg_regs
    ctx = {f"arg{i + 1}": ContextVar(f"arg{i + 1}", "long", "long", ("reg", r)) for i, r in enumerate(regs)}
    if is_return:
        ctx["return"] = ContextVar("return", "long", "long", ("retval",))
    return ctx


def _main_params(features) -> dict[str, ContextVar]:
    """main(int argc, char **argv, char **envp): C fixes these, so a binary
    without DWARF has them too.  They are typed with the kernel BTF's own
    int and char (the same types in this ABI) so `$argv[1]` can be read."""
    ids = {}
    try:
        from ..kernel.btf import INT
        btf = features.btf_reader()
        char = btf.find_one("char", INT)
        ids["int"] = btf.find_one("int", INT)
        ids["char **"] = btf.pointer_to(btf.pointer_to(char)) if char else None
    except KernelError:        # no BTF: the parameters are plain numbers
        pass
    regs = arch.of(features).arg_regs
    return {name: ContextVar(name, "long", ctype, ("reg", reg), btf_type=ids.get(ctype))
            for name, ctype, reg in (("argc", "int", regs[0]), ("argv", "char **", regs[1]),
                                     ("envp", "char **", regs[2]))}


def entry_symbols(path: str, elf) -> dict:
    """`_start` (the ELF entry point), `_init`/`_fini` (DT_INIT/DT_FINI)
    and, on x86-64, `main` found from the first argument _start hands to
    __libc_start_main (`lea main(%rip),%rdi` or `mov $main,%rdi`):
    stripped binaries such as /bin/ls have none of them in their symbol
    table."""
    import struct
    from ..kernel.symbols import ElfSymbol, local_path
    out = {}
    for name, addr in elf.dynamic_functions.items():
        off = elf.vaddr_to_offset(addr, strict=False)
        if off is not None:
            out[name] = ElfSymbol(name, addr, 0, off, "STB_GLOBAL")
    try:
        with open(local_path(path), "rb") as f:
            head = f.read(64)
            if head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:   # ELF64, little-endian
                return out
            entry = struct.unpack_from("<Q", head, 24)[0]
            off = elf.vaddr_to_offset(entry, strict=False)
            if off is None:
                return out
            f.seek(off)
            code = f.read(64)
    except OSError:
        return out
    out["_start"] = ElfSymbol("_start", entry, 0, off, "STB_GLOBAL")
    machine = struct.unpack_from("<H", head, 18)[0]
    if machine == 62:
        i = code.find(b"\x48\x8d\x3d")          # lea disp32(%rip),%rdi
        if i >= 0 and i + 7 <= len(code):
            main = entry + i + 7 + struct.unpack_from("<i", code, i + 3)[0]
        else:
            i = code.find(b"\x48\xc7\xc7")      # mov $imm32,%rdi
            main = struct.unpack_from("<I", code, i + 3)[0] if 0 <= i and i + 7 <= len(code) else None
    elif machine == 183:
        main = _arm64_main(local_path(path), entry, code)
    else:
        main = None
    moff = elf.vaddr_to_offset(main, strict=False) if main is not None else None
    if moff is not None:
        out["main"] = ElfSymbol("main", main, 0, moff, "STB_GLOBAL")
    return out


def _arm64_main(path: str, entry: int, code: bytes) -> int | None:
    """main's address in an arm64 PIE's _start (glibc's start.S): `adrp x0,
    PAGE; ldr x0, [x0, #OFF]` loads it from a GOT slot, which the file
    fills by an R_AARCH64_RELATIVE relocation whose addend is main."""
    import struct
    words = struct.unpack_from(f"<{len(code) // 4}I", code)
    for i in range(len(words) - 1):
        adrp, ldr = words[i], words[i + 1]
        if adrp & 0x9F00001F != 0x90000000 or ldr & 0xFFC003FF != 0xF9400000:    # adrp x0 / ldr x0, [x0, #imm]
            continue
        imm = ((adrp >> 5) & 0x7FFFF) << 2 | (adrp >> 29) & 3
        imm = (imm - (1 << 21) if imm & (1 << 20) else imm) << 12
        slot = ((entry + 4 * i) & ~0xFFF) + imm + ((ldr >> 10) & 0xFFF) * 8
        return _relative_addend(path, slot)
    return None


def _relative_addend(path: str, slot: int) -> int | None:
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    try:
        with open(path, "rb") as f:
            sec = ELFFile(f).get_section_by_name(".rela.dyn")
            for rel in (sec.iter_relocations() if sec is not None else ()):
                if rel["r_offset"] == slot and rel["r_info_type"] == 1027:      # R_AARCH64_RELATIVE
                    return rel["r_addend"]
    except (OSError, ELFError, struct.error):
        pass
    return None


def _program(arg) -> str:
    from ..kernel.symbols import resolve_program
    if isinstance(arg, int):
        return os.readlink(f"/proc/{arg}/exe")
    return resolve_program(arg)


def _is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return os.path.isfile(path) and f.read(4) == b"\x7fELF"
    except OSError:
        return False


def _programs(arg) -> list[str]:
    """The programs process(ARG) names: a path with wildcards is every ELF
    file it matches (as stap globs process("/usr/bin/qemu-*")), Unservable if none."""
    from ..kernel.symbols import local_path, SYSROOT
    if isinstance(arg, str) and "/" in arg and has_wildcard(arg):
        import glob
        found = sorted({_program(p[len(SYSROOT or ""):]) for p in glob.glob(local_path(arg)) if _is_elf(p)})
        if not found:
            raise Unservable(f"no program matches {arg}")
        return found
    try:
        return [_program(arg)]
    except (KernelError, OSError) as e:
        raise Unservable(f"cannot read the program: {e}") from None


class UprobeProvider(Provider):
    grammar = Grammar(("process(string|number).function(string)[.call|.return]",
                       "process(string|number).statement(string)", "process(string|number).mark(string)"))

    def resolve(self, comps, features):
        m = self.grammar.match(comps)
        if m is None or m.wrong:
            return None
        what = comps[1].name
        arg, is_return = m[what], "return" in m
        if not features.uprobe_events:
            raise Unservable("process probes need uprobe_events (CONFIG_UPROBE_EVENTS)")
        out = []
        for path in _programs(m["process"]):
            out += self._in_program(features, path, what, arg, is_return)
        return out

    def _in_program(self, features, path: str, what: str, arg: str, is_return: bool) -> list[EventSource]:
        try:
            from ..kernel.symbols import ElfFile
            elf = ElfFile(path)
        except (KernelError, OSError) as e:
            raise Unservable(f"cannot read the program: {e}") from None
        why = arch.wrong_program(features, path, elf.machine)
        if why:
            raise Unservable(why)
        out = []
        if what == "mark":
            for note in elf.sdt_notes():
                if note.name == arg or (has_wildcard(arg) and __import__("fnmatch").fnmatchcase(note.name, arg)):
                    off = elf.vaddr_to_offset(note.pc)
                    out.append(EventSource(UprobeTarget(path, off, sdt=note), f'process("{path}").mark("{note.name}")',
                                           {}))
            return out
        fname, _, off = arg.partition("+")
        syms = elf.glob(fname) if has_wildcard(fname) else [s for s in [elf.function(fname)] if s]
        if not syms and fname in ("main", "_start", "_init", "_fini"):
            syms = [s for n, s in entry_symbols(path, elf).items() if n == fname]
        for s in syms:
            extra = int(off, 0) if off else 0
            pp = f'process("{path}").{what}("{s.name}{"+" + off if off else ""}")' + \
                 (".return" if is_return else "")
            context = _args_context(features, is_return)
            if s.name == "main" and what == "function" and not is_return:
                context.update(_main_params(features))
            out.append(EventSource(UprobeTarget(path, s.offset + extra, s.name, is_return=is_return), pp, context))
        return out
