"""Flat chains are not nesting: a left-deep `1+1+...+1` of 10,000 terms and
10,000 nested `%( %? %)` go through every pass (and run); the front end is
linear in parameters and statements; genuine deep nesting is refused with
an error at its place."""
import re
import subprocess
import sys
import time

import pytest

from ftstap.lang import ast as A
from ftstap.lang import frontend, printer
from ftstap.lang.preprocess import PPContext, Preprocessor
from ftstap.lang.source import Source

N = 10_000


def ftstap(*argv, path=None):
    return subprocess.run([sys.executable, "-m", "ftstap", *argv], capture_output=True, text=True, timeout=300)


def parse(text: str) -> A.Script:
    ctx = PPContext(kernel_release="6.8.0", arch="x86_64")
    return frontend.parse_source(Source("t.stp", text), Preprocessor(ctx), frontend.parse_options(False, None))


def chain(op: str, term: str = "1") -> str:
    return f" {op} ".join([term] * N)


@pytest.mark.parametrize("last_pass", ["-p1", "-p2", "-p3"])
def test_ten_thousand_terms_pass_every_pass(tmp_path, last_pass):
    path = tmp_path / "chain.stp"
    path.write_text(f"probe begin {{ x = {chain('+')}; println(x); exit() }}\n")
    r = ftstap(last_pass, str(path))
    assert r.returncode == 0, r.stderr[-2000:]
    if last_pass == "-p3":
        assert r.stdout.count("ADD") == N - 1


def test_ten_thousand_terms_run(tmp_path):
    concat, both, diff = chain(".", '"a"'), chain("&&"), chain("-", "2")
    script = (f'probe begin {{ x = {chain("+")}; s = {concat}; '
              f'println(x, " ", strlen(s), " ", {both}, " ", {diff}); exit() }}')
    (tmp_path / "run.stp").write_text(script)
    r = ftstap(str(tmp_path / "run.stp"))
    assert (r.returncode, r.stdout) == (0, f"10000 511 1 {2 - 2 * (N - 1)}\n"), r.stderr[-2000:]  # MAXSTRINGLEN


def test_chain_reprints_flat_and_parses_back():
    tree = parse(f"probe begin {{ x = {chain('-')} * 2 }}")
    out = printer.script(tree)
    assert "((" not in out                      # one pair of parentheses per chain
    assert printer.script(parse(out)) == out    # (== on a 10,000-deep tree would recurse)


@pytest.mark.parametrize("text, message, col", [
    ("probe begin { x = " + "(" * 600 + "1" + ")" * 600 + " }", "expressions nested too deeply", 517),
    ("probe begin { x = " + "!" * 600 + "1 }", "expressions nested too deeply", 516),
])
def test_genuine_nesting_is_refused_at_its_place(tmp_path, text, message, col):
    path = tmp_path / "deep.stp"
    path.write_text(text)
    r = ftstap("-p1", str(path))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert message in r.stderr and f"{path}:1:{col}" in r.stderr


def test_deeply_nested_conditionals_are_not_macro_expansion(tmp_path):
    path = tmp_path / "cond.stp"
    path.write_text("probe begin { x = " + "%( 1 == 1 %? " * N + "42" + " %)" * N + "; println(x); exit() }")
    start = time.monotonic()
    r = ftstap(str(path))
    assert (r.returncode, r.stdout) == (0, "42\n"), r.stderr[-2000:]
    assert time.monotonic() - start < 30


def test_unclosed_conditionals_name_the_first(tmp_path):
    path = tmp_path / "open.stp"
    path.write_text("probe begin { x = " + "%( 1 == 1 %? " * N + "1 }")
    r = ftstap("-p1", str(path))
    assert r.returncode == 1
    assert "incomplete conditional at end of input" in r.stderr and f"{path}:1:19" in r.stderr


def test_recursive_macro_still_refused():
    r = ftstap("-p1", "-e", "@define a %( @a %) probe begin { @a }")
    assert r.returncode == 1 and "macro or argument expansion too deep (recursive?)" in r.stderr


def _params(n: int) -> str:
    return f"function f({', '.join(f'p{i}' for i in range(n))}) {{ return p0 }}\n"


def test_parameter_lists_parse_in_linear_time():
    small, big = 2_000, 16_000
    times = []
    for n in (small, big):
        start = time.perf_counter()
        parse(_params(n) + "probe begin { }")
        times.append(time.perf_counter() - start)
    assert times[1] < 2.0 and times[1] < times[0] * (big / small) * 3


def test_too_many_parameters_is_a_pass2_error(tmp_path):
    path = tmp_path / "params.stp"
    path.write_text(_params(256) + "probe begin { println(f(" + ", ".join("1" * 256) + ")) }")
    r = ftstap("-p2", str(path))
    assert r.returncode == 1
    assert "function 'f' has 256 parameters, more than the 255 a function can take" in r.stderr
    col = len("function f(") + sum(len(f"p{i}, ") for i in range(255)) + 1
    assert f"{path}:1:{col}" in r.stderr


def test_255_parameters_run(tmp_path):
    path = tmp_path / "params.stp"
    path.write_text(_params(255).replace("return p0", "return p0 + p254") +
                    "probe begin { println(f(" + ", ".join(str(i) for i in range(255)) + ")); exit() }")
    r = ftstap(str(path))
    assert (r.returncode, r.stdout) == (0, "254\n"), r.stderr


def test_array_size_out_of_range_is_refused():
    r = ftstap("-p1", "-e", "global a[18446744073709551615]\nprobe begin { a[1] = 1 }")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert re.search(r"array size 18446744073709551615 is out of range \(1 to 1073741824\)", r.stderr)
    assert "<input>:1:10" in r.stderr
