"""The files a compile read (the ELF of a `process(...)` probe and its
libraries), noted as they are read.

A neutral registry, so that kernel/ (which reads them) and imagecache.py
(which stamps them in the cache entry: a changed file means compiling
again) need not import each other."""
from __future__ import annotations

_paths: list[str] = []


def note_file(path: str) -> None:
    """Record a file the compile read."""
    _paths.append(path)


def clear() -> None:
    """A compile starts: forget the files of the last one."""
    _paths.clear()


def files() -> list[str]:
    """The files read since clear(), each once, in order."""
    return list(dict.fromkeys(_paths))
