"""The real /sys/kernel/btf/vmlinux, cross-checked against tracefs and kallsyms."""
import os
import subprocess
import sys

import pytest

from ftstap.kernel import btf as B
from ftstap.kernel import tracefs
from ftstap.kernel.btf import BTF, VMLINUX


@pytest.fixture(scope="module")
def vmlinux():
    if os.geteuid() != 0:
        pytest.skip("kernel tests need root")
    if not os.path.exists(VMLINUX):
        if os.environ.get("CI"):
            pytest.fail(f"{VMLINUX} missing: required on the CI machine")
        pytest.skip(f"{VMLINUX} missing (CONFIG_DEBUG_INFO_BTF)")
    return BTF.vmlinux()


def test_known_function_params(vmlinux):
    ps = vmlinux.func_params("do_sys_openat2")
    assert [(p.name, p.ctype) for p in ps] == [
        ("dfd", "int"), ("filename", "const char *"), ("how", "struct open_how *")]
    ps = vmlinux.func_params("vfs_read")
    assert [(p.name, p.ctype) for p in ps] == [
        ("file", "struct file *"), ("buf", "char *"), ("count", "size_t"), ("pos", "loff_t *")]
    assert vmlinux.describe(vmlinux.func_return("vfs_read")) == "ssize_t"
    assert vmlinux.int_info(vmlinux.func_return("vfs_read")) == (8, True)
    assert vmlinux.int_info(ps[2].type) == (8, False)
    assert vmlinux.int_info(vmlinux.find_one("loff_t")) == (8, True)


def test_struct_layout_matches_tracepoint_records(vmlinux, tfs):
    # trace_event_raw_<event> is the kernel's own struct for the record the
    # format file describes: every offset must agree.
    raw = vmlinux.find_one("trace_event_raw_sched_switch", B.STRUCT)
    assert raw is not None
    fmt = tracefs.read_format("sched", "sched_switch")
    for f in fmt.fields:
        m = vmlinux.member(raw, f.name)
        assert m is not None, f.name
        assert (m.bit_offset // 8, vmlinux.size(m.type)) == (f.offset, f.size), f.name
    entry = vmlinux.find_one("trace_entry", B.STRUCT)
    assert [(m.name, m.bit_offset // 8) for m in vmlinux.members(entry)] == [
        ("type", 0), ("flags", 2), ("preempt_count", 3), ("pid", 4)]
    assert [(c.name, c.offset) for c in fmt.common_fields] == [
        ("common_type", 0), ("common_flags", 2), ("common_preempt_count", 3), ("common_pid", 4)]


def test_member_chain_on_task_struct(vmlinux):
    comm = vmlinux.member(vmlinux.find_one("task_struct", B.STRUCT), "comm")
    assert vmlinux.describe(comm.type) == "char[16]" and vmlinux.size(comm.type) == 16
    file_ptr = vmlinux.func_params("vfs_read")[0].type
    c = vmlinux.member_chain(file_ptr, ["f_path", "dentry", "d_name", "name"])
    assert vmlinux.describe(c.type) == "const unsigned char *"
    assert [s.deref for s in c.steps] == [True, False, True, False]
    f_path = vmlinux.member(vmlinux.find_one("file", B.STRUCT), "f_path").bit_offset // 8
    dentry = vmlinux.member(vmlinux.find_one("path", B.STRUCT), "dentry").bit_offset // 8
    d_name = vmlinux.member(vmlinux.find_one("dentry", B.STRUCT), "d_name").bit_offset // 8
    name = vmlinux.member(vmlinux.find_one("qstr", B.STRUCT), "name").bit_offset // 8
    assert c.fetch_expr("%di") == f"+{d_name + name}(+{f_path + dentry}(%di))"


def test_kallsyms_and_btf_agree(vmlinux):
    from ftstap.kernel.symbols import Kallsyms
    k = Kallsyms.load()
    for name in ("do_sys_openat2", "vfs_read", "schedule"):
        assert vmlinux.find_one(name, B.FUNC) is not None
        assert k.lookup(name).is_text
    assert "vfs_read" in vmlinux.glob("vfs_re*")


def test_lookup_is_fast(vmlinux):
    # Fresh interpreter: load the 5+ MB blob, find one function, describe it.
    code = ("import time; t=time.perf_counter();"
            "from ftstap.kernel.btf import BTF; b=BTF.load();"
            "ps=b.func_params('do_sys_openat2'); d=b.describe(b.func('do_sys_openat2').id);"
            "print(time.perf_counter()-t, d)")
    best = min(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    check=True).stdout.split()[0]) for _ in range(3))
    print(f"BTF load + do_sys_openat2 lookup: {best * 1000:.0f} ms")
    assert best < 0.3


def test_cast_sizeof_and_cast_addresses_need_no_kernel_read(vmlinux):
    """@cast_module_sizeof/@cast_sizeof (tapsets/sizeof.stpm) and
    &@cast(p, "T")->m are p + offsets from BTF, computed in any probe."""
    tid = vmlinux.find_one("task_struct", B.STRUCT)
    size, pid_off = vmlinux.size(tid), vmlinux.member(tid, "pid").bit_offset // 8
    script = ('probe begin { printf("%d %d %d %d\\n", @cast_module_sizeof("kernel", "task_struct"), '
              '@cast_sizeof("list_head"), &@cast(1000, "task_struct")->pid, &@cast(8, "list_head")[2]->prev); '
              'exit() }')
    r = subprocess.run([sys.executable, "-m", "ftstap", "-e", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{size} 16 {1000 + pid_off} {8 + 2 * 16 + 8}\n"
