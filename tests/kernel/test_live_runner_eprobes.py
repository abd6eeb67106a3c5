"""ftstap-run with event probes (eprobes): a tracepoint handler reading
kernel memory through a pointer field (`@cast($skaddr, "sock")->...`) is
served by an eprobe, which writes only to an ftrace buffer; ftstap-run,
like `ftstap --run`, enables it in a tracefs instance of its own
(instances/ftstap_<pid>, native/runner/instance.c) and reads each CPU's
trace_pipe_raw.

Where the kernel has eprobes (the QEMU guest of tests/qemu: FTSTAP_EXPECT_KPROBES=1
makes their absence a failure), ftstap-run must print what `ftstap --run`
prints for the same image and workload (the port a process it starts
listens on, read through the socket pointer, and that process's name),
list its eprobe in --list-active as ftstap does, and leave no eprobe and
no instance after a normal end, SIGINT, SIGTERM, and SIGKILL followed by
the next start.

Everywhere (this machine's kernel documents `e:` but has
CONFIG_EPROBE_EVENTS off): an eprobe image, compiled for a description of
this kernel that claims eprobes, is refused by the kernel with the message
ftstap gives and nothing left; the instances of dead sessions are removed
by the next ftstap-run, live ones kept."""
import gzip
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from leftovers import leftovers

from ftstap.kernel.features import KernelFeatures

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PORT = 40123
LISTENER = r"""
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 1))
        return 1;
    close(s);
    sleep(1);     /* named when its records are handled (see WORK below) */
    return 0;
}
"""
# the port read through the pointer ($skaddr) and the state from the record
SOCK = ('probe kernel.trace("sock:inet_sock_set_state") { if ($sport == PORT) '
        'printf("%s %d %d\\n", execname(), @cast($skaddr, "sock")->__sk_common->skc_num, $newstate) }')
TCP_LISTEN, TCP_CLOSE = 10, 7
# the timer read through $timer agrees with what the tracepoint recorded
TIMERS = ('global ok, bad probe kernel.trace("timer:timer_start") { '
          'if (@cast($timer, "timer_list")->expires == $expires) ok++ else bad++ } '
          'probe timer.ms(500) { exit() } probe end { printf("ok=%d bad=%d\\n", ok > 0, bad) }')
WAITING = ('global n probe begin { println("ready") } '
           'probe kernel.trace("timer:timer_start") { n += @cast($timer, "timer_list")->expires > 0 } '
           'probe end { printf("end %d\\n", n >= 0) }')
ASAN_ENV = dict(os.environ, ASAN_OPTIONS="abort_on_error=0:detect_leaks=1",
                UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")


@pytest.fixture(scope="module")
def runners(tmp_path_factory):
    """The static ftstap-run the host built into native/build (tests/qemu: the
    guest is too slow to build), with its ASan build if there; else the
    dynamic and the ASan build, built here."""
    out = tmp_path_factory.mktemp("runner")
    built = os.path.join(ROOT, "native", "build")
    have = {k: os.path.join(built, f) for k, f in (("static", "ftstap-run-static"), ("asan", "ftstap-run-asan"))
            if subprocess.run(["make", "-q", "-C", os.path.join(ROOT, "native"), os.path.join("build", f)],
                              capture_output=True).returncode == 0}      # there and up to date
    if "static" not in have:
        r = subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "native"), f"BIN={out}", "ftstap-run",
                            "ftstap-run-asan"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        have = {"dynamic": str(out / "ftstap-run"), "asan": str(out / "ftstap-run-asan")}
    return have


def run(argv, env=None, timeout=300):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    assert "Traceback" not in p.stderr, p.stderr
    return p


