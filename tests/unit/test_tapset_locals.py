"""A tapset function's locals never meet the user's globals.

stap resolves a name in a function body to a parameter, else to a global
of any file (the user's script included), else to a new local.  So a
tapset function that uses a plain `out` or `t` as its scratch variable
reads and writes the user's `global out`: every local of a library
function is spelled with a leading underscore, as stap's own are."""
import subprocess
import sys

from ftstap.lang import ast as A
from ftstap.lang.frontend import run_pass1
from ftstap.lang.source import Source


def _tapsets():
    result = run_pass1(Source("<empty>", "probe begin {}"), [])
    assert not result.warnings, result.warnings
    return result.tapsets


def test_tapset_function_locals_are_underscored():
    tapsets = _tapsets()
    globals_ = {g.name for t in tapsets for g in t.of(A.Global)}
    bad = []
    for t in tapsets:
        for f in t.of(A.Function):
            if isinstance(f.body, A.Embedded):
                continue
            params = {p.name for p in f.params}
            for n in A.walk(f.body):
                if (isinstance(n, A.Symbol) and n.name not in params and n.name not in globals_
                        and not n.name.startswith("_")):
                    bad.append(f"{f.loc.file}:{n.loc.line}: {f.name}: {n.name}")
    assert not bad, "\n".join(sorted(set(bad)))


def test_a_user_global_keeps_its_value_across_a_tapset_call():
    p = subprocess.run([sys.executable, "-m", "ftstap", "-e",
                        'global out, t, n; probe begin { out = "mine"; t = "t"; n = 7; '
                        'x = _ftstap_bits(3, "A=1,B=2"); printf("%s %s %s %d\\n", x, out, t, n); exit() }'],
                       capture_output=True, text=True, timeout=120)
    assert (p.returncode, p.stdout) == (0, "A|B mine t 7\n"), p.stderr
