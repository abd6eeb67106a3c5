"""Pass 2 on this machine's real kernel: tracefs formats, BTF, uprobes on a
program built here with gcc, the kprobe fallback."""
import subprocess
import sys

import pytest

from ftstap.errors import ErrorList, FtstapError
from ftstap.kernel.features import KernelFeatures
from ftstap.lang.frontend import run_pass1
from ftstap.lang.source import Source
from ftstap.sema.elaborate import run_pass2


@pytest.fixture(scope="module")
def kf():
    return KernelFeatures.current()


def p2(script, kf):
    """`stap -u -p2`: binding tests bind probes with empty bodies, -u keeps them."""
    r = run_pass1(Source("<input>", script), [])
    return run_pass2(r.script, r.tapsets, kf, unoptimized=True)


def first_error(script, kf):
    with pytest.raises(FtstapError) as info:
        p2(script, kf)
    e = info.value
    return e.errors[0] if isinstance(e, ErrorList) else e


@pytest.mark.parametrize("script", [
    "global n; probe syscall.* { n[execname(), name]++ }",
    "global h; probe netdev.receive { h <<< length }",
    'probe kernel.trace("sched:sched_switch") { printf("%s\\n", $prev_comm) }',
    'probe process("/bin/ls").function("main")? { }',
    'probe kernel.function("sys_sync") { }',
    "probe timer.profile { }",
    "probe scheduler.ctxswitch, scheduler.cpu_on, scheduler.cpu_off, scheduler.wakeup { print(name) }",
    "probe scheduler.process_exit, scheduler.process_fork { print(1) }",
    "probe kprocess.exec { println(filename) } probe kprocess.create { print(new_pid) } "
    "probe kprocess.exit { print(code) }",
    "probe signal.send { println(sig_name, pid_name) } probe signal.deliver { println(sig_name) }",
    "global s, r; probe syscall_any { s[name]++ } probe syscall_any.return { r[retval]++ }",
    "global t; probe netdev.transmit { t[dev_name, protocol] <<< length + truesize }",
])
def test_issue_scripts_elaborate(script, kf, need):
    need(kf.events_root is not None, "tracefs is not available")
    p = p2(script, kf)
    assert p.probes


def test_syscall_star_binds_hundreds(kf, need):
    need(kf.has_tracepoint("syscalls", "sys_enter_openat"), "no syscalls tracepoints")
    p = p2("probe syscall.* { }", kf)
    assert len(p.probes) > 200


def test_kprobe_fallback_warning(kf, need):
    need(kf.has_tracepoint("syscalls", "sys_enter_sync"), "no syscalls tracepoints")
    if kf.kprobe_events:
        pytest.skip("this kernel has kprobe_events: no fallback")
    p = p2('probe kernel.function("sys_sync") { }', kf)
    assert p.probes[0].source.target.kind == "tracepoint"
    # a note (shown like a warning, never fatal under -W): the script is not at fault
    assert any("CONFIG_KPROBE_EVENTS" in w for w in p.notes)
    assert not any("CONFIG_KPROBE_EVENTS" in w for w in p.warnings)


def test_vfs_read_binds_then_is_refused_at_pass5(kf):
    """BTF and kallsyms bind and translate kernel.function on any kernel;
    one without kprobe_events refuses it at pass 5, before anything exists."""
    p = p2('probe kernel.function("vfs_read") { println($count) }', kf)
    assert p.probes[0].source.target.kind == "kprobe" and "count" in p.probes[0].source.context
    script = 'probe kernel.function("vfs_read") { println($count) }'
    r = subprocess.run([sys.executable, "-m", "ftstap", "-p3", "-e", script], capture_output=True, text=True)
    assert r.returncode == 0 and "p:GROUP/e0 vfs_read" in r.stdout, r.stderr
    if kf.kprobe_events:
        pytest.skip("this kernel has kprobe_events: nothing to refuse")
    r = subprocess.run([sys.executable, "-m", "ftstap", "-c", "true", "-e", script],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip().endswith('probe point kernel.function("vfs_read") cannot be served: kernel.function '
                                     'needs kprobe_events (CONFIG_KPROBE_EVENTS), which this kernel lacks'), r.stderr
    assert r.stderr.count("\n") == 1


def test_uprobe_on_gcc_binary(kf, cc, need):
    need(kf.uprobe_events, "uprobe_events missing")
    prog = cc("int work(int a, int b) { return a + b; }\nint main(void) { return work(1, 2); }", "prog")
    p = p2(f'probe process("{prog}").function("work") {{ print($arg1) }} '
           f'probe process("{prog}").function("work").return {{ print($return) }}', kf)
    assert [i.source.target.kind for i in p.probes] == ["uprobe", "uprobe"]
    assert p.probes[1].source.is_return and p.probes[0].source.target.offset > 0


def test_uprobe_main_of_stripped_binary(kf, cc, need):
    need(kf.uprobe_events, "uprobe_events missing")
    prog = cc("int main(void) { return 0; }", "stripped", "-s")
    p = p2(f'probe process("{prog}").function("main") {{ }}', kf)
    assert p.probes[0].source.target.symbol == "main"


def test_btf_cast_member_typing(kf, need):
    need(kf.btf, "no BTF")
    p2('probe begin { println(@cast(0, "task_struct", "kernel")->mm->mmap_base) }', kf)
    e = first_error('probe begin { println(@cast(0, "task_struct")->no_such_field) }', kf)
    assert "unknown member 'no_such_field' of struct task_struct" in e.message


def test_btf_autocast_through_local(kf, need):
    need(kf.btf, "no BTF")
    p2('probe begin { t = & @cast(0, "task_struct"); println(t->pid) }', kf)
    e = first_error('probe begin { t = & @cast(0, "task_struct"); println(t->bogus) }', kf)
    assert "unknown member 'bogus'" in e.message


def test_cli_list_vars(kf, need):
    need(kf.has_tracepoint("syscalls", "sys_enter_openat"), "no syscalls tracepoints")
    out = subprocess.run([sys.executable, "-m", "ftstap", "-L", "syscall.openat"], capture_output=True,
                         text=True, check=True).stdout
    # stap's variables with stap's types: filename is the string, its address filename_uaddr
    head, *pairs = out.split()
    assert head == "syscall.openat"
    assert {"name:string", "dfd:long", "filename:string", "filename_uaddr:long", "flags:long", "mode:long",
            "flags_str:string", "argstr:string"} <= set(pairs), out


def test_without_eprobes_the_error_names_the_kernel_option(tfs):
    if KernelFeatures.detect().has_eprobes:
        pytest.skip("this kernel has event probes")
    script = 'probe kernel.trace("timer:timer_start") { println(@cast($timer, "timer_list")->expires) }'
    p = subprocess.run([sys.executable, "-m", "ftstap", "-p3", "-e", script], capture_output=True, text=True)
    assert p.returncode != 0
    assert "needs event probes (CONFIG_EPROBE_EVENTS)" in p.stderr.replace("\n", " ")
    assert p.stderr.count("error:") == 1
