"""The tapset library, parsed once and cached (pass 1's parse cache).

Pass 1 needs every tapset at every run (aliases and functions are looked up
by name in pass 2).  Parsing them costs ~30 ms; unpickling the parsed ASTs
~2 ms.  The cache lives in $XDG_CACHE_HOME/ftstap (or ~/.cache/ftstap),
keyed by everything the parse depends on: each file's path, size and
mtime, the macro libraries, the preprocessor settings and ftstap's own
parser files (ftstap/cachefiles.py: where and how entries are kept).  Any
problem with the cache just means parsing again."""
from __future__ import annotations

import os
import zlib

from .. import cachefiles
from ..cachefiles import cache_dir, stamp

VERSION = 1


def cache_key(paths: list[str], macro_paths: list[str], settings: tuple) -> str:
    from ..lang import ast, parser, preprocess
    # zlib's checksums, not hashlib: importing hashlib costs ~7 ms at every start.
    parts = [f"v{VERSION}"] + [stamp(p) for p in list(paths) + ["--"] + list(macro_paths) + ["--"] +
                                [ast.__file__, parser.__file__, preprocess.__file__, __file__]]
    data = ("\0".join(parts) + repr(settings)).encode()
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}{len(data):x}"


def _path(key: str) -> str:
    return os.path.join(cache_dir(), f"tapsets-{key}.pickle")


def load(key: str):
    """(tapsets, warnings) from the cache, or None."""
    return cachefiles.load(_path(key))


def store(key: str, value) -> None:
    try:
        old = [n for n in os.listdir(cache_dir()) if n.startswith("tapsets-")]
    except OSError:
        old = []
    for name in old:                     # one library version at a time
        if name != os.path.basename(_path(key)):
            cachefiles.remove(os.path.join(cache_dir(), name))
    cachefiles.store(_path(key), value)
