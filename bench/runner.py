"""ftstap-run (native/runner/, issue 17) against `ftstap --run` of the same
-p4 images: binary size, start to first event, per-event cost, peak RSS.

  size            the static ftstap-run (musl-gcc when installed, else
                  static glibc), stripped
  first event     a getppid generator already running (bench/c/getppid_loop.c);
                  the runtime is started with -x GEN on an image whose probe
                  prints gettimeofday_ns() at the generator's first getppid
                  and exits: that time minus the time just before the spawn
  whole session   the same run until the process has exited (teardown included)
  per event       `global n; probe syscall.getppid { n[execname()]++ }` (a
                  sampled probe, the handler runs per event) with -c the
                  generator for SECONDS on the last CPU: added ns per call over
                  the untraced generator, as `bench events` computes it
  peak RSS        syscall.* with a 1000-entry map (events.RSS_SCRIPT), -c the
                  generator for 0.5 s: GNU time's %M (its fork is small)

Rows are interleaved round-robin, medians of RUNS.
Standalone: `python -m bench runner -n 10`."""
from __future__ import annotations

import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

from . import Result
from .events import FT_COMM, RSS_SCRIPT, SECONDS, TASKSET, build

TITLE = "ftstap-run vs ftstap --run (size, start to first event, per-event cost, peak RSS)"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRST = 'probe syscall.getppid { if (pid() == target()) { printf("%d\\n", gettimeofday_ns()); exit() } }'
TIME = "/usr/bin/time"
_LAST: dict = {}


def _images(tmp: str) -> dict:
    out = {}
    for name, script in (("first", FIRST), ("comm", FT_COMM), ("rss", RSS_SCRIPT)):
        r = subprocess.run([sys.executable, "-m", "ftstap", "-p4", "-m", name, "-e", script], cwd=tmp,
                           capture_output=True, text=True, check=True)
        out[name] = r.stdout.strip()
    return out


def _runtimes(tmp: str) -> dict:
    subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "native"), f"BIN={tmp}", "ftstap-run-static"],
                   check=True, capture_output=True)
    exe = os.path.join(tmp, "ftstap-run-static")
    return {"ftstap --run": lambda img, *a: [sys.executable, "-m", "ftstap", "--run", img, *a],
            "ftstap-run (static)": lambda img, *a: [exe, *a, img]}, exe


def _first_event(argv_of, image: str, gen: str, outfile: str) -> tuple[float, float]:
    g = subprocess.Popen([gen, "60", outfile], stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.05)
        t0 = time.time_ns()
        w0 = time.perf_counter()
        r = subprocess.run(argv_of(image, "-x", str(g.pid)), capture_output=True, text=True, timeout=60)
        whole = time.perf_counter() - w0
        if r.returncode != 0:
            raise RuntimeError(f"exited {r.returncode}: {r.stderr[-300:]}")
        return (int(r.stdout.split()[0]) - t0) / 1e9, whole
    finally:
        g.kill()
        g.wait()


def _rate(argv: list[str], outfile: str) -> float:
    if os.path.exists(outfile):
        os.unlink(outfile)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    with open(outfile) as f:
        calls, secs = f.read().split()
    if r.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} exited {r.returncode}: {r.stderr[-300:]}")
    return int(calls) / float(secs)


def _rss_mb(argv: list[str]) -> float:
    """Peak RSS through GNU time: a child forked from this Python process
    would carry its ~14 MiB into ru_maxrss (the kernel keeps the high-water
    mark across exec), which is all ftstap-run's own peak would show."""
    r = subprocess.run([TIME, "-f", "rss %M", *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return int(r.stderr.rsplit("rss ", 1)[1]) / 1024


def run(runs: int) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="ftstap-bench-runner-") as tmp:
        gen = build(tmp)["getppid_loop"]
        images = _images(tmp)
        rts, static = _runtimes(tmp)
        out = os.path.join(tmp, "gen.out")
        pinned = [TASKSET, "-c", str(os.cpu_count() - 1), gen]
        data = {k: {"first": [], "whole": [], "ns": [], "rss": []} for k in rts}
        untraced = []
        for _ in range(runs):
            untraced.append(_rate([*pinned, str(SECONDS), out], out))
            for label, argv_of in rts.items():
                first, whole = _first_event(argv_of, images["first"], gen, out)
                data[label]["first"].append(first)
                data[label]["whole"].append(whole)
                rate = _rate(argv_of(images["comm"], "-c", shlex.join([*pinned, str(SECONDS), out])), out)
                data[label]["ns"].append(rate)
                data[label]["rss"].append(_rss_mb(argv_of(images["rss"], "-c",
                                                          shlex.join([*pinned, "0.5", out]))))
        base = statistics.median(untraced)
        _LAST.update(size=os.path.getsize(static), base=base, data=data, runs=runs,
                     commands={label: shlex.join(argv_of("IMAGE")) for label, argv_of in rts.items()})
    return []


def table(results) -> str:
    data, base = _LAST["data"], _LAST["base"]
    med = statistics.median
    lines = [f"static ftstap-run: {_LAST['size'] / 1024:.0f} KiB; untraced generator {base / 1e6:.2f} M calls/s; "
             f"medians of {_LAST['runs']} runs\n",
             "| runtime | start to first event | whole session | added ns per event | peak RSS |",
             "|---|---|---|---|---|"]
    for label, d in data.items():
        added = [1e9 / r - 1e9 / base for r in d["ns"]]
        lines.append(f"| {label} | {med(d['first']) * 1e3:.1f} ms | {med(d['whole']) * 1e3:.1f} ms | "
                     f"{med(added):.0f} ns | {med(d['rss']):.1f} MiB |")
    py, c = data["ftstap --run"], data["ftstap-run (static)"]
    lines.append(f"\nstart to first event: ftstap-run {med(py['first']) / med(c['first']):.1f}x faster; "
                 f"per event: {med([1e9 / r - 1e9 / base for r in c['ns']]) / med([1e9 / r - 1e9 / base for r in py['ns']]):.2f}x "
                 f"ftstap's added cost")
    return "\n".join(lines) + "\n"


def command_listing() -> str:
    return "\n".join(f"{k}: {v}" for k, v in _LAST.get("commands", {}).items())
