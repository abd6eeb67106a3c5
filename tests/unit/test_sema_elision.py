"""stap's probe elision (sema/elision.py): without -u, a probe whose own
code does nothing once @defined and constants are folded is removed, and a
script left with none fails with "no probes found"; -u keeps them all."""
import pytest

from ftstap.errors import FtstapError
from sema_support import elaborate


def pps(script, **kw):
    return [i.pp for i in elaborate(script, **kw).probes]


@pytest.mark.parametrize("body", [
    "{}", "{ ; }", "{ { } }", "{ if (@defined($foo)) { print(1) } }",
    "{ if (0) print(1) }", "{ if (1) {} else print(1) }", "{ if (!@defined($x)) {} }",
])
def test_empty_handlers_are_elided_unless_u(body):
    script = f"probe begin {body} probe end {{ println(2) }}"
    assert pps(script, unoptimized=False) == ["end"]
    assert pps(script, unoptimized=True) == ["begin", "end"]


def test_nothing_left_is_no_probes_found():
    """stap's semko/probe_elision: @defined($foo) in begin folds to nothing."""
    script = 'probe begin { if (@defined($foo)) { print("no") } } probe end {}'
    with pytest.raises(FtstapError) as info:
        elaborate(script, unoptimized=False)
    assert "no probes found" in info.value.render()
    assert pps(script, unoptimized=True) == ["begin", "end"]


@pytest.mark.parametrize("body", [
    "{ print(1) }", "{ if (@defined($foo)) {} else print(1) }", "{ x = 1 }", "{ next }",
    "{ if (pid()) {} }",
])
def test_handlers_that_do_something_stay(body):
    assert pps(f"probe begin {body}", unoptimized=False) == ["begin"]


def test_indices_follow_the_kept_probes():
    p = elaborate("probe begin {} probe end { println(1) } probe error { println(2) }", unoptimized=False)
    assert [(i.pp, i.index) for i in p.probes] == [("end", 0), ("error", 1)]
