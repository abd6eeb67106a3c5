"""VM: hand-assembled stap loops against the same loops in CPython.

    for (i = 0; i < 10000000; i++) a[i % 1000] += i          (target >= 10x)
    for (i = 0; i < N; i++) counts[sprintf("k%d", i % 100)]++  (target >= 5x)

Both run in this process: the VM session through ftstap.runtime.native
(output to /dev/null, MAXACTION raised as -DMAXACTION would), CPython with a
defaultdict, the fastest plain-Python spelling.  The VM counts statements
(ACTION) as stap does, so the comparison includes that cost."""
from __future__ import annotations

import collections
import os
import statistics
import time

from . import Result

TITLE = "VM (hand-assembled loops vs CPython)"
N_INT = 10_000_000
N_STR = 2_000_000


def _image(kind: str, n: int) -> bytes:
    from ftstap.compile.image import ImageBuilder
    b = ImageBuilder()
    if kind == "int":
        b.add_global("a", "i", "i")
    else:
        b.add_global("counts", "i", "s")
    f = b.function("begin", "v", "")
    i = f.local("i")
    top, done = f.label(), f.label()
    f.emit("PUSHI", 0)
    f.emit("STI", i)
    f.place(top)
    f.emit("LDI", i)
    f.emit("PUSHI", n)
    f.emit("JGE", done)
    f.emit("ACTION", 2, None)
    f.emit("LDI", i)
    if kind == "int":
        f.emit("PUSHI", 1000)
        f.emit("MOD", None)
        f.emit("LDI", i)
        f.emit("AADDI", "a", 0, None)
    else:
        f.emit("PUSHI", 100)
        f.emit("MOD", None)
        f.emit("SPRINTF", "k%d")
        f.emit("PUSHI", 1)
        f.emit("AADDI", "counts", 0, None)
    f.emit("INCLI", i, 1)
    f.emit("JMP", top)
    f.place(done)
    f.emit("RET")
    b.probe("begin", "begin", f)
    return b.serialize()


def _time_vm(img: bytes) -> float:
    from ftstap.runtime import native
    fd = os.open(os.devnull, os.O_WRONLY)
    try:
        with native.Session(img, {"MAXACTION": 1 << 62}, out_fd=fd, err_fd=fd) as s:
            t0 = time.perf_counter()
            status = s.run()
            elapsed = time.perf_counter() - t0
    finally:
        os.close(fd)
    if status != 0:
        raise RuntimeError("VM benchmark program failed")
    return elapsed


def _py_int(n: int) -> float:
    t0 = time.perf_counter()
    a = collections.defaultdict(int)
    for i in range(n):
        a[i % 1000] += i
    return time.perf_counter() - t0


def _py_str(n: int) -> float:
    t0 = time.perf_counter()
    counts = collections.defaultdict(int)
    for i in range(n):
        counts["k%d" % (i % 100)] += 1
    return time.perf_counter() - t0


def _row(label, command, samples, reference=None, notes=()):
    return Result(label, command, statistics.median(samples), min(samples), max(samples), reference, list(notes))


def run(runs: int) -> list[Result]:
    runs = max(1, min(runs, 5))    # each sample takes about a second of CPython
    results = []
    for kind, n, target, py in (("int", N_INT, 10, _py_int), ("str", N_STR, 5, _py_str)):
        img = _image(kind, n)
        _time_vm(img)                                   # warm-up
        vm = [_time_vm(img) for _ in range(runs)]
        ref = [py(n) for _ in range(runs)]
        what = "a[i % 1000] += i" if kind == "int" else 'counts[sprintf("k%d", i % 100)]++'
        py_label = f"CPython dict, {kind} keys"
        ratio = statistics.median(ref) / statistics.median(vm)
        results.append(_row(py_label, f"{n} x {what} (defaultdict)", ref))
        results.append(_row(f"VM, {kind} keys", f"{n} x {what} (bytecode)", vm, py_label,
                            [f"{ratio:.1f}x faster than CPython (target {target}x)"]))
    return results


def ratios(runs: int = 3) -> dict[str, float]:
    """{"int": x, "str": y}: how many times faster the VM is (for tests and notes)."""
    out = {}
    rows = run(runs)
    for k, i in (("int", 0), ("str", 2)):
        out[k] = rows[i].median / rows[i + 1].median
    return out


if __name__ == "__main__":
    for k, v in ratios().items():
        print(f"{k} keys: VM is {v:.1f}x faster than CPython")
