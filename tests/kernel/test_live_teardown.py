"""No ftstap event survives a session, whatever ends it: normal end, -T,
SIGINT, SIGTERM, a run-time error, a Python exception during setup; and
after SIGKILL, the next session's start removes what was left."""
import json
import os
import signal
import subprocess
import sys

import pytest

from leftovers import leftovers

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from test_live_events import ADD_PROG                     # noqa: E402

HELPER = os.path.join(HERE, "live_images.py")


@pytest.fixture
def prog(tfs, need, cc):
    need(os.path.exists(os.path.join(tfs, "uprobe_events")), "uprobe_events (CONFIG_UPROBE_EVENTS)")
    from ftstap.kernel.symbols import ElfFile
    path = cc(ADD_PROG, "add_prog")
    return path, ElfFile(path).function("add").offset


def start(kind, kwargs, run=None):
    p = subprocess.Popen([sys.executable, HELPER, kind, json.dumps(kwargs), json.dumps(run or {})],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if line != "ready\n":
        p.kill()
        raise AssertionError(f"session did not start: {line!r} {p.communicate()[1]}")
    return p


def test_normal_end_of_c_command(tfs, prog):
    path, off = prog
    p = subprocess.Popen([sys.executable, HELPER, "uprobe", json.dumps({"path": path, "offset": off}),
                          json.dumps({"command": f"{path} 3"})], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert out.splitlines()[-1] == "3 6 0 0 0 hello-uprobe"
    assert leftovers(tfs, p.pid) == []


@pytest.mark.parametrize("how", ["timeout", "SIGINT", "SIGTERM", "error"])
def test_every_exit_path_removes_events(tfs, prog, how):
    path, off = prog
    kwargs = {"path": path, "offset": off}
    if how == "timeout":
        p = start("uprobe", kwargs, {"timeout_s": 1.0})
    elif how == "error":
        p = start("uerror", kwargs, {"timeout_s": 30})
    else:
        p = start("uprobe", kwargs, {"timeout_s": 30})
    assert leftovers(tfs, p.pid), "the session's uprobe should exist while it runs"
    if how in ("SIGINT", "SIGTERM"):
        p.send_signal(getattr(signal, how))
    elif how == "error":
        subprocess.run([path, "1"], capture_output=True, check=True)
    out, err = p.communicate(timeout=30)
    assert leftovers(tfs, p.pid) == []
    if how == "error":
        assert p.returncode == 1 and "ERROR: division by zero" in err
    else:
        assert p.returncode == 0, err
        assert out.splitlines()[-1].split()[:2] == ["0", "0"]       # end probes ran


def test_sigkill_then_next_start_cleans_up(tfs, prog):
    path, off = prog
    p = start("uprobe", {"path": path, "offset": off}, {"timeout_s": 30})
    p.kill()
    p.wait()
    left = leftovers(tfs, p.pid)
    assert left, "SIGKILL leaves the group behind (nothing can run)"
    q = subprocess.run([sys.executable, HELPER, "count", json.dumps({"by": "all"}),
                        json.dumps({"timeout_s": 0.2})], capture_output=True, text=True, timeout=60)
    assert q.returncode == 0, q.stderr
    assert leftovers(tfs, p.pid) == []


def test_exception_during_setup_rolls_back(tfs, prog):
    """A tracepoint that does not exist fails after the uprobe group was
    written: the exception propagates and the group is gone."""
    from ftstap.image.builder import ImageBuilder
    from ftstap.errors import KernelError
    from ftstap.runtime import native, session as S
    path, off = prog
    b = ImageBuilder()
    for name, spec in [("u", S.EventSpec("uprobe", pp="u", path=path, offset=off)),
                       ("t", S.EventSpec("tracepoint", pp="t", system="nosuch", event="event"))]:
        f = b.function(name)
        f.RET()
        b.probe(name, "event", f, event=b.event(spec))
    image = b.serialize()
    specs, probes = S.image_events(image)
    with native.Session(image) as s:
        with pytest.raises(KernelError, match="no tracepoint nosuch:event"):
            with S.LiveSession(s, specs, probes):
                pass
    assert leftovers(tfs, os.getpid()) == []
