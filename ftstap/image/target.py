"""The machine a program image is for: its header's tag (ELF e_machine,
byte order, word size), so that an image carried to another machine is
refused with a message naming both instead of misreading records and
registers there.  native/program.c checks the same tag against the machine
ftstap-run was built for (FT_HOST_MACHINE in native/program.h).
"""
from __future__ import annotations

import platform
import struct
import sys

from ..record import frozen

# ELF e_machine numbers (elf.h) of the architectures ftstap may run on, by uname -m
MACHINES = {"x86_64": 62, "aarch64": 183, "riscv64": 243, "i686": 3, "armv7l": 40, "ppc64le": 21,
            "s390x": 22, "loongarch64": 258}
NAMES = {62: "x86_64", 183: "aarch64", 243: "riscv64", 3: "i386", 40: "arm", 21: "ppc64", 22: "s390x",
         258: "loongarch64"}
LITTLE, BIG = 1, 2                     # ELFDATA2LSB, ELFDATA2MSB
TAG = struct.Struct("<HBB")           # machine, byte order, word bits / 8


@frozen
class Target:
    machine: int
    byteorder: int
    wordsize: int                      # bytes of a pointer

    def pack(self) -> bytes:
        return TAG.pack(self.machine, self.byteorder, self.wordsize)

    @classmethod
    def unpack(cls, data: bytes, at: int) -> "Target":
        return cls(*TAG.unpack_from(data, at))

    def describe(self) -> str:
        name = NAMES.get(self.machine, f"machine {self.machine}")
        order = {LITTLE: "little-endian", BIG: "big-endian"}.get(self.byteorder, f"byte order {self.byteorder}")
        return f"{name} ({self.wordsize * 8}-bit, {order})"


def host() -> Target:
    """This machine, as images compiled here are tagged."""
    machine = MACHINES.get(platform.machine(), 0)
    return Target(machine, LITTLE if sys.byteorder == "little" else BIG, struct.calcsize("P"))


def target_of(features) -> Target:
    """The machine a kernel (KernelFeatures: the running one, or -r FILE's) runs on;
    this one when features is None.  Every architecture ftstap compiles for is
    64-bit little-endian."""
    name = getattr(features, "arch", None)
    if name is None or name == platform.machine():
        return host()
    return Target(MACHINES.get(name, 0), LITTLE, 8)
