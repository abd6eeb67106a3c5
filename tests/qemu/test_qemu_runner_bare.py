"""ftstap-run in a guest with no Python (tests/qemu/bare.py: busybox, the
static ftstap-run and images only).  The images are compiled in a vmrun.sh
guest of the same kernel (it has Python, and ftstap --run's outputs there
are the reference), then run in the bare one: kprobes (sys_sync entry and
return) and a syscall tracepoint for three syncs, a timer; nothing left in
tracefs after a normal end, SIGTERM, and SIGKILL followed by the next start;
no python anywhere in the guest."""
import base64
import os
import re
import shlex
import subprocess
import sys

import pytest

from bare import boot_bare, kernel
from qemutier import ROOT, boot

SCRIPTS = {
    "sync": ('global count = 0, r = 0 probe begin { println("ready") } '
             'probe kernel.function("ksys_sync") { count++; printf("sys_sync called %d times\\n", count) } '
             'probe kernel.function("ksys_sync").return { r++ } probe end { printf("returns %d\\n", r) }'),
    "syscall": 'global n probe syscall.sync { n++ } probe end { printf("syncs %d\\n", n) }',
    "timer": 'global t probe timer.ms(50) { t++; if (t == 4) exit() } probe end { printf("ticks %d\\n", t) }',
}
SYNCS = "sh -c 'sync; sync; sync'"
ARGS = {"sync": ["-c", SYNCS], "syscall": ["-c", SYNCS], "timer": []}
LEFT = "grep -c ftstap_ /sys/kernel/tracing/kprobe_events"


def _sections(out: str, tag: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(rf"^== {tag} (\S+)\n(.*?)^== end\n", out, re.M | re.S)}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Images compiled in a vmrun.sh guest, and ftstap --run's outputs there."""
    d = tmp_path_factory.mktemp("bare")
    lines = ["set -e", f"cd {shlex.quote(str(d))} 2>/dev/null || cd /tmp"]
    for name, script in SCRIPTS.items():
        lines.append(f"{shlex.quote(sys.executable)} -m ftstap -p4 -m {name} -e {shlex.quote(script)} >/dev/null")
        lines.append(f"echo '== ref {name}'; {shlex.quote(sys.executable)} -m ftstap --run {name}.ftsimg "
                     f"{shlex.join(ARGS[name])}; echo '== end'")
        lines.append(f"echo '== img {name}'; base64 -w0 {name}.ftsimg; echo; echo '== end'")
    guest = boot(["/bin/bash", "-c", "\n".join(lines)], timeout=900)
    assert guest.rc == 0, guest.tail()
    refs, imgs = _sections(guest.output, "ref"), _sections(guest.output, "img")
    assert set(imgs) == set(SCRIPTS), guest.tail()
    return refs, {f"{k}.ftsimg": base64.b64decode(v.strip()) for k, v in imgs.items()}, d


@pytest.fixture(scope="module")
def bare(reference):
    refs, images, d = reference
    if kernel() is None:
        pytest.skip("vmrun.sh's kernel is not cached")
    r = subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "native"), f"BIN={d}", "ftstap-run-static"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = ["echo \"== out python\"; ls /usr/bin/python3 /bin/python3 2>&1 | grep -c 'No such'; echo '== end'"]
    for name in SCRIPTS:
        lines.append(f"echo '== out {name}'; ftstap-run {shlex.join(ARGS[name])} /images/{name}.ftsimg; "
                     f"echo \"rc=$? left=$({LEFT})\"; echo '== end'")
    lines += ["echo '== out sigterm'; ftstap-run /images/sync.ftsimg > /tmp/o & p=$!; sleep 3; "
              f"echo \"made=$({LEFT})\"; ftstap-run --list-active | sed \"s/ *$p\\$/ PID/\"; kill -TERM $p; wait $p; echo \"rc=$? left=$({LEFT})\"; cat /tmp/o; "
              "echo '== end'",
              "echo '== out sigkill'; ftstap-run /images/sync.ftsimg > /tmp/o & p=$!; sleep 3; kill -KILL $p; "
              f"wait $p; echo \"killed left=$({LEFT})\"; ftstap-run -T 0.1 /images/sync.ftsimg >/dev/null; "
              f"echo \"next rc=$? left=$({LEFT})\"; echo '== end'"]
    out = boot_bare(str(d / "ftstap-run-static"), images, "\n".join(lines) + "\n", str(d))
    assert "== bare: done" in out, out[-3000:]
    return refs, _sections(out, "out"), out


def test_no_python_in_the_guest(bare):
    _, outs, out = bare
    assert outs["python"] == "2\n", out[-2000:]


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_prints_what_ftstap_prints(bare, name):
    refs, outs, out = bare
    want = {"sync": "ready\n" + "".join(f"sys_sync called {n} times\n" for n in (1, 2, 3)) + "returns 3\n",
            "syscall": "syncs 3\n", "timer": "ticks 4\n"}[name]
    assert refs[name] == want
    assert outs[name] == want + "rc=0 left=0\n", out[-3000:]


def test_signals_remove_the_kprobes(bare):
    _, outs, out = bare
    made, *active, left, ready, returns = outs["sigterm"].splitlines()
    assert (made, left, ready, returns) == ("made=2", "rc=0 left=0", "ready", "returns 0"), out[-3000:]
    # --list-active: both kprobes, at ksys_sync's address (the same for entry and return)
    assert [(r.split()[1], r.split()[2], r.split()[3]) for r in active] == [("k", "ksys_sync", "PID"),
                                                                          ("r", "ksys_sync", "PID")], active
    assert active[0].split()[0] == active[1].split()[0] and re.fullmatch(r"[0-9a-f]{16}", active[0].split()[0])
    killed = outs["sigkill"].replace("Killed\n", "", 1)          # busybox sh's job report
    assert killed == "killed left=2\nnext rc=0 left=0\n", out[-3000:]
