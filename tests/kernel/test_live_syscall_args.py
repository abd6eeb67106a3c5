"""Syscall tracepoints keep each argument in an unsigned 8-byte slot; an
`int` or `pid_t` argument reads back at its C width and sign, as stap's
tapsets read it (compile/fields.py NARROW_TYPES)."""
import os
import subprocess
import sys


def ftstap(*args, env=None):
    p = subprocess.run([sys.executable, "-m", "ftstap", *args], capture_output=True, text=True, timeout=120,
                       env=env)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    return p.stdout


def test_int_and_pid_t_arguments_are_signed(tfs, cc):
    prog = cc(r'''
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
int main(void) {
    close(openat(AT_FDCWD, "/dev/null", O_RDONLY));
    kill(-getpid(), 0);          /* a negative pid_t: the process group */
    return 0;
}
''', "signed_args")
    out = ftstap("-c", prog, "-e", 'probe syscall.openat { if (pid() == target()) printf("%s %d %d\\n", name, dfd, flags) } '
                                  'probe syscall.kill { if (pid() == target()) printf("%s %d %d\\n", name, pid, sig) }')
    rows = [l.split() for l in out.splitlines()]
    assert ["openat", "-100", "0"] in rows, out
    kills = [r for r in rows if r[0] == "kill"]
    assert len(kills) == 1 and int(kills[0][1]) < 0 and kills[0][2] == "0", out


def test_kernel_filter_on_an_int_argument_agrees_with_the_handler(tfs):
    script = 'global n; probe syscall.openat { if (dfd == -100) n++ } probe end { println(n > 0) }'
    for pushdown in ("0", "1"):
        env = dict(os.environ, FTSTAP_NO_PUSHDOWN="1" if pushdown == "0" else "0")
        assert ftstap("-c", "cat /dev/null", "-e", script, env=env) == "1\n", pushdown
