"""Scripts without kernel events need no privileges and no tracefs: run one
with every capability dropped, in a mount namespace where tracefs is hidden."""
import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to set up the namespace")


def test_begin_end_timer_run_without_capabilities_or_tracefs():
    if not (shutil.which("unshare") and shutil.which("setpriv")):
        if os.environ.get("CI"):
            pytest.fail("unshare/setpriv missing (util-linux)")
        pytest.skip("unshare/setpriv missing")
    script = ('global n; probe timer.ms(10) { n++; if (n == 3) exit() } '
              'probe end { printf("n=%d\\n", n) }')
    inner = ("mount -t tmpfs none /sys/kernel/tracing && "
             "(mount -t tmpfs none /sys/kernel/debug 2>/dev/null || true) && "
             "exec setpriv --inh-caps=-all --bounding-set=-all "
             f"{sys.executable} -m ftstap -e '{script}'")
    p = subprocess.run(["unshare", "-m", "sh", "-c", inner], capture_output=True, text=True, timeout=60,
                       cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert (p.returncode, p.stdout) == (0, "n=3\n"), p.stderr


def _as_nobody(*args):
    if not shutil.which("setpriv"):
        if os.environ.get("CI"):
            pytest.fail("setpriv missing (util-linux)")
        pytest.skip("setpriv missing")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           sys.executable, "-m", "ftstap", *args],
                          capture_output=True, text=True, timeout=60, cwd=repo)


def test_non_root_user_is_told_tracefs_is_root_only_not_missing():
    from ftstap.kernel.tracefs import find_tracefs
    root = find_tracefs()
    if os.stat(root).st_mode & 0o005:
        pytest.skip("tracefs is readable by others here")
    p = _as_nobody("-e", "probe syscall.getpid { println(1) }")
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert "only root may use it" in p.stderr and "not mounted" not in p.stderr
    table = _as_nobody("--probe-support").stdout
    syscalls = next(line for line in table.splitlines() if line.startswith("syscall.*"))
    assert "unknown whether the kernel has CONFIG_FTRACE_SYSCALLS" in syscalls, syscalls
