"""ftstap-run in a guest with no Python (tests/qemu/bare.py: busybox, the
static ftstap-run and images only), x86_64 and arm64.  x86_64: the images
are compiled in a vmrun.sh guest of the same kernel (it has Python, and
ftstap --run's outputs there are the reference), then run in the bare one.
arm64 (an emulated arm64 machine, Debian's arm64 kernel): the bare guest
describes itself (ftstap-run --describe), this machine compiles the images
from that description (-r), and a second boot runs them with the static
ftstap-run cross-built for arm64; they must print what ftstap prints here.

Five tutorial-style scripts, each driven by a workload that fixes what it
must print: hello world; kernel.function("sys_sync") (a real kprobe) for
three syncs; syscalls counted per process for a busybox loop; netdev
traffic for five pings on the loopback; a timer.  Two more: ksys_sync's
entry and return kprobes, and the syscall.sync tracepoint.  After a normal
end, SIGINT, SIGTERM, and SIGKILL followed by the next start, nothing of
ftstap is left in tracefs (kprobe_events, events/ftstap_*), and no run
loses a record (-W makes a lost record fail the run; its warning would
show in the output).  No python anywhere in the guest."""
import base64
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from bare import boot_bare, fetch_arm64, kernel
from bpf_guest import build_runner, describe
from qemutier import boot

SCRIPTS = {
    "hello": 'probe begin { println("hello world") exit() }',
    "sys_sync": ('global count = 0 probe kernel.function("sys_sync") { count++; '
                 'printf("sys_sync called %d times, currently by pid %d\\n", count, pid()) }'),
    # examples/syscalls_by_process.stp, for the -c command and its children
    "by_process": ('global calls probe syscall.* { if (pid() == target() || ppid() == target()) '
                   'calls[execname(), name]++ } '
                   'probe end { foreach ([proc, call] in calls-) '
                   'printf("%-12s %-16s %6d\\n", proc, call, calls[proc, call]) }'),
    "netdev": ('global xmit, recv probe netdev.transmit { xmit[dev_name, length]++ } '
               'probe netdev.receive { recv[dev_name, length]++ } probe end { '
               'foreach ([dev, len] in xmit+) printf("%s transmit %d bytes: %d packets\\n", dev, len, xmit[dev, len]) '
               'foreach ([dev, len] in recv+) printf("%s receive %d bytes: %d packets\\n", dev, len, recv[dev, len]) }'),
    "timer": 'global t probe timer.ms(50) { t++; if (t == 4) exit() } probe end { printf("ticks %d\\n", t) }',
    "kprobes": ('global count = 0, r = 0 probe begin { println("ready") } '
                'probe kernel.function("ksys_sync") { count++; printf("sys_sync called %d times\\n", count) } '
                'probe kernel.function("ksys_sync").return { r++ } probe end { printf("returns %d\\n", r) }'),
    "syscall": 'global n probe syscall.sync { n++ } probe end { printf("syncs %d\\n", n) }',
    # a uprobe on the target's own program (arm64: compiled with --sysroot)
    "uprobe": ('global n probe process("/usr/bin/busybox").function("_start") { if (pid() == target()) n++ } '
               'probe end { printf("busybox started %d\\n", n) }'),
}
SYNCS = "sh -c 'sync; sync; sync'"
# busybox in both guests (the vmrun.sh guest's sh is dash): 3 sync children,
# 5 kill(2)s and 5 chdir(2)s by the shell itself
LOOP = "busybox sh -c 'sync; sync; sync; for i in 1 2 3 4 5; do kill -0 $$; cd /; done'"
PING = "busybox ping -q -c 5 127.0.0.1"            # lo: 5 echo requests and 5 replies
ARGS = {"hello": [], "sys_sync": ["-c", SYNCS], "by_process": ["-c", LOOP], "netdev": ["-c", PING],
        "timer": [], "kprobes": ["-c", SYNCS], "syscall": ["-c", SYNCS], "uprobe": ["-c", "/usr/bin/busybox true"]}
