"""Typed probe targets (ftstap/probes/targets.py): what each one answers in
place of the kind-string switches pass 3 used to make."""
import pytest

from ftstap.errors import FtstapError
from ftstap.probes.targets import (KprobeTarget, PerfTarget, SpecialTarget, TimerTarget, TracepointTarget,
                                   UprobeTarget)


def test_describe():
    assert TracepointTarget("sched", "sched_switch", 5).describe() == "tracepoint sched:sched_switch"
    assert TimerTarget(5, 2).describe() == "timerfd every 5 ns (+random 2 ns)"
    assert KprobeTarget("vfs_read", 16).describe() == "kprobe p:vfs_read+16"
    assert KprobeTarget("vfs_read", is_return=True).describe() == "kprobe r:vfs_read"
    assert UprobeTarget("/bin/true", 0x40, "main", is_return=True).describe() == "uprobe /bin/true:0x40 (return)"
    assert PerfTarget(1, 0, sample_freq=99).describe() == "perf_event type 1 config 0"
    assert SpecialTarget("end", 3).describe() == "end"


def test_image_probe_kinds_and_timing():
    assert SpecialTarget("begin", -5).probe_kind == "begin" and SpecialTarget("begin", -5).priority == -5
    assert TimerTarget(10, 3).probe_kind == "timer" and TimerTarget(10, 3).timing == (10, 3)
    for t in (TracepointTarget("a", "b"), KprobeTarget("f"), UprobeTarget("/p", 1), PerfTarget(1, 0)):
        assert t.probe_kind == "event" and t.timing == (0, 0) and not t.once


def test_what_handlers_may_read():
    tp, kp, up = TracepointTarget("a", "b"), KprobeTarget("f", is_return=True), UprobeTarget("/p", 1)
    assert tp.record_fields and not tp.fetch_args and tp.first_fetch_offset == 8
    assert kp.fetch_args and not kp.record_fields and kp.first_fetch_offset == 24
    assert up.first_fetch_offset == 16
    assert not PerfTarget(1, 0).per_task and all(t.per_task for t in (tp, kp, up))


def test_specs():
    common = dict(callchain=False, args=["a0=%di:u64"], fields={"a0": 16})
    assert TracepointTarget("t", "e").spec("pp", **common).kind == "tracepoint"
    ep = TracepointTarget("t", "e").spec("pp", fetched=True, **common)
    assert ep.kind == "eprobe" and ep.definition("G", "e0") == "e:G/e0 t.e a0=%di:u64"
    kp = KprobeTarget("vfs_read", 0, 16, True).spec("pp", fetched=True, **common)
    assert kp.definition("G", "e1") == "r16:G/e1 vfs_read a0=%di:u64"
    up = UprobeTarget("/bin/true", 0x40, "main").spec("pp")
    assert up.definition("G", "e2") == "p:G/e2 /bin/true:0x40" and up.symbol == "main"
    pf = PerfTarget(1, 0, sample_freq=99).spec("pp")
    assert (pf.kind, pf.type, pf.sample_freq) == ("perf", 1, 99)
    with pytest.raises(FtstapError, match="timer probes are not kernel events"):
        TimerTarget(1).spec("timer.ns(1)")
