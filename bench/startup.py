"""Startup: the wall time of `ftstap -p1 -e 'probe begin { println("hi") }'`,
next to `python -c pass` measured in the same run (the ratio is what matters).

Rows marked "bytecode cached" run with PYTHONPYCACHEPREFIX set to a
temporary directory (filled by the warm-up run): an installed package has its
.pyc files, while a sandbox with PYTHONDONTWRITEBYTECODE=1 recompiles every
ftstap module on every run; that case has its own row.

ftstap is run as `sys.executable -m ftstap`: `shutil.which("ftstap")` may be a
pyenv shim, itself a shell script that starts another Python (~80 ms); the
shim and the installed console script are measured on their own rows."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile

from . import Result, cached_env, summarize, time_command

TITLE = "startup (pass 1 of a one-line script)"
SCRIPT = 'probe begin { println("hi") }'
BUDGET = 0.150   # seconds, wall, for -p1 on the reference machine


def _console_script() -> str | None:
    """The installed `ftstap` script next to this interpreter (not a shim)."""
    path = os.path.join(os.path.dirname(sys.executable), "ftstap")
    return path if os.access(path, os.X_OK) else None


def commands(cache_dir: str) -> list[tuple[str, list[str], str | None, dict | None]]:
    """(label, argv, reference label, env) rows; env None is this environment."""
    py = sys.executable
    cached = cached_env(cache_dir)
    here = "no .pyc" if sys.flags.dont_write_bytecode or os.environ.get("PYTHONDONTWRITEBYTECODE") else "as is"
    p1 = ["-p1", "-e", SCRIPT]
    rows = [
        ("python -c pass", [py, "-c", "pass"], None, None),
        ("python -m ftstap -V", [py, "-m", "ftstap", "-V"], "python -c pass", cached),
        (f"python -m ftstap -p1 ({here})", [py, "-m", "ftstap", *p1], "python -c pass", None),
        ("python -m ftstap -p1", [py, "-m", "ftstap", *p1], "python -c pass", cached),
    ]
    script = _console_script()
    if script:
        rows.append(("console script -p1", [script, *p1], "python -c pass", cached))
    shim = _shim()
    if shim:
        rows.append(("pyenv shim ftstap -p1", [shim, *p1], "python -c pass", cached))
    return rows


def run(runs: int) -> list[Result]:
    out = []
    with tempfile.TemporaryDirectory(prefix="ftstap-bench-pyc-") as cache_dir:
        for label, argv, ref, env in commands(cache_dir):
            samples = time_command(argv, runs, env=env)
            r = summarize(label, shlex.join(argv), samples, ref)
            if env is not None:
                r.notes.append("bytecode cached")
            out.append(r)
    for r in out:
        if "-m ftstap -p1" in r.label:
            verdict = "within" if r.median <= BUDGET else "OVER"
            r.notes.append(f"{verdict} the {BUDGET * 1000:.0f} ms budget")
    return out


def _shim() -> str | None:
    """`ftstap` as a user's PATH finds it, when that is not the real script.
    (Run through a pyenv shim, this process's PATH already has the real bin
    directory first, so look for pyenv's shims directory too.)"""
    candidates = [shutil.which("ftstap")]
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates.append(os.path.join(root, "shims", "ftstap"))
    script = _console_script()
    for c in candidates:
        if c and os.access(c, os.X_OK) and (not script or os.path.realpath(c) != os.path.realpath(script)):
            return c
    return None


def _importtime(argv: list[str], env: dict) -> list[tuple[int, int, str]]:
    r = subprocess.run(argv, capture_output=True, text=True, env=env)
    rows = []
    for line in r.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative, name = (p.strip() for p in line[len("import time:"):].split("|"))
        rows.append((int(self_us), int(cumulative), name))
    return rows


def import_profile(top: int = 15) -> str:
    """What ftstap's imports add to a bare interpreter's startup
    (`python -X importtime`, self times, bytecode cached; modules that
    `python -c pass` imports too, e.g. from site and .pth files, left out)."""
    with tempfile.TemporaryDirectory(prefix="ftstap-bench-pyc-") as cache_dir:
        env = cached_env(cache_dir)
        argv = [sys.executable, "-X", "importtime", "-m", "ftstap", "-p1", "-e", SCRIPT]
        _importtime(argv, env)                      # fill the bytecode cache
        base = {name.strip() for _, _, name in _importtime([sys.executable, "-X", "importtime", "-c", "pass"], env)}
        rows = [r for r in _importtime(argv, env) if r[2].strip() not in base]
    rows.sort(reverse=True)
    total = sum(r[0] for r in rows)
    lines = [f"imports ftstap adds: {len(rows)} modules, {total / 1000:.1f} ms self time in total; top {top}:"]
    lines += [f"  {s / 1000:7.2f} ms self {c / 1000:8.2f} ms cumulative  {n.strip()}" for s, c, n in rows[:top]]
    return "\n".join(lines)
