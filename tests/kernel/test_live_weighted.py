"""sched_stat_* tracepoints count a value of the event (nanoseconds), not
one: sampled naively, one event becomes that many samples.  A probe on
them must run once per event (native/ring.c FT_EV_PERIOD)."""
import os
import subprocess
import sys

# Distinct keys are counted as they first appear, so the end probe does a
# fixed amount of work: a foreach over `seen` there would run one statement
# per key, past MAXACTION (1000) on a busy machine.
SCRIPT = r'''
global n, seen[200000], keys
probe kernel.trace("sched:sched_stat_runtime") {
    n++
    if (!([cpu(), $pid, $runtime] in seen)) keys++     # `in` reads seen: no autoprint of it at exit
    seen[cpu(), $pid, $runtime] = 1
}
probe timer.ms(1500) { exit() }
probe end { printf("%d %d\n", n, keys) }
'''


def test_one_hit_per_weighted_event(tfs, need):
    need(os.path.isdir(os.path.join(tfs, "events", "sched", "sched_stat_runtime")), "sched:sched_stat_runtime")
    # a process that runs briefly and often: events with varied runtimes
    busy = subprocess.Popen([sys.executable, "-c", "import time\nfor i in range(20000): time.sleep(0.003)"])
    try:
        p = subprocess.run([sys.executable, "-m", "ftstap", "-e", SCRIPT], capture_output=True, text=True,
                           timeout=120)
    finally:
        busy.kill()
        busy.wait()
    assert p.returncode == 0, p.stderr
    n, keys = map(int, p.stdout.split())
    # one event, one hit: events rarely share (cpu, pid, runtime in ns);
    # sampled naively, each repeats once per nanosecond it counts (hundreds of times)
    assert 0 < n <= 2 * keys, p.stdout
    assert "lost" not in p.stderr, p.stderr
