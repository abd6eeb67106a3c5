"""KernelFeatures from snapshot directories made here, and the probe-support table."""
import json

import pytest

from ftstap.errors import KernelError
from ftstap.kernel.features import (KernelFeatures, _version_tuple, parse_config,
                                    parse_cpu_list)
from ftstap.kernel.support import probe_support, probe_support_table

FORMAT = """name: {name}
ID: {id}
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:unsigned int fd;\toffset:16;\tsize:8;\tsigned:0;

print fmt: "fd: 0x%08lx", ((unsigned long)(REC->fd))
"""


def make_snapshot(root, kprobes: bool, events=("syscalls:sys_enter_read", "sched:sched_switch"),
                  config="CONFIG_KPROBES=y\nCONFIG_MODULES=y\n"):
    d = {"release": "6.1.0-18-amd64", "version": [6, 1, 0], "arch": "x86_64",
         "tracefs": "/sys/kernel/tracing", "tracefs_error": None,
         "kprobe_events": kprobes, "uprobe_events": True, "dynamic_events": True,
         "pmus": {"software": 1, "tracepoint": 2, "breakpoint": 5, "uprobe": 7, "cpu": 4,
                  **({"kprobe": 6} if kprobes else {})},
         "btf": False, "kallsyms_addresses": True, "cpus": [0, 1, 2, 3], "snapshot_version": 1}
    (root / "features.json").write_text(json.dumps(d))
    if config is not None:
        (root / "config").write_text(config)
    for i, ev in enumerate(events):
        system, name = ev.split(":")
        p = root / "events" / system / name
        p.mkdir(parents=True)
        (p / "format").write_text(FORMAT.format(name=name, id=100 + i))
    (root / "events" / "ftrace" / "print").mkdir(parents=True)   # not a perf tracepoint
    return KernelFeatures.from_snapshot(str(root))


def test_small_parsers():
    assert parse_cpu_list("0-3,8,10-11\n") == (0, 1, 2, 3, 8, 10, 11)
    assert parse_cpu_list("0") == (0,)
    assert parse_cpu_list("") == ()
    cfg = parse_config('CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=m\nCONFIG_S="a \\"q\\""\n'
                       "CONFIG_N=0x10\n# comment\n")
    assert cfg == {"CONFIG_A": "y", "CONFIG_C": "m", "CONFIG_S": 'a "q"', "CONFIG_N": "0x10"}
    assert _version_tuple("6.18.44-fc-v782") == (6, 18, 44)
    assert _version_tuple("5.10-rc1") == (5, 10, 0)
    assert _version_tuple("weird") == (0, 0, 0)


def test_snapshot_facts(tmp_path):
    f = make_snapshot(tmp_path, kprobes=True)
    assert f.snapshot == str(tmp_path)
    assert (f.release, f.version, f.online_cpus) == ("6.1.0-18-amd64", (6, 1, 0), 4)
    assert (f.kprobe_pmu, f.uprobe_pmu, f.hardware_pmu) == (6, 7, "cpu")
    assert f.has_kprobes and f.has_uprobes
    assert f.tracepoint_systems() == ["sched", "syscalls"]        # ftrace left out
    assert f.tracepoint_events("syscalls") == ["sys_enter_read"]
    assert f.has_tracepoint("syscalls", "sys_enter_read")
    assert not f.has_tracepoint("syscalls", "sys_enter_write")
    assert not f.has_tracepoint("ftrace", "print")
    fmt = f.tracepoint_format("syscalls", "sys_enter_read")
    assert (fmt.id, fmt.field("fd").offset) == (100, 16)
    with pytest.raises(KernelError, match="no tracepoint syscalls:nope"):
        f.tracepoint_format("syscalls", "nope")
    assert f.config("KPROBES") == "y" and f.config("CONFIG_KPROBES") == "y"
    assert f.config("UPROBES") is None and f.config_known
    assert f.btf_path is None
    with pytest.raises(KernelError, match="CONFIG_DEBUG_INFO_BTF"):
        f.btf_reader()
    with pytest.raises(KernelError, match="no kallsyms"):
        f.kallsyms()


