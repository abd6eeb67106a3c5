"""cffi builder for the C core: compiles native/*.c into ftstap._native.

Never imports ftstap (it runs before the package exists).  native/ftstap.h is
the one header cffi reads, so it must stay within what cffi's cdef parser
accepts: declarations and integer #defines only.
"""
import glob
import os
import re

from cffi import FFI

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NATIVE = os.path.join(ROOT, "native")


def package_version() -> str:
    """__version__ from ftstap/__init__.py, read as text: the one place the
    version is written (pyproject.toml reads it too); the C core answers it
    from ft_version()."""
    with open(os.path.join(ROOT, "ftstap", "__init__.py")) as f:
        return re.search(r'^__version__ = "([^"]+)"$', f.read(), re.M).group(1)


ffibuilder = FFI()
with open(os.path.join(NATIVE, "ftstap.h")) as f:
    ffibuilder.cdef(f.read())

ffibuilder.set_source(
    "ftstap._native",
    '#include "ftstap.h"',
    sources=sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(NATIVE, "*.c"))),
    include_dirs=[os.path.relpath(NATIVE, ROOT)],
    define_macros=[("FT_VERSION", '"%s"' % package_version())],
    # -fvisibility=hidden: only PyInit__native (marked by Python's headers)
    # is exported, so calls between native/*.c files are direct instead of
    # going through the PLT, and the compiler may assume no interposition.
    extra_compile_args=["-O2", "-std=gnu11", "-Wall", "-Wno-unused-function",
                        "-fvisibility=hidden", "-fno-semantic-interposition", "-fno-plt"],
)

if __name__ == "__main__":
    # `python3 ftstap/_build.py` from anywhere: cffi works in ROOT, where the
    # source paths above are relative to, and leaves ftstap/_native*.so there.
    ffibuilder.compile(tmpdir=ROOT, verbose=True)
