"""Build and run the C unit tests of native/ under AddressSanitizer and UBSan:
the data layer (maps, statistics, printf, output sink), the VM (loader,
verifier, interpreter, loop) and the symbol tables (kallsyms text, user
addresses through /proc/PID/maps and ELF symbols).

gcc is needed only here, never at run time.  Without gcc the tests skip,
except under CI (env CI set), where a missing compiler is a failure.
"""
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NATIVE = os.path.join(ROOT, "native")
DATA = ["map.c", "stat.c", "fmt.c", "out.c"]
RUNTIME = DATA + ["program.c", "verify.c", "vm.c", "ctx.c", "builtins.c", "loop.c", "ring.c", "records.c",
                  "counters.c", "ftrace.c", "threads.c", "order.c", "evfuncs.c", "backtrace.c", "ksyms.c", "usyms.c",
                  "abinames.c", "timefuncs.c", "procfuncs.c", "taskfuncs.c", "spawn.c"]
# each C test program and the native sources it links with
TESTS = {"test_map": DATA, "test_map_fast": DATA, "test_stat": DATA, "test_fmt": DATA, "test_out": DATA,
         "test_vm": RUNTIME, "test_symbols": ["ksyms.c", "usyms.c"]}
CFLAGS = ["-std=gnu11", "-g", "-O1", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror",
          "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
          "-fno-sanitize-recover=undefined"]


@pytest.fixture(scope="module")
def gcc():
    cc = shutil.which("gcc")
    if cc is None:
        if os.environ.get("CI"):
            pytest.fail("gcc not found on PATH: the native C tests cannot run in CI")
        pytest.skip("gcc not found on PATH")
    return cc


@pytest.mark.parametrize("name", sorted(TESTS))
def test_native_c(gcc, name, tmp_path):
    exe = tmp_path / name
    cmd = [gcc, *CFLAGS, "-I", NATIVE, "-o", str(exe),
           os.path.join(NATIVE, "tests", name + ".c"),
           *(os.path.join(NATIVE, s) for s in TESTS[name])]
    build = subprocess.run(cmd, capture_output=True, text=True)
    assert build.returncode == 0, f"compile failed:\n{build.stderr}"
    env = dict(os.environ, ASAN_OPTIONS="abort_on_error=0:detect_leaks=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    run = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, f"{name} failed:\n{run.stdout}\n{run.stderr}"
    assert "all checks passed" in run.stdout
