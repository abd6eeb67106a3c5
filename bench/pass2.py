"""Pass 2: the wall time of `ftstap -p2 -e 'probe syscall.* {}'` (every
syscalls:sys_enter_* tracepoint bound, ~360 on the reference kernel, each
with its generated alias prologue), next to -p1 of the same script and
`python -c pass` measured in the same run.  Target: under 0.5 s (stap's own
pass 2 spends ~22 s on such a kernel and then fails).

Run as `sys.executable -m ftstap` (the `ftstap` on PATH may be a slow pyenv
shim).  Standalone: `python -m bench.pass2 [-n RUNS]`."""
from __future__ import annotations

import sys

from . import Result, summarize, time_command

TITLE = "pass 2 (elaborate syscall.* and friends)"
BUDGET = 0.500   # seconds, wall, for the syscall.* row on the reference machine

ROWS = [
    ("python -c pass", None, None),
    ("-p1 syscall.*", ["-p1", "-e", "probe syscall.* {}"], "python -c pass"),
    ("-p2 syscall.*", ["-p2", "-e", "probe syscall.* {}"], "python -c pass"),
    ("-p2 syscall.* + counting", ["-p2", "-e", "global n; probe syscall.* { n[execname(), name]++ }"], "python -c pass"),
    ("-p2 tapset aliases", ["-p2", "-e", "global h; probe netdev.receive { h <<< length } "
                            "probe scheduler.ctxswitch { print(next_task_name) }"], "python -c pass"),
    ("-L syscall.open*", ["-L", "syscall.open*"], "python -c pass"),
]


def run(runs: int) -> list[Result]:
    py = sys.executable
    out = []
    for label, args, ref in ROWS:
        argv = [py, "-c", "pass"] if args is None else [py, "-m", "ftstap", *args]
        r = summarize(label, " ".join(argv), time_command(argv, runs), ref)
        if label == "-p2 syscall.*":
            r.notes.append(f"budget {BUDGET * 1000:.0f} ms: {'ok' if r.median <= BUDGET else 'OVER'}")
        out.append(r)
    return out


if __name__ == "__main__":
    import argparse
    from .__main__ import table
    ap = argparse.ArgumentParser(prog="python -m bench.pass2")
    ap.add_argument("-n", "--runs", type=int, default=10)
    print(table(run(ap.parse_args().runs)))
