"""Small tapset functions the stap bpf testsuite uses: ktime_get_ns
(tapsets/ktime.stp), assert (tapsets/assert.stp)."""
import subprocess
import sys
import time


def test_ktime_get_ns_is_monotonic_time_since_boot():
    p = subprocess.run([sys.executable, "-m", "ftstap", "-e",
                        'probe begin { println(ktime_get_ns()); exit() }'],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert abs(int(p.stdout) - time.clock_gettime_ns(time.CLOCK_MONOTONIC)) < 30 * 10**9


def test_assert_raises_a_catchable_error():
    p = subprocess.run([sys.executable, "-m", "ftstap", "-e",
                        'probe begin { try { assert(1 == 2) } catch (m) { println(m) } '
                        'assert(1); assert(0, "my message") } probe error { println("handled") }'],
                       capture_output=True, text=True, timeout=60)
    assert p.stdout == "Assertion failed\nhandled\n"
    assert p.returncode == 1 and "ERROR: my message" in p.stderr
