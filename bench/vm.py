"""VM: compiled stap loops against the same loops in CPython, and the cost
of one handler call.

    global a; probe begin { for (i = 0; i < 10000000; i++) a[i % 1000] += i; exit() }   (target >= 10x)
    global counts; probe begin { for (i = 0; i < N; i++) counts[sprintf("k%d", i % 100)]++; exit() }  (>= 5x)
    a handler call: entry, a few ops, exit                                                (target << 100 ns)

Three views, each next to its reference measured in the same run:

- in process: the script is compiled by the real pipeline (`ftstap -p4`), then
  only the session's run is timed (ftstap.runtime.native, output to
  /dev/null, -DMAXACTION=100000000 as on the command line); the reference is
  the same loop in this Python with a defaultdict (the fastest plain spelling).
- through the CLI: `python -m ftstap -DMAXACTION=100000000 -e SCRIPT` against
  `python -c LOOP`, whole processes; ftstap's startup (pass 1 and 2, the
  tapset library) is in the figure, so a row for the startup alone
  (`probe begin { exit() }`) is given and the note shows the ratio net of it.
- a handler call: Session.run_probe on a probe doing `n++; x = n * 2` in a
  tight loop (rows scaled to one million calls: ms per million = ns per
  call), against an empty Python call and against the same cffi call with
  an invalid probe index (ft_vm_run_probe(vm, -1, NULL) returns at its first
  check: the same argument conversion and GIL release, no handler).  The
  difference is what the VM itself costs per handler: context set-up,
  frame entry, the ops, exit.

The VM counts statements (ACTION) as stap does, so the figures include that."""
from __future__ import annotations

import collections
import os
import statistics
import subprocess
import sys
import tempfile
import time

from . import Result, time_command

TITLE = "VM (compiled loops vs CPython; handler call)"
N_INT = 10_000_000
N_STR = 2_000_000
N_CALLS = 200_000
MAXACTION = 100_000_000

INT_SCRIPT = "global a; probe begin { for (i = 0; i < %d; i++) a[i %% 1000] += i; exit() }"
STR_SCRIPT = 'global counts; probe begin { for (i = 0; i < %d; i++) counts[sprintf("k%%d", i %% 100)]++; exit() }'
INT_PY = ("import collections\na = collections.defaultdict(int)\n"
          "for i in range(%d):\n    a[i %% 1000] += i\n")
STR_PY = ("import collections\ncounts = collections.defaultdict(int)\n"
          "for i in range(%d):\n    counts['k%%d' %% (i %% 100)] += 1\n")
CALL_SCRIPT = "global n, x; probe begin { n++; x = n * 2 }"
EMPTY_SCRIPT = "probe begin { exit() }"


def _ftstap() -> list[str]:
    return [sys.executable, "-m", "ftstap"]


def compile_image(script: str) -> bytes:
    """The program image the real pipeline makes for script (pass 4)."""
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run(_ftstap() + ["-p4", "-m", "bench", "-e", script], cwd=d,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"ftstap -p4 failed: {r.stderr[-500:]}")
        with open(os.path.join(d, "bench.ftsimg"), "rb") as f:
            return f.read()


def _time_vm(img: bytes) -> float:
    from ftstap.runtime import native
    fd = os.open(os.devnull, os.O_WRONLY)
    try:
        with native.Session(img, {"MAXACTION": MAXACTION}, out_fd=fd, err_fd=fd) as s:
            t0 = time.perf_counter()
            status = s.run()
            elapsed = time.perf_counter() - t0
    finally:
        os.close(fd)
    if status != 0:
        raise RuntimeError("VM benchmark program failed")
    return elapsed


def _time_py(src: str) -> float:
    code = compile(src, "<bench>", "exec")
    t0 = time.perf_counter()
    exec(code, {})
    return time.perf_counter() - t0


def _row(label, command, samples, reference=None, notes=()):
    return Result(label, command, statistics.median(samples), min(samples), max(samples), reference, list(notes))


def loops_in_process(runs: int) -> list[Result]:
    results = []
    for kind, n, target, script, py in (("int", N_INT, 10, INT_SCRIPT, INT_PY),
                                        ("str", N_STR, 5, STR_SCRIPT, STR_PY)):
        img = compile_image(script % n)
        _time_vm(img)                                   # warm-up
        vm, ref = [], []
        for _ in range(runs):                           # interleaved: drift hits both
            vm.append(_time_vm(img))
            ref.append(_time_py(py % n))
        ratio = statistics.median(ref) / statistics.median(vm)
        py_label = f"CPython dict, {kind} keys"
        results.append(_row(py_label, f"python: {py % n!r}", ref))
        results.append(_row(f"VM, {kind} keys", f"Session.run of: {script % n}", vm, py_label,
                            [f"{ratio:.1f}x faster than CPython (target {target}x)"]))
    return results


