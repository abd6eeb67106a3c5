"""Pass 2 probe providers against a synthetic kernel snapshot (no root)."""
from ftstap.probes import REGISTRY

from sema_support import elaborate, error_of, features  # noqa: F401


def test_special_priorities():
    p = elaborate("probe begin(-5), end(3), never { print(1) }")
    assert [(i.pp, i.source.priority) for i in p.probes] == [("begin(-5)", -5), ("end(3)", 3), ("never", 0)]


def test_timer_units():
    p = elaborate("probe timer.ms(5), timer.s(2).randomize(1), timer.hz(100) { print(1) }")
    d = [i.source.target for i in p.probes]
    assert d[0].interval_ns == 5_000_000 and d[1].randomize_ns == 1_000_000_000
    assert d[2].interval_ns == 10_000_000


def test_timer_profile_is_perf_sampling():
    p = elaborate("probe timer.profile { print(1) }")
    assert p.probes[0].source.target.kind == "perf" and p.probes[0].source.target.per_cpu


def test_timer_profile_freq_hz_samples_at_its_own_rate():
    p = elaborate("probe timer.profile.freq.hz(99) { print(1) }")
    t = p.probes[0].source.target
    assert p.probes[0].pp == "timer.profile.freq.hz(99)"
    assert t.kind == "perf" and t.per_cpu and t.sample_freq == 99
    assert "positive number" in error_of("probe timer.profile.freq.hz(0) { print(1) }").message


def test_tracepoint_fields(features):  # noqa: F811
    p = elaborate('probe kernel.trace("sched:sched_switch") { printf("%s %d\\n", $prev_comm, $prev_pid) }',
                  features)
    src = p.probes[0].source
    assert src.target.system == "sched" and src.context["prev_comm"].type == "string"
    assert src.context["prev_pid"].type == "long"


def test_tracepoint_data_loc_string(features):  # noqa: F811
    p = elaborate('probe kernel.trace("sched_process_exec") { println($filename) }', features)
    assert p.probes[0].source.context["filename"].type == "string"


def test_tracepoint_unknown_field_lists_alternatives(features):  # noqa: F811
    e = error_of('probe kernel.trace("sched:sched_switch") { print($nope) }', features)
    assert "unable to find context variable '$nope'" in e.message and "$prev_comm" in e.hint


def test_syscall_wildcard_and_locals(features):  # noqa: F811
    p = elaborate("global n\nprobe syscall.* { n[name] <<< 1 }", features)
    assert sorted(i.pp for i in p.probes) == ["syscall.openat", "syscall.select", "syscall.sync"]


def test_syscall_arguments_by_name(features):  # noqa: F811
    p = elaborate("probe syscall.openat { printf(\"%d %s\\n\", dfd, argstr) }", features)
    assert p.probes[0].locals["dfd"].type == "long" and p.probes[0].locals["argstr"].type == "string"


def test_syscall_return(features):  # noqa: F811
    p = elaborate("probe syscall.openat.return { println(retval, retstr) }", features)
    assert p.probes[0].source.is_return and p.probes[0].source.target.event == "sys_exit_openat"


def test_kprobe_falls_back_to_syscall_tracepoint_with_a_note(features):  # noqa: F811
    # a note: shown as a warning, but not the script's fault, so -W does not make it fatal
    p = elaborate('probe kernel.function("sys_sync") { }', features)
    assert p.probes[0].source.target.event == "sys_enter_sync"
    assert any("served by the tracepoint syscalls:sys_enter_sync" in w and "CONFIG_KPROBE_EVENTS" in w
               for w in p.notes)
    assert not any("served by the tracepoint" in w for w in p.warnings)


KALLSYMS = ("ffffffff81000000 T _stext\nffffffff81001000 t __pfx_vfs_read\nffffffff81001010 T vfs_read\n"
            "ffffffff81001100 T vfs_write\nffffffff81002000 T kernel_clone\n")


def _with_kallsyms(features):  # noqa: F811
    with open(features.snapshot + "/kallsyms", "w") as f:
        f.write(KALLSYMS)
    return features


def test_kprobe_binds_without_kprobe_events(features):  # noqa: F811
    """Elaboration needs kallsyms (and BTF), not the feature that runs the probe."""
    assert not features.kprobe_events
    p = elaborate('probe kernel.function("vfs_read").return, kprobe.function("vfs_write") { }',
                  _with_kallsyms(features))
    assert [(i.source.target.kind, i.source.target.symbol) for i in p.probes] == \
        [("kprobe", "vfs_read"), ("kprobe", "vfs_write")]


def test_kprobe_wildcard_skips_padding_symbols(features):  # noqa: F811
    p = elaborate('probe kernel.function("*vfs_r*") { }', _with_kallsyms(features))
    assert [i.source.target.symbol for i in p.probes] == ["vfs_read"]


def test_kprobe_wildcard_with_source_file_is_refused(features):  # noqa: F811
    e = error_of('probe kernel.function("*@fs/read_write.c") { }', _with_kallsyms(features))
    assert "DWARF" in e.message and e.span.col == 7


def test_kprobe_without_kallsyms_says_so(features):  # noqa: F811
    e = error_of('probe kernel.function("vfs_read") { }', features)
    assert "symbol table" in e.message and "kallsyms" in e.message and e.span.col == 7


def test_kprobe_renamed_function_hint(features):  # noqa: F811
    e = error_of('probe kernel.function("do_fork") { }', _with_kallsyms(features))
    assert "did you mean kernel_clone" in e.message and "5.10" in e.message


def test_netdev_alias_on_tracepoint(features):  # noqa: F811
    p = elaborate("global h\nprobe netdev.receive { h[dev_name] <<< length + truesize + protocol }", features)
    assert p.probes[0].source.target.event == "netif_receive_skb"


def test_unknown_family_hint():
    e = error_of("probe nosuchfamily.x { }")
    assert "no match for nosuchfamily.x" in e.message and "probe families that exist" in e.hint


def test_every_provider_documents_its_patterns():
    assert all(getattr(p, "patterns", ()) for p in REGISTRY)
