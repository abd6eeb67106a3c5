"""Pass 3: handler conditions that become kernel event filters (compile/kfilter.py)."""
import pytest

from ftstap.compile.codegen import CodeGen
from ftstap.kernel.features import KernelFeatures
from ftstap.lang import frontend
from ftstap.lang.source import Source
from ftstap.sema.elaborate import run_pass2


def filters(text: str) -> dict:
    p1 = frontend.run_pass1(Source("<t>", text), [])
    cg = CodeGen(run_pass2(p1.script, p1.tapsets, KernelFeatures.current()))
    cg.build()
    return cg.filters


@pytest.fixture(autouse=True)
def _syscalls():
    from ftstap.kernel.tracefs import find_tracefs
    import os
    try:
        root = find_tracefs()
    except Exception:
        pytest.skip("no tracefs")
    if not os.path.exists(os.path.join(root, "events", "syscalls", "sys_enter_read", "format")):
        pytest.skip("no syscall tracepoints")


@pytest.mark.parametrize("cond, expect", [
    ('execname() == "syslogd"', 'COMM == "syslogd"'),
    ('"syslogd" != execname()', 'COMM != "syslogd"'),
    ("$fd == 3", "fd == 3"),
    ("fd == 3", "fd == 3"),                          # the alias's local, set from $fd
    ("3 == $fd && tid() > 100", "fd == 3 && common_pid > 100"),
    ("cpu() == 1 || (tid() == 7 && $fd != 0)", "CPU == 1 || (common_pid == 7 && fd != 0)"),
    ("$fd == -1", "fd == 18446744073709551615"),     # unsigned 8-byte: the same bits
])
def test_translated(cond, expect):
    assert filters(f"global n; probe syscall.read {{ if ({cond}) n++ }}") == {0: expect}


@pytest.mark.parametrize("cond", [
    "pid() == 3",                  # common_pid is the thread id
    "$fd < 3",                     # unsigned 8-byte: the VM compares signed
    "$count == 3 && $buf == 0",    # a pointer field
    'execname() == "sys*"',        # a glob to the kernel
    'execname() < "x"',
    "tid() == 4294967296",         # outside common_pid's range
    "tid() == 3 && n > 0",         # a global
    'name == "read"',              # literal against literal
    "!(tid() == 3)",
])
def test_not_translated(cond):
    assert filters(f"global n; probe syscall.read {{ if ({cond}) n++ }}") == {}


def test_only_whole_handler_conditions():
    assert filters("global n; probe syscall.read { n++; if (tid() == 3) n++ }") == {}
    assert filters("global n; probe syscall.read { if (tid() == 3) n++; else n-- }") == {}
    assert filters("global n; probe syscall.read { if (tid() == 3) n++; n++ }") == {}
    assert filters("global n; probe syscall.read { x = tid(); if (x == 3) n++ }") == {}


def test_switch_off(monkeypatch):
    monkeypatch.setenv("FTSTAP_NO_PUSHDOWN", "1")
    assert filters("global n; probe syscall.read { if (tid() == 3) n++ }") == {}


def counted(text: str) -> dict:
    p1 = frontend.run_pass1(Source("<t>", text), [])
    cg = CodeGen(run_pass2(p1.script, p1.tapsets, KernelFeatures.current()))
    cg.build()
    return cg.counted


@pytest.mark.parametrize("text, expect", [
    ("global n; probe syscall.getppid { n++ }", {0: "n += count"}),
    ("global n; probe syscall.getppid { ++n } probe end { println(n) }", {0: "n += count"}),
    ("global n; probe syscall.getppid { n += 4 } probe begin { n = 1 }", {0: "n += count * 4"}),
    ('global s; probe syscall.getppid, syscall.getpid { s[name, "x"]++ }',
     {0: 's["getppid", "x"] += count', 1: 's["getpid", "x"] += count'}),
    ('global s; probe syscall.getppid { if (execname() == "a") s[name]++ }',
     {0: 's["getppid"] += count of the filtered events'}),
])
def test_counting_mode(text, expect):
    assert counted(text) == expect


@pytest.mark.parametrize("text", [
    "global n; probe syscall.getppid { n[execname()]++ }",              # not fixed per probe
    "global n; probe syscall.getppid { n[$__syscall_nr]++ }",
    "global n; probe syscall.getppid { n-- }",
    "global n; probe syscall.getppid { n++; n++ }",
    "global n; probe syscall.getppid { n++ } probe timer.s(1) { println(n) }",   # seen early
    "global n; probe syscall.getppid { n++ } probe syscall.getpid { delete n }",
    "global n; function f() { return n } probe syscall.getppid { n++ } probe end { println(f()) }",
    "global n; probe syscall.getppid { if (pid() == 3) n++ }",          # not a kernel filter
    "global n; probe syscall.getppid { if (tid() == 3) { n++; n++ } }",
    "global n; probe syscall.getppid { x <<< 1 } global x",              # statistics: not yet
])
def test_not_counting_mode(text):
    assert counted(text) == {}


def test_counting_switch_off(monkeypatch):
    monkeypatch.setenv("FTSTAP_NO_PUSHDOWN", "1")
    assert counted("global n; probe syscall.getppid { n++ }") == {}
