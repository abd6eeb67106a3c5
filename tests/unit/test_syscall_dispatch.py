"""runtime/syscall_dispatch.py: which syscall probes share one raw_syscalls
event, and the kernel filter of a group."""
from ftstap.image.events import EventSpec
from ftstap.image.isa import syscall_nr
from ftstap.runtime import syscall_dispatch as sd

NAMES = ["read", "write", "close", "getppid", "getpid", "getuid", "getgid", "dup", "pipe", "brk"]


def enter(name, **kw):
    return EventSpec("tracepoint", system="syscalls", event=f"sys_enter_{name}", **kw)


def test_many_syscall_probes_share_one_event_per_direction():
    specs = [enter(n) for n in NAMES] + [EventSpec("tracepoint", system="syscalls", event="sys_exit_read",
                                                   is_return=True)]
    probes = [(i, i) for i in range(len(specs))]
    groups, rest = sd.plan(probes, specs)
    (key, members), = groups.items()
    assert key[0] == "enter" and key[2] == "" and rest == [(10, 10)]        # one exit probe: its own tracepoint
    assert members == [(i, syscall_nr(n)) for i, n in enumerate(NAMES)]
    assert sd.kernel_filter(members) == " || ".join(f"id == {nr}" for nr in sorted(nr for _, nr in members))


def test_what_keeps_its_own_tracepoint():
    specs = [enter(n) for n in NAMES[:7]] + [enter("dup", filter="fildes == 1"), enter("pipe", counting=True),
                                             enter("brk", callchain=True)]
    groups, rest = sd.plan([(i, i) for i in range(len(specs))], specs)
    assert sorted(rest) == [(i, i) for i in range(9)]       # 7 sampled, 1 counted: too few; 1 filtered
    (key, members), = groups.items()                        # a backtrace: raw_syscalls, alone too
    assert key[0] == "enter" and members == [(9, syscall_nr("brk"))]


def test_backtrace_probes_always_use_raw_syscalls():
    """syscalls:* samples carry no kernel stack (perf gets the task's user
    registers); raw_syscalls's do.  A filter on named fields is dropped
    (the handler tests it), and two probes on one call get an event each."""
    specs = [enter("read", callchain=True, filter="fd == 3"), enter("read", callchain=True),
             enter("write", callchain=True), enter("getpid", counting=True), enter("getpid", counting=True)]
    groups, rest = sd.plan([(i, i) for i in range(len(specs))], specs)
    assert rest == [(3, 3), (4, 4)]
    assert sorted(groups.values()) == [[(0, syscall_nr("read")), (2, syscall_nr("write"))],
                                       [(1, syscall_nr("read"))]]
    assert {key[2] for key in groups} == {""}


def test_probes_with_one_common_filter_share_it():
    specs = [enter(n, filter='COMM == "a b" && common_pid != 1') for n in NAMES]
    groups, rest = sd.plan([(i, i) for i in range(len(specs))], specs)
    ((which, _, common, _), members), = groups.items()
    assert rest == [] and common == 'COMM == "a b" && common_pid != 1'
    assert sd.kernel_filter(members, common).startswith('(COMM == "a b" && common_pid != 1) && (id == ')
    assert sd.kernel_filter([(0, nr) for nr in range(sd.MAX_FILTERED + 1)], "common_pid == 3") == "common_pid == 3"


def test_two_probes_on_one_call_keep_their_events():
    specs = [enter(n) for n in NAMES] + [enter("read")]
    groups, rest = sd.plan([(i, i) for i in range(len(specs))], specs)
    (members,) = groups.values()
    assert (0, 0) in rest and (10, 10) in rest and syscall_nr("read") not in {nr for _, nr in members}


def test_switched_off(monkeypatch):
    monkeypatch.setenv("FTSTAP_NO_SYSCALL_DISPATCH", "1")
    specs = [enter(n) for n in NAMES]
    assert sd.plan([(i, i) for i in range(10)], specs) == ({}, [(i, i) for i in range(10)])
    groups, rest = sd.plan([(0, 0)], [enter("read", callchain=True)])     # kernel stacks need it
    assert rest == [] and list(groups.values()) == [[(0, syscall_nr("read"))]]


def test_large_groups_are_not_filtered_in_the_kernel():
    members = [(0, nr) for nr in range(sd.MAX_FILTERED + 1)]
    assert sd.kernel_filter(members) == ""
