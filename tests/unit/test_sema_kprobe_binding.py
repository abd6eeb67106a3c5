"""Pass 2 on kernel.function without kprobe_events (issue 14): bound from
kallsyms (and BTF) as stap binds from debuginfo, with stap's checks, and
probe arming conditions held to stap's rules."""
import os
import shutil

import pytest

from sema_support import elaborate, error_of, features  # noqa: F401

KALLSYMS = ("ffffffff81000000 T _stext\nffffffff81001000 t __pfx_vfs_read\nffffffff81001010 T vfs_read\n"
            "ffffffff81001100 T vfs_write\nffffffff83576000 T _sinittext\nffffffff835760a0 t init_setup\n"
            "ffffffff835ec7b0 T _einittext\n")


@pytest.fixture
def kf(features):  # noqa: F811
    with open(features.snapshot + "/kallsyms", "w") as f:
        f.write(KALLSYMS)
    return features


def test_condition_must_not_modify(kf):
    e = error_of('global x\nprobe kernel.function("vfs_read") if (x = 1) { }', kf)
    assert e.message == "probe condition must not modify any variables" and (e.span.line, e.span.col) == (2, 41)
    e = error_of('global x\nprobe begin if (x++) { }', kf)
    assert "must not modify" in e.message


def test_condition_reads_globals_only(kf):
    e = error_of('probe kernel.function("vfs_read") if (x > 1) { }', kf)
    assert "only to global variables: 'x'" in e.message
    e = error_of('probe kernel.function("vfs_read") if ($count > 1) { }', kf)
    assert "context variables" in e.message


def test_condition_must_not_call(kf):
    e = error_of('probe kernel.function("vfs_read") if (foo(2)) { }\nfunction foo(x) { return x }', kf)
    assert "must not call functions ('foo')" in e.message
    e = error_of('probe begin if (pid() == 1) { }', kf)
    assert "must not call functions ('pid')" in e.message


def test_condition_on_globals_is_fine(kf):
    p = elaborate('global g, a\nprobe begin if (g == 1 && a[0] > 2 && !(3 in a)) { }\n'
                  'probe begin { g = 1; a[0] = 3 }', kf)
    assert len(p.probes) == 2


def test_address_of_register_values(kf):
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        pytest.skip("needs the kernel's BTF for vfs_read's parameters")
    os.mkdir(kf.snapshot + "/btf")
    shutil.copy("/sys/kernel/btf/vmlinux", kf.snapshot + "/btf/vmlinux")
    e = error_of('probe kernel.function("vfs_read") { println(& $count) }', kf)
    assert "address of '$count'" in e.message and "register" in e.message
    e = error_of('probe kernel.function("vfs_read").return { println(& $return) }', kf)
    assert "address of '$return'" in e.message


def test_maxactive_range(kf):
    assert elaborate('probe kernel.function("vfs_read").return.maxactive(65535) { }', kf).probes
    for n in ("-4", "99999999"):
        e = error_of(f'probe kernel.function("vfs_read").return.maxactive({n}) {{ }}', kf)
        assert "maxactive value out of range [0,65535]" in e.message


def test_init_text_is_refused(kf):
    e = error_of('probe kernel.function("init_setup") { }', kf)
    assert "init text" in e.message
    p = elaborate('probe kernel.function("*_setup") ?, kernel.function("vfs_*") { }', kf)
    assert [i.source.target.symbol for i in p.probes] == ["vfs_read", "vfs_write"]


def test_inline_needs_dwarf(kf):
    e = error_of('probe kernel.function("vfs_read").inline { }', kf)
    assert "DWARF" in e.message
    assert elaborate('probe kernel.function("vfs_read").inline ?, begin { }', kf).probes
