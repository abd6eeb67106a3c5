"""The syscalls:* tracepoint formats of this boot, cached between runs.

`syscall.*` binds ~360 sys_enter_* events and reads each one's format
file; tracefs generates those files on every read and takes the kernel's
event mutex to do it, so reading them costs 0.1-0.2 s on an idle machine
and seconds while other tracers create or remove dynamic events.  The
formats of static tracepoints cannot change until the next boot, so the
parsed EventFormats are kept in ftstap's cache (ftstap/cachefiles.py: this
user's, private, never trusted otherwise), keyed by the kernel release, the
boot id, the tracefs mount point and the parser.  A snapshot (compiling
for another kernel) is never cached: it is read as it is."""
from __future__ import annotations

import os
import zlib

from .. import cachefiles

VERSION = 1


def _key(features, system: str) -> str | None:
    if features.snapshot or not features.tracefs:
        return None
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
    except OSError:
        return None
    from . import tracefs
    u = os.uname()
    data = "\0".join([f"v{VERSION}", u.release, u.version, boot, features.tracefs, system,
                      cachefiles.stamp(tracefs.__file__)]).encode()
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


def _path(key: str, system: str) -> str:
    return os.path.join(cachefiles.cache_dir(), f"formats-{system}-{key}.pickle")


def preload(features, system: str) -> None:
    """Put the cached formats of `system` into features' own cache (once)."""
    mark = ("fmtcache", system)          # events the cache file holds, in features' own cache
    if mark in features._cache:
        return
    key = _key(features, system)
    got = cachefiles.load(_path(key, system)) if key else None
    formats = got if isinstance(got, dict) else {}
    features._cache[mark] = set(formats)
    for event, fmt in formats.items():
        features._cache.setdefault(("fmt", system, event), fmt)


def save(features, system: str) -> None:
    """Store the formats of `system` read so far, if the cache lacks some."""
    have = {k[2]: v for k, v in features._cache.items()
            if isinstance(k, tuple) and len(k) == 3 and k[0] == "fmt" and k[1] == system}
    if set(have) <= features._cache.get(("fmtcache", system), set()):
        return
    key = _key(features, system)
    if key is None:
        return
    path = _path(key, system)
    old = cachefiles.load(path)
    if isinstance(old, dict):
        old.update(have)
        have = old
    try:                                   # one boot's formats at a time
        for name in os.listdir(cachefiles.cache_dir()):
            if name.startswith(f"formats-{system}-") and name != os.path.basename(path):
                os.unlink(os.path.join(cachefiles.cache_dir(), name))
    except OSError:
        pass
    if cachefiles.store(path, have):
        features._cache[("fmtcache", system)] = set(have)
