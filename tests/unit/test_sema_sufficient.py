"""`!` marks a probe point optional *and* sufficient, as in stap: if it
resolves, the points after it are not tried; if not, it is skipped.  It can
end an alternative of a brace expansion."""
from ftstap.errors import FtstapError
from ftstap.lang.frontend import run_pass1
from ftstap.lang.source import Source

import pytest

from sema_support import elaborate, error_of, features  # noqa: F401


def events(p):
    return [i.source.target.event for i in p.probes]


def test_sufficient_stops_the_list(features):  # noqa: F811
    p = elaborate('probe kernel.trace("sched_switch")!, kernel.trace("no_such_tp") { }', features)
    assert events(p) == ["sched_switch"]


def test_sufficient_is_optional(features):  # noqa: F811
    p = elaborate('probe kernel.trace("no_such_tp")!, kernel.trace("sched_switch") { }', features)
    assert events(p) == ["sched_switch"]


def test_sufficient_in_alias_targets(features):  # noqa: F811
    p = elaborate('probe a = kernel.trace("no_such_tp")!, kernel.trace("sched_switch")!, '
                  'kernel.trace("no_such_2") { }\nprobe a { }', features)
    assert events(p) == ["sched_switch"]


def test_required_point_after_unmatched_sufficient_still_fails(features):  # noqa: F811
    e = error_of('probe kernel.trace("no_such_tp")!, kernel.trace("no_such_2") { }', features)
    assert "no_such_2" in e.message


def test_brace_alternatives_carry_their_mark(features):  # noqa: F811
    p = elaborate('probe kernel.{trace("no_such_tp")!, trace("sched_switch")} { }', features)
    assert events(p) == ["sched_switch"]
    p = elaborate('probe kernel.{trace("sched_switch")!, trace("no_such_tp")} { }', features)
    assert events(p) == ["sched_switch"]
    script = run_pass1(Source("<input>", 'probe kernel.{trace("a")?, trace("b")!} { }'), []).script
    pts = script.items[0].points
    assert [(p.optional, p.sufficient) for p in pts] == [(True, False), (False, True)]


def test_mark_must_end_an_alternative():
    with pytest.raises(FtstapError) as e:
        run_pass1(Source("<input>", 'probe kernel.{trace("a")!.x, trace("b")} { }'), [])
    assert "must end an alternative" in str(e.value.errors[0].message if hasattr(e.value, "errors") else e.value)
