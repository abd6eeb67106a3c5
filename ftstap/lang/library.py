"""Where the tapset library lives.  Kept apart from the parser so that the
program cache (ftstap/imagecache.py) can stamp the library without
importing pass 1."""
from __future__ import annotations

import os

# The library shipped with ftstap (tapsets/ at the project root is installed
# as ftstap/tapsets).
_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIBRARY_DIRS = [os.path.join(_HERE, "tapsets"), os.path.join(os.path.dirname(_HERE), "tapsets")]


def library_dirs(include: list[str]) -> list[str]:
    """Tapset directories, searched in this order: -I dirs, $SYSTEMTAP_TAPSET,
    ftstap's own library."""
    dirs = list(include)
    env = os.environ.get("SYSTEMTAP_TAPSET")
    if env:
        dirs.append(env)
    dirs.extend(d for d in LIBRARY_DIRS if os.path.isdir(d))
    seen, out = set(), []
    for d in dirs:
        real = os.path.realpath(d)
        if real not in seen:
            seen.add(real)
            out.append(d)
    return out


# The example scripts shipped with ftstap (examples/ at the project root,
# installed as ftstap/examples): what `--example NAME` runs, as stap's
# --example runs one from its examples directory.
EXAMPLE_DIRS = [os.path.join(_HERE, "examples"), os.path.join(os.path.dirname(_HERE), "examples")]


def find_example(name: str) -> str | None:
    """The path of the shipped example called name (searched recursively), or None."""
    if os.sep in name or name in (".", ".."):
        return None
    for top in EXAMPLE_DIRS:
        for d, _dirs, files in sorted(os.walk(top)):
            if name in files:
                return os.path.join(d, name)
    return None
