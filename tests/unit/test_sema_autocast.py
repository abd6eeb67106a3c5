"""@cast from header modules and autocasts (issue 14), typed by the host
kernel's BTF: stap compiles "<sys/un.h>", ftstap looks the type up in BTF;
a pointer type flows through a ternary, a function's returns and an array
member's elements."""
import os

import pytest

from ftstap.kernel.features import KernelFeatures

from sema_support import elaborate, error_of


@pytest.fixture(scope="module")
def kf():
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        pytest.skip("needs the kernel's BTF")
    return KernelFeatures.current()


def test_header_module_resolves_from_btf(kf):
    p = elaborate('probe begin { println(@cast(0, "sockaddr_un", "<sys/un.h>")->sun_family) '
                  'println(@cast(0, "task_struct", "kernel<linux/sched.h><linux/fs_struct.h>")->fs->umask) }', kf)
    assert len(p.probes) == 1


def test_header_type_missing_from_btf(kf):
    e = error_of('probe begin { println(@cast(0, "no_such_type_x", "<sys/time.h>")->tv_sec) }', kf)
    assert "header <sys/time.h> is not in the kernel's BTF" in e.message


def test_autocast_through_ternary(kf):
    elaborate('probe begin { println((randint(2) ? & @cast(0, "sockaddr_un", "<sys/un.h>")'
              ' : & @cast(1, "sockaddr_un", "<sys/un.h>"))->sun_family) }', kf)


def test_autocast_through_function_return(kf):
    elaborate('function t(p) { if (p) return & @cast(p, "task_struct") else return & @cast(1, "task_struct") }\n'
              'probe begin { println(t(0)->pid) }', kf)
    e = error_of('function t(p) { return p }\nprobe begin { println(t(0)->pid) }', kf)
    assert "type of this expression is unknown" in e.message


def test_autocast_through_array_member(kf):
    elaborate('probe begin { p = @cast(0, "sockaddr_un", "<sys/un.h>")->sun_path; println((p)[0]) }', kf)


def test_casts_from_different_modules_do_not_agree(kf):
    """stap gives each cast module its own types: mixing them leaves no type."""
    for script in ('probe begin { println((randint(2) ? & @cast(0, "sockaddr_un", "<sys/un.h>") '
                   ': & @cast(0, "sockaddr_un", "<sys/socket.h><sys/un.h>"))->sun_family) }',
                   'probe begin { if (randint(2)) s = & @cast(0, "sockaddr_un", "<sys/un.h>"); '
                   'else s = & @cast(0, "sockaddr_un", "<sys/socket.h><sys/un.h>"); println(s->sun_family) }'):
        e = error_of(script, kf)
        assert "type of this expression is unknown" in e.message or "no known type" in e.message


USER_PROBE = 'probe process("/bin/sh").function("main") { f() }\n'


def _user_probe_binds(kf):
    try:
        elaborate(USER_PROBE + "function f() { println(1) }", kf)
    except Exception as e:      # noqa: BLE001 -- no /bin/sh with a main symbol here
        pytest.skip(f"no process probe to bind: {e}")


def test_cast_without_module_looks_in_the_probes_own_module(kf):
    """stap >= 4.2 (semko/fourteenhundredninetytwo): @cast with no module
    means the probe's module, a function's through its callers; a process
    has no types ftstap can read.  Kernel probes keep the kernel's BTF."""
    _user_probe_binds(kf)
    e = error_of(USER_PROBE + 'function f() { println(@cast(0, "task_struct")->pid) }', kf)
    assert "not found in" in e.message and "@cast" in e.message
    e = error_of('probe process("/bin/sh").function("main") { println(@cast(0, "task_struct")->pid) }', kf)
    assert "not found in" in e.message
    elaborate(USER_PROBE + 'function f() { println(@cast(0, "task_struct", "kernel")->pid) }', kf)
    elaborate('probe begin { f() }\nfunction f() { println(@cast(0, "task_struct")->pid) }', kf)


def test_cast_without_module_is_the_kernels_before_4_2(kf):
    """--compatible=4.1 (semok/fourteenhundredninetytwo): the kernel's."""
    from ftstap.lang.frontend import run_pass1
    from ftstap.lang.source import Source
    from ftstap.sema.elaborate import run_pass2
    _user_probe_binds(kf)
    script = USER_PROBE + 'function f() { println(@cast(0, "task_struct")->pid) }'
    r = run_pass1(Source("<input>", script), [], compatible="4.1")
    run_pass2(r.script, r.tapsets, kf, unoptimized=True)
