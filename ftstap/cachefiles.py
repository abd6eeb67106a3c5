"""Files of ftstap's caches (the tapset parse cache, the program cache).

They live in $XDG_CACHE_HOME/ftstap (or ~/.cache/ftstap).  Entries are
pickles, and unpickling runs code while ftstap often runs as root: an entry
is read only when this user owns it and nobody else may write it, and is
written 0600 (atomically, through a new file of a random name, never
through a symlink) in a directory created 0700; a cache directory another
user owns or may write (sudo -E with someone else's HOME) is not used.
Any problem reading or writing just means computing again."""
from __future__ import annotations

import os
import pickle

from . import safefs


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
    dfd = safefs.open_private_dir(os.path.dirname(path), create=False)
    if dfd is None:
        return None
    try:
        fd = os.open(os.path.basename(path), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
        with open(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_uid != os.geteuid() or st.st_mode & 0o022:
                return None
            return pickle.load(f)
    except Exception:
        return None
    finally:
        os.close(dfd)


def store(path: str, value) -> bool:
    """Write an entry; False when it could not be written.  The directory is
    opened once and verified (this user's, nobody else may write it); the
    entry is written to a new file of a random name (O_EXCL|O_NOFOLLOW)
    and renamed into place, both relative to that directory."""
    dfd = safefs.open_private_dir(os.path.dirname(path), create=True)
    if dfd is None:
        return False
    name = os.path.basename(path)
    tmp = f".{name}.{os.urandom(8).hex()}.tmp"
    try:
        with open(safefs.create_in(dfd, tmp), "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        return True
    except Exception:
        try:
            os.unlink(tmp, dir_fd=dfd)
        except OSError:
            pass
        return False
    finally:
        os.close(dfd)


def remove(path: str) -> bool:
    dfd = safefs.open_private_dir(os.path.dirname(path), create=False)
    if dfd is None:
        return False
    try:
        os.unlink(os.path.basename(path), dir_fd=dfd)
        return True
    except OSError:
        return False
    finally:
        os.close(dfd)
