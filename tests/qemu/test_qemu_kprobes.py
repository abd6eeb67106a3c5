"""tests/kernel/test_live_kprobes.py, test_live_eprobes.py, test_live_rawtp.py
test_live_kprobe_tapsets.py (tty.*, linuxmib.*) and test_live_cast_helpers.py
(tapset helpers reading through a pointer argument) inside a guest that has
kprobe_events and event probes.

One boot for the module (~2 min under TCG); one host test per guest test
function, so a failure names the kprobe feature that broke.  The guest run
sets FTSTAP_EXPECT_KPROBES=1: a guest kernel without kprobe_events fails."""
import pytest

from qemutier import boot_pytest, guest_test_names

GUEST_TESTS = ("tests/kernel/test_live_kprobes.py", "tests/kernel/test_live_eprobes.py",
               "tests/kernel/test_live_rawtp.py", "tests/kernel/test_live_kprobe_tapsets.py",
               "tests/kernel/test_live_cast_helpers.py")


@pytest.fixture(scope="module")
def guest():
    return boot_pytest(*GUEST_TESTS, env={"FTSTAP_EXPECT_KPROBES": "1"}, timeout=900)


def test_guest_run_passed_and_skipped_nothing(guest):
    assert guest.results, f"no test results from the guest:\n{guest.tail()}"
    bad = {k: v for k, v in guest.results.items() if v[0] != "PASSED"}
    assert not bad and guest.rc == 0, f"guest pytest rc={guest.rc} {bad}\n{guest.tail()}"


@pytest.mark.parametrize("name", [n for path in GUEST_TESTS for n in guest_test_names(path)])
def test_in_guest(guest, name):
    guest.assert_passed(name)
