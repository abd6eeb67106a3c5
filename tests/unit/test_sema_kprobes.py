"""kernel.function on a kernel WITH kprobe_events, as a synthetic snapshot
(kallsyms of a 6.1 x86-64 kernel, the host's BTF): binding, the syscall
wrapper, .maxactive, and the fetch-args pass 3 plans.  The same paths run
for real in tests/kernel/test_live_kprobes.py under QEMU (tests/qemu)."""
import os
import shutil

import pytest

from ftstap.compile.codegen import CodeGen
from ftstap.errors import FtstapError
from ftstap.kernel.features import KernelFeatures

from sema_support import elaborate, make_snapshot

KALLSYMS = """ffffffff81000000 T _stext
ffffffff813a8780 t __do_sys_sync
ffffffff813a8780 T __x64_sys_sync
ffffffff813a86e0 T ksys_sync
ffffffff81390000 T __x64_sys_openat
ffffffff81391000 T do_sys_openat2
ffffffff81392000 T vfs_read
ffffffff81393000 T vfs_open
ffffffff81394000 t vfs_helper.isra.0
ffffffff81395000 D vfs_data
"""


@pytest.fixture
def kfeatures(tmp_path):
    snap = tmp_path / "snap"
    make_snapshot(snap, kprobes=True)
    (snap / "kallsyms").write_text(KALLSYMS)
    if os.path.exists("/sys/kernel/btf/vmlinux"):
        (snap / "btf").mkdir()
        shutil.copy("/sys/kernel/btf/vmlinux", snap / "btf" / "vmlinux")
    return KernelFeatures.from_snapshot(str(snap))


def _needs_btf(features, func):
    try:
        features.btf_reader().func(func)
    except FtstapError:
        pytest.skip(f"no BTF for {func} here")


def plan_of(script, features, n=0):
    program = elaborate(script, features)
    cg = CodeGen(program, features)
    cg.build()
    src = program.probes[n].source
    return src, cg.plans[id(src)]


def test_sys_name_binds_to_the_x64_wrapper_without_warning(kfeatures):
    p = elaborate('probe kernel.function("sys_sync") { }', kfeatures)
    src = p.probes[0].source
    assert src.target.kind == "kprobe" and src.target.symbol == "__x64_sys_sync"
    assert not p.warnings


def test_wrapper_params_come_from_saved_user_registers(kfeatures):
    src, plan = plan_of('probe kernel.function("sys_openat") { println(user_string($filename)) }',
                        kfeatures)
    assert src.context["filename"].fetch == ("reg", "+104(%di)")        # pt_regs->si
    assert [a.arg for a in plan.args] == ["a0=+0(+104(%di)):ustring"]


def test_member_chain_to_char_pointer_is_dereferenced(kfeatures):
    _needs_btf(kfeatures, "vfs_read")
    src, plan = plan_of('probe kernel.function("vfs_read") { '
                        'println(kernel_string($file->f_path->dentry->d_name->name)) }', kfeatures)
    (arg,) = plan.args
    assert arg.type == "string" and arg.expr.startswith("+0(+") and arg.expr.endswith("(%di)))")


def test_return_maxactive(kfeatures):
    p = elaborate('probe kernel.function("vfs_read").return.maxactive(16) { println($return) }',
                  kfeatures)
    src = p.probes[0].source
    assert src.is_return and src.target.maxactive == 16


def test_return_probe_reads_entry_params_through_an_entry_twin(kfeatures):
    """$count in a .return probe is its value at entry (@entry($count)): a
    synthetic kprobe on the entry saves it per thread and call depth."""
    _needs_btf(kfeatures, "vfs_read")
    p = elaborate('probe kernel.function("vfs_read").return.maxactive(4) { println($count, @entry($count + 1)) }',
                  kfeatures)
    ret, twin = p.probes
    assert ret.source.is_return and not twin.source.is_return
    assert twin.source.target.symbol == "vfs_read" and twin.source.pp == 'kernel.function("vfs_read")'
    assert {"__entry_1_0", "__entry_1_1", "__entry_1_depth"} <= set(p.globals)
    assert p.globals["__entry_1_0"].key_types == ["long", "long"]
    cg = CodeGen(p, kfeatures)
    cg.build()
    assert [a.arg for a in cg.plans[id(twin.source)].args] == ["a0=%dx:u64"]


def test_wildcard_takes_text_symbols_without_clones(kfeatures):
    p = elaborate('probe kernel.function("vfs_*") { }', kfeatures)
    assert sorted(i.source.target.symbol for i in p.probes) == ["vfs_open", "vfs_read"]



def test_source_line_probes_are_refused_not_approximated(kfeatures):
    # f@file:LINE used to bind f's entry silently; without a line table it is refused
    for pp in ('kernel.statement("do_sys_openat2@fs/open.c:1200")', 'kernel.statement("vfs_read@*:*")',
               'kernel.function("vfs_read@fs/read_write.c:450")'):
        with pytest.raises(FtstapError) as e:
            elaborate(f'probe {pp} {{ println(1) }}', kfeatures)
        text = e.value.render()
        assert "probing a source line needs the kernel's DWARF line table" in text, text
        assert "<input>:1:7" in text, text
