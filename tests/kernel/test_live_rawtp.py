"""A tracepoint's own arguments (`$next->pid` of sched:sched_switch, stap's
raw tracepoint variables): a kprobe on `__traceiter_sched_switch`, kept
running by two enablers (sema/rawtp.py).

Pass 2/3 run anywhere BTF and tracefs are (this machine); running needs
kprobe_events and eprobes, which this machine lacks: that test skips here
and tests/qemu runs this file in a guest that has them
(FTSTAP_EXPECT_KPROBES=1 turns the skip into a failure)."""
import os
import re
import subprocess
import sys

import pytest

from leftovers import leftovers

# The same switches seen twice: through the argument (a kprobe reading the
# task_struct) and through the record's fields (the tracepoint itself).
BOTH = r'''
global a, f
probe kernel.trace("sched:sched_switch") { if ($next->pid == target()) a[kernel_string($next->comm)]++ }
probe kernel.trace("sched:sched_switch") { if ($next_pid == target()) f[$next_comm]++ }
probe end { foreach (c in a) printf("arg %s %d\n", c, a[c]); foreach (c in f) printf("field %s %d\n", c, f[c]) }
'''


def ftstap(*args, timeout=240):
    p = subprocess.run([sys.executable, "-m", "ftstap", *args], capture_output=True, text=True,
                       errors="replace", timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def test_arguments_are_read_at_the_iterator(tfs):
    rc, out, err = ftstap("-p3", "-e", BOTH)
    assert rc == 0, err
    events = [l for l in out.splitlines() if l.startswith("#")]
    # next is the tracepoint's third argument, the iterator's fourth (after __data): %cx;
    # pid an s32 and comm a string inside the task_struct it points to
    kprobe = next(l for l in events if "p:GROUP/" in l)
    assert re.search(r"__traceiter_sched_switch a0=\+\d+\(%cx\):s32 a1=\+\d+\(%cx\):string$", kprobe), events
    assert any("counting mode (no samples)" in l for l in events), events   # the perf callback
    assert any(l.strip() == "#   e:GROUP/e3 sched.sched_switch" for l in events), events   # the eprobe one
    # the field probe stays a plain tracepoint
    assert any(l.endswith(': tracepoint sched:sched_switch') for l in events), events


def test_fields_and_arguments_in_one_probe_are_refused(tfs):
    rc, out, err = ftstap("-p2", "-e", 'probe kernel.trace("sched:sched_switch") { println($next->pid, $next_pid) }')
    assert rc == 1
    assert "'$next_pid' is a field of the tracepoint's record and '$next' one of its arguments" in err, err
    assert "<input>:1:" in err and "Traceback" not in err, err


def test_unknown_names_are_still_unknown(tfs):
    rc, out, err = ftstap("-p2", "-e", 'probe kernel.trace("sched:sched_switch") { println($nosuch) }')
    assert rc == 1 and "unable to find context variable '$nosuch'" in err, err


def test_arguments_agree_with_the_fields(tfs):
    from ftstap.kernel.features import KernelFeatures
    f = KernelFeatures.detect()
    if not (f.kprobe_events and f.has_eprobes):
        msg = "needs kprobe_events and eprobes; tests/qemu runs this in a guest that has them"
        if os.environ.get("FTSTAP_EXPECT_KPROBES") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    p = subprocess.Popen([sys.executable, "-m", "ftstap", "-c", "sleep 0.5", "-e", BOTH], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=240)
    assert p.returncode == 0, err
    assert leftovers(tfs, p.pid) == [], err
    got = dict(l.rsplit(" ", 1) for l in out.splitlines())
    # the command is switched in as "sleep" at least once (it sleeps), and
    # both ways see the same switches
    assert int(got.get("arg sleep", 0)) >= 1, out
    assert {k.split(" ", 1)[1]: v for k, v in got.items() if k.startswith("arg ")} == \
        {k.split(" ", 1)[1]: v for k, v in got.items() if k.startswith("field ")}, out


def test_listing_shows_the_arguments_after_the_fields(tfs):
    rc, out, err = ftstap("-L", 'kernel.trace("sched:sched_switch")')
    assert rc == 0, err
    line = out.strip().split(" $")
    line = line[:1] + ["$" + v for v in line[1:]]
    assert line[0] == 'kernel.trace("sched:sched_switch")'
    assert "$next_pid:pid_t" in line and "$next:struct task_struct*" in line and "$preempt:bool" in line, out
    assert line.index("$next_pid:pid_t") < line.index("$next:struct task_struct*")
    assert sum(v.startswith("$prev_state:") for v in line) == 1             # the field's, listed once
