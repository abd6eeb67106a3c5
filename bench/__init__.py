"""ftstap's benchmarks: `python -m bench [NAME ...] [-n RUNS]`.

Each benchmark is a module in this package listed in BENCHMARKS, exposing
`TITLE` and `run(runs) -> list[Result]`, optionally `table(results) -> str`
and `command_listing() -> str` when its rows are not wall times.  Results are medians of `runs`
measurements taken in the same process run as their reference, so ratios
stay meaningful on a noisy machine."""
from __future__ import annotations

import os
import statistics
import subprocess
import time
from dataclasses import dataclass, field

BENCHMARKS = ["startup", "pass2", "vm", "events", "frontend", "runner"]


@dataclass
class Result:
    label: str
    command: str
    median: float                    # seconds
    low: float
    high: float
    reference: str | None = None     # label of the row this one is compared with
    notes: list[str] = field(default_factory=list)


def cached_env(prefix: str) -> dict:
    """This environment, but with a bytecode cache under prefix (as an
    installed package has its .pyc files)."""
    env = dict(os.environ, PYTHONPYCACHEPREFIX=prefix)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def time_command(argv: list[str], runs: int, warmup: int = 1, env=None) -> list[float]:
    """Wall times of `runs` executions of argv (after `warmup` untimed runs).
    Output is discarded; a non-zero exit status is an error."""
    samples = []
    for i in range(warmup + runs):
        t0 = time.perf_counter()
        r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        elapsed = time.perf_counter() - t0
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}: {r.stderr.decode()[-500:]}")
        if i >= warmup:
            samples.append(elapsed)
    return samples


def summarize(label: str, command: str, samples: list[float], reference: str | None = None) -> Result:
    return Result(label, command, statistics.median(samples), min(samples), max(samples), reference)
