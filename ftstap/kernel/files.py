"""The files KernelFeatures.detect() reads (kernel/features.py): the live
system's (LiveFiles) or a kernel description's (KinfoFiles, kernel/kinfo.py)
-- one detection code path for both."""
from __future__ import annotations

import os

from ..errors import KernelError


class LiveFiles:
    """The running machine's files, as KernelFeatures.detect() reads them."""

    def read(self, path: str, limit: int = -1) -> str | None:
        try:
            with open(path) as f:
                return f.read(limit)
        except OSError:
            return None

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def listdir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(path))
        except OSError:
            return []

    def uname(self) -> tuple[str, str]:
        u = os.uname()
        return u.release, u.machine

    def tracefs(self, mount: bool) -> str:
        from .tracefs import find_tracefs
        return find_tracefs(mount=mount)


class KinfoFiles:
    """A kernel description's files, read the same way."""

    def __init__(self, entries: dict[str, bytes]):
        self.entries = entries

    def read(self, path: str, limit: int = -1) -> str | None:
        data = self.entries.get(path)
        if data is None:
            return None
        return data.decode("utf-8", "replace")[:limit if limit >= 0 else None]

    def exists(self, path: str) -> bool:
        return path in self.entries

    def listdir(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        return sorted({n[len(prefix):].split("/", 1)[0] for n in self.entries if n.startswith(prefix)})

    def uname(self) -> tuple[str, str]:
        lines = (self.read("uname") or "").splitlines()
        if len(lines) < 2 or not lines[0] or not lines[1]:
            raise KernelError("the kernel description names no kernel release and machine (its uname entry)")
        return lines[0], lines[1]

    def tracefs(self, mount: bool) -> str:
        root = self.read("tracefs")
        if not root:
            raise KernelError("tracefs was not mounted on the described kernel")
        return root
