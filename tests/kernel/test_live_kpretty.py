"""Pretty-printing on kprobes ($$parms, $$return, $var$, $var$$), compiled
from this kernel's BTF at -p3 (no kprobe_events needed to translate).  The
values printed at run time are checked in test_live_kprobes.py, which runs
where kprobes exist (the QEMU tier)."""
import os
import re
import subprocess
import sys

from ftstap.kernel import btf as B

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def p3(handler, point='kernel.function("vfs_read")'):
    """(fetch-args of the event, SPRINTF formats) of `-p3`."""
    r = subprocess.run([sys.executable, "-m", "ftstap", "-p3", "-e", f"probe {point} {{ {handler} }}"],
                       capture_output=True, text=True, timeout=120, cwd=REPO)
    assert r.returncode == 0, r.stderr
    definition = next(l for l in r.stdout.splitlines() if re.match(r"#\s+[pr]\d*:GROUP/", l))
    args = re.findall(r"a\d+=(\S+)", definition)
    return args, re.findall(r'SPRINTF\s+fmt "(.*)"', r.stdout)


def offset(btf, struct, *path):
    tid = btf.find_one(struct, B.STRUCT)
    total = 0
    for name in path:
        m = btf.member(tid, name)
        total += m.bit_offset // 8
        tid = btf.resolve(m.type)
    return total


def test_parms_are_every_parameter_in_hex(vmlinux):
    args, fmts = p3("println($$parms)")
    assert [p.name for p in vmlinux.func_params("vfs_read")] == ["file", "buf", "count", "pos"]
    assert fmts == ["file=0x%x buf=0x%x count=0x%x pos=0x%x"]
    assert args == ["%di:u64", "%si:u64", "%dx:u64", "%cx:u64"]       # x86-64 argument registers


def test_struct_member_expands_one_level_each_value_a_read(vmlinux):
    args, fmts = p3("println($file->f_path$)")
    assert fmts == ["{.mnt=0x%x, .dentry=0x%x}"]
    base = offset(vmlinux, "file", "f_path")
    mnt, dentry = (base + offset(vmlinux, "path", m) for m in ("mnt", "dentry"))
    assert args == [f"+{mnt}(%di):u64", f"+{dentry}(%di):u64"]


def test_pointer_to_struct_integers_decimal_nested_structs_elided(vmlinux):
    _args, fmts = p3("println($file->f_inode$)")
    assert ".i_ino=%u, " in fmts[0] and ".i_sb=0x%x, " in fmts[0]
    assert ".i_uid={...}" in fmts[0]                 # kuid_t: a struct, one level only
    _args, deep = p3("println($file->f_inode$$)")
    assert ".i_uid={.val=%u}" in deep[0]             # two levels with $$


def test_return_value(vmlinux):
    args, fmts = p3("println($$return)", 'kernel.function("vfs_read").return')
    assert fmts == ["return=0x%x"]
    assert args == ["$retval:s64"]                   # vfs_read returns ssize_t


def test_a_whole_struct_has_no_value_but_its_address_and_pretty_print_do(vmlinux):
    r = subprocess.run([sys.executable, "-m", "ftstap", "-p2", "-e",
                        'probe kernel.function("vfs_read") { println($file->f_path) }'],
                       capture_output=True, text=True, timeout=120, cwd=REPO)
    assert r.returncode == 1
    assert "the member f_path of '$file' is a const struct path, which has no value" in r.stderr
    # as stap: @defined of the struct itself is false, of its address true
    _args, fmts = p3('printf("%d %d %s\\n", @defined($file->f_path), @defined(&$file->f_path), $file->f_path$)')
    r = subprocess.run([sys.executable, "-m", "ftstap", "-p3", "-e",
                        'probe kernel.function("vfs_read") { printf("%d %d\\n", @defined($file->f_path), '
                        '@defined(&$file->f_path)) }'], capture_output=True, text=True, timeout=120, cwd=REPO)
    pushes = re.findall(r"PUSHI\s+(\d+)", r.stdout)
    assert pushes[:2] == ["0", "1"], r.stdout


def test_a_bitfield_member_is_shifted_and_masked(vmlinux):
    # the kernel reads the byte(s) holding it; the handler keeps its bits
    m = vmlinux.member(vmlinux.find_one("sock", B.STRUCT), "sk_no_check_tx")
    assert m.bitfield_size == 1
    r = subprocess.run([sys.executable, "-m", "ftstap", "-p3", "-e",
                        'probe kernel.function("udp_sendmsg") { println($sk->sk_no_check_tx) }'],
                       capture_output=True, text=True, timeout=120, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert f"a0=+{m.bit_offset // 8}(%di):u8" in r.stdout
    ops = re.findall(r"^[ \t]+\d+[ \t]+([A-Z]+)[ \t]*(\S*)", r.stdout, re.M)
    at = ops.index(("SHRL", ""))
    assert ops[at - 1] == ("PUSHI", str(m.bit_offset % 8)) and ops[at + 1:at + 3] == [("PUSHI", "1"), ("BAND", "")]


def test_parms_in_a_return_probe_are_the_values_at_entry(vmlinux):
    # as `$file` in a .return: read by the entry probe, printed at the return
    out = subprocess.run([sys.executable, "-m", "ftstap", "-p3", "-e",
                          'probe kernel.function("vfs_read").return { println($$parms) println($$return) }'],
                         capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert re.search(r"#\s+r:GROUP/e\d+ vfs_read a0=\$retval:s64", out.stdout), out.stdout
    assert re.search(r"#\s+p:GROUP/e\d+ vfs_read a0=%di:u64 a1=%si:u64 a2=%dx:u64 a3=%cx:u64", out.stdout)
    assert 'fmt "file=0x%x buf=0x%x count=0x%x pos=0x%x"' in out.stdout and 'fmt "return=0x%x"' in out.stdout


def test_a_big_struct_prints_its_first_members(vmlinux):
    args, fmts = p3("println($p$)", 'kernel.function("wake_up_new_task")')
    assert fmts[0].startswith("{") and fmts[0].endswith(", ...}"), fmts[0][-40:]
    assert 0 < len(args) <= 64                       # kprobe_events takes at most 128 fetch-args


def test_a_char_array_prints_as_a_string_the_kernel_reads(vmlinux):
    # semok pretty.stp's `$prev->comm$`: a string fetch-arg at the array
    args, fmts = p3("println($p->comm$)", 'kernel.function("wake_up_new_task")')
    comm = vmlinux.member(vmlinux.find_one("task_struct", B.STRUCT), "comm").bit_offset // 8
    assert fmts == ['\\"%s\\"'] and args == [f"+{comm}(%di):string"], (fmts, args)
