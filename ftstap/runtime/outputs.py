"""Where a script's output goes: stdout, -o FILE, or -b's per-CPU files.

stap's rules, from stap(1) (-o, -b), staprun(8) (-o) and staprun/relay.c:

  - -o FILE: FILE after strftime(3), so "trace-%H%M" names the file by the
    time the session starts;
  - -b: one file per online CPU.  With -o FILE they are FILE_0, FILE_1, ...
    (strftime applied to FILE first), without -o stpd_cpu0, stpd_cpu1, ...
    in the current directory; -o /dev/null stays /dev/null for every CPU.
    Nothing of the script's output reaches the terminal.
  - -S SIZE[,N] (staprun -S, with -o): FILE.0, FILE.1, ... each at most SIZE
    MB, only the last N kept; switch_file() moves on to the next file, which
    after a plain -o FILE is FILE.1.  The runtime opens those files itself
    (native/outfile.c), each name strftime'd when it is opened.

The files hold the framing stap-merge reads (native/out.c writes it).
"""
from __future__ import annotations

import os
import struct
import time
from ..record import mutable

from ..errors import FtstapError

# staprun's per-message header in bulk files (SystemTap >= 5.0):
# struct _stp_trace { char magic[4]; uint32_t sequence, pdu_len; }, host order
FRAME = struct.Struct("=4sII")
MAGIC = b"\xf0\x9f\xa9\xba"


def expand_name(path: str, now: float | None = None) -> str:
    """-o FILE as stap names it: strftime(3) formats expanded (local time)."""
    if "%" not in path:
        return path
    name = time.strftime(path, time.localtime(now))
    if not name:
        raise FtstapError(f"-o '{path}': invalid FILE name format")
    return name


def bulk_names(path: str | None, cpus, now: float | None = None) -> dict[int, str]:
    """-b: the file of each CPU in cpus, by stap's rules."""
    if path == os.devnull:
        return {cpu: os.devnull for cpu in cpus}
    if path is None:
        return {cpu: f"stpd_cpu{cpu}" for cpu in cpus}
    base = expand_name(path, now)
    return {cpu: f"{base}_{cpu}" for cpu in cpus}


def _open(name: str) -> int:
    from ..safefs import open_output     # no symlink followed where others can write
    return open_output(name)


@mutable
class Outputs:
    """The fds a session writes to.  out_fd: the single stream (stdout or
    -o); bulk_fds: under -b, the fd of each CPU by index (-1 where none);
    rotation: (FILE, bytes per file or 0, files kept or 0) for -S and
    switch_file(), which the session hands to the runtime (attach)."""
    out_fd: int = 1
    bulk_fds: list[int] = []
    rotation: tuple | None = None

    def attach(self, session) -> None:
        """Give a native.Session what it writes to besides out_fd."""
        if self.bulk_fds:
            session.set_bulk(self.bulk_fds)
        if self.rotation:
            session.set_rotation(*self.rotation)

    def close(self) -> None:
        for fd in {self.out_fd, *self.bulk_fds} - {-1, 0, 1, 2}:
            os.close(fd)
        self.out_fd, self.bulk_fds = 1, []


def size_limit(option: str) -> tuple[int, int]:
    """-S SIZE[,N] as (bytes per file, files kept or 0)."""
    size, _, keep = option.partition(",")
    return int(size) << 20, int(keep or 0)


def open_outputs(path: str | None, bulk: bool = False, cpus=None, size_option: str | None = None) -> Outputs:
    """Open (create, truncate) what -o FILE and -b ask for; with -S the
    runtime opens FILE.0 itself."""
    if not bulk:
        if path is None:
            return Outputs()
        if size_option:
            return Outputs(rotation=(path, *size_limit(size_option)))
        return Outputs(_open(expand_name(path)), rotation=(path, 0, 0))
    if cpus is None:
        from .session import online_cpus
        cpus = online_cpus()
    outs = Outputs(bulk_fds=[-1] * (max(cpus) + 1))
    try:
        for cpu, name in bulk_names(path, cpus).items():
            outs.bulk_fds[cpu] = _open(name)
    except BaseException:
        outs.close()
        raise
    return outs


def read_frames(data: bytes) -> list[tuple[int, bytes]]:
    """The (sequence, output) messages of one -b file, as stap-merge reads them."""
    out, i = [], 0
    while i < len(data):
        magic, seq, n = FRAME.unpack_from(data, i)
        if magic != MAGIC:
            raise ValueError(f"no message header at byte {i}")
        i += FRAME.size
        out.append((seq, data[i:i + n]))
        i += n
    return out


def merge(files: list[bytes]) -> bytes:
    """-b files back into one stream, in sequence order (what stap-merge prints)."""
    return b"".join(text for _, text in sorted(m for data in files for m in read_frames(data)))
