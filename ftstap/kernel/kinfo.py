"""Kernel descriptions ("kinfo" files): compiling for a kernel that is not
the one ftstap runs on (issue 17).

On the target, `ftstap-run --describe > target.kinfo` (no Python there) or
`ftstap --describe > target.kinfo` writes one (native/describe.c, the one
writer); on a development machine `ftstap -r target.kinfo -p4 -m NAME
script.stp` compiles for it.  Pass 2 reads the same facts from it as from a
live kernel: KernelFeatures.detect() takes them from a `files` object, the
live file system or a description (kernel/files.py), so there is one way
to describe a kernel.

Format, version 1 (bytes):

    FTSTAP-KINFO 1\\n
    F <size> <name>\\n <size bytes> \\n        one entry per file, any order
    ...
    E 0 end\\n

The whole file may be gzip-compressed (`ftstap-run --describe | gzip -9 >
target.kinfo`: Debian's arm64 6.1 kernel is described in 7.8 MB, 2.1 MB
with gzip -1, BTF and kallsyms being most of it); -r inflates it (to at
most 256 MiB).

<name> is an absolute path on the target (`/proc/kallsyms`,
`/sys/kernel/tracing/events/sched/sched_switch/format`, ...) holding that
file's content, or one of the pseudo-files `uname` (the release and the
machine, one per line) and `tracefs` (tracefs's mount point).  Entries:
uname, /sys/devices/system/cpu/online, each PMU's
/sys/bus/event_source/devices/NAME/type, tracefs, its README, empty
kprobe_events / uprobe_events / dynamic_events entries where those exist,
every events/SYSTEM/EVENT/format, /sys/kernel/btf/vmlinux, /proc/kallsyms
(text symbols only), /proc/config.gz (or /boot/config-RELEASE) and
/proc/timer_list (HZ, where no config is readable).

A description is untrusted input: every size and name is checked, names
must be normalized absolute paths, and a damaged file gives one error.
The big parts (formats, BTF, kallsyms, config) are laid out in a private
directory (mkdtemp, removed at exit) that KernelFeatures reads as a
snapshot directory."""
from __future__ import annotations

import atexit
import gzip
import os
import posixpath
import shutil
import tempfile

from ..errors import KernelError

MAGIC = b"FTSTAP-KINFO "
VERSION = 1
MAX_ENTRIES = 200_000
MAX_NAME = 4096
MAX_INFLATED = 256 << 20


def parse(data: bytes, where: str = "kernel description") -> dict[str, bytes]:
    """{name: content} of a kinfo file's bytes; KernelError if damaged."""
    def bad(why: str):
        raise KernelError(f"{where} is not a valid ftstap kernel description: {why}")
    nl = data.find(b"\n")
    if not data.startswith(MAGIC) or nl < 0:
        bad("it does not start with 'FTSTAP-KINFO' (write one with `ftstap-run --describe`)")
    version = data[len(MAGIC):nl]
    if not version.isdigit() or int(version) != VERSION:
        bad(f"version {version.decode('ascii', 'replace')!r}, this ftstap reads version {VERSION}")
    out: dict[str, bytes] = {}
    i = nl + 1
    while True:
        j = data.find(b"\n", i, i + MAX_NAME + 40)
        if j < 0:
            bad(f"entry header at byte {i} is cut off")
        parts = data[i:j].split(b" ", 2)
        if len(parts) != 3 or parts[0] not in (b"F", b"E") or not parts[1].isdigit():
            bad(f"entry header at byte {i} is malformed")
        if parts[0] == b"E":
            return out
        size = int(parts[1])
        start, end = j + 1, j + 1 + size
        if end >= len(data) or data[end:end + 1] != b"\n":
            bad(f"entry at byte {i} claims {size} bytes, more than the file holds")
        try:
            name = parts[2].decode("utf-8")
        except UnicodeDecodeError:
            bad(f"entry name at byte {i} is not UTF-8")
        if name not in ("uname", "tracefs") and (not name.startswith("/") or posixpath.normpath(name) != name
                                                 or "\0" in name):
            bad(f"entry name {name!r} is not a normalized absolute path")
        if name in out:
            bad(f"{name} appears twice")
        if len(out) >= MAX_ENTRIES:
            bad(f"more than {MAX_ENTRIES} entries")
        out[name] = data[start:end]
        i = end + 1


def _gunzip(data: bytes, path: str) -> bytes:
    """A gzip-compressed description (`ftstap-run --describe | gzip > FILE`:
    the runner links libc only, so the target's gzip compresses), inflated
    to at most MAX_INFLATED bytes: the file is untrusted."""
    import zlib
    d = zlib.decompressobj(wbits=31)
    try:
        out = d.decompress(data, MAX_INFLATED + 1)
    except zlib.error as e:
        raise KernelError(f"{path} is not a valid ftstap kernel description: damaged gzip data ({e})") from None
    if len(out) > MAX_INFLATED:
        raise KernelError(f"{path} is not a valid ftstap kernel description: it inflates to more than "
                          f"{MAX_INFLATED >> 20} MiB")
    if not d.eof:
        raise KernelError(f"{path} is not a valid ftstap kernel description: the gzip data is cut off")
    return out


def load(path: str):
    """KernelFeatures of the kernel described in file `path`."""
    from .features import KernelFeatures
    from .files import KinfoFiles
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise KernelError(f"cannot read kernel description {path}: {e.strerror}") from None
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, path)
    entries = parse(data, path)
    files = KinfoFiles(entries)
    features = KernelFeatures.detect(files=files)
    features.snapshot = _lay_out(files, features)
    features.described = True
    return features


def _lay_out(files, features) -> str:
    """A private snapshot directory (features.py's layout) of the big parts."""
    d = tempfile.mkdtemp(prefix="ftstap-kinfo-")
    atexit.register(shutil.rmtree, d, True)
    root = features.tracefs
    if root:
        events = root.rstrip("/") + "/events/"
        for name, data in files.entries.items():
            if name.startswith(events) and name.endswith("/format"):
                rel = name[len(events):].split("/")
                if len(rel) == 3 and all(p and p not in (".", "..") for p in rel):
                    os.makedirs(os.path.join(d, "events", rel[0], rel[1]), exist_ok=True)
                    _write(os.path.join(d, "events", rel[0], rel[1], "format"), data)
    if "/sys/kernel/btf/vmlinux" in files.entries:
        os.makedirs(os.path.join(d, "btf"), exist_ok=True)
        _write(os.path.join(d, "btf", "vmlinux"), files.entries["/sys/kernel/btf/vmlinux"])
    if "/proc/kallsyms" in files.entries:
        _write(os.path.join(d, "kallsyms"), files.entries["/proc/kallsyms"])
    config = files.entries.get("/proc/config.gz")
    if config is not None:
        try:
            config = gzip.decompress(config)
        except (OSError, EOFError, ValueError):
            raise KernelError("the kernel description's /proc/config.gz is damaged") from None
    else:
        config = files.entries.get(f"/boot/config-{features.release}")
    if config is not None:
        _write(os.path.join(d, "config"), config)
    if "/proc/timer_list" in files.entries:
        _write(os.path.join(d, "timer_list"), files.entries["/proc/timer_list"])
    return d


def _write(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
