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
