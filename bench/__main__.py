"""python -m bench [NAME ...] [-n RUNS] [--imports]"""
from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import sys

from . import BENCHMARKS


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} CPUs, Linux {platform.release()}, "
            f"Python {platform.python_version()} ({sys.executable})")


def table(results) -> str:
    by_label = {r.label: r for r in results}
    head = f"| {'what':<26} | {'median':>9} | {'min':>9} | {'max':>9} | {'× ref':>6} | notes"
    lines = [head, "|" + "|".join("-" * w for w in (28, 11, 11, 11, 8, 7))]
    for r in results:
        ref = by_label.get(r.reference) if r.reference else None
        ratio = f"{r.median / ref.median:5.2f}" if ref else "  ref"
        lines.append(f"| {r.label:<26} | {r.median * 1000:6.1f} ms | {r.low * 1000:6.1f} ms | "
                     f"{r.high * 1000:6.1f} ms | {ratio:>6} | {'; '.join(r.notes)}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description="ftstap benchmarks")
    ap.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})")
    ap.add_argument("-n", "--runs", type=int, default=10, help="measurements per row (default 10)")
    ap.add_argument("--imports", action="store_true",
                    help="also print the startup import profile (python -X importtime)")
    ap.add_argument("--commands", action="store_true", help="also print the exact commands")
    args = ap.parse_args(argv)
    names = args.names or BENCHMARKS
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        ap.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    print(f"date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"machine: {machine()}")
    print(f"runs: median of {args.runs} (after 1 warm-up run)")
    for name in names:
        mod = importlib.import_module(f"bench.{name}")
        results = mod.run(args.runs)
        print(f"\n## {mod.TITLE}\n")
        print(mod.table(results) if hasattr(mod, "table") else table(results))
        if args.commands:
            print()
            if hasattr(mod, "command_listing"):     # rows built outside Result.command
                print(mod.command_listing())
            for r in results:
                print(f"  {r.label}: {r.command}")
        if args.imports and hasattr(mod, "import_profile"):
            print()
            print(mod.import_profile())
    return 0


if __name__ == "__main__":
    sys.exit(main())