SIGNALS = ("INT", "TERM")
# what ftstap leaves in tracefs: kprobe definitions, and event groups (ftstap_<pid>)
LEFT = ('left() { echo "kprobes=$(grep -c ftstap_ /sys/kernel/tracing/kprobe_events) '
        'groups=$(ls /sys/kernel/tracing/events | grep -c ftstap_)"; }')
UP = "busybox ip link set lo up"


def _sections(out: str, tag: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(rf"^== {tag} (\S+)\n(.*?)^== end\n", out, re.M | re.S)}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Images compiled in a vmrun.sh guest, and ftstap --run's outputs there."""
    d = tmp_path_factory.mktemp("bare")
    py = shlex.quote(sys.executable)
    lines = ["set -e", f"cd {shlex.quote(str(d))} 2>/dev/null || cd /tmp", UP]
    for name, script in SCRIPTS.items():
        lines.append(f"{py} -m ftstap -p4 -m {name} -e {shlex.quote(script)} >/dev/null")
        lines.append(f"echo '== ref {name}'; {py} -m ftstap --run {name}.ftsimg {shlex.join(ARGS[name])} 2>&1; "
                     "echo '== end'")
        lines.append(f"echo '== img {name}'; base64 -w0 {name}.ftsimg; echo; echo '== end'")
    guest = boot(["/bin/bash", "-c", "\n".join(lines)], timeout=900)
    assert guest.rc == 0, guest.tail()
    refs, imgs = _sections(guest.output, "ref"), _sections(guest.output, "img")
    assert set(imgs) == set(SCRIPTS), guest.tail()
    return refs, {f"{k}.ftsimg": base64.b64decode(v.strip()) for k, v in imgs.items()}, d


def _signalled(sig: str) -> str:
    """Start the kprobes image, wait for its kprobes, stop it with SIG."""
    return (f"echo '== out sig{sig}'; ftstap-run -W /images/kprobes.ftsimg > /tmp/o 2>&1 & p=$!; "
            "i=0; until grep -q ftstap_ /sys/kernel/tracing/kprobe_events || [ $i -ge 300 ]; do "
            "sleep 0.1; i=$((i+1)); done; sleep 1; "
            f"echo \"made $(left)\"; kill -{sig} $p; wait $p; echo \"rc=$? $(left)\"; cat /tmp/o; echo '== end'")


