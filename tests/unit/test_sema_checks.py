"""Pass 2: one test per semantic check, asserting the message and where."""
import pytest

from sema_support import elaborate, error_of, features  # noqa: F401


def loc(e):
    return (e.span.line, e.span.col)


def test_array_declared_with_size_used_as_stat():
    e = error_of('global a[10]\nprobe begin { printf("%d\\n", @count(a)) }')
    assert "declared with a size [10]" in e.message and "used as a scalar" in e.message
    assert loc(e) == (2, 37)


def test_wrapping_array_used_as_scalar():
    e = error_of("global foo%\nprobe begin { foo = 2 }")
    assert "with '%' (wrap)" in e.message and loc(e) == (2, 15)


def test_local_stat_read_is_an_error():
    e = error_of("probe begin { a <<< 1; println(@count(a)) }")
    assert "local variable 'a' cannot be a statistic" in e.message
    assert loc(e) == (1, 39) and "global a" in e.hint


def test_local_stat_never_read_is_elided():
    p = elaborate("probe begin { a <<< 2 }")
    assert p.probes[0].locals["a"].type == "stat"


def test_foreach_value_of_stat_array():
    e = error_of("global s\nprobe begin { s[0] <<< 1; foreach (v = k in s) print(k) }")
    assert "foreach value variable 'v' would be a statistic" in e.message
    assert loc(e) == (2, 36)


def test_undeclared_array_is_an_error():
    e = error_of("probe begin {\n  a[1] = 1\n  println(a[1])\n}")
    assert "local 'a' used as an array: arrays must be declared global" in e.message
    assert loc(e) == (2, 3) and e.hint == "add 'global a' to the script"


def test_scalar_local_used_as_array():
    e = error_of("probe begin { x = 1; x[1] = 2 }")
    assert "local 'x' used as an array" in e.message and loc(e) == (1, 22)


def test_modification_during_foreach_through_function():
    e = error_of('global foo\nfunction bar() { foo["h"] = 10; return 1 }\n'
                 'probe begin { foreach (a in foo) { bar() } }')
    assert "invalid modification of array 'foo' during foreach" in e.message
    assert "function 'bar'" in e.message and loc(e) == (3, 36)


def test_modification_through_nested_calls():
    e = error_of("global foo\nfunction w() { foo[1]++ }\nfunction bar() { w() }\n"
                 "probe begin { foreach (a in foo) bar() }")
    assert "array 'foo'" in e.message


def test_guru_only_function():
    e = error_of('probe begin { printk(0, "x") }')
    assert "only available in guru mode" in e.message and loc(e) == (1, 15)
    elaborate('probe begin { printk(0, "x") }', guru=True)


@pytest.mark.parametrize("name", ["task_ns_pid", "task_ns_tid", "task_ns_uid", "task_ns_egid"])
def test_guru_only_tapset_function(name):
    """stap's semko/task_ns: the task_ns_* tapset functions need -g."""
    e = error_of(f"global x\nprobe begin {{ x = {name}(0xdeadbeef) }}")
    assert "only available in guru mode" in e.message and loc(e) == (2, 19)
    elaborate(f"global x\nprobe begin {{ x = {name}(0xdeadbeef) }}", guru=True)


def test_entry_outside_return_probe():
    e = error_of("probe begin { x = @entry(1); print(x) }")
    assert "@entry is only valid in .return probes" in e.message and loc(e) == (1, 19)


def test_context_var_in_probe_without_any():
    e = error_of("probe begin { print($foo) }")
    assert "has no context variables" in e.message and "$foo" in e.message
    assert loc(e) == (1, 21)


def test_null_is_a_long():
    e = error_of('probe begin { if ("foo" == NULL) log("boo") }')
    assert "type mismatch" in e.message


def test_perf_sample_and_hz():
    e = error_of("probe perf.type(0).config(0).sample(100).hz(100) { println(1) }")
    assert ".sample(N) or .hz(N), not both" in e.message and loc(e) == (1, 42)


def test_header_cast_is_looked_up_in_btf():
    """No kernel features here: the header's type is looked up in BTF, which is missing."""
    e = error_of('probe begin { println(@cast(0, "sockaddr_un", "<sys/un.h>")->sun_family) }')
    assert "cannot resolve kernel types" in e.message and loc(e) == (1, 23)


def test_cast_to_userspace_module_needs_dwarf():
    e = error_of('probe begin { println(@cast(0, "foo", "/bin/ls")->x) }')
    assert "needs its debuginfo (DWARF)" in e.message


def test_member_of_untyped_value():
    e = error_of("probe begin { x = 1; println(x->field) }")
    assert "type of this expression is unknown" in e.message and "'field'" in e.message


def test_unused_global_warning():
    p = elaborate("global foo\nprobe begin { exit() }")
    assert any("Eliding unused variable 'foo'" in w and "<input>:1:8" in w for w in p.warnings)


def test_never_assigned_local_warning():
    p = elaborate("global g\nprobe begin { g = x + 1 }")
    assert any("never-assigned local variable 'x'" in w for w in p.warnings)


def test_no_probes_found_when_all_optional_fail(features):  # noqa: F811
    e = error_of('probe process("/nonexistent/prog").function("main") ? { }', features)
    assert "no probes found" in e.message


def test_semantic_error_renders_like_parse_errors():
    e = error_of("probe begin {\n  a <<< 1; println(@count(a))\n}")
    text = e.render()
    assert text.splitlines()[0].startswith("semantic error: local variable 'a'")
    assert "at <input>:2:27" in text
    assert "     source:   a <<< 1; println(@count(a))" in text
    caret = text.splitlines()[3]
    assert caret.index("^") == 13 + 26
