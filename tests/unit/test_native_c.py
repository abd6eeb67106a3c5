"""Build and run the C unit tests of native/ under AddressSanitizer and UBSan:
the data layer (maps, statistics, printf, output sink), the VM (loader,
verifier, interpreter, loop) and the symbol tables (kallsyms text, user
addresses through /proc/PID/maps and ELF symbols).

native/tests/Makefile is the one description of what they build and how
(`make -C native/tests check` runs the same programs); here it builds them
into a temporary directory and each test program is one test.

gcc and make are needed only here, never at run time.  Without them the
tests skip, except under CI (env CI set), where a missing tool is a failure.
"""
import glob
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTS_DIR = os.path.join(ROOT, "native", "tests")
PROGRAMS = sorted(os.path.basename(p)[:-2] for p in glob.glob(os.path.join(TESTS_DIR, "test_*.c")))


def make_native_tests(bin_dir: str, *targets: str) -> subprocess.CompletedProcess:
    """native/tests/Makefile's targets, built into bin_dir."""
    return subprocess.run(["make", "-s", "-C", TESTS_DIR, f"-j{os.cpu_count() or 1}", f"BIN={bin_dir}",
                           *targets], capture_output=True, text=True)


def missing_tools() -> list[str]:
    return [t for t in ("gcc", "make") if shutil.which(t) is None]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    missing = missing_tools()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{' and '.join(missing)} not found on PATH: the native C tests cannot run in CI")
        pytest.skip(f"{' and '.join(missing)} not found on PATH")
    bin_dir = str(tmp_path_factory.mktemp("native_tests"))
    build = make_native_tests(bin_dir, *(os.path.join(bin_dir, p) for p in PROGRAMS))
    assert build.returncode == 0, f"make failed:\n{build.stdout}\n{build.stderr}"
    return bin_dir


def test_makefile_lists_every_test_program():
    listed = subprocess.run(["make", "-s", "-C", TESTS_DIR, "list"], capture_output=True, text=True)
    if listed.returncode != 0 and missing_tools():
        pytest.skip("make not found on PATH")
    assert listed.stdout.split() == PROGRAMS


@pytest.mark.parametrize("name", PROGRAMS)
def test_native_c(built, name):
    env = dict(os.environ, ASAN_OPTIONS="abort_on_error=0:detect_leaks=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    run = subprocess.run([os.path.join(built, name)], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, f"{name} failed:\n{run.stdout}\n{run.stderr}"
    assert "all checks passed" in run.stdout