def _unavailable(why: str):
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture(scope="module")
def arm64_images(tmp_path_factory):
    """The arm64 runner, and the images compiled here from the arm64 guest's description."""
    if not shutil.which("aarch64-linux-gnu-gcc") or not shutil.which("qemu-system-aarch64"):
        _unavailable("the arm64 guest needs gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-system-arm")
    d = tmp_path_factory.mktemp("arm64")
    runner = build_runner("aarch64", str(d))
    kinfo = describe(runner, "aarch64", str(d))
    sysroot = d / "sysroot"                    # the guest's programs: its busybox
    (sysroot / "usr" / "bin").mkdir(parents=True)
    shutil.copy(fetch_arm64()[1], sysroot / "usr" / "bin" / "busybox")
    images = {}
    for name, script in SCRIPTS.items():
        p = subprocess.run([sys.executable, "-m", "ftstap", "-r", kinfo, "--sysroot", str(sysroot), "-p4", "-m", name,
                            "-e", script],
                           cwd=d, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0 and "WARNING" not in p.stderr, p.stderr
        images[f"{name}.ftsimg"] = (d / f"{name}.ftsimg").read_bytes()
    return runner, images, d


@pytest.fixture(scope="module", params=["x86_64", "aarch64"])
def bare(request):
    if request.param == "x86_64":
        refs, images, d = request.getfixturevalue("reference")
        if kernel() is None:
            pytest.skip("vmrun.sh's kernel is not cached")
        runner = build_runner("x86_64", str(d))
    else:
        runner, images, d = request.getfixturevalue("arm64_images")
        refs = None                            # no Python there: what ftstap prints here (EXACT)
    lines = [LEFT, UP, "echo \"== out python\"; ls /usr/bin/python3 /bin/python3 2>&1 | grep -c 'No such'; echo '== end'"]
    for name in SCRIPTS:
        lines.append(f"echo '== out {name}'; ftstap-run -W {shlex.join(ARGS[name])} /images/{name}.ftsimg 2>&1; "
                     "echo \"rc=$? $(left)\"; echo '== end'")
    lines += [_signalled(sig) for sig in SIGNALS]
    lines += ["echo '== out sigKILL'; ftstap-run /images/kprobes.ftsimg > /tmp/o 2>&1 & p=$!; "
              "i=0; until grep -q ftstap_ /sys/kernel/tracing/kprobe_events || [ $i -ge 300 ]; do "
              "sleep 0.1; i=$((i+1)); done; sleep 1; echo \"made $(left)\"; "
              "ftstap-run --list-active | sed \"s/ *$p\\$/ PID/\"; kill -KILL $p; "
              "wait $p; echo \"killed $(left)\"; ftstap-run -W -T 0.1 /images/kprobes.ftsimg; "
              "echo \"next rc=$? $(left)\"; echo '== end'"]
    # an image compiled for this machine's kernel (and, for the arm64 guest, its architecture)
    p = subprocess.run([sys.executable, "-m", "ftstap", "-p4", "-m", "here", "-e", SCRIPTS["hello"]],
                       cwd=d, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    images = dict(images, **{"here.ftsimg": (d / "here.ftsimg").read_bytes()})
    lines.append("echo '== out here'; ftstap-run /images/here.ftsimg 2>&1; echo \"rc=$?\"; echo '== end'")
    # the uprobe's program, where the script names it
    busybox = os.path.realpath(shutil.which("busybox")) if request.param == "x86_64" else fetch_arm64()[1]
    with open(busybox, "rb") as f:
        files = {"usr/bin/busybox": (f.read(), 0o100755)}
    out = boot_bare(runner, images, "\n".join(lines) + "\n", str(d), arch=request.param, files=files)
    assert "== bare: done" in out, out[-3000:]
    outs = _sections(out, "out")
    outs["runner size"] = str(os.path.getsize(runner))
    return refs, outs, out


def _pids(text: str) -> tuple[str, list[str]]:
    """Text with each pid replaced by P1, P2... in order of first appearance."""
    seen: list[str] = []

    def sub(m):
        if m.group(1) not in seen:
            seen.append(m.group(1))
        return f"pid P{seen.index(m.group(1)) + 1}"
    return re.sub(r"pid (\d+)", sub, text), seen


def _rows(text: str) -> list[tuple[str, str, int]]:
    return [(p, c, int(n)) for p, c, n in (line.split() for line in text.splitlines())]


def _ping(text: str) -> str:
    return "".join(line for line in text.splitlines(True) if not line.startswith("round-trip"))


def test_no_python_in_the_guest(bare):
    _, outs, out = bare
    assert outs["python"] == "2\n", out[-2000:]


EXACT = {"hello": "hello world\n", "timer": "ticks 4\n", "syscall": "syncs 3\n", "uprobe": "busybox started 1\n",
         "kprobes": "ready\n" + "".join(f"sys_sync called {n} times\n" for n in (1, 2, 3)) + "returns 3\n",
         "netdev": ("PING 127.0.0.1 (127.0.0.1): 56 data bytes\n\n--- 127.0.0.1 ping statistics ---\n"
                    "5 packets transmitted, 5 packets received, 0% packet loss\n"
                    # on lo each packet is sent once and received once; sent with its
                    # ethernet header (14 + 20 IP + 8 ICMP + 56 data), received without it
                    "lo transmit 98 bytes: 10 packets\nlo receive 84 bytes: 10 packets\n")}
CLEAN = "rc=0 kprobes=0 groups=0\n"


@pytest.mark.parametrize("name", sorted(EXACT))
def test_prints_what_ftstap_prints(bare, name):
    refs, outs, out = bare
    f = _ping if name == "netdev" else str
    if refs is not None:
        assert f(refs[name]) == EXACT[name]
    assert f(outs[name]) == EXACT[name] + CLEAN, out[-3000:]


def test_sys_sync_kprobe_with_pids(bare):
    refs, outs, out = bare
    want = "".join(f"sys_sync called {n} times, currently by pid P{n}\n" for n in (1, 2, 3))
    for got in ((refs or outs)["sys_sync"].removesuffix(CLEAN), outs["sys_sync"].removesuffix(CLEAN)):
        text, pids = _pids(got)
        # three sync processes, each its own pid (busybox sh runs the last command
        # in its own process: there the third pid is the -c command's)
        assert text == want, got
        assert all(int(p) > 1 for p in pids), got
    assert outs["sys_sync"].endswith(CLEAN), out[-3000:]


def test_syscalls_by_process(bare):
    refs, outs, out = bare
    assert outs["by_process"].endswith(CLEAN), out[-3000:]
    for got in ((refs or outs)["by_process"].removesuffix(CLEAN), outs["by_process"].removesuffix(CLEAN)):
        rows = _rows(got)
        counts = [n for _, _, n in rows]
        assert counts == sorted(counts, reverse=True), got          # busiest first
        # what the workload itself makes: the shell's 5 kill -0 and 5 cd, 3 sync children
        mine = {(p, c): n for p, c, n in rows if (p, c) in {("busybox", "kill"), ("busybox", "chdir"),
                                                            ("sync", "sync")}}
        assert mine == {("busybox", "kill"): 5, ("busybox", "chdir"): 5, ("sync", "sync"): 3}, got
        assert len({(p, c) for p, c, _ in rows}) == len(rows), got


def test_no_record_lost(bare):
    """A lost record would print 'WARNING: N events lost ...' and the end
    summary 'WARNING: Number of errors: 0, skipped probes: N' (both on
    stderr, which the runs send to the output), and -W would make the exit
    status 1."""
    _, outs, out = bare
    for name in SCRIPTS:
        assert outs[name].endswith(CLEAN), (name, outs[name])
    for name, got in outs.items():
        assert "WARNING" not in got and "lost" not in got, (name, got)


@pytest.mark.parametrize("sig", SIGNALS)
def test_stop_signals_remove_everything(bare, sig):
    _, outs, out = bare
    assert outs[f"sig{sig}"] == ("made kprobes=2 groups=1\n" + CLEAN + "ready\nreturns 0\n"), out[-3000:]


def test_sigkill_leftovers_go_at_the_next_start(bare):
    _, outs, out = bare
    made, *active, killed, ready, returns, nxt = outs["sigKILL"].replace("Killed\n", "", 1).splitlines()
    assert (made, killed, ready, returns, nxt) == ("made kprobes=2 groups=1", "killed kprobes=2 groups=1",
                                                   "ready", "returns 0", "next " + CLEAN.strip()), out[-3000:]
    # --list-active: both kprobes, at ksys_sync's address (the same for entry and return)
    assert [(r.split()[1], r.split()[2], r.split()[3]) for r in active] == [("k", "ksys_sync", "PID"),
                                                                          ("r", "ksys_sync", "PID")], active
    assert active[0].split()[0] == active[1].split()[0] and re.fullmatch(r"[0-9a-f]{16}", active[0].split()[0])


def test_the_static_runner_is_small(bare):
    _, outs, _ = bare
    assert int(outs["runner size"]) < 1.5e6, outs["runner size"]


def test_an_image_for_another_kernel_or_machine_is_refused(bare, request):
    _, outs, out = bare
    here = os.uname()
    if "aarch64" in request.node.callspec.id:
        want = f"is for {here.machine} (64-bit, little-endian), this machine is aarch64 (64-bit, little-endian)"
    else:
        want = f"is for kernel {here.release}, this kernel is "
    assert want in outs["here"] and outs["here"].endswith("rc=1\n"), outs["here"]
