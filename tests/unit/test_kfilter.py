"""Pass 3: handler conditions that become kernel event filters (compile/kfilter.py),
and handlers compiled in counting mode (compile/counting.py)."""
import pytest

from ftstap.compile.codegen import CodeGen
from ftstap.kernel.features import KernelFeatures
from ftstap.lang import frontend
from ftstap.lang.source import Source
from ftstap.sema.elaborate import run_pass2
from codegen_support import need_tracepoint, ops


def filters(text: str) -> dict:
    p1 = frontend.run_pass1(Source("<t>", text), [])
    cg = CodeGen(run_pass2(p1.script, p1.tapsets, KernelFeatures.current()))
    cg.build()
    return cg.filters


@pytest.fixture(autouse=True)
def _syscalls():
    need_tracepoint("syscalls", "sys_enter_read")


@pytest.mark.parametrize("cond, expect", [
    ('execname() == "syslogd"', 'COMM == "syslogd"'),
    ('"syslogd" != execname()', 'COMM != "syslogd"'),
    ("$fd == 3", "fd == 3"),
    ("fd == 3", "fd == 3"),                          # the alias's local, set from $fd
    ("3 == $fd && tid() > 100", "fd == 3 && common_pid > 100"),
    ("cpu() == 1 || (tid() == 7 && $fd != 0)", "CPU == 1 || (common_pid == 7 && fd != 0)"),
    ("$count == -1", "count == 18446744073709551615"),  # size_t, unsigned 8-byte: the same bits
    ("$fd == 4294967295", "fd == 4294967295"),       # unsigned int in an 8-byte slot: read at 4 bytes
])
def test_translated(cond, expect):
    assert filters(f"global n; probe syscall.read {{ if ({cond}) n++ }}") == {0: expect}


@pytest.mark.parametrize("cond", [
    "pid() == 3",                  # common_pid is the thread id
    "$fd < 3",                     # an int in an 8-byte slot: the kernel would compare the slot
    "$count < 3",                  # unsigned 8-byte: the VM compares signed
    "$fd == -1",                   # outside unsigned int: never true
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
    "global n; probe syscall.getppid { n[execname()] <<< 1 }",
])
def test_not_counting_mode(text):
    assert counted(text) == {}


def test_counting_switch_off(monkeypatch):
    monkeypatch.setenv("FTSTAP_NO_PUSHDOWN", "1")
    assert counted("global n; probe syscall.getppid { n++ }") == {}


@pytest.mark.parametrize("text, expect", [
    # keys and values fixed per probe expansion: builtins that read the probe point
    ("global calls; probe syscall.getppid, syscall.getpid { calls[probefunc()]++ }",
     {0: "calls[probefunc()] += count", 1: "calls[probefunc()] += count"}),
    ("global c; probe syscall.getppid { c[pp(), pn(), ppfunc(), probemod(), is_return(), 7]++ }",
     {0: "c[pp(), pn(), ppfunc(), probemod(), is_return(), 7] += count"}),
    ('global c; probe syscall.getppid { if (execname() == "a") c[pp()] += 2 }',
     {0: "c[pp()] += count * 2 of the filtered events"}),
    # statistics: V added count times
    ("global x; probe syscall.getppid { x <<< 1 } probe end { println(@count(x)) }",
     {0: "x <<< 1, count times"}),
    ("global x; probe syscall.getppid, syscall.getpid { x[name] <<< -3 } "
     "probe end { foreach (k in x) println(@variance(x[k])) print(@hist_log(x[\"getpid\"])) }",
     {0: 'x["getppid"] <<< -3, count times', 1: 'x["getpid"] <<< -3, count times'}),
    ("global x; probe syscall.getppid.return { x[probefunc()] <<< is_return() } probe begin { x[\"\"] <<< 9 }",
     {0: "x[probefunc()] <<< is_return(), count times"}),
    ('global x; probe syscall.getppid { if (tid() == 5) x <<< 4 }',
     {0: "x <<< 4, count times of the filtered events"}),
])
def test_counting_mode_keys_and_stats(text, expect):
    assert counted(text) == expect


@pytest.mark.parametrize("text", [
    "global calls; probe syscall.getppid { calls[execname()]++ }",       # per event, not per probe
    "global calls; probe syscall.getppid { calls[probefunc(), tid()]++ }",
    "global calls; probe syscall.write { calls[fd]++ }",                   # a local set from a field
    'function pp() { return "mine" } global c; probe syscall.getppid { c[pp()]++ }',   # not the builtin
    "global x; probe syscall.getppid { x <<< tid() }",
    "global x; probe syscall.write { x <<< fd }",
    "global x; probe syscall.write { x <<< $count }",
    "global x; probe syscall.getppid { x <<< 1; x <<< 1 }",
    "global x; probe syscall.getppid { x <<< 1 } probe timer.s(1) { println(@count(x)) }",   # seen early
    "global x; probe syscall.getppid { x <<< 1 } probe timer.s(1) { delete x }",
    "global x; function f() { return @sum(x) } probe syscall.getppid { x <<< 1 } probe end { println(f()) }",
    "global x; probe syscall.getppid { x[pp()] <<< 1 } probe syscall.getpid { x[execname()] <<< 1 }",
    "global x; probe syscall.getppid { if (pid() == 3) x <<< 1 }",        # not a kernel filter
])
def test_not_counting_mode_keys_and_stats(text):
    assert counted(text) == {}


def test_apply_handler_opcodes(monkeypatch):
    """The apply handler adds the count (LDFI 0 8) in one instruction; the
    key's builtin runs in it, in the probe's own context."""
    assert ops("global x; probe syscall.getppid { x[probefunc()] <<< 3 }") == [
        "CALLB", "PUSHI", "LDFI", "ASTADDN", "RET"]
    assert ops("global x; probe syscall.getppid { x <<< 1 }") == ["PUSHI", "LDFI", "STADDN", "RET"]
    assert ops("global c; probe syscall.getppid { c[pp()]++ }") == ["CALLB", "LDFI", "AADDI", "RET"]
    monkeypatch.setenv("FTSTAP_NO_PUSHDOWN", "1")
    assert ops("global x; probe syscall.getppid { x <<< 1 }") == ["PUSHI", "STADD", "RET"]


def test_weighted_tracepoints_are_not_counted():
    """sched_stat_runtime's perf count adds nanoseconds (__perf_count), not events."""
    need_tracepoint("sched", "sched_stat_runtime")
    text = ('global n, m; probe kernel.trace("sched:sched_stat_runtime") { n[pp()]++ } '
            'probe kernel.trace("sched:sched_switch") { m[pp()]++ }')
    assert counted(text) == {1: "m[pp()] += count"}


def test_syscall_int_arguments_filter_on_their_slot():
    """openat's `int dfd` sits zero-extended in an 8-byte slot: the handler
    reads -100 (compile/fields.py), so the kernel must compare the slot's
    4294967196; an ordering test cannot be pushed down."""
    need_tracepoint("syscalls", "sys_enter_openat")
    assert filters('probe syscall.openat { if (dfd == -100) println(1) }') == {0: "dfd == 4294967196"}
    assert filters('probe syscall.openat { if (dfd != 3) println(1) }') == {0: "dfd != 3"}
    assert filters('probe syscall.openat { if (dfd < 0) println(1) }') == {}
