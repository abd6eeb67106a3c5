"""sema/inline_reads.py: kernel reads through a helper's parameter or a
local become the event's fetch-args.  Checked on the -p3 definitions of a
kernel described with kprobes (tests/conftest.py's vmlinux fixture)."""
import pytest

from ftstap.lang import ast as A
from ftstap.sema.inline_reads import rooted


def _t(base, *members, addr=False):
    return A.Target(base, tuple(A.Member(name=m) for m in members), addr)


def test_rooted_values():
    sk = _t("$sk")
    assert rooted(sk) and rooted(_t("$sk", "sk_family"))
    assert rooted(A.Cast(sk, "inet_sock")) and rooted(_t(A.Cast(sk, "inet_sock"), "sk", addr=True))
    assert rooted(A.Binary("-", sk, A.Number(8)))
    offsetof = _t(A.Cast(A.Number(0), "sock"), "sk_family", addr=True)
    assert rooted(A.Cast(A.Binary("-", sk, offsetof), "sock"))              # @container_of
    assert not rooted(A.Binary("-", sk, _t(A.Cast(A.Number(0), "sock"), "sk_family")))   # a read, not an offset
    assert not rooted(A.Symbol("x")) and not rooted(A.Cast(A.Number(0), "sock"))
    assert not rooted(_t("$$parms")) and not rooted(A.Binary("+", sk, A.Symbol("n")))


def p3(script: str) -> list[str]:
    """The kprobe definitions -p3 prints for script on this kernel (BTF and
    kallsyms bind kernel.function here even without kprobe_events)."""
    import os
    import subprocess
    import sys
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        pytest.skip("needs the kernel's BTF")
    r = subprocess.run([sys.executable, "-m", "ftstap", "-p3", "-e", script], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return [line for line in r.stdout.splitlines() if ":GROUP/" in line]


DIRECT = 'probe kernel.function("vfs_read") { printf("%d %d\\n", $file->f_inode->i_ino, $count) }'


@pytest.mark.parametrize("script", [
    # a helper reading through its parameter
    'function ino(f) { return @cast(f, "file")->f_inode->i_ino } '
    'probe kernel.function("vfs_read") { printf("%d %d\\n", ino($file), $count) }',
    # a local holding the $variable, passed on
    'function ino(f) { return @cast(f, "file")->f_inode->i_ino } '
    'probe kernel.function("vfs_read") { f = $file; printf("%d %d\\n", ino(f), $count) }',
    # ... assigned inside an if, used after it in that branch
    'function ino(f) { return @cast(f, "file")->f_inode->i_ino } '
    'probe kernel.function("vfs_read") { if (pid()) { f = $file; if (f) printf("%d %d\\n", ino(f), $count) } }',
    # locals in the helper, &member as an address, a helper calling a helper
    'function inode(f) { i = &@cast(f, "file")->f_inode; return i } '
    'function ino2(f) { p = @cast(f, "file")->f_inode; return @cast(p, "inode")->i_ino } '
    'function ino(f) { return ino2(f) } '
    'probe kernel.function("vfs_read") { printf("%d %d\\n", ino($file), $count) }',
    # @container_of: the member's address minus its offset (as nfs_inode.stp's helpers take the inode)
    'function ino(i) { return @container_of(i, "struct proc_inode", vfs_inode)->vfs_inode->i_ino } '
    'probe kernel.function("vfs_read") { printf("%d %d\\n", ino($file->f_inode), $count) }',
])
def test_inlined_reads_are_the_direct_reads(script):
    def fetches(lines):
        (line,) = lines
        return {a.split("=", 1)[1] for a in line.split()[3:]}
    # the same reads (a local's own store may add %di: it is still assigned)
    direct = fetches(p3(DIRECT))
    assert len(direct) == 2 and direct <= fetches(p3(script))


def test_what_cannot_be_read_at_the_event_is_still_refused():
    import subprocess
    import sys
    for script in ['function ino(f) { return @cast(f, "file")->f_inode->i_ino } probe begin { println(ino(1234)) }',
                   # a global: a function called in between could change it
                   'global g function ino(f) { return @cast(f, "file")->f_inode->i_ino } '
                   'probe kernel.function("vfs_read") { g = $file; println(ino(g)) }',
                   'function ino(f) { return @cast(f, "file")->f_inode->i_ino } '
                   'probe kernel.function("vfs_read") { f = $file; if (f) f = 0; println(ino(f)) }',
                   # assigned in a branch, read after it: the branch may not have run
                   'function ino(f) { return @cast(f, "file")->f_inode->i_ino } '
                   'probe kernel.function("vfs_read") { if (pid()) f = $file; println(ino(f)) }']:
        r = subprocess.run([sys.executable, "-m", "ftstap", "-p3", "-e", script], capture_output=True, text=True)
        assert r.returncode == 1 and "kernel memory reads" in r.stderr, (script, r.stderr)


def test_a_call_is_never_copied_or_dropped():
    """Inlining copies arguments and locals into the value: one holding a
    call (which may print) must be used exactly once, else the call stays."""
    import subprocess
    import sys
    twice = ('function ino(f) { p = g(f); return @cast(p, "file")->f_inode->i_ino + p } '
             'function g(x) { println("side effect"); return x } '
             'probe kernel.function("vfs_read") { println(ino($file)) }')
    r = subprocess.run([sys.executable, "-m", "ftstap", "-p3", "-e", twice], capture_output=True, text=True)
    assert r.returncode == 1 and "kernel memory reads" in r.stderr, r.stderr


def test_a_read_through_null_faults_when_it_runs_as_in_stap():
    import subprocess
    import sys
    script = ('function ino(f) { return @cast(f, "file")->f_inode->i_ino } '
              'probe begin { println("before"); println(ino(0)); println("after") }')
    r = subprocess.run([sys.executable, "-m", "ftstap", "-e", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and r.stdout == "before\n", r.stdout + r.stderr
    assert "ERROR: kernel read fault at 0x0000000000000000" in r.stderr
    # @defined still asks about the member, and &...->m of 0 is an offset (no read)
    r = subprocess.run([sys.executable, "-m", "ftstap", "-e", 'probe begin { printf("%d %d %d\\n", '
                        '@defined(@cast(0, "task_struct")->mm), @defined(@cast(0, "task_struct")->nosuch), '
                        '&@cast(0, "task_struct")->mm > 0); exit() }'], capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stdout) == (0, "1 0 1\n"), r.stderr
