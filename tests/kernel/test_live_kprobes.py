"""kernel.function / kprobe.function through real kprobe_events.

This machine has no kprobe_events, so these tests skip here; tests/qemu runs
this file inside a QEMU guest booted from Debian's stock kernel, with
FTSTAP_EXPECT_KPROBES=1, which turns the skip into a failure.  Userspace in
that guest is ~25x slower, so every test is one ftstap run (~8 s) and
checks several things at once; each also checks that the session left
nothing in kprobe_events."""
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from leftovers import leftovers

SYNC = ('global count=0  probe kernel.function("sys_sync") { count++; '
        'printf("sys_sync called %d times, currently by pid %d\\n", count, pid()) }')



def ftstap(root, *args, timeout=180):
    """Run ftstap; (returncode, stdout, stderr).  Nothing of it may remain."""
    p = subprocess.Popen([sys.executable, "-m", "ftstap", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, errors="replace")
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise AssertionError(f"ftstap timed out: {out}\n{err}")
    assert leftovers(root, p.pid) == [], err
    return p.returncode, out, err


@pytest.fixture
def target_file(tmp_path):
    path = tmp_path / "kprobe-target.txt"
    path.write_text("hello from a kprobe test\n")
    return str(path)


def test_sys_sync_is_a_real_kprobe(kp):
    rc, out, err = ftstap(kp, "-c", "sync; sync; sync", "-e", SYNC)
    assert rc == 0, err
    lines = out.splitlines()
    assert [l.split(",")[0] for l in lines] == [f"sys_sync called {n} times" for n in (1, 2, 3)], out
    assert len({l.rsplit(" ", 1)[1] for l in lines}) == 3          # three sync processes
    assert "tracepoint" not in err and "WARNING" not in err, err


def test_openat2_filename_user_and_kernel_string(kp, target_file):
    script = ('probe kernel.function("do_sys_openat2") { if (pid() == target()) '
              'printf("%s|%s|%d\\n", user_string($filename), kernel_string($filename), $dfd) }')
    rc, out, err = ftstap(kp, "-c", f"cat {target_file}", "-e", script)
    assert rc == 0, err
    assert f"{target_file}|{target_file}|-100" in out.splitlines(), out   # AT_FDCWD, an s32


def test_return_probe_sees_return_value(kp, target_file):
    script = ('probe kernel.function("do_sys_openat2").return { if (pid() == target()) '
              'printf("%s %d\\n", ppfunc(), $return) }')
    rc, out, err = ftstap(kp, "-c", f"cat {target_file} /nonexistent-kprobe-test", "-e", script)
    # cat fails on the missing file: ftstap says so and exits 1, as stap does
    assert rc == 1 and "WARNING: Child process exited with status 1" in err, err
    rets = [int(l.split()[1]) for l in out.splitlines() if l.startswith("do_sys_openat2 ")]
    assert -2 in rets, out                                     # ENOENT for the missing file
    assert any(r >= 3 for r in rets), out                      # a descriptor for the real one


def test_btf_member_chain(kp, target_file):
    script = ('global n  probe kernel.function("vfs_read") { if (pid() == target()) '
              'n[$file->f_inode->i_ino, kernel_string($file->f_path->dentry->d_name->name)]++ } '
              'probe end { foreach ([i, s] in n) printf("%d %s %d\\n", i, s, n[i, s]) }')
    rc, out, err = ftstap(kp, "-c", f"cat {target_file}", "-e", script)
    assert rc == 0, err
    ino = os.stat(target_file).st_ino
    rows = [l.split() for l in out.splitlines()]
    assert any(r[0] == str(ino) and r[1] == os.path.basename(target_file) for r in rows), out


def test_wildcard_attach_and_detach(kp, target_file):
    script = ('global n  probe kernel.function("vfs_*") { if (pid() == target()) n[ppfunc()]++ } '
              'probe end { foreach (f in n) printf("%s %d\\n", f, n[f]) }')
    rc, out, err = ftstap(kp, "-c", f"cat {target_file}", "-e", script)
    assert rc == 0, err
    hit = {l.split()[0] for l in out.splitlines()}
    assert {"vfs_read", "vfs_open"} <= hit, out


def _wait_for_events(root, pid, p, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = leftovers(root, pid)
        if got:
            return got
        if p.poll() is not None:
            raise AssertionError(f"ftstap ended before arming: {p.communicate()}")
        time.sleep(0.2)
    raise AssertionError("ftstap never created its kprobes")


@pytest.mark.parametrize("how", ["timeout", "SIGINT", "error"])
def test_teardown_on_every_exit_path(kp, how):
    if how == "timeout":
        rc, out, err = ftstap(kp, "-T", "1", "-e",
                              'probe kernel.function("ksys_sync") { next } probe end { println("end") }')
        assert rc == 0 and out == "end\n", err
        return
    if how == "error":
        rc, out, err = ftstap(kp, "-c", "sync", "-e",
                              'global z  probe kernel.function("ksys_sync") { println(1 / z) }')
        assert rc == 1 and "division by zero" in err, (rc, out, err)
        return
    script = ('global n  probe kernel.function("ksys_sync").return.maxactive(16) { n++ } '
              'probe end { printf("n=%d\\n", n) }')
    p = subprocess.Popen([sys.executable, "-m", "ftstap", "-e", script], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        live = _wait_for_events(kp, p.pid, p)
        assert any(l.startswith(("kprobe_events: r16:", "dynamic_events: r16:")) for l in live), live
        time.sleep(1.0)                        # the perf events are opened after the definitions
        subprocess.run(["sync"], check=True)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 0, err
    assert out.startswith("n="), out
    assert leftovers(kp, p.pid) == []


def test_syscall_strings_are_read_by_the_kernel_at_the_event(kp, tmp_path):
    """syscall.openat's filename (and argstr) are fetched by a kprobe on
    __x64_sys_openat with a ustring fetch-arg (sema/syscall_strings.py):
    right when the process reuses its buffer at once (Python) or has exited
    before ftstap reads the record (cat), as stap reads them at the event."""
    names = [str(tmp_path / f"f{i:03d}") for i in range(40)]
    for n in names:
        open(n, "w").close()
    script = tmp_path / "opens.py"
    script.write_text(f"import os\nfor i in range(40):\n    os.close(os.open('{tmp_path}/f%03d' % i, os.O_RDONLY))\n")
    rc, out, err = ftstap(kp, "-e", 'probe syscall.openat { if (pid() == target()) '
                          'printf("%s#%s#%s\\n", name, filename, argstr) }', "-c", f"{sys.executable} {script}")
    assert rc == 0 and "WARNING" not in err, err
    got = [line.split("#") for line in out.splitlines() if str(tmp_path) + "/f" in line]
    assert [g[1] for g in got] == [f'"{n}"' for n in names], out
    assert all(g[2] == f'AT_FDCWD, {g[1]}, O_RDONLY|O_CLOEXEC' for g in got), got
    rc, out, err = ftstap(kp, "-e", 'probe syscall.openat { if (pid() == target()) printf("%s %s\\n", name, argstr) }',
                          "-c", f"cat {names[7]}")
    assert rc == 0, err
    assert f'openat AT_FDCWD, "{names[7]}", O_RDONLY' in out.splitlines(), out


def test_pretty_printing_reads_each_value_at_the_event(kp, target_file):
    # $$parms and $var$ against the same values read one by one, and the
    # inode number printed inside $file->f_inode$ against the file's own
    script = ('probe kernel.function("vfs_read") { if (pid() == target()) '
              'printf("%s|0x%x|0x%x|%s|%s\\n", $$parms, $file, $count, $file->f_path$, $file->f_inode$) }')
    rc, out, err = ftstap(kp, "-c", f"cat {target_file}", "-e", script)
    assert rc == 0, err
    ino = os.stat(target_file).st_ino
    rows = [l.split("|") for l in out.splitlines() if f".i_ino={ino}," in l]
    assert rows, out
    parms, file, count, path, _inode = rows[0]
    assert parms.startswith(f"file={file} buf=0x") and f" count={count} pos=0x" in parms, rows[0]
    assert re.fullmatch(r"\{\.mnt=0x[0-9a-f]{8,}, \.dentry=0x[0-9a-f]{8,}\}", path), path


def test_container_of_reads_through_the_containing_struct(kp, target_file):
    # a regular file's f_mapping is its inode's embedded i_data
    script = ('probe kernel.function("vfs_read") { if (pid() == target()) '
              'printf("%d\\n", @container_of($file->f_mapping, "inode", i_data)->i_ino) }')
    rc, out, err = ftstap(kp, "-c", f"cat {target_file}", "-e", script)
    assert rc == 0, err
    assert str(os.stat(target_file).st_ino) in out.split(), out


BITFIELD_C = r"""
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1, a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
    setsockopt(a, SOL_SOCKET, SO_NO_CHECK, &one, sizeof one);    /* sk_no_check_tx = 1 */
    sendto(a, "x", 1, 0, (struct sockaddr *)&to, sizeof to);
    sendto(b, "yy", 2, 0, (struct sockaddr *)&to, sizeof to);
    return 0;
}
"""


def test_bitfield_members_read_only_their_bits(kp, cc):
    # sk_no_check_tx and sk_kern_sock share a byte with other bitfields
    prog = cc(BITFIELD_C, "bitfields")
    script = ('probe kernel.function("udp_sendmsg") { if (pid() == target()) '
              'printf("%d %d %d\\n", $len, $sk->sk_no_check_tx, $sk->sk_kern_sock) }')
    rc, out, err = ftstap(kp, "-c", prog, "-e", script)
    assert rc == 0, err
    assert out.splitlines() == ["1 1 0", "2 0 0"], out


PORT_C = r"""
#include <stdio.h>
#include <netinet/in.h>
#include <sys/socket.h>
int main(void)
{
    struct sockaddr_in me = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)}, to = me;
    socklen_t n = sizeof me;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    bind(s, (struct sockaddr *)&me, sizeof me);
    getsockname(s, (struct sockaddr *)&me, &n);
    printf("port %d\n", ntohs(me.sin_port));
    fflush(stdout);
    to.sin_port = htons(9);
    sendto(s, "abc", 3, 0, (struct sockaddr *)&to, sizeof to);
    return 0;
}
"""


def test_helpers_read_through_their_parameters_at_the_event(kp, cc):
    """A function's @cast of its parameter, and a local holding $sk, are read
    by the kernel at the event (sema/inline_reads.py)."""
    prog = cc(PORT_C, "port")
    script = ('function sport(sock) { return ntohs(@cast(sock, "inet_sock")->inet_sport) } '
              'function family(sock) { s = &@cast(sock, "inet_sock")->sk; '
              'return @cast(s, "sock")->__sk_common->skc_family } '
              'probe kernel.function("udp_sendmsg") { if (pid() == target()) { sk = $sk; '
              'printf("sent %d from %d family %d\\n", $len, sport(sk), family($sk)) } }')
    rc, out, err = ftstap(kp, "-c", prog, "-e", script)
    assert rc == 0, err
    port = re.search(r"^port (\d+)$", out, re.M).group(1)
    assert f"sent 3 from {port} family 2" in out.splitlines(), out
