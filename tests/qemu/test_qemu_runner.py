"""ftstap-run with real kprobes (tests/kernel/test_live_runner_kprobes.py)
inside the QEMU guest (its eprobes: test_qemu_runner_eprobes.py).  The static ftstap-run is built here, on the host,
into native/build/ (the guest sees the repository read-only), and the
guest compiles the image against its own kernel."""
import os
import subprocess

import pytest

from qemutier import ROOT, boot_pytest, guest_test_names

GUEST_TESTS = ("tests/kernel/test_live_runner_kprobes.py",)


@pytest.fixture(scope="module")
def guest():
    r = subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "native"), "ftstap-run-static"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return boot_pytest(*GUEST_TESTS, env={"FTSTAP_EXPECT_KPROBES": "1"}, timeout=900)


@pytest.mark.parametrize("name", [n for t in GUEST_TESTS for n in guest_test_names(t)])
def test_in_guest(guest, name):
    guest.assert_passed(name)
