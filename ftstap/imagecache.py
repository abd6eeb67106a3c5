"""The compiled-program cache: a script run again skips passes 1 to 4.

stap keeps the modules it builds in ~/.systemtap/cache and reuses one when
the script and everything it was compiled against are unchanged.  ftstap
does the same for its program images, before pass 1: a hit loads the image
and goes straight to pass 5, without importing the parser, the elaborator or
the code generator (for `syscall.*` scripts, most of the start-up time).

An entry is keyed by everything a compile depends on:
- the script's text and name, its arguments and every compile option;
- the environment the passes read (cwd, euid, PATH, SYSTEMTAP_TAPSET,
  FTSTAP_* settings);
- the kernel: release and build, boot id (tracepoint ids, kallsyms and BTF
  are fixed for a boot), loaded modules and online CPUs;
- ftstap's own code and tapset library (path, size and mtime of each file);
- the ELF files the compile read (process(...) probes and their
  libraries; ftstap/compilereads.py), recorded in the entry and checked on use.

The entry keeps the whole key text and compares it on use, so a checksum
collision is a miss, never a wrong program.  Warnings of the compile are
stored and printed again on a hit.  Only successful compiles are stored;
entries are kept as ftstap/cachefiles.py keeps them, and any problem reading
or writing the cache just means compiling again.

--disable-cache neither reads nor writes it, --poison-cache compiles again
and replaces the entry, --clean-cache empties it.
"""
from __future__ import annotations

import os
import zlib

from . import cachefiles, compilereads
from .cachefiles import cache_dir, stamp as _stamp

VERSION = 1
MAX_ENTRIES = 128
PREFIX = "image-"
# Options that change how a run reports, never what is compiled.
_REPORTING_ONLY = ("output", "size_limit", "timeout", "verbose", "no_warnings")

def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _code_stamps(include: list[str]) -> list[str]:
    """ftstap's own modules, native core and tapset library."""
    from .lang.library import library_dirs
    package = os.path.dirname(os.path.abspath(__file__))
    out = []
    for root in [package] + library_dirs(list(include)):
        for dirpath, dirnames, names in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            out.extend(_stamp(os.path.join(dirpath, n)) for n in sorted(names)
                       if n.endswith((".py", ".so", ".stp", ".stpm")))
    return out


def _kernel() -> list[str]:
    u = os.uname()
    modules = " ".join(line.split(" ", 1)[0] for line in _read("/proc/modules").splitlines())
    return [u.release, u.version, u.machine, _read("/proc/sys/kernel/random/boot_id").strip(), modules,
            _read("/sys/devices/system/cpu/online").strip()]


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:         # removed while we run in it
        return None


def applies(opts) -> bool:
    """A full run (pass 5) whose image is not kept or patched with -G, from a
    working directory that still exists (relative paths are part of the key)."""
    return (opts.last_pass == 5 and not opts.disable_cache and not opts.globals_ and not opts.keep
            and not opts.run_image and not opts.kernel and not opts.sysroot and _cwd() is not None)


class Slot:
    """One script's place in the cache: look it up, or fill it after pass 4."""

    def __init__(self, opts, source_name: str, source_text: str):
        options = sorted((k, repr(v)) for k, v in vars(opts).items() if k not in _REPORTING_ONLY)
        env = sorted((k, v) for k, v in os.environ.items()
                     if k.startswith("FTSTAP_") or k in ("PATH", "SYSTEMTAP_TAPSET", "TZ"))
        self.material = "\0".join([f"v{VERSION}", source_name, source_text, repr(options), _cwd() or "",
                                   str(os.geteuid()), repr(env)] + _kernel() + _code_stamps(opts.include))
        data = self.material.encode("utf-8", "surrogateescape")
        # zlib's checksums, not hashlib (~7 ms to import): the full text is compared on use.
        key = f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"
        self.path = os.path.join(cache_dir(), f"{PREFIX}{key}.pickle")
        self.poisoned = opts.poison_cache
        self.warnings: list[str] = []
        compilereads.clear()

    def lookup(self):
        """(image, warnings) of a valid entry, or None."""
        if self.poisoned:
            return None
        entry = cachefiles.load(self.path)
        try:
            if entry is None or entry["material"] != self.material:
                return None
            if any(_stamp(path) != stamp for path, stamp in entry["files"]):
                return None
            return entry["image"], entry["warnings"]
        except (KeyError, TypeError, ValueError):     # an entry of another format: compile again
            return None

    def store(self, image: bytes) -> None:
        files = [(p, _stamp(p)) for p in compilereads.files()]
        entry = {"material": self.material, "files": files, "warnings": self.warnings, "image": image}
        if cachefiles.store(self.path, entry):
            _prune(os.path.dirname(self.path))


def _entries(d: str) -> list[str]:
    try:
        return [os.path.join(d, n) for n in os.listdir(d) if n.startswith(PREFIX)]
    except OSError:
        return []


def _prune(d: str) -> None:
    """Keep the MAX_ENTRIES most recently written entries."""
    entries = _entries(d)
    if len(entries) <= MAX_ENTRIES:
        return
    def mtime(p):
        try:
            return os.stat(p).st_mtime_ns
        except OSError:
            return 0
    for p in sorted(entries, key=mtime)[:len(entries) - MAX_ENTRIES]:
        cachefiles.remove(p)


def clean() -> int:
    """--clean-cache: remove every entry; the number removed."""
    return sum(cachefiles.remove(p) for p in _entries(cache_dir()))
