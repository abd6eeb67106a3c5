"""Serving a session's procfs probes: `--http ADDR:PORT` and the session's
own directory /run/ftstap/ftstap_PID/ (native/http.c does the serving, in
the event loop's thread).

The local path is a Unix socket, procfs.sock, speaking the same HTTP as
--http (`curl --unix-socket /run/ftstap/ftstap_PID/procfs.sock
http://x/procfs/NAME`).  Why a socket and not the alternatives:
  - a FIFO pair cannot tell ftstap that a reader opened it (nothing wakes the
    writer), readers would share one byte stream, and a FIFO a process
    stops reading blocks or breaks the other side;
  - FUSE would give real files, but needs /dev/fuse and mount rights inside
    the sidecar container, and a FUSE server of our own (no libfuse here);
  - a socket gives each client its own connection, an accept the loop sees,
    and the client's credentials (SO_PEERCRED), so a file's mode (stap's
    0400/0200 less .umask) decides what a local user may do.
The directory is created here (0755, in a /run/ftstap that must be
root's own and not writable by others: no symlink is followed into it)
and removed on every exit path; directories of dead sessions (SIGKILL)
are removed when the next session starts."""
from __future__ import annotations

import contextlib
import os
import re
import stat
import sys

from ..errors import FtstapError
from ..safefs import UnsafeFile, others_can_write
from . import native

RUN_ROOT = "/run/ftstap"
SOCKET = "procfs.sock"
_DIR = re.compile(r"ftstap_(\d+)$")


def parse_address(text: str) -> tuple[str, int]:
    """--http ADDR:PORT, [V6ADDR]:PORT or PORT (loopback): (host, port)."""
    host, port = "127.0.0.1", text
    m = re.fullmatch(r"\[([^\]]*)\]:(\d+)|([^:]*):(\d+)|(\d+)", text.strip())
    if not m:
        raise FtstapError(f"--http {text}: expected ADDR:PORT, [ADDR]:PORT or PORT")
    if m.group(2):
        host, port = m.group(1), m.group(2)
    elif m.group(4):
        host, port = m.group(3) or "127.0.0.1", m.group(4)
    else:
        port = m.group(5)
    if not 0 <= int(port) <= 65535:
        raise FtstapError(f"--http {text}: port {port} is out of range")
    return host, int(port)


def _root() -> str:
    root = RUN_ROOT if os.geteuid() == 0 else os.path.join(
        os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/ftstap-{os.geteuid()}", "ftstap")
    try:
        os.makedirs(root, mode=0o755, exist_ok=True)
    except OSError as e:
        raise FtstapError(f"cannot create {root}: {e.strerror}") from None
    st = os.lstat(root)
    if not stat.S_ISDIR(st.st_mode) or others_can_write(st) or st.st_uid != os.geteuid():
        raise UnsafeFile(f"{root} is not a directory of this user's that only it can write: not using it")
    return root


def _remove_dir(path: str) -> None:
    """Remove a session directory and what is in it, following no symlink."""
    try:
        for name in os.listdir(path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(path, name))
        os.rmdir(path)
    except FileNotFoundError:
        pass


def remove_stale(root: str) -> None:
    """Directories left by sessions that died without cleaning up."""
    for name in os.listdir(root):
        m = _DIR.match(name)
        if not m or int(m.group(1)) == os.getpid():
            continue
        try:
            os.kill(int(m.group(1)), 0)
        except ProcessLookupError:
            _remove_dir(os.path.join(root, name))
        except PermissionError:
            pass


def session_dir() -> str:
    """This session's directory (path only: serve() creates it)."""
    return os.path.join(_root(), f"ftstap_{os.getpid()}")


@contextlib.contextmanager
def serve(session: native.Session, info, http: str | None, err=sys.stderr):
    """Serve the image's procfs probes (if any) while the session runs."""
    if not has_procfs(info):
        yield None
        return
    host, port = parse_address(http) if http else (None, 0)
    root = _root()
    remove_stale(root)
    path = os.path.join(root, f"ftstap_{os.getpid()}")
    _remove_dir(path)                      # ours from an earlier run of this pid
    os.mkdir(path, 0o755)
    try:
        sock = os.path.join(path, SOCKET)
        buf = native.ffi.new("char[]", 512)
        rc = native.lib.ft_http_serve(session.vm, native.ffi.NULL if host is None else host.encode(),
                                      port, sock.encode(), buf, 512)
        if rc < 0:
            raise FtstapError(f"--http: {native.ffi.string(buf).decode(errors='replace')}")
        os.chmod(sock, 0o666)              # who may do what is the file's mode (native/http.c)
        if host is not None:
            shown = f"[{host}]" if ":" in host else host
            print(f"ftstap: serving procfs files on http://{shown}:{rc}/ and {sock}", file=err, flush=True)
        try:
            yield rc
        finally:
            native.lib.ft_http_close(session.vm)
    finally:
        _remove_dir(path)


def run_image(image: bytes, info, http: str | None, defines=None, globals_=None, out_fd: int = 1,
              err_fd: int = 2, timeout_s=None, suppress_handler_errors=False, target_pid: int = 0,
              outputs=None) -> int:
    """native.run_image for a script whose probes include procfs files and
    no kernel event: the session runs until exit(), -T or a signal."""
    with native.Session(image, defines, out_fd, err_fd, suppress_handler_errors, target_pid) as s:
        if outputs:
            outputs.attach(s)
        for index, value in (globals_ or {}).items():
            s.set_global(index, value)
        with serve(s, info, http):
            return s.run(timeout_s)


def has_procfs(info) -> bool:
    return any(p.kind in (native.lib.FT_PROBE_PROCFS_READ, native.lib.FT_PROBE_PROCFS_WRITE)
               for p in info.probes)
