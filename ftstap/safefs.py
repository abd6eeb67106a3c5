"""Files ftstap writes or trusts while it runs as root.

Three rules (issue "hardening"):
  - a file ftstap creates never follows a symlink another user planted and
    never opens a file another user prepared: new files are created with
    O_EXCL|O_NOFOLLOW (under a random name, then renamed into place) or in
    a directory ftstap made itself with mkdtemp (mode 0700);
  - a file ftstap trusts (a program image it runs, a cache entry it
    unpickles) must belong to this user and be writable by nobody else,
    and no symlink is followed in a directory others can write;
  - output files the user names (-o, -b) are opened as asked, except in a
    directory others can write (/tmp), where a symlink is refused and so is
    a file that belongs to someone else.
"""
from __future__ import annotations

import os
import stat
import tempfile

from .errors import FtstapError

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafeFile(FtstapError):
    """A file ftstap refuses to trust or to write through."""


def others_can_write(st: os.stat_result) -> bool:
    """Could a user other than this one (or root) change this directory or file?"""
    return st.st_uid not in (0, os.geteuid()) or bool(st.st_mode & 0o022)


def _describe(st: os.stat_result) -> str | None:
    """Why a file cannot be trusted, or None."""
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if st.st_uid != os.geteuid():
        return f"owned by uid {st.st_uid}, not by uid {os.geteuid()} who runs it"
    if st.st_mode & 0o022:
        return "writable by group or others"
    return None


def _walk_to_parent(path: str) -> tuple[int, str, bool]:
    """Open the directory holding path, component by component from "/",
    never following a symlink that sits in a directory others can write.
    Returns (directory fd, last component, whether others can write it)."""
    components = [c for c in os.path.abspath(path).split("/") if c]
    if not components:
        raise UnsafeFile(f"'{path}' is a directory")
    fd = os.open("/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for name in components[:-1]:
            flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
            if others_can_write(os.fstat(fd)):
                flags |= os.O_NOFOLLOW
            try:
                nxt = os.open(name, flags, dir_fd=fd)
            except OSError as e:
                # O_NOFOLLOW|O_DIRECTORY on a symlink: ELOOP or ENOTDIR
                if flags & os.O_NOFOLLOW and stat.S_ISLNK(os.lstat(name, dir_fd=fd).st_mode):
                    raise UnsafeFile(f"'{path}': '{name}' is a symbolic link in a directory others can "
                                     "write; not following it") from None
                raise
            os.close(fd)
            fd = nxt
        return fd, components[-1], others_can_write(os.fstat(fd))
    except BaseException:
        os.close(fd)
        raise


def read_trusted(path: str, what: str = "file") -> bytes:
    """The bytes of a file ftstap will act on as root (a program image).
    Refused, with one clear reason, when another user could have put or
    changed it there."""
    try:
        dfd, name, shared = _walk_to_parent(path)
        try:
            fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC | (os.O_NOFOLLOW if shared else 0), dir_fd=dfd)
        finally:
            os.close(dfd)
    except OSError as e:
        if e.errno == 40:
            raise UnsafeFile(f"refusing {what} '{path}': a symbolic link in a directory others can write") \
                from None
        raise FtstapError(f"cannot read {what} '{path}': {e.strerror}") from None
    except UnsafeFile as e:
        raise UnsafeFile(f"refusing {what}: {e}") from None
    with os.fdopen(fd, "rb") as f:
        why = _describe(os.fstat(f.fileno()))
        if why:
            raise UnsafeFile(f"refusing {what} '{path}': {why}")
        return f.read()


def write_new(path: str, data: bytes, mode: int = 0o600) -> None:
    """Put data at path: written to a new file of a random name in the same
    directory (O_EXCL|O_NOFOLLOW), then renamed over path; a symlink or a
    file someone else prepared at path is replaced, never written through."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".ftstap-", dir=directory)
    except OSError as e:
        raise FtstapError(f"cannot write '{path}': {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise FtstapError(f"cannot write '{path}': {e.strerror}") from None
        raise


def private_dir(prefix: str = "ftstap") -> str:
    """A new directory only this user can enter (mkdtemp: mode 0700, random name)."""
    return tempfile.mkdtemp(prefix=prefix)


def _is_symlink(path: str) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False


def open_output(path: str) -> int:
    """Open (create, truncate) an output file the user named.  In a
    directory others can write, a symlink is not followed and a file that
    belongs to another user is refused (fs.protected_regular, enforced
    whatever the sysctl says)."""
    try:
        parent = os.stat(os.path.dirname(os.path.abspath(path)))
        shared = others_can_write(parent)
        if shared and _is_symlink(path):      # say so even where fs.protected_symlinks refuses it
            raise OSError(40, "")
        flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | (os.O_NOFOLLOW if shared else 0)
        fd = os.open(path, flags, 0o644)
    except OSError as e:
        reason = "a symbolic link in a directory others can write" if e.errno == 40 else e.strerror
        raise FtstapError(f"cannot open output file '{path}': {reason}") from None
    st = os.fstat(fd)
    if shared and stat.S_ISREG(st.st_mode) and st.st_uid != os.geteuid():
        os.close(fd)
        raise UnsafeFile(f"cannot open output file '{path}': it belongs to uid {st.st_uid}, "
                         "in a directory others can write")
    if stat.S_ISREG(st.st_mode):
        os.ftruncate(fd, 0)
    return fd


def open_private_dir(path: str, create: bool) -> int | None:
    """An fd on directory path (made 0700 if missing and create is set),
    or None unless it is a real directory of this user that nobody else can
    write.  Operations relative to the fd cannot be redirected by renames
    or symlinks in the directories above it."""
    try:
        if create:
            parent = os.path.dirname(path)
            os.makedirs(parent, mode=0o700, exist_ok=True)
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                pass
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    st = os.fstat(fd)
    if st.st_uid != os.geteuid() or st.st_mode & 0o022:
        os.close(fd)
        return None
    return fd


def create_in(dir_fd: int, name: str, mode: int = 0o600) -> int:
    """A new file in an open directory: O_EXCL|O_NOFOLLOW."""
    return os.open(name, _CREATE, mode, dir_fd=dir_fd)
