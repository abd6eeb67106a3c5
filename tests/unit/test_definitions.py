"""`-p3` prints the tracefs definitions pass 5 writes, byte for byte: both
come from the one writer, image/events.py's EventSpec.definition().

For kprobes (a synthetic kernel WITH kprobe_events: this host has none),
kretprobes with .maxactive, probes at an offset, uprobes, eprobes and
tracepoints, the script is compiled once; `-p3` runs through
backend.translate() and prints its `#   ...:GROUP/eN ...` lines; pass 5 runs
LiveSession.start() on the same program's image against a fake tracefs
whose event group records the definitions written (and the tracepoints
noted) and stops there.  The real kprobe path runs under QEMU
(tests/qemu)."""
import io
import os
import shutil
import sys

import pytest

from ftstap import backend
from ftstap.compile.codegen import CodeGen
from ftstap.image.format import read_image
from ftstap.kernel import dynevents, instances, tracefs
from ftstap.kernel.features import KernelFeatures
from ftstap.options import Options
from ftstap.runtime import session as S

from codegen_support import need_tracepoint
from sema_support import elaborate, make_snapshot

TRUE = shutil.which("true") or "/bin/true"
GROUP = "ftstap_4242"


@pytest.fixture
def kprobe_kernel(tmp_path):
    """A kernel with kprobe_events: kallsyms of two functions, the host's BTF."""
    snap = tmp_path / "snap"
    make_snapshot(snap, kprobes=True)
    (snap / "kallsyms").write_text("ffffffff81000000 T _stext\nffffffff813a86e0 T ksys_sync\n"
                                   "ffffffff81392000 T vfs_read\n")
    if os.path.exists("/sys/kernel/btf/vmlinux"):
        (snap / "btf").mkdir()
        shutil.copy("/sys/kernel/btf/vmlinux", snap / "btf" / "vmlinux")
    return KernelFeatures.from_snapshot(str(snap))


class _WithEprobes(KernelFeatures):
    has_eprobes = True


def host_kernel(eprobes: bool = False):
    cur = KernelFeatures.current()
    if not eprobes:
        return cur
    if not cur.btf:
        pytest.skip("needs the kernel's BTF")
    return _WithEprobes(**{f: getattr(cur, f) for f in cur._fields if f != "_cache"})


def p3_definitions(program, feats, monkeypatch) -> list[str]:
    """The definitions `-p3` prints, GROUP as the session's group."""
    monkeypatch.setattr(KernelFeatures, "current", classmethod(lambda cls: feats))
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    backend.translate(program, Options(last_pass=3))
    monkeypatch.undo()
    return [line[4:].replace(":GROUP/", f":{GROUP}/") for line in out.getvalue().splitlines()
            if line.startswith("#   ") and ":GROUP/" in line]


class _Written(Exception):
    pass


class _FakeGroup:
    """An EventGroup that records what would be written, then stops the session."""
    name = GROUP

    def __init__(self, root):
        self.root = root

    def add(self, definitions):
        raise _Written("definitions", list(definitions))

    def note_tracepoints(self, names):
        raise _Written("tracepoints", list(names))

    def close(self):
        pass


class _FakeSession:
    child_status = -1

    def close_events(self):
        pass


def pass5_writes(image: bytes, monkeypatch, tmp_path) -> tuple[str, list[str]]:
    """What LiveSession.start() writes to tracefs for the image: ("definitions",
    lines) or ("tracepoints", names)."""
    monkeypatch.setattr(tracefs, "find_tracefs", lambda *a, **k: str(tmp_path / "tracefs"))
    monkeypatch.setattr(instances, "remove_stale_instances", lambda root: None)
    monkeypatch.setattr(dynevents, "remove_stale_groups", lambda root: None)
    monkeypatch.setattr(dynevents, "EventGroup", _FakeGroup)
    info = read_image(image)
    live = S.LiveSession(_FakeSession(), info.specs(), info.event_probes(), cpus=[0])
    try:
        with pytest.raises(_Written) as got:
            live.start()
    finally:
        live.close()
    return got.value.args


def both(script: str, feats, monkeypatch, tmp_path):
    program = elaborate(script, feats)
    image = CodeGen(program, feats).build()
    return p3_definitions(program, feats, monkeypatch), pass5_writes(image, monkeypatch, tmp_path)


@pytest.mark.parametrize("script, expected", [
    ('probe kernel.function("ksys_sync") { println(1) }', ["p:{G}/e0 ksys_sync"]),
    ('probe kernel.function("ksys_sync").return.maxactive(16) { println(1) }', ["r16:{G}/e0 ksys_sync"]),
    ('probe kernel.statement("vfs_read+0x10") { println(1) }', ["p:{G}/e0 vfs_read+16"]),
    ('probe kernel.function("vfs_read+16") { println(1) }', ["p:{G}/e0 vfs_read+16"]),
    ('probe kernel.function("ksys_sync") { println(1) } probe kernel.function("vfs_read").return { println(2) }',
     ["p:{G}/e0 ksys_sync", "r:{G}/e1 vfs_read"]),
])
def test_kprobes(kprobe_kernel, monkeypatch, tmp_path, script, expected):
    p3, (what, written) = both(script, kprobe_kernel, monkeypatch, tmp_path)
    assert what == "definitions"
    assert p3 == written == [e.format(G=GROUP) for e in expected]


def test_kprobe_fetch_args(kprobe_kernel, monkeypatch, tmp_path):
    p3, (what, written) = both('probe kernel.function("ksys_sync").return { println($return) }',
                               kprobe_kernel, monkeypatch, tmp_path)
    assert p3 == written == [f"r:{GROUP}/e0 ksys_sync a0=$retval:s64"]


def test_uprobe(monkeypatch, tmp_path):
    p3, (what, written) = both(f'probe process("{TRUE}").function("main") {{ println($argc) }} '
                               f'probe process("{TRUE}").function("main").return {{ println(1) }}',
                               host_kernel(), monkeypatch, tmp_path)
    assert what == "definitions" and p3 == written and len(written) == 2
    assert written[0].startswith(f"p:{GROUP}/e0 {os.path.realpath(TRUE)}:0x") and written[0].endswith(" a0=%di:s32")
    assert written[1].startswith(f"r:{GROUP}/e1 ")


def test_eprobe(monkeypatch, tmp_path):
    need_tracepoint("timer", "timer_start")
    p3, (what, written) = both('probe kernel.trace("timer:timer_start") { '
                               'println(@cast($timer, "timer_list")->expires) }',
                               host_kernel(eprobes=True), monkeypatch, tmp_path)
    assert what == "definitions" and p3 == written and len(written) == 1
    assert written[0].startswith(f"e:{GROUP}/e0 timer.timer_start a0=+")


def test_tracepoint_has_no_definition(monkeypatch, tmp_path):
    need_tracepoint("syscalls", "sys_enter_getppid")
    p3, written = both('probe kernel.trace("syscalls:sys_enter_getppid") { println(1) }',
                       host_kernel(), monkeypatch, tmp_path)
    assert p3 == [] and written == ("tracepoints", ["syscalls:sys_enter_getppid"])
