"""Files of ftstap's caches (the tapset parse cache, the program cache).

They live in $XDG_CACHE_HOME/ftstap (or ~/.cache/ftstap).  Entries are
pickles, and unpickling runs code while ftstap often runs as root: an entry
is read only when this user owns it and nobody else may write it, and is
written 0600 (atomically, through a temporary file) in a directory created
0700.  Any problem reading or writing just means computing again."""
from __future__ import annotations

import os
import pickle


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


def load(path: str):
    """The unpickled entry, or None (missing, foreign, stale format, truncated)."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_uid != os.geteuid() or st.st_mode & 0o022:
                return None
            return pickle.load(f)
    except Exception:
        return None


def store(path: str, value) -> bool:
    """Write an entry; False when it could not be written."""
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb", opener=lambda p, flags: os.open(p, flags, 0o600)) as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        return True
    except Exception:
        return False


def remove(path: str) -> bool:
    try:
        os.unlink(path)
        return True
    except OSError:
        return False
