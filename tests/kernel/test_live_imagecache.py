"""The compiled-program cache against a real uprobe: a rebuilt program
(new offsets) is compiled again, never run with the old image."""
import os
import subprocess
import sys

CACHED = "Pass 4: using cached"

PROGRAM = r"""
#include <stdio.h>
%s
__attribute__((noinline)) int work(int i) { return i * 3; }
int main(void) { int s = 0; for (int i = 0; i < %d; i++) s += work(i); printf("%%d\n", s); return 0; }
"""


def test_a_rebuilt_program_is_compiled_again(cc, tmp_path, need):
    from ftstap.kernel.features import KernelFeatures
    need(KernelFeatures.current().has_uprobes, "uprobes")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    prog = cc(PROGRAM % ("", 3), "prog")
    script = f'global n; probe process("{prog}").function("work") {{ n++ }} probe end {{ printf("calls %d\\n", n) }}'

    def run():
        p = subprocess.run([sys.executable, "-m", "ftstap", "-v", "-c", prog, "-e", script],
                           capture_output=True, text=True, timeout=60, env=env)
        assert p.returncode == 0, p.stderr
        return p.stdout.splitlines()[-1], CACHED in p.stderr

    assert run() == ("calls 3", False)
    assert run() == ("calls 3", True)
    # work() moves (a function before it) and runs 5 times.
    cc(PROGRAM % ("__attribute__((noinline)) int pad(int i) { return i + 7; }\n"
                  "int (*volatile keep)(int) = pad;", 5), "prog")
    assert run() == ("calls 5", False)
    assert run() == ("calls 5", True)
