"""-L says how this kernel serves a probe point when that is not the point
itself: one it cannot run (a kprobe without kprobe_events: pass 5 would
refuse it) or one served by something else (a tracepoint for a function)."""
import subprocess
import sys

from ftstap.kernel.features import KernelFeatures


def listing(pattern):
    r = subprocess.run([sys.executable, "-m", "ftstap", "-L", pattern], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout, r.stderr


def test_a_probe_this_kernel_cannot_run_is_said_so():
    out, err = listing("tty.open")
    assert out.startswith("tty.open ")
    refusal = "WARNING: tty.open cannot run on this kernel: kernel.function needs kprobe_events"
    if KernelFeatures.current().has_kprobes:
        assert refusal not in err, err
    else:
        assert refusal in err, err


def test_a_probe_served_by_something_else_is_said_so():
    out, err = listing('kernel.function("sys_sync")')
    assert out.startswith('kernel.function("sys_sync")')
    if KernelFeatures.current().has_kprobes:
        assert "is served by" not in err, err
    else:
        assert 'kernel.function("sys_sync") is served by the tracepoint syscalls:sys_enter_sync' in err, err


def test_ordinary_listings_stay_quiet():
    _out, err = listing("syscall.getppid")
    assert err == ""
