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
