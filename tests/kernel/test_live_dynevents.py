"""Real uprobe events: creation, firing, rollback, stale groups, --list-active."""
import os
import subprocess
import sys

import pytest

from ftstap.errors import KernelError
from ftstap.kernel.dynevents import EventGroup, list_active, remove_stale_groups
from ftstap.kernel.symbols import ElfFile

PROG = r"""
#include <stdio.h>
#include <stdlib.h>
int __attribute__((noinline)) add(int a, int b) { __asm__ volatile(""); return a + b; }
int main(int argc, char **argv) {
    int x = argc > 1 ? atoi(argv[1]) : 1;
    printf("%d\n", add(x, 2));
    return 0;
}
"""


def uprobe_lines(tfs, group):
    with open(os.path.join(tfs, "uprobe_events")) as f:
        return [l.strip() for l in f if l.startswith(("p:", "r:")) and l.split(":")[1].startswith(group + "/")]


@pytest.fixture
def uprobes(tfs, need):
    need(os.path.exists(os.path.join(tfs, "uprobe_events")), "uprobe_events (CONFIG_UPROBE_EVENTS)")
    return tfs


@pytest.mark.parametrize("pie", [True, False], ids=["pie", "no-pie"])
def test_uprobe_fires_with_args(uprobes, cc, instance, pie):
    prog = cc(PROG, "add", *([] if pie else ["-no-pie"]))
    add = ElfFile(prog).function("add")
    assert (add.offset == add.address) == pie          # no-pie: linked at 0x400000+
    with EventGroup() as g:
        evs = g.add([f"p:{g.name}/add {prog}:{add.offset:#x} a=%di:s32 b=%si:s32",
                     f"r:{g.name}/add_ret {prog}:{add.offset:#x} ret=$retval:s32"])
        assert [(e.kind, e.type) for e in evs] == [("uprobe", "p"), ("uprobe", "r")]
        lines = uprobe_lines(uprobes, g.name)
        assert lines == [f"p:{g.name}/add {prog}:0x{add.offset:016x} a=%di:s32 b=%si:s32",
                         f"r:{g.name}/add_ret {prog}:0x{add.offset:016x} ret=$retval:s32"]
        fmt = g.format("add")
        a = fmt.field("a")
        assert (a.ctype, a.size, a.signed) == ("s32", 4, True)
        assert g.event_id("add") == fmt.id > 0 and g.event_id("add_ret") != fmt.id
        instance.enable(g.name, "add")
        instance.enable(g.name, "add_ret")
        out = subprocess.run([prog, "40"], capture_output=True, text=True, check=True).stdout
        assert out == "42\n"
        instance.enable(g.name, "add", False)
        instance.enable(g.name, "add_ret", False)
        trace = instance.trace()
        assert " add: (" in trace and "a=40 b=2" in trace
        assert " add_ret: (" in trace and "ret=42" in trace
    assert uprobe_lines(uprobes, g.name) == []
    g.close()                                          # idempotent after the with block


def test_rollback_on_rejected_definition(uprobes, cc):
    prog = cc(PROG, "add")
    off = ElfFile(prog).function("add").offset
    g = EventGroup()
    try:
        with pytest.raises(KernelError) as ei:
            g.add([f"p:{g.name}/ok1 {prog}:{off:#x}", f"p:{g.name}/ok2 {prog}:{off:#x} x=%di",
                   f"p:{g.name}/bad {prog}:{off:#x} x=%nosuchreg"])
        msg = str(ei.value)
        assert f"p:{g.name}/bad {prog}:{off:#x} x=%nosuchreg" in msg
        assert "Invalid argument" in msg and "rolled back the 2 event(s)" in msg
        assert uprobe_lines(uprobes, g.name) == []
        assert g.events == []
        with pytest.raises(KernelError, match="No such file or directory"):
            g.add(f"p:{g.name}/nofile /nonexistent/prog:0x10")
        g.add(f"p:{g.name}/ok1 {prog}:{off:#x}")       # the group still works
        with pytest.raises(KernelError, match="already exists"):
            g.add(f"p:{g.name}/ok1 {prog}:{off:#x}")
        assert len(uprobe_lines(uprobes, g.name)) == 1
    finally:
        g.close()
    assert uprobe_lines(uprobes, g.name) == []


def test_close_refuses_while_enabled_elsewhere_then_finishes(uprobes, cc, instance):
    prog = cc(PROG, "add")
    off = ElfFile(prog).function("add").offset
    g = EventGroup()
    g.add(f"p:{g.name}/busy {prog}:{off:#x}")
    instance.enable(g.name, "busy")                    # an instance keeps it in use
    with pytest.raises(KernelError, match=f"{g.name}/busy"):
        g.close()
    assert len(uprobe_lines(uprobes, g.name)) == 1
    instance.enable(g.name, "busy", False)
    g.close()
    assert uprobe_lines(uprobes, g.name) == []


def test_stale_group_of_dead_pid_is_removed(uprobes, cc):
    prog = cc(PROG, "add")
    off = ElfFile(prog).function("add").offset
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = EventGroup(pid=child.pid)                   # as if that session was SIGKILLed
    live = EventGroup()
    try:
        dead.add([f"p:{dead.name}/a {prog}:{off:#x}", f"r:{dead.name}/b {prog}:{off:#x}"])
        live.add(f"p:{live.name}/c {prog}:{off:#x}")
        assert len(uprobe_lines(uprobes, dead.name)) == 2
        removed = remove_stale_groups()
        assert dead.name in removed and live.name not in removed
        assert uprobe_lines(uprobes, dead.name) == []
        assert not os.path.isdir(os.path.join(uprobes, "events", dead.name))
        assert len(uprobe_lines(uprobes, live.name)) == 1
    finally:
        live.close()
        dead.close()


def test_list_active(uprobes, cc):
    prog = cc(PROG, "add")
    off = ElfFile(prog).function("add").offset
    with EventGroup() as g:
        g.add([f"p:{g.name}/a {prog}:{off:#x}", f"r:{g.name}/b {prog}:{off:#x}"])
        g.note_tracepoints(["sched:sched_switch"])
        mine = [r for r in list_active() if r.pid == os.getpid()]
        assert sorted((r.type, r.target, r.address) for r in mine) == [
            ("r", f"{prog}:{off:#x}", "-"), ("t", "sched:sched_switch", "-"),
            ("u", f"{prog}:{off:#x}", "-")]
        assert all(str(os.getpid()) in r.row() for r in mine)
    assert [r for r in list_active() if r.pid == os.getpid()] == []
