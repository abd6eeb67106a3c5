"""ftstap-run (native/runner/, issue 17): images compiled by `ftstap -p4`
run without Python print what `ftstap --run` prints for the same image,
against counts the traced program makes; every tracefs event is removed on
normal exit, -T, SIGINT, SIGTERM and another stop signal, and after SIGKILL
by the next start; a bad, hostile or foreign image is refused with one
clear line; the checks survive the image fuzz campaign under ASan."""
import os
import signal
import subprocess
import sys
import time

import pytest

from leftovers import leftovers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "unit"))

import image_fuzz_support as F                             # noqa: E402

N = 200
WORKLOAD = r"""
#include <stdlib.h>
#include <unistd.h>
__attribute__((noinline)) long work(long x) { return x * 3; }
int main(int argc, char **argv)
{
    int n = atoi(argv[1]);
    long s = 0;
    for (int i = 0; i < n; i++) {
        s += work(i);
        getppid();
    }
    return s < 0;
}
"""
SCRIPTS = {
    "tracepoint": ('global n probe kernel.trace("syscalls:sys_enter_getppid") { if (pid() == target()) n++ } '
                   'probe end { printf("getppid %d\\n", n) }', f"getppid {N}\n"),
    # syscall.* on the raw_syscalls dispatch: tallied (counting mode), and sampled
    "syscalls": ('global n probe syscall.* { if (pid() == target()) n[name]++ } '
                 'probe end { printf("getppid %d\\n", n["getppid"]) }', f"getppid {N}\n"),
    "syscalls_sampled": ('probe syscall.* { if (pid() == target() && name == "getppid") '
                         'printf("%s %d\\n", name, tid() == target()) }', "getppid 1\n" * N),
    "uprobe": ('global n, s, r probe process("PROG").function("work") { n++; s += int_arg(1) } '
               'probe process("PROG").function("work").return { r++ } '
               'probe end { printf("%d %d %d\\n", n, s, r) }', f"{N} {N * (N - 1) // 2} {N}\n"),
    "timer": ('global t probe timer.ms(20) { t++; if (t == 5) exit() } probe end { printf("ticks %d\\n", t) }',
              "ticks 5\n"),
}
# a session that waits: it says "ready" once its events exist
WAITING = ('global n probe begin { println("ready") } probe process("PROG").function("work") { n++ } '
           'probe kernel.trace("sched:sched_process_exec") { n++ } probe end { printf("end %d\\n", n >= 0) }')


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    """The dynamic and the static ftstap-run, built by native/Makefile."""
    out = tmp_path_factory.mktemp("runner")
    r = subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "native"), f"BIN={out}", "ftstap-run",
                        "ftstap-run-static", "ftstap-run-asan"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return {"dynamic": str(out / "ftstap-run"), "static": str(out / "ftstap-run-static")}


@pytest.fixture(scope="module")
def asan(runner):
    """The ASan/UBSan build (leak checks on): the live path as it runs."""
    return os.path.join(os.path.dirname(runner["dynamic"]), "ftstap-run-asan")