def test_roundtrip(tmp_path):
    (tmp_path / "a").mkdir()
    f = make_snapshot(tmp_path / "a", kprobes=False)
    f.save_snapshot(str(tmp_path / "b"), btf=False)
    g = KernelFeatures.from_snapshot(str(tmp_path / "b"))
    assert g.to_dict() == f.to_dict()
    assert g.tracepoint_format("sched", "sched_switch") == f.tracepoint_format("sched", "sched_switch")
    assert g.configs() == f.configs()


def test_bad_snapshots(tmp_path):
    with pytest.raises(KernelError, match="not a kernel snapshot"):
        KernelFeatures.from_snapshot(str(tmp_path))
    (tmp_path / "features.json").write_text("{nope")
    with pytest.raises(KernelError, match="cannot read kernel snapshot"):
        KernelFeatures.from_snapshot(str(tmp_path))
    (tmp_path / "features.json").write_text(json.dumps({"snapshot_version": 99}))
    with pytest.raises(KernelError, match="newer ftstap"):
        KernelFeatures.from_snapshot(str(tmp_path))


def rows(f):
    return {r.family: r for r in probe_support(f)}


def test_support_with_kprobes(tmp_path):
    r = rows(make_snapshot(tmp_path, kprobes=True))
    fn = r['kernel.function("F"), kprobe.function("F")']
    assert fn.status == "partial" and fn.provider == "kprobe_events p:"
    assert "CONFIG_DEBUG_INFO_BTF" in fn.missing              # no BTF in this snapshot
    assert r['module("M").function("F")'].provider == "kprobe_events p: MOD:F"
    assert r["syscall.*, nd_syscall.*"].provider == \
        "tracepoints syscalls:sys_enter_*/sys_exit_* (1 syscalls)"
    assert r["perf.hw.*"].status == "yes"
    sched = r["scheduler.*"]
    assert sched.status == "partial" and sched.provider == "tracepoints sched:sched_switch"
    assert "sched:sched_wakeup" in sched.missing
    assert r["netdev.receive, netdev.transmit"].status == "no"


def test_support_without_kprobes(tmp_path):
    f = make_snapshot(tmp_path, kprobes=False, events=("raw_syscalls:sys_enter",),
                      config="CONFIG_UPROBES=y\n")
    r = rows(f)
    fn = r['kernel.function("F"), kprobe.function("F")']
    assert fn.status == "no" and "CONFIG_KPROBE_EVENTS" in fn.missing
    assert "CONFIG_MODULES" in r['module("M").function("F")'].missing
    sc = r["syscall.*, nd_syscall.*"]
    assert sc.status == "partial" and "raw_syscalls" in sc.provider
    assert "CONFIG_FTRACE_SYSCALLS" in sc.missing
    text = probe_support_table(f)
    assert text.splitlines()[0] == f"Linux 6.1.0-18-amd64 x86_64, 4 CPUs (snapshot {tmp_path})"
    line = next(l for l in text.splitlines() if l.startswith('kernel.function("F").return'))
    assert line.split()[1] == "no" and "missing: CONFIG_KPROBES" in line
    assert any(l.strip().startswith("note: per-syscall tracepoints") for l in text.splitlines())


def test_support_without_tracefs(tmp_path):
    f = KernelFeatures("6.1", (6, 1, 0), "x86_64", None, "tracefs is not mounted", False, False,
                       False, {}, False, False, (0,))
    r = rows(f)
    assert r['kernel.trace("SYS:EVENT")'].status == "no"
    assert "tracefs is not mounted" in r["scheduler.*"].missing
    assert r['process("P").function("F"), .return, .statement'].missing == \
        "CONFIG_UPROBES and CONFIG_UPROBE_EVENTS"
    assert r["timer.s/ms/us/ns/hz/jiffies(N)"].status == "yes"
    assert r["timer.profile, timer.profile.tick, timer.profile.freq.hz(N)"].status == "no"
    with pytest.raises(KernelError, match="tracepoints are unavailable"):
        f.tracepoint_format("sched", "sched_switch")
