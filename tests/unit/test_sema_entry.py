"""@entry(expr) in return probes (sema/entry.py): a synthetic probe on the
call's entry event saves the value per thread, the return probe takes it."""
import pytest

from ftstap.lang import ast as A
from ftstap.sema.entry import _components

from sema_support import elaborate, error_of, features  # noqa: F401  (fixture)


def test_syscall_return_gets_an_entry_twin_keyed_by_tid(features):
    p = elaborate('probe syscall.openat.return { printf("%d %s\\n", @entry($flags), '
                  '@entry(user_string($filename))) }', features)
    ret, twin = p.probes
    assert ret.pp == "syscall.openat.return" and twin.pp == "syscall.openat"
    assert twin.source.target.event == "sys_enter_openat"
    assert p.globals["__entry_1_0"].key_types == ["long"]
    assert p.globals["__entry_1_1"].type == "string"
    assert "__entry_1_depth" not in p.globals          # one syscall at a time per thread
    assert isinstance(ret.body.body[0], A.If) and isinstance(ret.body.body[0].then, A.Next)  # entry unseen: skip


def test_same_expression_saved_once(features):
    p = elaborate('probe syscall.openat.return { println(@entry($dfd) + @entry($dfd)) }', features)
    assert [g for g in p.globals if g.startswith("__entry_")] == ["__entry_1_0"]


def test_entry_outside_return_probe_is_an_error(features):
    assert "@entry is only valid in .return probes" in str(error_of(
        'probe syscall.openat { println(@entry($dfd)) }', features))


def test_defined_entry_of_unknown_variable_is_false(features):
    p = elaborate('probe syscall.openat.return { if (@defined(@entry($nope))) println(1) else println(2) }',
                  features)
    assert len(p.probes) == 1                             # nothing to save: no twin


def test_table_return_variables_use_entry(features):
    p = elaborate('probe syscall.openat.return { println(retstr) }', features)
    assert len(p.probes) == 1                             # retstr needs no entry value


def test_components_of_a_pp():
    comps = _components('process("/a.b/c").function("f*").return')
    assert [c.name for c in comps] == ["process", "function", "return"]
    assert comps[0].arg == A.String("/a.b/c")
    assert [c.name for c in _components('kernel.function("f").return.maxactive(16)')][-1] == "maxactive"
