"""Front-end throughput: passes 1-3 of large generated scripts, in statements
per second, next to `-p1` of a one-line script (the fixed cost of starting
ftstap and loading the tapsets) measured in the same run.

Rows: a 20,000-statement handler at -p1, -p2 and -p3; a function of 16,000
parameters at -p1 (quadratic before: 31 s) and of 255 (the most a function
can take) at -p3; a flat `1+1+...+1` of 10,000 terms at -p3 (refused as
"nested too deeply" before).  Statements/s = statements / (median - the
one-line row's median).  Standalone: `python -m bench.frontend [-n RUNS]`."""
from __future__ import annotations

import os
import sys
import tempfile

from . import Result, summarize, time_command

TITLE = "front end (passes 1-3 of large scripts)"
STATEMENTS = 20_000


def _scripts(d: str) -> dict[str, str]:
    body = "\n".join(f'  x{i % 50} = x{(i + 1) % 50} + {i} * 2; if (x{i % 50} > 3) y = sprint(x{i % 50}) . "a"'
                     for i in range(STATEMENTS // 2))
    texts = {
        "one": "probe begin { println(1) }\n",
        "stmts": "probe begin {\n" + body + "\n  exit()\n}\n",
        "params16k": f"function f({', '.join(f'p{i}' for i in range(16_000))}) {{ return p0 }}\n"
                     "probe begin { exit() }\n",
        "params255": f"function f({', '.join(f'p{i}' for i in range(255))}) {{ return p0 + p254 }}\n"
                     f"probe begin {{ println(f({', '.join(str(i) for i in range(255))})); exit() }}\n",
        "chain": "probe begin { x = " + " + ".join(["1"] * 10_000) + "; println(x); exit() }\n",
    }
    paths = {}
    for name, text in texts.items():
        paths[name] = os.path.join(d, name + ".stp")
        with open(paths[name], "w") as f:
            f.write(text)
    return paths


ROWS = [("-p1 one line", "-p1", "one", 0), ("-p1 20,000 statements", "-p1", "stmts", STATEMENTS),
        ("-p2 20,000 statements", "-p2", "stmts", STATEMENTS), ("-p3 20,000 statements", "-p3", "stmts", STATEMENTS),
        ("-p1 16,000 parameters", "-p1", "params16k", 0), ("-p3 255 parameters", "-p3", "params255", 0),
        ("-p3 10,000-term 1+1+...", "-p3", "chain", 0)]


def run(runs: int) -> list[Result]:
    out = []
    with tempfile.TemporaryDirectory() as d:
        paths = _scripts(d)
        base = None
        for label, flag, script, statements in ROWS:
            argv = [sys.executable, "-m", "ftstap", flag, paths[script]]
            r = summarize(label, " ".join(argv), time_command(argv, runs), None if base is None else "-p1 one line")
            if base is None:
                base = r.median
            elif statements:
                r.notes.append(f"{statements / max(r.median - base, 1e-3):,.0f} statements/s")
            out.append(r)
    return out


if __name__ == "__main__":
    import argparse
    from .__main__ import table
    ap = argparse.ArgumentParser(prog="python -m bench.frontend")
    ap.add_argument("-n", "--runs", type=int, default=5)
    print(table(run(ap.parse_args().runs)))
