"""Kernel tests: root, the real kernel.

A feature this kind of machine has (a stock distribution kernel with tracefs,
uprobes and perf events) but that is missing
makes the test FAIL when CI is set, and skip otherwise; without root every
test here is skipped.  Nothing may be left in uprobe_events afterwards.
"""
import os
import subprocess

import pytest

TRACEFS = "/sys/kernel/tracing"
GCC = "/usr/bin/gcc"


def pytest_runtest_setup(item):
    if os.geteuid() != 0:
        pytest.skip("kernel tests need root")


def _need(cond, what: str) -> None:
    if cond:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what}: required on the CI machine")
    pytest.skip(what)


@pytest.fixture
def need():
    """need(condition, "what is missing"): skip, or fail under CI."""
    return _need


@pytest.fixture(scope="session")
def tfs():
    from ftstap.kernel.tracefs import find_tracefs
    return find_tracefs()


@pytest.fixture(scope="session")
def vmlinux():
    """The kernel's BTF (/sys/kernel/btf/vmlinux), read by ftstap's reader."""
    from ftstap.kernel.btf import BTF, VMLINUX
    _need(os.path.exists(VMLINUX), f"{VMLINUX} (CONFIG_DEBUG_INFO_BTF)")
    return BTF.vmlinux()


@pytest.fixture(scope="module")
def kp(tfs):
    """The tracefs root, if this kernel has kprobe_events (tests/qemu runs
    the kprobe tests in a guest that has them, with FTSTAP_EXPECT_KPROBES=1:
    there a missing kprobe_events fails instead of skipping)."""
    if not os.path.exists(os.path.join(tfs, "kprobe_events")):
        msg = "kprobe_events is missing (CONFIG_KPROBE_EVENTS); tests/qemu runs these under QEMU"
        if os.environ.get("FTSTAP_EXPECT_KPROBES") == "1":
            pytest.fail(msg + ", and FTSTAP_EXPECT_KPROBES=1 says this kernel must have it")
        pytest.skip(msg)
    return tfs


@pytest.fixture
def tracepoints(tfs):
    """tracepoints("sys:event", ...): skip (fail under CI) unless each exists."""
    def check(*names):
        for n in names:
            _need(os.path.isdir(os.path.join(tfs, "events", *n.split(":"))), f"the {n} tracepoint")
    return check


@pytest.fixture
def cc(tmp_path):
    """cc(source, name, *flags) -> path of a program built with /usr/bin/gcc."""
    _need(os.path.exists(GCC), f"{GCC} is missing")

    def build(source: str, name: str = "prog", *flags: str) -> str:
        src = tmp_path / f"{name}.c"
        src.write_text(source)
        out = tmp_path / name
        r = subprocess.run([GCC, "-O1", "-g0", *flags, "-o", str(out), str(src)],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return str(out)
    return build


@pytest.fixture
def instance(tfs):
    """A private tracefs instance (its own ring buffer), so enabling events
    here does not disturb anyone using the global trace buffer."""
    path = os.path.join(tfs, "instances", f"ftstap_test_{os.getpid()}")
    os.makedirs(path, exist_ok=True)
    enabled = []

    class Instance:
        root = path

        def enable(self, group, event, on=True):
            with open(os.path.join(path, "events", group, event, "enable"), "w") as f:
                f.write("1" if on else "0")
            if on:
                enabled.append((group, event))
            else:
                enabled.remove((group, event))

        def trace(self):
            with open(os.path.join(path, "trace")) as f:
                return f.read()

    yield Instance()
    for g, e in enabled:
        try:
            with open(os.path.join(path, "events", g, e, "enable"), "w") as f:
                f.write("0")
        except OSError:
            pass
    os.rmdir(path)


def _ours(line: str) -> bool:
    return line.split(":", 1)[-1].startswith("ftstap_")


@pytest.fixture(scope="session", autouse=True)
def no_events_left_behind():
    yield
    if os.geteuid() != 0 or not os.path.isdir(os.path.join(TRACEFS, "events")):
        return
    for name in ("uprobe_events", "kprobe_events"):
        path = os.path.join(TRACEFS, name)
        if not os.path.exists(path):
            continue
        with open(path) as f:
            left = [l.strip() for l in f if _ours(l.strip())]
        mine = [l for l in left if l.split("/")[0].endswith(f"_{os.getpid()}")]
        if mine:   # remove them (a failed test may have left them), then report
            from ftstap.kernel.dynevents import _remove
            for line in mine:
                group, event = line.split(":", 1)[1].split()[0].split("/")
                _remove(TRACEFS, path, group, event)
        assert not mine, f"kernel tests left events behind in {path}: {mine}"
