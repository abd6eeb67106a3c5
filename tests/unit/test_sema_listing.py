"""-l / -L / --dump-functions / --dump-probe-types, and the -p2 listing."""
from ftstap.sema import probelist
from ftstap.sema.listing import program_listing

from sema_support import elaborate, features  # noqa: F401


def test_list_syscalls_with_vars(features):  # noqa: F811
    lines = probelist.list_probes("syscall.open*", features, True)
    assert lines == ["syscall.openat name:string dfd:long filename_uaddr:long flags:long mode:long dfd_str:string "
                     "filename:string flags_str:string argstr:string"]


def test_list_aliases_by_wildcard(features):  # noqa: F811
    lines = probelist.list_probes("netdev.receive", features, True)
    assert lines == ["netdev.receive dev_name:string length:long protocol:long truesize:long"]


def test_list_tracepoint_context_vars(features):  # noqa: F811
    [line] = probelist.list_probes('kernel.trace("sched:sched_switch")', features, True)
    assert line.startswith('kernel.trace("sched:sched_switch") $prev_comm:char[16] $prev_pid:pid_t')


def test_list_without_vars(features):  # noqa: F811
    assert probelist.list_probes("syscall.sync*", features, False) == ["syscall.sync"]


def test_dump_functions_has_builtins_and_tapset_functions():
    from ftstap.lang.frontend import run_pass1
    from ftstap.lang.source import Source
    lines = probelist.dump_functions(run_pass1(Source("<x>", "probe never {}"), []).tapsets)
    assert "execname:string ()" in lines and "signal_str:string (num:long)" in lines


def test_p2_listing_shape():
    out = program_listing(elaborate("global c\nprobe begin { c[1] = 2; x = 1; print(x) }"))
    assert out.splitlines()[:3] == ["# global", "c:long [long]", "# probes"]
    assert "begin /* <- begin; begin */" in out and "  x:long" in out


def test_listing_an_alias_the_pattern_defines(features):
    """stap -L wraps its argument as `probe ARG {}`, so the argument may define
    an alias and probe it (semok/defined_list_vars does); it listed nothing."""
    pattern = 'my.x = timer.s(1) { a = 1; b = "s" }\nprobe my.x'
    assert probelist.list_probes(pattern, features, True) == ["my.x a:long b:string"]
    assert probelist.list_probes(pattern, features, False) == ["my.x"]
