"""What differs between the architectures ftstap compiles for: the
registers kprobe/uprobe fetch-args name the first arguments by, the
syscall wrapper every system call enters through (`__x64_sys_NAME(const
struct pt_regs *regs)` on x86_64, `__arm64_sys_NAME` on arm64) and where
the user's arguments sit in that struct pt_regs, and the system call
numbers (native/syscall_tables.c).

The architecture is the described kernel's (KernelFeatures.arch: the
running one, or -r FILE's), never this machine's, so an image compiled here
from an arm64 kernel's description carries arm64's registers and numbers."""
from __future__ import annotations

from ..errors import KernelError
from ..record import frozen


@frozen
class Arch:
    name: str                          # uname -m
    machine: int                       # ELF e_machine (image/target.py)
    elf_machine: str                   # pyelftools' name of it
    arg_regs: tuple[str, ...]          # fetch-arg registers of arguments 1..N (C calling convention)
    syscall_wrapper: str               # prefix of the functions system calls enter through
    wrapper_args: tuple[str, ...]      # the user's arguments 1..6 in the wrapper's struct pt_regs *
    ni_syscalls: tuple[int, ...] = ()  # numbers the kernel routes to sys_ni_syscall
    # a kprobe on a tracepoint's iterator __traceiter_EVENT fires (sema/rawtp.py): seen on x86_64;
    # on Debian's arm64 6.1 kernel it never did, even with two callbacks on the tracepoint
    iterator_kprobes: bool = False


ARCHES = {
    # x86_64: rdi rsi rdx rcx r8 r9; pt_regs holds di si dx r10 r8 r9 (the syscall ABI's fourth is r10)
    "x86_64": Arch("x86_64", 62, "EM_X86_64", ("%di", "%si", "%dx", "%cx", "%r8", "%r9"), "__x64_sys_",
                   ("+112(%di)", "+104(%di)", "+96(%di)", "+56(%di)", "+72(%di)", "+64(%di)"),
                   (174, 177, 178, 180, 181, 182, 183, 184, 185, 214, 215, 236), iterator_kprobes=True),
    # arm64 (AAPCS64): x0..x7; pt_regs begins with regs[31], the user's x0..x5 first
    "aarch64": Arch("aarch64", 183, "EM_AARCH64", tuple(f"%x{i}" for i in range(8)), "__arm64_sys_",
                    tuple(f"+{8 * i}(%x0)" for i in range(6))),
}
WRAPPERS = tuple(a.syscall_wrapper for a in ARCHES.values())


def arch_named(name: str) -> Arch:
    a = ARCHES.get(name)
    if a is None:
        raise KernelError(f"ftstap compiles for {' and '.join(ARCHES)}, not {name} (fetch-arg registers, "
                          "system call numbers and the syscall wrapper are per architecture)")
    return a


def of(features) -> Arch:
    """The architecture of a kernel (KernelFeatures); this machine's when features is None."""
    if features is None:
        import os
        return arch_named(os.uname().machine)
    return arch_named(features.arch)


def current() -> Arch:
    from .features import KernelFeatures
    return of(KernelFeatures.current())


def syscall_nr(arch: Arch, name: str) -> int:
    """arch's number of system call name (or its tracepoint's name), -1 if unknown."""
    from ..image.isa import syscall_nr as nr
    return nr(name, arch.machine)


def wrong_program(features, path: str, elf_machine: str) -> str | None:
    """Why program `path` cannot be probed on the kernel's architecture, or
    None (-r for another one reads this machine's programs unless --sysroot
    names the target's)."""
    a = of(features)
    if elf_machine == a.elf_machine:
        return None
    from .symbols import SYSROOT
    mine = next((x.name for x in ARCHES.values() if x.elf_machine == elf_machine), elf_machine)
    where = f"under --sysroot {SYSROOT}" if SYSROOT else "on this machine"
    return (f"{path} {where} is a program for {mine}, and the kernel is {a.name}'s: "
            "name the target's root file system with --sysroot DIR")
