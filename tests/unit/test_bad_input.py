"""Out-of-range probe, histogram, format and -D parameters are refused where
they are written, at pass 2 (or on the command line), with one error line, the
place and a caret; never an internal error at pass 3 or a bad image at run time."""
import re
import subprocess
import sys

import pytest


def ftstap(*argv):
    return subprocess.run([sys.executable, "-m", "ftstap", *argv], capture_output=True, text=True,
                          timeout=120)


def refused(script: str, last_pass: str = "-p2") -> tuple[str, str]:
    """The one error line of `script`, and where its caret points."""
    r = ftstap(last_pass, "-e", script)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    errors = [ln for ln in r.stderr.splitlines() if re.match(r"^(\w+ )?error: ", ln)]
    assert len(errors) == 1, r.stderr
    where = re.search(r"at <input>:(\d+):(\d+)", r.stderr)
    assert where, r.stderr
    source, caret = re.search(r"^     source: (.*)\n( *)\^$", r.stderr, re.M).groups()
    col = int(where.group(2))
    assert len(caret) == 13 + col - 1
    return errors[0], script.splitlines()[int(where.group(1)) - 1][col - 1:]


HIST = "global s; probe begin { s <<< 1; print(@hist_linear(s, %s)); exit() }"


@pytest.mark.parametrize("script, message, at", [
    ("probe timer.ms(-1) { exit() }", "timer.ms needs a positive number, not -1", "ms(-1)"),
    ("probe timer.s(9999999999) { exit() }", "timer.s(9999999999) is out of range", "s(9999999999)"),
    ("probe timer.ms(100).randomize(-5) { exit() }", "randomize needs a positive number, not -5",
     "randomize(-5)"),
    ("probe timer.ns(9223372036854775000).randomize(1000) { exit() }", "is out of range",
     "randomize(1000)"),
    (HIST % "0, 18446744073709551615, 1", "histogram stop -1 is less than its start 0",
     "18446744073709551615"),
    (HIST % "0, 100, 0", "histogram interval must be positive, not 0", "0)"),
    (HIST % "0, 100, -3", "histogram interval must be positive, not -3", "-3)"),
    (HIST % "0, 1000, 1", "histogram needs 1003 buckets, more than the limit of 128", "1)"),
    ('probe begin { printf("%1000000000d", 1); exit() }',
     "format width 1000000000 in '%1000000000d' is out of range (0 to 1048576)", "printf"),
    ('probe begin { x = sprintf("%.2000000s", "a"); exit() }', "format precision 2000000", "sprintf"),
])
def test_out_of_range_is_a_pass2_error(script, message, at):
    line, where = refused(script)
    assert line.startswith("semantic error: ") and message in line, line
    assert where.startswith(at), where


@pytest.mark.parametrize("script", [
    "probe timer.ms(1).randomize(1) { exit() }",
    "probe timer.s(3600) { exit() }",
    HIST % "0, 1250, 10",               # 128 buckets: the most there are
    HIST % "-100, 100, 2",
    HIST % "5, 5, 1",
    'probe begin { printf("%1048576d%.5s", 1, "a"); exit() }',
])
def test_values_in_range_still_compile(script):
    r = ftstap("-p3", "-e", script)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("define, message", [
    ("MAXACTION=-1", "-D MAXACTION expects a number from 1 to 9223372036854775807, not '-1'"),
    ("MAXSTRINGLEN=1", "-D MAXSTRINGLEN expects a number from 2 to 16777216, not '1'"),
    ("MAXNESTING=10001", "-D MAXNESTING expects a number from 0 to 10000, not '10001'"),
    ("MAXMAPENTRIES=0", "-D MAXMAPENTRIES expects a number from 1 to 1073741824, not '0'"),
])
def test_define_out_of_range_is_one_usage_error(define, message):
    r = ftstap("-p1", "-D", define, "-e", "probe begin { exit() }")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip() == f"usage error: {message}"
