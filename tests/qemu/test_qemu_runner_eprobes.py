"""ftstap-run's event probes against a kernel that has them: the two tests
of tests/kernel/test_live_runner_eprobes.py that need real eprobes (this
machine's kernel lacks CONFIG_EPROBE_EVENTS; its other tests run here),
inside the QEMU guest.  The runners are built here, on the host, into
native/build/ (the guest sees the repository read-only and uses them when
make says they are up to date)."""
import os
import subprocess

import pytest

from qemutier import ROOT, boot_pytest

FILE = "tests/kernel/test_live_runner_eprobes.py"
GUEST_TESTS = ("test_eprobe_images_print_what_ftstap_run_prints", "test_eprobe_session_listed_and_removed_on_every_exit")


@pytest.fixture(scope="module")
def guest():
    r = subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "native"), "ftstap-run-static", "ftstap-run",
                        "ftstap-run-asan"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return boot_pytest(*(f"{FILE}::{t}" for t in GUEST_TESTS), env={"FTSTAP_EXPECT_KPROBES": "1"}, timeout=1200)


@pytest.mark.parametrize("name", GUEST_TESTS)
def test_in_guest(guest, name):
    guest.assert_passed(name)
