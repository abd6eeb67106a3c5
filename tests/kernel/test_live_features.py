"""KernelFeatures.detect() against the running system, and snapshots of it."""
import gzip
import os
import time

from ftstap.kernel.features import KernelFeatures, parse_config
from ftstap.kernel.support import probe_support, probe_support_table

PMU_DIR = "/sys/bus/event_source/devices"


def pmu_type(name):
    with open(os.path.join(PMU_DIR, name, "type")) as f:
        return int(f.read())


def test_detect_matches_the_system(tfs, need):
    f = KernelFeatures.detect()
    u = os.uname()
    assert (f.release, f.arch) == (u.release, u.machine)
    assert f.version[:2] == tuple(int(x) for x in u.release.split(".")[:2])
    assert f.tracefs == tfs and f.tracefs_error is None
    assert f.kprobe_events == os.path.exists(os.path.join(tfs, "kprobe_events"))
    assert f.uprobe_events == os.path.exists(os.path.join(tfs, "uprobe_events"))
    need(f.uprobe_events, "uprobe_events")
    # PERF_TYPE_SOFTWARE, _TRACEPOINT and _BREAKPOINT are fixed by the ABI
    assert (f.software_pmu, f.tracepoint_pmu) == (1, 2)
    need(f.breakpoint_pmu is not None, "breakpoint PMU")
    assert f.breakpoint_pmu == 5
    need(f.uprobe_pmu is not None, "uprobe PMU")
    assert f.uprobe_pmu == pmu_type("uprobe")
    assert f.kprobe_pmu == (pmu_type("kprobe") if os.path.exists(f"{PMU_DIR}/kprobe") else None)
    assert f.btf == os.path.exists("/sys/kernel/btf/vmlinux")
    with open("/sys/devices/system/cpu/online") as fh:
        first = fh.read().strip().replace(",", "-").split("-")[0]
    assert f.online_cpus == len(f.cpus) >= 1 and f.cpus[0] == int(first)
    assert f.online_cpus <= os.cpu_count()
    need(f.kallsyms_addresses, "real addresses in /proc/kallsyms")


def test_detect_is_fast(tfs):
    KernelFeatures.detect()
    best = min(_timed(KernelFeatures.detect) for _ in range(5))
    print(f"KernelFeatures.detect(): {best * 1000:.2f} ms")
    assert best < 0.020


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def test_tracepoints_and_config(tfs, need):
    f = KernelFeatures.detect()
    assert f.has_tracepoint("syscalls", "sys_enter_read")
    assert not f.has_tracepoint("syscalls", "sys_enter_no_such_call")
    assert not f.has_tracepoint("ftrace", "print")           # not openable by perf
    assert {"sched", "syscalls", "raw_syscalls"} <= set(f.tracepoint_systems())
    assert f.tracepoint_format("sched", "sched_switch").field("next_pid").size == 4
    need(os.path.exists("/proc/config.gz"), "/proc/config.gz")
    with gzip.open("/proc/config.gz", "rt") as fh:
        cfg = parse_config(fh.read())
    assert f.configs() == cfg and f.config_known
    assert f.config("UPROBES") == "y" and f.config("CONFIG_UPROBE_EVENTS") == "y"
    assert f.config("TRACEPOINTS") == "y"
    # the config and the tracefs files agree on what exists
    assert (f.config("KPROBE_EVENTS") == "y") == f.kprobe_events


def test_support_on_this_kernel(tfs):
    f = KernelFeatures.detect()
    r = {x.family: x for x in probe_support(f)}
    n = len([e for e in f.tracepoint_events("syscalls") if e.startswith("sys_enter_")])
    assert r["syscall.*, nd_syscall.*"].provider == \
        f"tracepoints syscalls:sys_enter_*/sys_exit_* ({n} syscalls)"
    kf = r['kernel.function("F"), kprobe.function("F")']
    assert (kf.provider is not None) == f.has_kprobes
    if not f.has_kprobes:
        assert "CONFIG_KPROBE_EVENTS" in kf.missing
    assert r['process("P").function("F"), .return, .statement'].provider == \
        "uprobe_events p:/r: with fetch-args"
    text = probe_support_table(f)
    assert text.startswith(f"Linux {f.release} {f.arch}, {f.online_cpus} CPUs\n")
    assert len(text.splitlines()) >= len(r) + 3


def test_snapshot_of_this_kernel(tfs, tmp_path):
    f = KernelFeatures.detect()
    f.save_snapshot(str(tmp_path), kallsyms=True)
    g = KernelFeatures.from_snapshot(str(tmp_path))
    assert g.to_dict() == f.to_dict() and g.snapshot == str(tmp_path)
    assert g.tracepoint_systems() == f.tracepoint_systems()
    for tp in (("sched", "sched_switch"), ("syscalls", "sys_enter_openat")):
        assert g.tracepoint_format(*tp) == f.tracepoint_format(*tp)
    assert g.configs() == f.configs()
    if f.btf:
        assert g.btf_reader().func_params("vfs_read") == f.btf_reader().func_params("vfs_read")
    assert g.kallsyms().lookup("vfs_read") == f.kallsyms().lookup("vfs_read")
    assert g.kallsyms().lookup("jiffies") is None            # data symbols are not kept
    rows = lambda t: t.splitlines()[1:]
    assert rows(probe_support_table(g)) == rows(probe_support_table(f))
