"""The build's own promises: `python3 ftstap/_build.py` (what the "C core is
not built" message names) works from a checkout, and the version is written
once (ftstap/__init__.py) and answered alike by the package, its metadata,
`ftstap -V` and the C core; every package directory is installed."""
import importlib.metadata
import os
import subprocess
import sys
import tomllib

import ftstap
from ftstap._native import ffi, lib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = os.path.join(ROOT, "ftstap")


def test_no_module_of_the_package_shadows_the_standard_library():
    # `python3 ftstap/_build.py` puts ftstap/ first on sys.path, so a
    # ftstap/getopt.py would be what setuptools imports as getopt.
    names = {os.path.splitext(n)[0] for n in os.listdir(PACKAGE)
             if n.endswith(".py") or os.path.isdir(os.path.join(PACKAGE, n))}
    assert not names & set(sys.stdlib_module_names)


def test_the_builder_runs_as_a_script(tmp_path):
    # as `python3 ftstap/_build.py` does, up to the C compiler: ftstap/ first
    # on sys.path, the cffi builder set up, setuptools imported, C written.
    build = os.path.join(PACKAGE, "_build.py")
    code = (f"import runpy, sys; sys.path.insert(0, {PACKAGE!r}); "
            f"runpy.run_path({build!r})['ffibuilder'].distutils_extension(tmpdir={str(tmp_path)!r})")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert list(tmp_path.rglob("_native.c"))


def test_one_version_everywhere():
    assert ffi.string(lib.ft_version()).decode() == ftstap.__version__
    assert importlib.metadata.version("ftstap") == ftstap.__version__
    r = subprocess.run([sys.executable, "-m", "ftstap", "-V"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith(f"ftstap {ftstap.__version__}: ")


def test_every_package_directory_is_installed():
    # a directory left out of pyproject.toml's list is missing from `pip install .`
    # (an editable install still finds it, so nothing else would notice)
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        listed = set(tomllib.load(f)["tool"]["setuptools"]["packages"])
    dirs = {os.path.relpath(d, ROOT).replace(os.sep, ".") for d, _, files in os.walk(PACKAGE)
            if "__init__.py" in files}
    assert dirs <= listed, sorted(dirs - listed)
