"""process[(PATH|PID)].begin/.end/.thread.* and process("PATH").syscall
bound by probes/process_lifecycle.py, against a synthetic kernel snapshot
(no root, no tracefs): the events each form uses, the kernel filters their
guards become, the context variables stap gives them (only .syscall has
any), and how PATH is found."""
import os
import shutil
import subprocess

import pytest

from ftstap.compile.kfilter import kernel_filter
from ftstap.errors import KernelError
from ftstap.lang import ast as A
from ftstap.probes.process_lifecycle import (LifecycleBegin, LifecycleUprobe, entry_offset, executable,
                                             running)

from sema_support import EVENTS, elaborate, error_of, make_snapshot

RAW = ["long id;8;8;1", "long args[6];16;48;0"]
LIFE = dict(EVENTS)
LIFE.update({
    ("raw_syscalls", "sys_enter"): RAW,
    ("raw_syscalls", "sys_exit"): ["long id;8;8;1", "long ret;16;8;1"],
    ("sched", "sched_process_exit"): ["char comm[16];8;16;0", "pid_t pid;24;4;1", "int prio;28;4;1",
                                      "bool group_dead;32;1;0"],
    ("task", "task_newtask"): ["pid_t pid;8;4;1", "char comm[16];12;16;0", "u64 clone_flags;32;8;0",
                               "short oom_score_adj;40;2;1"],
})
TRUE = os.path.realpath(shutil.which("true") or "/bin/true")


@pytest.fixture
def feats(tmp_path):
    return make_snapshot(tmp_path / "snap", events=LIFE)


@pytest.fixture
def old_kernel(tmp_path):
    """sched_process_exit without group_dead (before Linux 6.x)."""
    ev = dict(LIFE)
    ev[("sched", "sched_process_exit")] = ["char comm[16];8;16;0", "pid_t pid;24;4;1", "int prio;28;4;1"]
    return make_snapshot(tmp_path / "old", events=ev)


def str_error(script: str, feats) -> str:
    return str(error_of(script, feats))


def _events(program) -> list[str]:
    out = []
    for inst in program.probes:
        t = inst.source.target
        out.append(f"{t.system}:{t.event}" if hasattr(t, "system") else t.kind)
    return out


def _calls(inst) -> list[tuple]:
    return [(n.name,) + tuple(a.value for a in n.args if isinstance(a, A.Number))
            for n in A.walk(inst.body) if isinstance(n, A.Call) and n.name.startswith("__pl_")]


def test_every_process_forms_bind_their_events(feats):
    p = elaborate("probe process.begin { println(pid()) }", feats)
    assert _events(p) == ["raw_syscalls:sys_exit", "sched:sched_process_exec", "sched:sched_process_exit"]
    assert {i.pp for i in p.probes} == {"process.begin"}
    assert _events(elaborate("probe process.thread.begin { }", feats)) == \
        ["raw_syscalls:sys_exit", "sched:sched_process_exit"]
    assert _events(elaborate("probe process.end { }", feats)) == \
        ["sched:sched_process_exec", "sched:sched_process_exit"]
    p = elaborate("probe process.thread.end { println(tid()) }", feats)
    assert _events(p) == ["sched:sched_process_exit"]
    assert kernel_filter(p.probes[0]) == "group_dead == 0"


def test_each_probe_point_keeps_its_own_state(feats):
    p = elaborate("probe process.begin { } probe process.begin { }", feats)
    keys = {c[1] for inst in p.probes for c in _calls(inst)}
    assert len(keys) == 2


def test_one_process_filters_in_the_kernel(feats):
    p = elaborate("probe process(4242).begin { println(1) }", feats)
    assert _events(p) == ["raw_syscalls:sys_exit"]
    assert kernel_filter(p.probes[0]) == "common_pid == 4242"
    p = elaborate("probe process(4242).end { println(1) }", feats)
    assert [kernel_filter(i) for i in p.probes] == ["pid == 4242", "group_dead == 1"]
    assert all(c[0] == "__pl_once" for i in p.probes for c in _calls(i))
    p = elaborate("probe process(4242).thread.begin { println(1) }", feats)
    # the pid has no threads here: the fork returns (clone & co. returning 0) in the child
    assert "ret == 0" in kernel_filter(p.probes[0]) and "id == 56" in kernel_filter(p.probes[0])
    assert str(error_of("probe process(0).begin { }", feats)).startswith("probe point process(0).begin cannot be served")


def test_without_group_dead_the_leader_ends_the_process(old_kernel):
    p = elaborate("probe process.end { println(1) }", old_kernel)
    exit_inst = p.probes[1]
    assert kernel_filter(exit_inst) is None
    assert any(isinstance(n, A.Binary) and n.op == "==" and isinstance(n.left, A.Call) and n.left.name == "tid"
               for n in A.walk(exit_inst.body))


