"""Real /proc/kallsyms, and ELF symbols / SDT notes of programs built here,
checked by firing uprobes at the offsets they give."""
import os
import subprocess

import pytest

from ftstap.kernel.dynevents import EventGroup
from ftstap.kernel.symbols import ElfFile, Kallsyms, resolve_program



def have_sys_sdt() -> bool:
    r = subprocess.run(["/usr/bin/gcc", "-fsyntax-only", "-x", "c", "-"],
                       input="#include <sys/sdt.h>\n", capture_output=True, text=True)
    return r.returncode == 0

# Used when <sys/sdt.h> (systemtap-sdt-dev) is not installed: one nop plus
# a .note.stapsdt entry as the SDT format lays it out (owner "stapsdt",
# type 3; desc = pc, .stapsdt.base address, semaphore, provider, name, args).
OWN_SDT = r"""
#define FT_PROBE1(prov, name, arg)                                             \
  __asm__ __volatile__(                                                        \
    "990: nop\n"                                                               \
    ".pushsection .note.stapsdt,\"?\",\"note\"\n"                              \
    ".balign 4\n"                                                              \
    ".4byte 992f-991f, 994f-993f, 3\n"                                         \
    "991: .asciz \"stapsdt\"\n"                                                \
    "992: .balign 4\n"                                                         \
    "993: .8byte 990b\n"                                                       \
    ".8byte _.stapsdt.base\n"                                                  \
    ".8byte " #prov "_" #name "_semaphore\n"                                   \
    ".asciz \"" #prov "\"\n"                                                   \
    ".asciz \"" #name "\"\n"                                                   \
    ".asciz \"-4@%0\"\n"                                                       \
    "994: .balign 4\n"                                                         \
    ".popsection\n"                                                            \
    ".ifndef _.stapsdt.base\n"                                                 \
    ".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n"    \
    ".weak _.stapsdt.base\n"                                                   \
    ".hidden _.stapsdt.base\n"                                                 \
    "_.stapsdt.base: .space 1\n"                                               \
    ".size _.stapsdt.base, 1\n"                                                \
    ".popsection\n"                                                            \
    ".endif\n"                                                                 \
    :: "D"(arg))
"""

SYS_SDT_PROBE = """
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#define FT_PROBE1(prov, name, arg) STAP_PROBE1(prov, name, arg)
"""

SDT_PROG = r"""
#include <stdio.h>
#include <stdlib.h>
%s
unsigned short ftprov_tick_semaphore __attribute__((section(".probes"), used));
int main(int argc, char **argv) {
    int v = argc > 1 ? atoi(argv[1]) : 0;
    printf("%%s\n", ftprov_tick_semaphore ? "on" : "off");
    FT_PROBE1(ftprov, tick, v);
    return 0;
}
"""

# SDT argument registers as uprobe fetch-args
_REGS = {"%edi": "%di", "%rdi": "%di", "%esi": "%si", "%eax": "%ax", "%ebx": "%bx",
         "%ecx": "%cx", "%edx": "%dx", "%ebp": "%bp", "%r12d": "%r12", "%r13d": "%r13"}


@pytest.fixture(scope="module")
def kallsyms():
    return Kallsyms.load()


def test_kallsyms_real(kallsyms, need):
    need(kallsyms.has_addresses, "/proc/kallsyms with real addresses (kptr_restrict=0)")
    s = kallsyms.lookup("do_sys_openat2")
    assert s.is_text and s.module is None and s.address >= 0xffff800000000000
    sym, off, size = kallsyms.symbolize(s.address + 1)
    assert (sym.address, off) == (s.address, 1) and size > 1
    assert kallsyms.format_address(s.address + 1).endswith(f"+0x1/{size:#x} [kernel]")
    names = {x.name for x in kallsyms.glob("vfs_rea*")}
    assert {"vfs_read", "vfs_readv"} <= names
    assert all(n.startswith("vfs_rea") and "." not in n for n in names)


@pytest.mark.parametrize("header", ["sys/sdt.h", "own note"])
def test_sdt_note_and_semaphore(header, cc, instance, need, tfs):
    if header == "sys/sdt.h" and not have_sys_sdt():
        pytest.skip("<sys/sdt.h> missing (apt-get install systemtap-sdt-dev); "
                    "the same checks run with the hand-written note")
    prog = cc(SDT_PROG % (SYS_SDT_PROBE if header == "sys/sdt.h" else OWN_SDT), "sdt")
    elf = ElfFile(prog)
    notes = elf.sdt_notes()
    assert [(n.provider, n.name) for n in notes] == [("ftprov", "tick")]
    n = notes[0]
    assert len(n.arguments) == 1 and n.arguments[0].size == 4 and n.arguments[0].signed
    reg = n.arguments[0].operand
    assert reg in _REGS, f"argument not in a register: {n.args}"
    # the semaphore is the variable we declared, in the file-backed .probes section
    probes = [s for s in elf.segments if s[0] <= n.semaphore < s[0] + s[3]]
    assert probes and n.semaphore_offset == n.semaphore - probes[0][0] + probes[0][2]
    with open(prog, "rb") as f:
        f.seek(n.pc_offset)
        assert f.read(1) == b"\x90"              # the probe site is the nop
    # fire it: the uprobe sets the semaphore (ref_ctr) and reads the argument
    need(os.path.exists(os.path.join(tfs, "uprobe_events")), "uprobe_events")
    assert subprocess.run([prog, "7"], capture_output=True, text=True).stdout == "off\n"
    with EventGroup() as g:
        g.add(f"p:{g.name}/tick {prog}:{n.pc_offset:#x}({n.semaphore_offset:#x}) "
              f"v={_REGS[reg]}:s32")
        instance.enable(g.name, "tick")
        out = subprocess.run([prog, "-77"], capture_output=True, text=True).stdout
        instance.enable(g.name, "tick", False)
        assert out == "on\n"
        assert "v=-77" in instance.trace()


def test_elf_functions_match_nm(cc, need):
    import shutil
    need(shutil.which("nm"), "nm (binutils)")
    prog = cc("static int __attribute__((noinline,used)) helper(int x) { return x * 3; }\n"
              "int __attribute__((noinline)) visible(int x) { return helper(x) + 1; }\n"
              "int main(int c, char **v) { return visible(c); }\n", "funcs", "-no-pie")
    out = subprocess.run(["nm", "--defined-only", prog], capture_output=True, text=True).stdout
    nm = {p[2]: int(p[0], 16) for p in (l.split() for l in out.splitlines())
          if len(p) == 3 and p[1] in "tT"}
    elf = ElfFile(prog)
    assert not elf.is_pie
    for name in ("helper", "visible", "main"):
        s = elf.function(name)
        assert s.address == nm[name]
        text = next(seg for seg in elf.segments if seg[0] <= s.address < seg[0] + seg[3])
        assert s.offset == s.address - text[0] + text[2] and s.offset < os.path.getsize(prog)
    assert elf.function("helper").binding == "STB_LOCAL"
    assert [s.name for s in elf.glob("vis*")] == ["visible"]
    f, off = elf.symbolize(elf.function("visible").address + 2)
    assert (f.name, off) == ("visible", 2)


def test_resolve_program_through_path():
    sh = resolve_program("sh")
    assert os.path.isabs(sh) and os.access(sh, os.X_OK) and not os.path.islink(sh)
    libc_funcs = ElfFile(resolve_program("ls")).functions()
    assert libc_funcs                       # a stripped binary still has .dynsym