def loops_cli(runs: int) -> list[Result]:
    results = []
    start = time_command(_ftstap() + ["-e", EMPTY_SCRIPT], runs)
    start_label = "CLI ftstap startup"
    results.append(_row(start_label, " ".join(_ftstap() + ["-e", repr(EMPTY_SCRIPT)]), start))
    for kind, n, target, script, py in (("int", N_INT, 10, INT_SCRIPT, INT_PY),
                                        ("str", N_STR, 5, STR_SCRIPT, STR_PY)):
        argv = _ftstap() + [f"-DMAXACTION={MAXACTION}", "-e", script % n]
        pyargv = [sys.executable, "-c", py % n]
        st = time_command(argv, runs)
        pt = time_command(pyargv, runs)
        py_label = f"CLI python -c, {kind} keys"
        whole = statistics.median(pt) / statistics.median(st)
        net_vm = statistics.median(st) - statistics.median(start)
        net = f"{statistics.median(pt) / net_vm:.1f}x" if net_vm > 0.005 else "n/a (within noise)"
        results.append(_row(py_label, " ".join(pyargv[:2]) + " " + repr(py % n), pt))
        results.append(_row(f"CLI ftstap, {kind} keys", " ".join(argv[:-1]) + " " + repr(script % n), st,
                            py_label, [f"{whole:.1f}x faster whole process; {net} net of "
                                       f"ftstap's startup (target {target}x)"]))
    return results


def handler_call(runs: int) -> list[Result]:
    from ftstap.runtime import native
    from ftstap.runtime.native import ffi, lib
    img = compile_image(CALL_SCRIPT)
    fd = os.open(os.devnull, os.O_WRONLY)
    s = native.Session(img, {}, out_fd=fd, err_fd=fd)
    vm = s.vm
    run_probe, null = lib.ft_vm_run_probe, ffi.NULL

    def empty():
        pass

    def t_empty():
        t0 = time.perf_counter()
        for _ in range(N_CALLS):
            empty()
        return (time.perf_counter() - t0) / N_CALLS * 1e6     # per million calls

    def t_nop():
        t0 = time.perf_counter()
        for _ in range(N_CALLS):
            run_probe(vm, -1, null)
        return (time.perf_counter() - t0) / N_CALLS * 1e6     # per million calls

    def t_probe():
        t0 = time.perf_counter()
        for _ in range(N_CALLS):
            run_probe(vm, 0, null)
        return (time.perf_counter() - t0) / N_CALLS * 1e6     # per million calls

    try:
        t_probe()                                        # warm-up
        e, c, p = [], [], []
        for _ in range(runs):
            e.append(t_empty())
            c.append(t_nop())
            p.append(t_probe())
        if s.error_count:
            raise RuntimeError("handler benchmark probe failed")
    finally:
        s.close()
        os.close(fd)
    net_ns = (statistics.median(p) - statistics.median(c)) * 1e3      # ms per 1M calls = ns per call
    return [
        _row("empty Python call x 1M", f"{N_CALLS} x f() with def f(): pass", e),
        _row("no-op run_probe x 1M", f"{N_CALLS} x lib.ft_vm_run_probe(vm, -1, NULL)", c, "empty Python call x 1M"),
        _row("run_probe x 1M", f"{N_CALLS} x lib.ft_vm_run_probe(vm, 0, NULL) of: {CALL_SCRIPT}",
             p, "no-op run_probe x 1M", [f"VM cost per handler call {net_ns:.0f} ns "
                                    f"(minus the no-op call; target well under 100 ns)"]),
    ]


def run(runs: int) -> list[Result]:
    runs = max(1, min(runs, 5))    # each sample takes about a second of CPython
    return loops_in_process(runs) + loops_cli(runs) + handler_call(runs)


def ratios(runs: int = 3) -> dict[str, float]:
    """{"int": x, "str": y}: how many times faster the VM is in process (for tests and notes)."""
    rows = loops_in_process(runs)
    return {k: rows[i].median / rows[i + 1].median for k, i in (("int", 0), ("str", 2))}


if __name__ == "__main__":
    for k, v in ratios().items():
        print(f"{k} keys: VM is {v:.1f}x faster than CPython")