def test_only_syscall_probes_have_context_variables(feats):
    assert "$syscall" in str_error('probe process("true").end { print($syscall) }', feats)
    assert "$pid" in str_error("probe process.begin { print($pid) }", feats)
    assert "$return" in str_error('probe process("true").syscall { print($return) }', feats)
    assert "$arg1" in str_error('probe process("true").syscall.return { print($arg1) }', feats)
    p = elaborate(f'probe process("{TRUE}").syscall {{ println($syscall, $arg1, $arg6) }} '
                  f'probe process("true").syscall.return {{ println($syscall, $return) }}', feats)
    fired = [i for i in p.probes if getattr(i.source.target, "system", "") == "raw_syscalls"]
    assert [i.source.target.event for i in fired] == ["sys_enter", "sys_exit"]
    assert {i.pp for i in fired} == {f'process("{TRUE}").syscall', f'process("{TRUE}").syscall.return'}


def test_program_sources_and_state(feats):
    p = elaborate('probe process("true").begin { println(pid()) }', feats)
    assert _events(p) == ["uprobe", "task:task_newtask", "sched:sched_process_exec", "sched:sched_process_exit",
                          "raw_syscalls:sys_exit"]
    entry = p.probes[0].source.target
    assert isinstance(entry, LifecycleUprobe) and (entry.path, entry.offset) == (TRUE, entry_offset(TRUE))
    # the handler runs at the entry point and at a fork's return; the rest only keeps the state
    names = [[c[0] for c in _calls(i)] for i in p.probes]
    assert names == [["__pl_enter"], ["__pl_newtask"], ["__pl_exec_in"], ["__pl_exit_in"], ["__pl_first_in"]]
    users = [i for i in p.probes if any(isinstance(n, A.Print) for n in A.walk(i.body))]
    assert [i.source.target.kind for i in users] == ["uprobe", "tracepoint"]


def test_a_program_already_running_is_seeded(feats, tmp_path):
    prog = tmp_path / "mysleep"
    shutil.copy(shutil.which("sleep"), prog)
    proc = subprocess.Popen([str(prog), "30"])
    try:
        assert running(str(prog)) == [(proc.pid, "mysleep", [proc.pid])]
        p = elaborate(f'probe process("{prog}").begin {{ println(pid()) }}', feats)
    finally:
        proc.kill()
        proc.wait()
    seed = [i for i in p.probes if isinstance(i.source.target, LifecycleBegin)]
    assert len(seed) == 1 and _calls(seed[0])[0][:3] == ("__pl_seed", _calls(seed[0])[0][1], proc.pid)
    assert any(isinstance(n, A.String) and n.value == "mysleep" for n in A.walk(seed[0].body))
    sys_exit = p.probes[-1]
    assert kernel_filter(sys_exit).startswith(f"common_pid == {proc.pid} || ")


def test_executable_is_found_as_stap_finds_it(tmp_path):
    assert executable("true") == TRUE
    assert executable(TRUE) == TRUE
    script = tmp_path / "s.sh"
    script.write_text("#!/bin/sh\n")
    with pytest.raises(KernelError, match="is not an ELF executable"):
        executable(str(script))
    with pytest.raises(KernelError, match="cannot find program"):
        executable("no-such-program-here")


def test_entry_offset_is_the_entry_points_file_offset():
    from elftools.elf.elffile import ELFFile
    with open(TRUE, "rb") as f:                   # pyelftools' own reading of the file
        elf = ELFFile(f)
        entry = elf.header["e_entry"]
        seg = next(s for s in elf.iter_segments()
                   if s["p_type"] == "PT_LOAD" and s["p_vaddr"] <= entry < s["p_vaddr"] + s["p_filesz"])
    assert entry_offset(TRUE) == entry - seg["p_vaddr"] + seg["p_offset"]


def test_a_program_that_is_not_there_never_fires(feats):
    """stap's find_executable keeps a name it cannot find; no process runs it."""
    p = elaborate('probe process("no-such-program-here").syscall { println($arg1) } '
                  'probe process("/etc/passwd").begin { }', feats)
    assert [(i.pp, i.source.target.kind) for i in p.probes] == [
        ('process("no-such-program-here").syscall', "never"), ('process("/etc/passwd").begin', "never")]
    assert p.warnings == [
        "WARNING: process(\"no-such-program-here\").syscall: cannot find program 'no-such-program-here' in PATH: "
        "no process runs it, the probe never fires",
        'WARNING: process("/etc/passwd").begin: /etc/passwd is not an ELF executable: '
        "no process runs it, the probe never fires"]