ASAN_ENV = dict(os.environ, ASAN_OPTIONS="abort_on_error=0:detect_leaks=1",
                UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")


@pytest.fixture(scope="module")
def workload(tmp_path_factory):
    d = tmp_path_factory.mktemp("workload")
    (d / "w.c").write_text(WORKLOAD)
    subprocess.run(["gcc", "-O1", "-g", "-o", str(d / "w"), str(d / "w.c")], check=True)
    return str(d / "w")


def compile_image(tmp_path, name: str, script: str) -> str:
    r = subprocess.run([sys.executable, "-m", "ftstap", "-p4", "-m", name, "-e", script], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def run(argv: list[str], env=None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("kind", sorted(SCRIPTS))
def test_prints_what_ftstap_run_prints(tmp_path, tfs, runner, asan, workload, kind):
    script, expected = SCRIPTS[kind]
    image = compile_image(tmp_path, kind, script.replace("PROG", workload))
    cmd = [] if kind == "timer" else ["-c", f"{workload} {N}"]      # -c's end would end it first
    python = run([sys.executable, "-m", "ftstap", "--run", image, *cmd])
    assert (python.returncode, python.stdout) == (0, expected), python.stderr
    for build, exe in [*runner.items(), ("asan", asan)]:
        got = run([exe, *cmd, image], env=ASAN_ENV)
        assert (got.returncode, got.stdout, got.stderr) == (0, expected, ""), build
        assert leftovers(tfs) == []


def test_limits_and_hit_report_as_ftstap(tmp_path, tfs, runner, workload):
    """-D limits and -t's report (its ns vary: compared without them)."""
    image = compile_image(tmp_path, "lim", 'global a probe begin { for (i = 0; i < 100; i++) a[i] = i; exit() }')
    want = run([sys.executable, "-m", "ftstap", "--run", image, "-D", "MAXMAPENTRIES=10"])
    got = run([runner["static"], "-D", "MAXMAPENTRIES=10", image])
    assert (got.returncode, got.stdout, got.stderr) == (want.returncode, want.stdout, want.stderr) and \
        "Array overflow, check MAXMAPENTRIES" in got.stderr
    image = compile_image(tmp_path, "hits", SCRIPTS["tracepoint"][0])
    cmd = ["-t", "-c", f"{workload} 7"]
    want = run([sys.executable, "-m", "ftstap", "--run", image, *cmd])
    got = run([runner["static"], *cmd, image])

    def shape(text: str) -> list[str]:
        return [line.split(", ns: ")[0] for line in text.splitlines()]
    assert got.returncode == want.returncode == 0
    assert shape(got.stdout) == shape(want.stdout) == ["getppid 7", "----- probe hit report: ",
                                                       "kernel.trace(\"syscalls:sys_enter_getppid\"), hits: 7",
                                                       "end, hits: 1"]


def test_output_file_and_timeout(tmp_path, tfs, runner, workload):
    image = compile_image(tmp_path, "waiting", WAITING.replace("PROG", workload))
    out = tmp_path / "out.txt"
    start = time.monotonic()
    got = run([runner["static"], "-o", str(out), "-T", "0.5", image])
    assert got.returncode == 0 and got.stdout == "" and got.stderr == ""
    assert 0.5 <= time.monotonic() - start < 30
    assert out.read_text() == "ready\nend 1\n"
    assert leftovers(tfs) == []


def test_S_rotation_and_switch_file_as_ftstap(tmp_path, runner):
    """-S SIZE,N and switch_file(): the same files, with the same contents, from both runtimes."""
    image = compile_image(tmp_path, "rot", 'probe begin { for (i = 0; i < 50000; i++) printf("%07d %s\\n", i, '
                                           '"0123456789012345678901234567890123456789"); switch_file(); '
                                           'println("last"); exit() }')
    files = {}
    for who, argv in [("ftstap", [sys.executable, "-m", "ftstap", "--run", image]), ("runner", [runner["static"]])]:
        d = tmp_path / who
        d.mkdir()
        cmd = argv[:1] + argv[1:] + ["-D", "MAXACTION=1000000", "-S", "1,2", "-o", str(d / "f")]
        got = run(cmd + ([] if who == "ftstap" else [image]))
        assert (got.returncode, got.stdout, got.stderr) == (0, "", ""), who
        files[who] = {f: (d / f).read_bytes() for f in sorted(os.listdir(d))}
    assert files["runner"] == files["ftstap"]
    assert sorted(files["runner"]) == ["f.2", "f.3"] and files["runner"]["f.3"] == b"last\n"


def _start_waiting(runner, image):
    p = subprocess.Popen([runner["static"], image], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "ready\n"
    return p


def _note(pid: int) -> str:
    from ftstap.kernel.dynevents import registry_dir
    return os.path.join(registry_dir(), f"ftstap_{pid}.json")


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 0), (signal.SIGTERM, 0), (signal.SIGHUP, 0),
                                         (signal.SIGUSR1, 128 + signal.SIGUSR1)])
def test_every_signal_removes_the_events(tmp_path, tfs, runner, workload, sig, status):
    image = compile_image(tmp_path, "waiting", WAITING.replace("PROG", workload))
    p = _start_waiting(runner, image)
    assert leftovers(tfs, p.pid) != [] and os.path.exists(_note(p.pid))
    p.send_signal(sig)
    out, err = p.communicate(timeout=30)
    assert (p.returncode, out, err) == (status, "end 1\n", "")
    assert leftovers(tfs, p.pid) == [] and not os.path.exists(_note(p.pid))


def test_after_sigkill_the_next_start_cleans_up(tmp_path, tfs, runner, workload):
    image = compile_image(tmp_path, "waiting", WAITING.replace("PROG", workload))
    p = _start_waiting(runner, image)
    p.kill()
    p.wait(timeout=30)
    assert leftovers(tfs, p.pid) != []
    # what a dead ftstap-run left, ftstap removes too (one naming, one cleanup)
    python = run([sys.executable, "-m", "ftstap", "-T", "0.2", "--run", image])
    assert python.returncode == 0, python.stderr
    assert leftovers(tfs, p.pid) == [] and not os.path.exists(_note(p.pid))
    q = _start_waiting(runner, image)
    q.kill()
    q.wait(timeout=30)
    got = run([runner["dynamic"], "-T", "0.2", image])
    assert got.returncode == 0, got.stderr
    assert leftovers(tfs) == []


# ---- images it refuses -------------------------------------------------------------------

@pytest.fixture(scope="module")
def seeds():
    return F.seeds(with_events=False)


def _refused(runner, path, reason):
    for exe in runner.values():
        got = run([exe, path])
        assert (got.returncode, got.stdout) == (1, "")
        assert got.stderr.count("\n") == 1 and got.stderr.startswith("error: ") and reason in got.stderr, got.stderr


def test_bad_images_are_refused_with_one_line(tmp_path, runner, seeds):
    img = seeds["all_kinds"]
    from ftstap.image.format import read_image
    events = [dict(e) for e in read_image(img).events]
    events[2]["path"] = "/tmp/../etc/shadow"
    cases = {
        "arm64": (F.reseal(img[:12] + bytes([183, 0, 1, 8]) + img[16:]),
                  "the program image is for aarch64 (64-bit, little-endian), this machine is x86_64 "
                  "(64-bit, little-endian): compile the script for this machine"),
        "script": (b"#!/bin/sh\necho hi\n", "not an ftstap program image"),
        "old": (b"FTSTAPIM\x02\0\0\0" + img[12:],
                "unsupported program image version 2"),
        "damaged": (img[:-1], "damaged program image (checksum mismatch)"),
        "hostile": (F.with_events(img, events), "bad program image: event 2: bad path"),
    }
    for name, (data, reason) in cases.items():
        path = tmp_path / f"{name}.ftsimg"
        path.write_bytes(data)
        _refused(runner, str(path), reason)
    shared = tmp_path / "shared.ftsimg"
    shared.write_bytes(seeds["plain0"])
    shared.chmod(0o666)
    _refused(runner, str(shared), "refusing program image")
    good = tmp_path / "good.ftsimg"
    good.write_bytes(seeds["plain0"])
    link = f"/tmp/ftstap-runner-test-{os.getpid()}.ftsimg"      # /tmp: a directory others can write
    os.symlink(good, link)
    try:
        _refused(runner, link, "a symbolic link in a directory others can write")
    finally:
        os.unlink(link)


def test_fuzzed_images_under_asan(tmp_path, tfs, seeds):
    """The image fuzz campaign's mutants through the ASan build's --check:
    no sanitizer report, one clear line each, and nothing the Python side
    refuses is accepted."""
    r = subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "native"), f"BIN={tmp_path}", "ftstap-run-asan"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    exe = str(tmp_path / "ftstap-run-asan")
    env = dict(os.environ, ASAN_OPTIONS="abort_on_error=0:detect_leaks=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    mutants = F.mutants(seeds, int(os.environ.get("FTSTAP_IMAGE_FUZZ", "300")), seed=17)
    refused = 0
    for i, (kind, _name, img) in enumerate(mutants):
        path = tmp_path / f"m{i}.ftsimg"
        path.write_bytes(img)
        got = subprocess.run([exe, "--check", str(path)], capture_output=True, text=True, env=env, timeout=60)
        assert got.returncode in (0, 1) and "Sanitizer" not in got.stderr and "runtime error" not in got.stderr, \
            (kind, got.stderr[-2000:])
        if got.returncode:
            refused += 1
            assert got.stderr.count("\n") == 1 and got.stderr.startswith("error: "), got.stderr
        elif F.check(img) != "ok":
            pytest.fail(f"{kind}: ftstap-run accepts what ftstap refuses: {F.check(img)}")
    assert refused > len(mutants) // 2


def test_list_active_shows_its_session(tmp_path, tfs, runner, workload):
    image = compile_image(tmp_path, "waiting", WAITING.replace("PROG", workload))
    p = _start_waiting(runner, image)
    try:
        text = run([sys.executable, "-m", "ftstap", "--list-active"]).stdout
        rows = text.splitlines()
        mine = sorted(r.split()[1] + " " + r.split()[2] for r in rows if r.split()[-1] == str(p.pid))
        assert mine[0] == "t sched:sched_process_exec" and mine[1].startswith(f"u {workload}:0x"), rows
        # and ftstap-run --list-active prints the same table
        assert run([runner["static"], "--list-active"]).stdout == text
    finally:
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=30)
    assert leftovers(tfs, p.pid) == []


def test_bulk_files_and_named_output_as_ftstap(tmp_path, runner):
    """-b: per-CPU files that stap-merge's order puts back together; -o with strftime."""
    from ftstap.runtime.outputs import merge
    image = compile_image(tmp_path, "bulk", 'global n probe begin { println("a") } '
                          'probe timer.ms(10) { n++; printf("t%d\\n", n); if (n == 3) exit() } probe end { println("z") }')
    for name, argv in [("py", [sys.executable, "-m", "ftstap", "--run", image, "-b", "-o", str(tmp_path / "py")]),
                       ("c", [runner["static"], "-b", "-o", str(tmp_path / "c"), image])]:
        got = run(argv)
        assert (got.returncode, got.stdout, got.stderr) == (0, "", ""), name
        files = sorted(tmp_path.glob(f"{name}_*"))
        assert files and merge([f.read_bytes() for f in files]) == b"a\nt1\nt2\nt3\nz\n", name
    got = run([runner["static"], "-o", str(tmp_path / "out-%Y.txt"), image])
    assert got.returncode == 0 and (tmp_path / time.strftime("out-%Y.txt")).read_text() == "a\nt1\nt2\nt3\nz\n"
