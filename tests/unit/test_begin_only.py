"""A script whose probes can no longer fire after begin keeps running, as
stap's does, until exit(), a stop signal, -T or the end of -c's command
(it used to end 0.4 s after begin)."""
import signal
import subprocess
import sys
import time

BEGIN_END = 'probe begin { println("hi") } probe end { println("end") }'


def start(*args):
    return subprocess.Popen([sys.executable, "-m", "ftstap", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_begin_only_waits_for_a_signal():
    p = start("-e", BEGIN_END)
    try:
        assert p.stdout.readline() == "hi\n"
        time.sleep(1.5)
        assert p.poll() is None, "a begin-only script ended on its own"
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        p.kill()
    assert (p.returncode, out, err) == (0, "end\n", "")


def test_begin_only_ends_with_exit_t_or_the_command():
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "ftstap", "-T", "1", "-e", BEGIN_END], capture_output=True,
                       text=True, timeout=60)
    assert (p.returncode, p.stdout) == (0, "hi\nend\n") and time.monotonic() - t0 >= 1, p.stderr
    p = subprocess.run([sys.executable, "-m", "ftstap", "-e", 'probe begin { println("x"); exit() }'],
                       capture_output=True, text=True, timeout=60)
    assert (p.returncode, p.stdout) == (0, "x\n"), p.stderr
    p = subprocess.run([sys.executable, "-m", "ftstap", "-c", "true", "-e", BEGIN_END], capture_output=True,
                       text=True, timeout=60)
    assert (p.returncode, p.stdout) == (0, "hi\nend\n"), p.stderr
