"""SystemTap's bpf testsuite (66 self-checking scripts) inside the kprobe
guest: ../shared/conformance/run --suite bpf, one boot, ~10 min under TCG.

It runs under CI, or locally with FTSTAP_QEMU_CONFORMANCE=1 (it is the slow
part of the QEMU tier).  Every case not listed below must print END PASS;
a listed case that starts passing is reported, not failed."""
import os
import re
import sys

import pytest

from qemutier import ROOT, boot

RUNNER = os.path.normpath(os.path.join(ROOT, "..", "shared", "conformance", "run"))

# Cases that never print "END PASS": stap's testsuite compares their output
# with an .exp file instead.
NO_END_PASS = {"printf.stp", "sprintf.stp", "string1.stp", "string2.stp", "string3.stp",
               "string4.stp", "target.stp"}
KNOWN_FAILING = {
    # exact counts that assume one CPU (perf1: 5 one-second samples) or
    # stap's jiffies timer phase (timer2: 99 ticks in 1 s); no hardware PMU
    # in the guest (perf2: type 0 config 9)
    "perf1.stp", "timer2.stp", "perf2.stp",
    # "This test assumes that there are 100 jiffies per second": the guest's
    # Debian kernel has HZ=250, and timer.jiffies follows the kernel's HZ as
    # stap's module runtime does, so jiffies(100) fires every 0.4 s (26 times
    # in its 10.5 s; the other five timers fire 10 times, as they should).
    # bpf.exp runs it with `stap --bpf`, whose stapbpf counts jiffies in
    # USER_HZ (sysconf(_SC_CLK_TCK), 100): the runner here passes no --bpf.
    "timer1.stp",
}


@pytest.fixture(scope="module")
def suite():
    if not (os.environ.get("CI") or os.environ.get("FTSTAP_QEMU_CONFORMANCE") == "1"):
        pytest.skip("the bpf suite in QEMU takes ~10 min: set FTSTAP_QEMU_CONFORMANCE=1 (CI runs it)")
    if not os.path.exists(RUNNER):
        what = (f"{RUNNER} is missing: SystemTap's testsuite and its runner come from the "
                "shared checkout beside this repository (../shared/conformance)")
        if os.environ.get("CI"):
            pytest.fail(what)
        pytest.skip(what)
    # stap's testsuite runs /usr/bin/sleep while uprobes.stp and user_string.stp
    # wait for it ("called by testsuite"); so does this harness, in the guest.
    runner = " ".join([sys.executable, RUNNER, "--ftstap", f"'{sys.executable} -m ftstap'",
                       "--suite", "bpf", "-v", "--timeout", "120"])
    g = boot(["/bin/sh", "-c", f"(while :; do /usr/bin/sleep 2; done) & {runner}; rc=$?; kill $!; exit $rc"],
             timeout=2400)
    m = re.search(r"^bpf\s+(\d+) / (\d+)", g.output, re.M)
    assert m, f"no bpf score from the guest:\n{g.tail()}"
    failed = set(re.findall(r"^\s+FAIL (\S+)", g.output, re.M))
    return int(m.group(1)), int(m.group(2)), failed, g


def test_bpf_suite_score(suite):
    passed, total, failed, g = suite
    unexpected = failed - NO_END_PASS - KNOWN_FAILING
    lines = [l for l in g.output.splitlines() if any(f in l for f in unexpected)]
    assert not unexpected, f"bpf {passed}/{total}; newly failing:\n" + "\n".join(lines)
    assert passed + len(failed) == total
    fixed = (NO_END_PASS | KNOWN_FAILING) - failed
    print(f"bpf suite in the guest: {passed}/{total}; listed as failing but passed: {sorted(fixed)}")
