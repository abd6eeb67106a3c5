"""Ending a session from outside removes everything it made in the kernel --
its uprobe definition, its event group, its registry file -- without
relying on a later session: SIGHUP, SIGQUIT, SIGUSR1, SIGTERM, SIGINT (in
the loop, and while events are being created, also with SIGINT inherited
as ignored), the output's reader going away (`ftstap ... | head -1`).  The
-c command dies with ftstap, even by SIGKILL; a -c command that cannot run
makes ftstap fail, as stap does."""
import os
import signal
import subprocess
import sys
import time

import pytest

from leftovers import leftovers

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from test_live_events import ADD_PROG                     # noqa: E402

SCRIPT = """global n
probe begin { println("ready") }
probe process("%s").function("add") { n++ }
probe syscall.getppid { n++ }
"""


@pytest.fixture
def prog(tfs, need, cc):
    need(os.path.exists(os.path.join(tfs, "uprobe_events")), "uprobe_events (CONFIG_UPROBE_EVENTS)")
    need(os.path.isdir(os.path.join(tfs, "events", "syscalls", "sys_enter_getppid")),
         "syscalls:sys_enter_getppid tracepoint")
    return cc(ADD_PROG, "add_prog")


def ftstap(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "ftstap", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def traces(tfs, pid):
    """What session pid has in the kernel and in the registry."""
    from ftstap.kernel.dynevents import registry_dir
    out = leftovers(tfs, pid)
    if os.path.isdir(os.path.join(tfs, "events", f"ftstap_{pid}")):
        out.append(f"events/ftstap_{pid}")
    reg = registry_dir()
    if reg and os.path.exists(os.path.join(reg, f"ftstap_{pid}.json")):
        out.append(f"{reg}/ftstap_{pid}.json")
    return out


def ready(p):
    line = p.stdout.readline()
    if line != "ready\n":
        p.kill()
        raise AssertionError(f"session did not start: {line!r} {p.communicate()[1]}")


@pytest.mark.parametrize("sig", ["SIGHUP", "SIGQUIT", "SIGUSR1", "SIGTERM", "SIGINT"])
def test_signal_ends_the_session_and_removes_its_events(tfs, prog, sig):
    p = ftstap("-e", SCRIPT % prog)
    ready(p)
    made = traces(tfs, p.pid)
    assert any("uprobe_events" in t for t in made) and any(t.endswith(".json") for t in made), made
    p.send_signal(getattr(signal, sig))
    out, err = p.communicate(timeout=60)
    assert traces(tfs, p.pid) == []
    signo = getattr(signal, sig)
    # staprun's signals end the session as Ctrl-C does; the others exit 128 + signo
    assert p.returncode == (128 + signo if sig == "SIGUSR1" else 0), err
    assert out.splitlines()[-1].startswith("n="), out        # end probes (autoprint) ran
    assert "Traceback" not in err


def _events_created(tfs, pid, deadline):
    while time.time() < deadline:
        if os.path.isdir(os.path.join(tfs, "events", f"ftstap_{pid}")):
            return True
        time.sleep(0.001)
    return False


@pytest.mark.parametrize("sig", ["SIGINT", "SIGHUP"])
def test_signal_while_events_are_created(tfs, prog, sig):
    """SIGINT inherited as ignored (`ftstap ... &` in a script) still ends a
    session that is creating its events: the uprobe group exists, the ~700
    syscall tracepoint events are being opened."""
    signo = getattr(signal, sig)
    ignore = (lambda: signal.signal(signo, signal.SIG_IGN)) if sig == "SIGINT" else None
    p = ftstap("-e", SCRIPT % prog + "probe syscall.* { n++ }\n", preexec_fn=ignore)
    assert _events_created(tfs, p.pid, time.time() + 60), p.communicate()
    p.send_signal(signo)
    try:
        out, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        pytest.fail(f"{sig} during start-up was lost: the session kept running")
    assert traces(tfs, p.pid) == []
    # ended during setup (128 + signo), or just after it, in the loop (0)
    assert p.returncode in (0, 128 + signo), err
    assert "Traceback" not in err


@pytest.mark.parametrize("output", ["often", "once"])
def test_closed_output_pipe_ends_the_session(tfs, prog, output):
    """`ftstap ... | head -1`: the reader going away ends the session, whether
    the script writes again (EPIPE) or never does (the pipe's error)."""
    script = SCRIPT % prog + ("probe timer.ms(20) { println(n) }\n" if output == "often" else "")
    p = ftstap("-e", script)
    ready(p)
    p.stdout.close()
    try:
        err = p.stderr.read() if p.wait(timeout=30) is not None else ""
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        pytest.fail("the session kept running after its output's reader went away")
    assert traces(tfs, p.pid) == []
    assert p.returncode == 0, err
    assert "BrokenPipe" not in err and "Traceback" not in err, err


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_c_command_dies_with_ftstap():
    p = ftstap("-c", "sleep 600", "-e", 'probe begin { println("ready") }')
    ready(p)
    kids = _children(p.pid)
    assert kids, "the -c command should be running"
    p.kill()
    p.wait()
    deadline = time.time() + 10
    while any(_alive(k) for k in kids) and time.time() < deadline:
        time.sleep(0.05)
    left = [k for k in kids if _alive(k)]
    for k in left:
        os.kill(k, signal.SIGKILL)
    assert left == [], "the -c command outlived ftstap (SIGKILL)"


def test_c_command_that_cannot_run_fails():
    p = ftstap("-c", "/nonexistent/command", "-e", "probe begin { println(1) }")
    out, err = p.communicate(timeout=60)
    assert "cannot run /nonexistent/command" in err
    assert p.returncode == 1, err
