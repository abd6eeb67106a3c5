"""tests/kernel/test_live_kprobe_tapsets.py (tty.*, linuxmib.*) inside a
QEMU guest whose kernel has kprobe_events; one boot for the module, one
host test per guest test."""
import pytest

from qemutier import boot_pytest, guest_test_names

GUEST_TESTS = ("tests/kernel/test_live_kprobe_tapsets.py",)


@pytest.fixture(scope="module")
def guest():
    return boot_pytest(*GUEST_TESTS, env={"FTSTAP_EXPECT_KPROBES": "1"}, timeout=900)


@pytest.mark.parametrize("name", [n for path in GUEST_TESTS for n in guest_test_names(path)])
def test_in_guest(guest, name):
    got = guest.outcomes(name)
    assert got, f"{name} did not run in the guest:\n{guest.tail()}"
    bad = {k: v for k, v in got.items() if v[0] != "PASSED"}
    assert not bad, f"{bad}\n{guest.tail(120)}"
