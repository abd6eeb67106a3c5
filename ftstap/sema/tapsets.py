"""The tapset library, parsed once and cached.

Pass 1 needs every tapset at every run (aliases and functions are looked up
by name in pass 2).  Parsing them costs ~30 ms; unpickling the parsed ASTs
~2 ms.  The cache lives in $XDG_CACHE_HOME/ftstap (or ~/.cache/ftstap),
keyed by everything the parse depends on: each file's path, size and
mtime, the macro libraries, the preprocessor settings and ftstap's own
parser files.  Any problem with the cache just means parsing again."""
from __future__ import annotations

import zlib
import os
import pickle

VERSION = 1


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "ftstap")


def stamp(path: str) -> str:
    """What identifies a file's version: path, size, mtime and inode."""
    try:
        st = os.stat(path)
    except OSError:
        return f"{path}:missing"
    return f"{path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def cache_key(paths: list[str], macro_paths: list[str], settings: tuple) -> str:
    from ..lang import ast, parser, preprocess
    # zlib's checksums, not hashlib: importing hashlib costs ~7 ms at every start.
    parts = [f"v{VERSION}"] + [stamp(p) for p in list(paths) + ["--"] + list(macro_paths) + ["--"] +
                                [ast.__file__, parser.__file__, preprocess.__file__, __file__]]
    data = ("\0".join(parts) + repr(settings)).encode()
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}{len(data):x}"


def load_private(path: str):
    """Unpickle a cache file, but only one this user wrote and nobody else may
    change (unpickling runs code: ftstap often runs as root), else None."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_uid != os.geteuid() or st.st_mode & 0o022:
                return None
            return pickle.load(f)
    except Exception:          # missing, stale format, truncated: parse again
        return None


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def make_private_dir(d: str) -> None:
    os.makedirs(d, mode=0o700, exist_ok=True)


def load(key: str):
    """(tapsets, warnings) from the cache, or None."""
    return load_private(os.path.join(cache_dir(), f"tapsets-{key}.pickle"))


def store(key: str, value) -> None:
    d = cache_dir()
    try:
        make_private_dir(d)
        for old in os.listdir(d):        # one library version at a time
            if old.startswith("tapsets-") and old != f"tapsets-{key}.pickle":
                try:
                    os.unlink(os.path.join(d, old))
                except OSError:
                    pass
        tmp = os.path.join(d, f".tapsets-{key}.{os.getpid()}")
        with open(tmp, "wb", opener=_private) as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, os.path.join(d, f"tapsets-{key}.pickle"))
    except Exception:
        pass
