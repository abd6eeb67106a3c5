"""ftstap-run -G NAME=VALUE (native/runner/globals.c): a scalar global of
the script, found by its name in the image, set before the begin probes --
what `ftstap -G NAME=VALUE` prints when it compiles and runs the same
script, values and errors alike (one line, status 1), and what `ftstap
--run IMAGE -G ...` prints."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = ('global x = 3, s = "a", st, a probe begin { st <<< 1; a[1] = 1; '
          'printf("%d [%s] %d %d\\n", x, s, @count(st), a[1]); exit() }')
CASES = {
    "both": (["-G", "x=7", "-G", "s=hi there"], "7 [hi there] 1 1\n"),
    "bases": (["-G", "x=0x1_0"], "16 [a] 1 1\n"),
    "last wins": (["-G", "x=0x1_0", "-G", "x=-0b11", "-G", "x=+0o17"], "15 [a] 1 1\n"),
    "blanks": (["-G", "x= 5 "], "5 [a] 1 1\n"),
    "bare": (["-G", "x", "-G", "s"], "1 [1] 1 1\n"),
    "min": (["-G", "x=-9223372036854775808"], "-9223372036854775808 [a] 1 1\n"),
    "leading zero": (["-G", "x=010"], None),
    "empty": (["-G", "x="], None),
    "word": (["-G", "x=abc"], None),
    "double underscore": (["-G", "x=1__0"], None),
    "no such": (["-G", "x=abc", "-G", "y=1"], None),      # names are checked before values
    "array": (["-G", "a=1"], None),
    "statistic": (["-G", "st=1"], None),
    "bad name": (["-G", "1y=2"], None),
    "bad name quoted": (["-G", "it's"], None),
}


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    out = tmp_path_factory.mktemp("runner")
    r = subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "native"), f"BIN={out}", "ftstap-run",
                        "ftstap-run-asan"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return str(out / "ftstap-run"), str(out / "ftstap-run-asan")


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    d = tmp_path_factory.mktemp("gimage")
    r = subprocess.run([sys.executable, "-m", "ftstap", "-p4", "-m", "g", "-e", SCRIPT], cwd=d,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return os.path.join(d, r.stdout.strip())


def ftstap_says(args):
    p = subprocess.run([sys.executable, "-m", "ftstap", *args, "-e", SCRIPT], capture_output=True, text=True,
                       timeout=120)
    # the error, without the pass it stopped (the runner has no passes)
    err = "".join(l + "\n" for l in p.stderr.splitlines() if not l.startswith("Pass "))
    return p.returncode, p.stdout, err


@pytest.mark.parametrize("case", sorted(CASES))
def test_G_as_ftstap(runner, image, case):
    args, out = CASES[case]
    want = ftstap_says(args)
    if out is not None:
        assert want == (0, out, "")
    else:
        assert want[0] == 1 and want[1] == "" and want[2].count("\n") == 1 and "error: " in want[2], want
    env = dict(os.environ, ASAN_OPTIONS="abort_on_error=0:detect_leaks=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    for exe in runner:
        got = subprocess.run([exe, *args, image], capture_output=True, text=True, timeout=120, env=env)
        assert (got.returncode, got.stdout, got.stderr) == want, exe
    if out is not None:          # ftstap --run: the same values (its errors name the image's globals)
        got = subprocess.run([sys.executable, "-m", "ftstap", "--run", image, *args], capture_output=True,
                             text=True, timeout=120)
        assert (got.returncode, got.stdout, got.stderr) == want


def test_G_out_of_range(runner, image):
    for argv in [[exe, "-G", "x=9223372036854775808", image] for exe in runner] + \
            [[sys.executable, "-m", "ftstap", "--run", image, "-G", "x=9223372036854775808"]]:
        got = subprocess.run(argv, capture_output=True, text=True)
        assert (got.returncode, got.stdout, got.stderr) == (
            1, "", "error: -G x: '9223372036854775808' is out of range (64-bit integers)\n")
