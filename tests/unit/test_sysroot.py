"""--sysroot DIR with -r: process("PATH") probes read the target's programs
from DIR (the target's root file system), name them by their path there,
and a program of another architecture is refused by name."""
import os
import struct
import subprocess
import sys

import pytest

from test_kinfo import described


def arm64_elf() -> bytes:
    """A minimal arm64 executable: one PT_LOAD segment, entry at offset 0x78."""
    code = b"\x1f\x20\x03\xd5" * 4          # nop x4
    size = 64 + 56 + len(code)
    ehdr = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8 + struct.pack(
        "<HHIQQQIHHHHHH", 2, 183, 1, 0x400078, 64, 0, 0, 64, 56, 1, 64, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, 0x400000, 0x400000, size, size, 0x1000)
    return ehdr + phdr + code


@pytest.fixture
def target(tmp_path):
    kinfo = tmp_path / "arm.kinfo"
    kinfo.write_bytes(described(**{"/sys/kernel/tracing/uprobe_events": b""}))
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "bin" / "prog").write_bytes(arm64_elf())
    os.symlink("/bin/prog", root / "usr" / "bin" / "prog2")     # absolute: resolved inside the sysroot
    return str(kinfo), str(root)


def ftstap(*args):
    return subprocess.run([sys.executable, "-m", "ftstap", *args], capture_output=True, text=True, timeout=120)


def test_programs_are_read_from_the_sysroot_and_named_as_on_the_target(target):
    kinfo, root = target
    r = ftstap("-r", kinfo, "--sysroot", root, "-p3", "-e",
               'probe process("prog2").function("_start") { println(pid()) }')
    assert r.returncode == 0, r.stderr
    assert "p:GROUP/e0 /bin/prog:0x78" in r.stdout, r.stdout


def test_a_program_of_another_architecture_is_refused(target):
    kinfo, root = target
    here = os.path.realpath(sys.executable)
    r = ftstap("-r", kinfo, "-p2", "-e", f'probe process("{here}").function("main") {{ }}')
    assert r.returncode == 1
    assert f"{here} on this machine is a program for {os.uname().machine}, and the kernel is aarch64's: " \
        "name the target's root file system with --sysroot DIR" in r.stderr, r.stderr


def test_a_program_missing_from_the_sysroot_is_an_error(target):
    kinfo, root = target
    r = ftstap("-r", kinfo, "--sysroot", root, "-p2", "-e", 'probe process("ls").function("main") { }')
    assert r.returncode == 1 and f"cannot find program 'ls' under --sysroot {root}" in r.stderr, r.stderr
    r = ftstap("-r", kinfo, "--sysroot", root + "/nope", "-p2", "-e", "probe begin { }")
    assert r.returncode == 1 and "--sysroot" in r.stderr and "no such directory" in r.stderr, r.stderr


def test_main_of_a_stripped_arm64_pie_is_read_from_start(monkeypatch):
    """glibc's arm64 _start loads main from a GOT slot (adrp x0 + ldr x0):
    the words of Debian's arm64 /bin/sleep, entry 0x1c00, slot 0x1ffa8."""
    from ftstap.probes import uprobe
    words = (0xd503201f, 0xd280001d, 0xd280001e, 0xaa0003e5, 0xf94003e1, 0x910023e2, 0x910003e6,
             0xd00000e0, 0xf947d400, 0xd2800003, 0xd2800004, 0x97fffe81)
    slots = []
    monkeypatch.setattr(uprobe, "_relative_addend", lambda path, slot: slots.append(slot) or 0x1900)
    assert uprobe._arm64_main("sleep", 0x1c00, struct.pack(f"<{len(words)}I", *words)) == 0x1900
    assert slots == [0x1ffa8]
    assert uprobe._arm64_main("sleep", 0x1c00, struct.pack("<4I", *words[:4])) is None


def test_a_program_path_with_wildcards_is_every_program_it_matches(target):
    kinfo, root = target
    with open(os.path.join(root, "bin", "prog.sh"), "w") as f:
        f.write("#!/bin/sh\n")                                  # not a program to probe
    with open(os.path.join(root, "bin", "prog3"), "wb") as f:
        f.write(arm64_elf())
    r = ftstap("-r", kinfo, "--sysroot", root, "-p3", "-e", 'probe process("/bin/pro*").function("_start") { println(1) }')
    assert r.returncode == 0, r.stderr
    assert "p:GROUP/e0 /bin/prog:0x78" in r.stdout and "p:GROUP/e1 /bin/prog3:0x78" in r.stdout, r.stdout
    assert "prog.sh" not in r.stdout
    r = ftstap("-r", kinfo, "--sysroot", root, "-p2", "-e", 'probe process("/opt/x*").function("_start") { }')
    assert r.returncode == 1 and "no program matches /opt/x*" in r.stderr, r.stderr
