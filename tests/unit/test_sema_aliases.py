"""Pass 2 alias expansion: prologue/epilogue order, suffixes, ?, !, recursion."""
from ftstap.lang import ast as A

from sema_support import elaborate, error_of, features  # noqa: F401


def printed(block):
    """The strings println()ed in a probe body, in order."""
    out = []

    def walk(n):
        if isinstance(n, A.Print) and n.args and isinstance(n.args[0], A.String):
            out.append(n.args[0].value)
        for f in getattr(type(n), "_fields", ()):
            v = getattr(n, f)
            for x in (v if isinstance(v, tuple) else (v,)):
                if hasattr(type(x), "_fields"):
                    walk(x)
    walk(block)
    return out


def test_prologue_and_epilogue_order():
    p = elaborate('probe inner = begin { println("inner-pro") }\n'
                  'probe inner2 += inner { println("inner-epi") }\n'
                  'probe outer = inner2 { println("outer-pro") }\n'
                  'probe outer { println("user") }')
    assert printed(p.probes[0].body) == ["inner-pro", "outer-pro", "user", "inner-epi"]


def test_suffix_propagates_through_alias(features):  # noqa: F811
    p = elaborate("probe my.sync = kernel.function(\"sys_sync\") { }\nprobe my.sync.return { print(1) }",
                  features)
    assert p.probes[0].source.is_return
    assert p.probes[0].source.target.event == "sys_exit_sync"


def test_longest_alias_name_wins(features):  # noqa: F811
    p = elaborate("probe syscall_any.return { print(retval) }", features=_raw(features))
    assert p.probes[0].source.target.event == "sys_exit"


def _raw(features):
    import os
    from sema_support import make_snapshot
    d = os.path.join(features.snapshot, "..", "raw")
    return make_snapshot(d, {("raw_syscalls", "sys_enter"): ["long id;8;8;1", "unsigned long args[6];16;48;0"],
                             ("raw_syscalls", "sys_exit"): ["long id;8;8;1", "long ret;16;8;1"]})


def test_optional_target_skipped():
    p = elaborate("probe a = nosuch.thing ?, begin { }\nprobe a { print(1) }")
    assert [i.pp for i in p.probes] == ["begin"]


def test_sufficient_stops_at_first_match():
    p = elaborate("probe a = begin !, end { }\nprobe a { print(1) }")
    assert [i.pp for i in p.probes] == ["begin"]


def test_recursive_alias_is_an_error():
    e = error_of("probe r1 = r2 { }\nprobe r2 = r1 { }\nprobe r1 { print(1) }")
    assert "recursive probe alias" in e.message


def test_unknown_suffix_rejected(features):  # noqa: F811
    e = error_of("probe netdev.receive.bogus { print(1) }", features)
    assert "does not accept the suffix .bogus" in e.message


def test_if_condition_wraps_body():
    p = elaborate("global on\nprobe begin if (on) { print(1) }")
    assert isinstance(p.probes[0].body.body[0], A.If)


def test_tapset_alias_unread_locals_pruned(features):  # noqa: F811
    p = elaborate("global h\nprobe netdev.receive { h <<< length }", features)
    assert set(p.probes[0].locals) == {"length"}


def test_syscall_prologue_local_shadowing_a_global_is_dropped(features):  # noqa: F811
    p = elaborate("global n\nprobe syscall.select { n[name]++ }", features)
    assert "n" not in p.probes[0].locals and p.globals["n"].arity == 1