def run_pid(argv, env=None, timeout=300):
    """(pid, status, stdout, stderr): on this machine other sessions may
    come and go meanwhile, so what is left is looked for by pid."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    out, err = p.communicate(timeout=timeout)
    assert "Traceback" not in err, err
    return p.pid, p.returncode, out, err


def compile_image(tmp_path, name: str, script: str, *extra: str) -> str:
    r = run([sys.executable, "-m", "ftstap", *extra, "-p4", "-m", name, "-e", script], timeout=600)
    assert r.returncode == 0, r.stderr
    return os.path.join(tmp_path, r.stdout.strip())


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ---- where the kernel has eprobes (the QEMU guest) ---------------------------------------------

@pytest.fixture(scope="module")
def ep(tfs):
    if not KernelFeatures.detect().has_eprobes:
        msg = "this kernel has no event probes (CONFIG_EPROBE_EVENTS); tests/qemu runs these under QEMU"
        if os.environ.get("FTSTAP_EXPECT_KPROBES") == "1":
            pytest.fail(msg + ", and FTSTAP_EXPECT_KPROBES=1 says this kernel must have them")
        pytest.skip(msg)
    return tfs


@pytest.fixture(scope="module")
def listener(tmp_path_factory):
    d = tmp_path_factory.mktemp("listener")
    (d / "eplisten.c").write_text(LISTENER)
    subprocess.run(["gcc", "-O1", "-o", str(d / "eplisten"), str(d / "eplisten.c")], check=True)
    return str(d / "eplisten")


def test_eprobe_images_print_what_ftstap_run_prints(ep, in_tmp, runners, listener):
    sock = compile_image(in_tmp, "epsock", SOCK.replace("PORT", str(PORT)))
    cmd = ["-c", f"{listener} {PORT}"]
    want = f"eplisten {PORT} {TCP_LISTEN}\neplisten {PORT} {TCP_CLOSE}\n"
    py = run([sys.executable, "-m", "ftstap", "--run", sock, *cmd])
    assert (py.returncode, py.stdout) == (0, want), py.stderr
    timers = compile_image(in_tmp, "eptimers", TIMERS)
    py_t = run([sys.executable, "-m", "ftstap", "--run", timers])
    assert (py_t.returncode, py_t.stdout) == (0, "ok=1 bad=0\n"), py_t.stderr
    for build, exe in runners.items():
        got = run([exe, *cmd, sock], env=ASAN_ENV)
        assert (got.returncode, got.stdout, got.stderr) == (0, want, ""), build
        got = run([exe, timers], env=ASAN_ENV)
        assert (got.returncode, got.stdout, got.stderr) == (0, "ok=1 bad=0\n", ""), build
        assert leftovers(ep) == [], build


def _start(exe, image):
    p = subprocess.Popen([exe, image], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ASAN_ENV)
    assert p.stdout.readline() == "ready\n"
    return p


def test_eprobe_session_listed_and_removed_on_every_exit(ep, in_tmp, runners):
    image = compile_image(in_tmp, "epwait", WAITING)
    exe = next(iter(runners.values()))
    p = _start(exe, image)
    try:
        mine = leftovers(ep, p.pid)
        assert f"instances/ftstap_{p.pid}" in mine and any(l.startswith("dynamic_events: e:") for l in mine), mine
        text = run([sys.executable, "-m", "ftstap", "--list-active"]).stdout
        rows = [r.split()[1:3] for r in text.splitlines() if r.split()[-1] == str(p.pid)]
        assert rows == [["e", "timer:timer_start"]], text
        assert run([exe, "--list-active"]).stdout == text
    finally:
        p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert (p.returncode, out, err) == (0, "end 1\n", "")
    assert leftovers(ep, p.pid) == []
    for build, exe in runners.items():
        p = _start(exe, image)
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=120)
        assert (p.returncode, out, err) == (0, "end 1\n", ""), build
        assert leftovers(ep, p.pid) == [], build
    # SIGKILL: the instance (its eprobe enabled in it) and the eprobe stay, until the next start
    p = _start(exe, image)
    p.kill()
    p.wait(timeout=60)
    assert f"instances/ftstap_{p.pid}" in leftovers(ep, p.pid)
    nxt = run([exe, "-T", "0.2", image], env=ASAN_ENV)
    assert (nxt.returncode, nxt.stdout, nxt.stderr) == (0, "ready\nend 1\n", "")
    assert leftovers(ep) == []
    # and what a killed ftstap-run left, ftstap removes too (one naming, one cleanup)
    p = _start(exe, image)
    p.kill()
    p.wait(timeout=60)
    py = run([sys.executable, "-m", "ftstap", "-T", "0.2", "--run", image])
    assert py.returncode == 0, py.stderr
    assert leftovers(ep) == []


# ---- everywhere ------------------------------------------------------------------------------------

def _claiming_eprobes(tmp_path, runner) -> str:
    """A description of this kernel whose config says CONFIG_EPROBE_EVENTS=y."""
    from ftstap.kernel.kinfo import parse
    files = parse(subprocess.run([runner, "--describe"], capture_output=True, check=True, timeout=300).stdout)
    cfg = gzip.decompress(files["/proc/config.gz"]) if "/proc/config.gz" in files else b""
    if b"# CONFIG_EPROBE_EVENTS is not set" not in cfg:
        pytest.skip("this kernel's config does not say CONFIG_EPROBE_EVENTS is off")
    files["/proc/config.gz"] = gzip.compress(cfg.replace(b"# CONFIG_EPROBE_EVENTS is not set",
                                                         b"CONFIG_EPROBE_EVENTS=y"))
    out = [b"FTSTAP-KINFO 1\n"]
    for name, data in files.items():
        out += [b"F %d %s\n" % (len(data), name.encode()), data, b"\n"]
    path = tmp_path / "eprobes.kinfo"
    path.write_bytes(b"".join(out) + b"E 0 end\n")
    return str(path)


def test_eprobe_rejected_by_the_kernel_as_ftstap_reports_it(tfs, in_tmp, runners):
    """Without eprobes in the kernel the definition is refused: the message
    ftstap gives (its "kernel error" prefix aside), status 1, no instance and
    no event left."""
    if KernelFeatures.detect().has_eprobes:
        pytest.skip("this kernel has eprobes: the tests above run them")
    if not os.path.exists(os.path.join(tfs, "dynamic_events")):
        pytest.skip("no dynamic_events")
    kinfo = _claiming_eprobes(in_tmp, next(iter(runners.values())))
    image = compile_image(in_tmp, "eprej", TIMERS, "-r", kinfo)
    pid, rc, out, err = run_pid([sys.executable, "-m", "ftstap", "--run", image])
    assert (rc, out) == (1, "")
    assert err.startswith("kernel error: the kernel rejected the eprobe definition\n    e:ftstap_"), err
    want = re.sub(r"ftstap_\d+/", "ftstap_PID/", err.replace("kernel error: ", "error: ", 1))
    assert leftovers(tfs, pid) == []
    for build, exe in runners.items():
        pid, rc, out, err = run_pid([exe, image], env=ASAN_ENV)
        assert (rc, out) == (1, ""), build
        assert re.sub(r"ftstap_\d+/", "ftstap_PID/", err) == want, build
        assert leftovers(tfs, pid) == [], build


def test_instances_of_dead_sessions_are_removed_at_start(tfs, in_tmp, runners):
    """What a SIGKILLed session leaves: instances/ftstap_<dead pid>, an event
    enabled in it.  The next ftstap-run removes it (first, before the event
    groups), and keeps a live session's."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = os.path.join(tfs, "instances", f"ftstap_{dead.pid}")
    live = os.path.join(tfs, "instances", f"ftstap_{os.getpid()}")
    image = compile_image(in_tmp, "tp", 'global n probe kernel.trace("sched:sched_process_exec") { n++ } '
                                        'probe timer.ms(100) { exit() } probe end { println(n >= 0) }')
    try:
        for build, exe in runners.items():
            os.mkdir(stale)
            with open(os.path.join(stale, "events", "sched", "sched_process_exec", "enable"), "w") as f:
                f.write("1")
            if not os.path.isdir(live):
                os.mkdir(live)
            pid, rc, out, err = run_pid([exe, image], env=ASAN_ENV)
            assert (rc, out, err) == (0, "1\n", ""), build
            assert not os.path.exists(stale) and os.path.isdir(live), build
            assert leftovers(tfs, pid) == [], build
    finally:
        for d in (stale, live):
            if os.path.isdir(d):
                os.rmdir(d)


