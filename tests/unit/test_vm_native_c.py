"""Build and run native/tests/test_vm.c (loader, verifier, interpreter, loop)
under AddressSanitizer and UBSan, like test_native_c.py does for the data layer."""
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NATIVE = os.path.join(ROOT, "native")
SOURCES = ["map.c", "stat.c", "fmt.c", "out.c", "program.c", "vm.c", "ctx.c", "builtins.c", "loop.c", "ring.c", "records.c", "counters.c", "comm.c", "evfuncs.c", "backtrace.c", "ksyms.c", "usyms.c"]
CFLAGS = ["-std=gnu11", "-g", "-O1", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror",
          "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"]


def test_vm_c(tmp_path):
    cc = shutil.which("gcc")
    if cc is None:
        if os.environ.get("CI"):
            pytest.fail("gcc not found on PATH: the native C tests cannot run in CI")
        pytest.skip("gcc not found on PATH")
    exe = tmp_path / "test_vm"
    cmd = [cc, *CFLAGS, "-I", NATIVE, "-o", str(exe), os.path.join(NATIVE, "tests", "test_vm.c"),
           *(os.path.join(NATIVE, s) for s in SOURCES)]
    build = subprocess.run(cmd, capture_output=True, text=True)
    assert build.returncode == 0, f"compile failed:\n{build.stderr}"
    env = dict(os.environ, ASAN_OPTIONS="abort_on_error=0:detect_leaks=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    run = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, f"test_vm failed:\n{run.stdout}\n{run.stderr}"
    assert "all checks passed" in run.stdout
