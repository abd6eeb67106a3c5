"""kallsyms text parsing, globbing, symbolizing; SDT note bytes; PATH lookup."""
import re
import struct

import pytest

from ftstap.errors import KernelError
from ftstap.kernel.symbols import (Kallsyms, KSym, SdtArg, SdtNote, glob_to_regex,
                                   parse_kallsyms_line, parse_sdt_notes, resolve_program)

KALLSYMS = """\
ffffffff81000000 T _stext
ffffffff81000000 T _text
ffffffff81001000 t vfs_helper
ffffffff81001040 T vfs_read
ffffffff81001100 T vfs_readv
ffffffff81001180 t vfs_read.cold
ffffffff81001200 T vfs_write
ffffffff81002000 D vfs_data
ffffffff81002100 W weak_fn
ffffffffc0001000 t vfs_read\t[ext4]
ffffffffc0001100 t ext4_open\t[ext4]
"""


def test_parse_lines():
    assert parse_kallsyms_line("ffffffff81001040 T vfs_read") == \
        KSym(0xffffffff81001040, "T", "vfs_read", None)
    assert parse_kallsyms_line("ffffffffc0001100 t ext4_open\t[ext4]") == \
        KSym(0xffffffffc0001100, "t", "ext4_open", "ext4")
    assert parse_kallsyms_line("0000000000000000 A fixed_percpu_data") == \
        KSym(0, "A", "fixed_percpu_data", None)
    assert parse_kallsyms_line("garbage") is None
    assert parse_kallsyms_line("") is None


def test_lookup_prefers_vmlinux_text():
    k = Kallsyms(KALLSYMS)
    assert k.lookup("vfs_read") == KSym(0xffffffff81001040, "T", "vfs_read", None)
    assert [s.module for s in k.lookup_all("vfs_read")] == [None, "ext4"]
    assert k.address_of("ext4_open") == 0xffffffffc0001100
    assert k.address_of("vfs_rea") is None        # no prefix matches
    assert k.address_of("read") is None
    assert k.lookup("vfs_data").type == "D"
    assert k.has_addresses


def test_many_lookups_use_an_index_with_the_same_answers():
    k, fresh = Kallsyms(KALLSYMS), Kallsyms(KALLSYMS)
    for _ in range(Kallsyms.INDEX_AFTER + 1):
        k.lookup_all("nothing")
    assert k._by_name is not None
    for name in ("vfs_read", "ext4_open", "vfs_rea", "read", "vfs_data", "_text"):
        assert k.lookup_all(name) == fresh.lookup_all(name), name


def test_glob():
    k = Kallsyms(KALLSYMS)
    assert [s.name for s in k.glob("vfs_*")] == ["vfs_helper", "vfs_read", "vfs_readv",
                                                "vfs_write", "vfs_read"]   # data excluded
    assert [s.name for s in k.glob("vfs_*.cold")] == ["vfs_read.cold"]
    assert [s.name for s in k.glob("vfs_re?d")] == ["vfs_read", "vfs_read"]
    assert [(s.name, s.module) for s in k.glob("vfs_read", module="ext4")] == [("vfs_read", "ext4")]
    assert [s.name for s in k.glob("vfs_[rw]*") if s.module is None] == ["vfs_read", "vfs_readv", "vfs_write"]
    assert [s.name for s in k.glob("weak*")] == ["weak_fn"]
    assert k.glob("nothing*") == []


def test_glob_to_regex():
    assert re.fullmatch(glob_to_regex("a*b?"), "axxbc")
    assert not re.fullmatch(glob_to_regex("a*"), "a b")
    assert re.fullmatch(glob_to_regex("[!x]y"), "zy") and not re.fullmatch(glob_to_regex("[!x]y"), "xy")
    assert re.fullmatch(glob_to_regex("a.b"), "a.b") and not re.fullmatch(glob_to_regex("a.b"), "axb")


def test_symbolize():
    k = Kallsyms(KALLSYMS)
    sym, off, size = k.symbolize(0xffffffff81001050)
    assert (sym.name, off, size) == ("vfs_read", 0x10, 0xc0)
    assert k.format_address(0xffffffff81001050) == "vfs_read+0x10/0xc0 [kernel]"
    assert k.format_address(0xffffffffc0001010) == "vfs_read+0x10/0x100 [ext4]"
    assert k.symbolize(0xffffffff81000010)[0].name in ("_stext", "_text")
    assert k.symbolize(0x1000) is None
    assert k.format_address(0x1000) == "0x1000"


def test_hidden_addresses():
    k = Kallsyms("0000000000000000 T _stext\n0000000000000000 T vfs_read\n")
    assert not k.has_addresses


def note(owner: bytes, ntype: int, desc: bytes) -> bytes:
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return struct.pack("<III", len(owner), len(desc), ntype) + pad(owner) + pad(desc)


def test_parse_sdt_notes():
    d1 = struct.pack("<QQQ", 0x1141, 0x2007, 0x4018) + b"prov\0hello\0-4@%edi 8@-8(%rbp)\0"
    d2 = struct.pack("<QQQ", 0x114c, 0x2007, 0) + b"prov\0bare\0\0"
    data = (note(b"stapsdt\0", 3, d1) + note(b"GNU\0", 3, b"\x01\x02\x03\x04")
            + note(b"stapsdt\0", 3, d2))
    assert parse_sdt_notes(data, 8) == [("prov", "hello", 0x1141, 0x2007, 0x4018, "-4@%edi 8@-8(%rbp)"),
                                        ("prov", "bare", 0x114c, 0x2007, 0, "")]
    d32 = struct.pack(">III", 0x100, 0x200, 0) + b"p\0n\0\0"
    be = struct.pack(">III", 8, len(d32), 3) + b"stapsdt\0" + d32 + b"\0" * (-len(d32) % 4)
    assert parse_sdt_notes(be, 4, ">") == [("p", "n", 0x100, 0x200, 0, "")]


def test_sdt_arguments():
    n = SdtNote("p", "n", 0, 0, "-4@%edi 8@-8(%rbp) 1@$5 %eax", 0, 0)
    assert n.arguments == [SdtArg(4, True, "%edi"), SdtArg(8, False, "-8(%rbp)"),
                           SdtArg(1, False, "$5"), SdtArg(8, True, "%eax")]


def test_resolve_program(tmp_path, monkeypatch):
    prog = tmp_path / "bin" / "mytool"
    prog.parent.mkdir()
    prog.write_text("#!/bin/sh\n")
    prog.chmod(0o755)
    link = tmp_path / "bin" / "alias"
    link.symlink_to(prog)
    monkeypatch.setenv("PATH", f"/nonexistent:{prog.parent}")
    assert resolve_program("mytool") == str(prog)
    assert resolve_program("alias") == str(prog)          # symlinks resolved
    monkeypatch.chdir(tmp_path)
    assert resolve_program("bin/mytool") == str(prog)     # relative path, not PATH
    with pytest.raises(KernelError, match="cannot find program 'nosuch' in PATH"):
        resolve_program("nosuch")
    with pytest.raises(KernelError, match="no such file"):
        resolve_program("./nosuch")


def test_elf_errors(tmp_path):
    from ftstap.kernel.symbols import ElfFile
    bad = tmp_path / "x"
    bad.write_bytes(b"not an elf at all")
    with pytest.raises(KernelError, match="not a readable ELF"):
        ElfFile(str(bad))
    with pytest.raises(KernelError, match="no such file"):
        ElfFile(str(tmp_path / "missing"))
