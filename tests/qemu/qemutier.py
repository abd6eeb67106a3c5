"""The QEMU tier: tests that need a kernel this machine does not have.

Each test module boots one throw-away guest with ../shared/tools/vmrun.sh
(Debian 12's stock 6.1 kernel: kprobe_events, BTF; the host's / read-only
over 9p) and runs a batch of work inside it; the host-side tests then
assert on what the guest reported.  Userspace in the guest is ~25x slower
(TCG), so every module keeps its guest work small.

vmrun.sh is not in this repository: it lives in the shared tools checkout
beside it (../shared, which CI has; a plain clone does not), or wherever
FTSTAP_VMRUN names.  Without root, qemu or vmrun.sh these tests skip, saying
which is missing, except under CI, where the VM must boot: a missing tool or
a VM that cannot boot fails them."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
VMRUN = os.environ.get("FTSTAP_VMRUN") or os.path.normpath(
    os.path.join(ROOT, "..", "shared", "tools", "vmrun.sh"))
ANSI = re.compile(r"\x1b\[[0-9;]*m")
RESULT = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+?)(?: - (.*))?$")


def _unavailable(what: str):
    if os.environ.get("CI"):
        pytest.fail(f"the QEMU tier cannot run: {what} (required on the CI machine)")
    pytest.skip(f"the QEMU tier cannot run: {what}")


class Guest:
    """One guest run: exit status, console output, and (for pytest runs)
    the outcome of each guest test by node id."""

    def __init__(self, argv: list[str], rc: int, output: str):
        output = ANSI.sub("", output)
        self.argv, self.rc, self.output = argv, rc, output
        self.results: dict[str, tuple[str, str]] = {}
        for line in output.splitlines():
            m = RESULT.match(line.strip())
            if m:
                self.results[m.group(2)] = (m.group(1), m.group(3) or "")

    def tail(self, n: int = 60) -> str:
        return "\n".join(self.output.splitlines()[-n:])

    def assert_passed(self, func: str) -> None:
        """Guest test function `func` ran, and every parametrization passed."""
        got = self.outcomes(func)
        assert got, f"{func} did not run in the guest:\n{self.tail()}"
        bad = {k: v for k, v in got.items() if v[0] != "PASSED"}
        assert not bad, f"{bad}\n{self.tail(120)}"

    def outcomes(self, func: str) -> dict[str, tuple[str, str]]:
        """Results of guest test function `func` (all its parametrizations)."""
        return {k: v for k, v in self.results.items()
                if k.split("::")[-1] == func or k.split("::")[-1].startswith(func + "[")}


def boot(argv: list[str], env: dict | None = None, timeout: float = 600) -> Guest:
    """Run argv (first word: the interpreter path, never a shim) in a fresh
    guest from the repository root."""
    if os.geteuid() != 0:
        _unavailable("needs root")
    if not os.path.exists(VMRUN):
        if os.environ.get("FTSTAP_VMRUN"):
            _unavailable(f"FTSTAP_VMRUN names {VMRUN}, which is missing")
        _unavailable(f"{VMRUN} is missing: it comes from the shared tools checkout beside this "
                     "repository (../shared/tools/vmrun.sh), which this clone does not have; "
                     "set FTSTAP_VMRUN to its path")
    for tool in ("qemu-system-x86_64", "busybox"):
        if shutil.which(tool) is None:
            _unavailable(f"{tool} is missing (apt-get install qemu-system-x86 busybox-static)")
    # byte-compile on the host: the guest's / is a throw-away overlay, so every
    # guest run would otherwise compile ftstap again (~2 s per process under TCG)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "ftstap", "tests"], cwd=ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    full_env = dict(os.environ, **(env or {}))
    full_env.setdefault("FTSTAP_VM_TIMEOUT", str(int(timeout)))
    try:
        p = subprocess.run(["/bin/bash", VMRUN, "--", *argv], cwd=ROOT, env=full_env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout + 120)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"vmrun.sh did not finish in {timeout + 120:.0f}s: "
                    f"{(e.stdout or b'').decode(errors='replace')[-3000:]}")
    out = p.stdout.decode("utf-8", "replace").replace("\r\n", "\n")
    if p.returncode in (124, 125):
        # 125: the VM could not be set up or booted; 124: it timed out
        what = "timed out" if p.returncode == 124 else "the VM could not boot"
        if p.returncode == 125 and "== vmrun: guest up" not in out:
            _unavailable(f"{what}:\n{out[-3000:]}")
        pytest.fail(f"{what}:\n{out[-3000:]}")
    return Guest(argv, p.returncode, out)


def boot_pytest(*paths: str, env: dict | None = None, timeout: float = 600) -> Guest:
    """Run pytest on `paths` inside a guest; -rA lists every outcome."""
    return boot([sys.executable, "-m", "pytest", "-q", "-rA", "--color=no",
                 "-p", "no:cacheprovider", *paths],
                env=env, timeout=timeout)


def guest_test_names(path: str) -> list[str]:
    """The test functions a guest module defines (for one host test each)."""
    import ast
    with open(os.path.join(ROOT, path)) as f:
        tree = ast.parse(f.read())
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
