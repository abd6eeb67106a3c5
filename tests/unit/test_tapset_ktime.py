"""tapsets/ktime.stp: stap's ktime_get_ns() (the bpf testsuite uses it)."""
import subprocess
import sys
import time


def test_ktime_get_ns_is_monotonic_time_since_boot():
    p = subprocess.run([sys.executable, "-m", "ftstap", "-e",
                        'probe begin { println(ktime_get_ns()); exit() }'],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert abs(int(p.stdout) - time.clock_gettime_ns(time.CLOCK_MONOTONIC)) < 30 * 10**9