# ---- instance.c on this kernel: tracepoints served as eprobes are -------------------------------

WORK = r"""
#include <stdlib.h>
#include <unistd.h>
/* n getppid() calls, then alive for a while: records of a task that is gone
   by the time they are handled have no name (an ftrace record carries only
   the thread id, and a session without perf events has no COMM records) */
int main(int argc, char **argv)
{
    for (int i = atoi(argv[1]); i > 0; i--)
        getppid();
    sleep(1);
    return 0;
}
"""
DRIVEN = ('global n probe begin { println("ready") } '
          'probe kernel.trace("sched:sched_process_exec") { if (execname() == "ftwork") '
          'printf("exec %s %d\\n", $filename, pid()) } '
          'probe kernel.trace("syscalls:sys_enter_getppid") { if (execname() == "ftwork") { n++; if (n == 200) exit() } } '
          'probe end { printf("getppid %d\\n", n) }')


@pytest.fixture(scope="module")
def drive(tmp_path_factory):
    """tests/kernel/runner_ftrace_drive.c with the C core and the runner (not
    its main.c), under ASan/UBSan; and the workload."""
    d = tmp_path_factory.mktemp("drive")
    native = os.path.join(ROOT, "native")
    runner_srcs = [os.path.join(native, "runner", f) for f in sorted(os.listdir(os.path.join(native, "runner")))
                   if f.endswith(".c") and f != "main.c"]
    core = [os.path.join(native, f) for f in sorted(os.listdir(native)) if f.endswith(".c")]
    r = subprocess.run(["gcc", "-std=gnu11", "-g", "-O1", "-fsanitize=address,undefined", f"-I{native}",
                        f"-I{native}/runner", "-DFT_VERSION=\"test\"", "-o", str(d / "drive"), *core, *runner_srcs,
                        os.path.join(ROOT, "tests", "kernel", "runner_ftrace_drive.c"), "-lpthread"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    (d / "ftwork.c").write_text(WORK)
    subprocess.run(["gcc", "-O1", "-o", str(d / "ftwork"), str(d / "ftwork.c")], check=True)
    return str(d / "drive"), str(d / "ftwork")


def _driven(argv, work):
    """Start argv; once it says "ready", the workload; (pid of the workload,
    pid of argv, status, stdout, stderr)."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ASAN_ENV)
    first = p.stdout.readline()
    w = subprocess.Popen([work, "200"])
    out, err = p.communicate(timeout=120)
    w.wait(timeout=60)
    return w.pid, p.pid, p.returncode, first + out, err


def test_instance_serves_records_as_perf_does(tfs, in_tmp, drive):
    """Records read from the session's instance run the probes as perf
    samples do: ftstap --run's output, against the workload's pid, its
    exec'd path and its 200 calls; the instance is gone afterwards."""
    exe, work = drive
    image = compile_image(in_tmp, "driven", DRIVEN)
    pid, _, rc, out, err = _driven([sys.executable, "-m", "ftstap", "--run", image], work)
    assert (rc, out) == (0, f"ready\nexec {work} {pid}\ngetppid 200\n"), err
    pid, session, rc, out, err = _driven([exe, image, "60"], work)
    assert (rc, out, err) == (0, f"ready\nexec {work} {pid}\ngetppid 200\n", "")
    assert leftovers(tfs, session) == []


def test_instance_removed_on_signals_and_after_sigkill(tfs, in_tmp, drive, runners):
    """SIGINT and SIGTERM end the session and remove its instance; SIGKILL
    leaves it, its events enabled and nobody reading, and the next
    ftstap-run removes it."""
    exe, _ = drive
    image = compile_image(in_tmp, "driven", DRIVEN)
    for sig in (signal.SIGINT, signal.SIGTERM):
        p = subprocess.Popen([exe, image, "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=ASAN_ENV)
        assert p.stdout.readline() == "ready\n"
        assert leftovers(tfs, p.pid) == [f"instances/ftstap_{p.pid}"]
        p.send_signal(sig)
        out, err = p.communicate(timeout=60)
        assert (p.returncode, out, err) == (0, "getppid 0\n", ""), sig
        assert leftovers(tfs, p.pid) == [], sig
    p = subprocess.Popen([exe, image, "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=ASAN_ENV)
    assert p.stdout.readline() == "ready\n"
    inst = os.path.join(tfs, "instances", f"ftstap_{p.pid}")
    with open(os.path.join(inst, "events", "syscalls", "sys_enter_getppid", "enable")) as f:
        assert f.read().strip() == "1"
    p.kill()
    p.wait(timeout=60)
    assert leftovers(tfs, p.pid) == [f"instances/ftstap_{p.pid}"]
    pid, rc, _, err = run_pid([next(iter(runners.values())), "-T", "0.1", image])
    assert rc == 0, err
    assert leftovers(tfs, p.pid) == [] and leftovers(tfs, pid) == []
