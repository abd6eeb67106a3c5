"""Pass 2 type inference: functions, arrays, statistics."""
from sema_support import elaborate, error_of


def func(p, name):
    return next(f for f in p.functions if f.name == name)


def test_function_param_and_return_from_call_site():
    p = elaborate('function f(x) { return x . "!" }\nprobe begin { println(f("a")) }')
    f = func(p, "f")
    assert f.params[0].type == "string" and f.rtype == "string"


def test_function_return_inferred_from_caller_use():
    p = elaborate("function g(x) { return x }\nglobal r\nprobe begin { r = g(1) + 1 }")
    f = func(p, "g")
    assert f.params[0].type == "long" and f.rtype == "long"


def test_array_key_and_value_types():
    p = elaborate('global a\nprobe begin { a["k", 2] = "v" }\nprobe end { foreach ([s, n] in a) println(s, n) }')
    a = p.globals["a"]
    assert a.arity == 2 and a.key_types == ["string", "long"] and a.type == "string"


def test_statistic_and_histogram():
    p = elaborate("global s\nprobe begin { s <<< 3; print(@hist_log(s)); println(@avg(s)) }")
    assert p.globals["s"].type == "stat" and p.globals["s"].hist == [("log", ())]


def test_mismatch_reports_second_use():
    e = error_of('global v\nprobe begin { v = 1 }\nprobe end { v = "s" }')
    assert "type mismatch" in e.message and e.span.line == 3


def test_array_arity_mismatch():
    e = error_of("global a\nprobe begin { a[1] = 1; a[1, 2] = 2 }")
    assert "used with 2 index(es), but it has 1" in e.message


def test_unused_function_not_checked_but_used_one_is():
    p = elaborate('function unused(x) { return x }\nfunction used() { return 1 }\nprobe begin { print(used()) }',
                  unoptimized=False)
    assert [f.name for f in p.functions] == ["used"]


def test_printf_argument_types():
    e = error_of('probe begin { printf("%d\\n", "str") }')
    assert "expected long, found string" in e.message


def test_tapset_function_pulled_in_when_used():
    p = elaborate("probe begin { println(signal_str(9)) }")
    assert any(f.name == "signal_str" and f.tapset for f in p.functions)
    assert func(p, "signal_str").rtype == "string"
