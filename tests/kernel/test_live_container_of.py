"""@offsetof, @container_of and @module_container_of (tapsets/container_of.stpm)
against this kernel's BTF; the value read through @container_of at a real
kprobe is checked in test_live_kprobes.py (the QEMU tier)."""
import os
import re
import subprocess
import sys

from ftstap.kernel import btf as B

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def ftstap(*args):
    r = subprocess.run([sys.executable, "-m", "ftstap", *args], capture_output=True, text=True, timeout=120,
                       cwd=REPO)
    assert r.returncode == 0, r.stderr
    return r.stdout


def member_offset(btf, struct, member):
    return btf.member(btf.find_one(struct, B.STRUCT), member).bit_offset // 8


def test_offsets_and_containers_are_computed_by_the_handler(vmlinux):
    out = ftstap("-e", 'probe begin { printf("%d %d %d %d\\n", @offsetof("path", dentry), '
                 '@offsetof("struct task_struct", pid), @container_of(100000, "path", dentry), '
                 '@module_container_of(100000, "kernel", "task_struct", pid)) exit() }')
    pid_off = member_offset(vmlinux, "task_struct", "pid")
    assert out.split() == [str(member_offset(vmlinux, "path", "dentry")), str(pid_off),
                           str(100000 - member_offset(vmlinux, "path", "dentry")), str(100000 - pid_off)]


def test_a_member_of_the_container_is_one_kernel_read(vmlinux):
    # f_mapping points at the inode's embedded i_data: its container is the inode
    out = ftstap("-p3", "-e", 'probe kernel.function("vfs_read") { '
                 'println(@container_of($file->f_mapping, "inode", i_data)->i_ino) }')
    definition = next(l for l in out.splitlines() if re.match(r"#\s+p:GROUP/", l))
    delta = member_offset(vmlinux, "inode", "i_ino") - member_offset(vmlinux, "inode", "i_data")
    mapping = member_offset(vmlinux, "file", "f_mapping")
    assert f"a0={delta:+d}(+{mapping}(%di)):u64" in definition, definition
