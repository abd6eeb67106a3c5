"""ftstap-run with real kprobes: this machine has no kprobe_events, so these
skip here; tests/qemu/test_qemu_runner.py runs this file inside the QEMU
guest (Debian's stock kernel) with FTSTAP_EXPECT_KPROBES=1.  The image is
compiled there by `ftstap -p4` (the guest kernel's symbols) and run by the
static ftstap-run, which must print what `ftstap --run` prints and leave
nothing in kprobe_events after a normal end, SIGTERM, and SIGKILL followed
by the next start.  Userspace in the guest is slow (TCG): few runs."""
import os
import signal
import subprocess
import sys

import pytest

from leftovers import leftovers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SYNC = ('global count = 0, r = 0 probe begin { println("ready") } '
        'probe kernel.function("ksys_sync") { count++; printf("sys_sync called %d times\\n", count) } '
        'probe kernel.function("ksys_sync").return { r++ } probe end { printf("returns %d\\n", r) }')
EXPECTED = "ready\n" + "".join(f"sys_sync called {n} times\n" for n in (1, 2, 3)) + "returns 3\n"


@pytest.fixture(scope="module")
def runner():
    """The static ftstap-run the host built (tests/qemu), else built here."""
    exe = os.path.join(ROOT, "native", "build", "ftstap-run-static")
    if not os.path.exists(exe):
        subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "native"), "ftstap-run-static"], check=True)
    return exe


@pytest.fixture(scope="module")
def image(kp, tmp_path_factory):
    d = tmp_path_factory.mktemp("kimage")
    r = subprocess.run([sys.executable, "-m", "ftstap", "-p4", "-m", "sync", "-e", SYNC], cwd=d,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_kprobes_print_what_ftstap_run_prints(kp, runner, image):
    cmd = ["-c", "sh -c 'sync; sync; sync'"]
    py = subprocess.run([sys.executable, "-m", "ftstap", "--run", image, *cmd], capture_output=True, text=True,
                        timeout=300)
    c = subprocess.run([runner, *cmd, image], capture_output=True, text=True, timeout=300)
    assert (py.returncode, py.stdout) == (0, EXPECTED), py.stderr
    assert (c.returncode, c.stdout, c.stderr) == (0, EXPECTED, "")
    assert leftovers(kp) == []


def test_kprobes_removed_after_sigterm_and_sigkill(kp, runner, image):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        p = subprocess.Popen([runner, image], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert p.stdout.readline() == "ready\n"
        made = [l for l in leftovers(kp, p.pid) if l.startswith("kprobe_events: ")]
        assert len(made) == 2, made                        # the entry and the return probe
        p.send_signal(sig)
        out, err = p.communicate(timeout=120)
        if sig == signal.SIGTERM:
            assert (p.returncode, out, err) == (0, "returns 0\n", "")
            assert leftovers(kp, p.pid) == []
        else:
            assert leftovers(kp, p.pid) != []
            nxt = subprocess.run([runner, "-T", "0.1", image], capture_output=True, text=True, timeout=120)
            assert nxt.returncode == 0, nxt.stderr
            assert leftovers(kp) == []
