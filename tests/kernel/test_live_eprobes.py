"""Reading kernel memory through tracepoint fields (`@cast($timer,
"timer_list")->expires`): served by an event probe (eprobe) on the
tracepoint, whose fetch-args the kernel evaluates at the event.

This machine's kernel has no eprobes (CONFIG_EPROBE_EVENTS off), so these
skip here (test_live_sema.py checks the error instead); tests/qemu runs this
file in a QEMU guest (FTSTAP_EXPECT_KPROBES=1: that kernel must have them)."""
import os
import re
import subprocess
import sys
import time

import pytest

from leftovers import leftovers

from ftstap.kernel.features import KernelFeatures

TIMERS = r'''
global ok, bad, parms
probe kernel.trace("timer:timer_start") {
    if (@cast($timer, "timer_list")->expires == $expires
        && @cast($timer, "timer_list")[0]->function == $function
        && @cast(@cast($timer, "timer_list")->function, "u_int8_t")[1] == @cast($function, "u_int8_t")[1])
        ok++
    else
        bad++
    if (parms == "") parms = sprintf("%s by %s", $$parms, execname())
}
probe timer.s(2) { exit() }
probe end { printf("ok=%d bad=%d\n%s\n", ok > 0, bad, parms) }
'''


def has_eprobes() -> bool:
    return KernelFeatures.detect().has_eprobes


@pytest.fixture(scope="module")
def ep(tfs):
    if not has_eprobes():
        msg = "this kernel has no event probes (CONFIG_EPROBE_EVENTS); tests/qemu runs these under QEMU"
        if os.environ.get("FTSTAP_EXPECT_KPROBES") == "1":
            pytest.fail(msg + ", and FTSTAP_EXPECT_KPROBES=1 says this kernel must have them")
        pytest.skip(msg)
    return tfs


def ftstap(*args, timeout=180):
    p = subprocess.run([sys.executable, "-m", "ftstap", *args], capture_output=True, text=True,
                       timeout=timeout)
    assert "Traceback" not in p.stderr, p.stderr
    return p


def test_cast_of_tracepoint_fields_read_by_the_kernel(ep):
    p = ftstap("-e", TIMERS)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "ok=1 bad=0", p.stdout
    assert re.match(r"^timer=0x[0-9a-f]+ function=0x[0-9a-f]+ expires=0x[0-9a-f]+ .* by \S", lines[1]), p.stdout
    assert leftovers(ep) == []                   # the eprobe and the instance are gone


def test_listed_while_active_and_removed_after_sigkill(ep):
    proc = subprocess.Popen([sys.executable, "-m", "ftstap", "-T", "300", "-e",
                             'probe kernel.trace("timer:timer_start") { println(@cast($timer, "timer_list")->expires) }'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline, rows, out = time.time() + 120, [], ""
        while time.time() < deadline and not rows:
            time.sleep(0.5)
            out = ftstap("--list-active").stdout
            rows = [l for l in out.splitlines() if l.endswith(f" {proc.pid}")]
        assert rows and rows[0].split()[1:3] == ["e", "timer:timer_start"], out
        assert leftovers(ep, proc.pid)
    finally:
        proc.kill()                              # SIGKILL: nothing of it is cleaned up
        proc.wait()
    assert leftovers(ep, proc.pid)
    p = ftstap("-e", TIMERS)                     # the next session removes them first
    assert p.returncode == 0, p.stderr
    assert leftovers(ep) == []
