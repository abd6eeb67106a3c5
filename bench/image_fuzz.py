"""The image fuzz campaign at full size: `python -m bench.image_fuzz [-n N] [--cli K] [--seed S]`.

N seeded mutants of real program images (tests/unit/image_fuzz_support.py:
damaged, re-sealed hostile, hostile event specs) go through
  1. the checks `ftstap --run` makes before it touches the kernel, in process
     (Python reader, event specs, the C loader and verifier);
  2. the C loader and verifier built under ASan/UBSan (native/tests/load_images.c);
  3. the first K of them through the real CLI, `ftstap --run IMAGE -T 1`
     (as root, images that load do run: their events are created and torn down).
It prints how many ended as a clear error, loaded, were internal errors or
crashed, by mutation kind, and exits 1 if any was an internal error or a crash.
Unit tests run a 1000-mutant slice of steps 1 and 2 (tests/unit/test_image_fuzz.py)."""
from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "unit"))
import image_fuzz_support as F  # noqa: E402


def _cli(path: str) -> str:
    """'error', 'ran', 'internal' or 'crash' for one `ftstap --run`."""
    try:
        r = subprocess.run([sys.executable, "-m", "ftstap", "--run", path, "-T", "1"], capture_output=True,
                           text=True, errors="replace", timeout=60, stdin=subprocess.DEVNULL,
                           env=dict(os.environ, FTSTAP_DEBUG=""))
    except subprocess.TimeoutExpired:
        return "hang"
    if r.returncode < 0 or "AddressSanitizer" in r.stderr:
        return "crash"
    if "internal error" in r.stderr or "Traceback" in r.stderr:
        return "internal"
    errs = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    if r.returncode == 1 and len(errs) == 1 and r.stderr.startswith("error: "):
        return "error"
    return "ran"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.image_fuzz", description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=10000, help="mutants (default 10000)")
    ap.add_argument("--cli", type=int, default=300, help="of which through the real CLI (default 300)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    t0 = time.time()
    seeds = F.seeds()
    mutants = F.mutants(seeds, args.n, seed=args.seed)
    print(f"{len(mutants)} mutants of {len(seeds)} images ({', '.join(sorted(seeds))}), seed {args.seed}")

    by_kind: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    bad = []
    for kind, name, img in mutants:
        r = F.check(img)
        verdict = "ok" if r == "ok" else "error" if r.startswith("error: ") else "internal"
        by_kind[kind.split("-")[0]][verdict] += 1
        if verdict == "internal":
            bad.append((kind, name, r))
    print("\n1. in process (reader, event specs, C loader and verifier):")
    for kind, c in sorted(by_kind.items()):
        print(f"   {kind:<8} " + ", ".join(f"{v} {k}" for k, v in sorted(c.items())))
    for kind, name, r in bad[:10]:
        print(f"   INTERNAL {kind} of {name}: {r}")

    failed = bool(bad)
    with tempfile.TemporaryDirectory(prefix="ftstap-imgfuzz-") as d:
        paths = []
        for i, (_kind, _name, img) in enumerate(mutants):
            paths.append(os.path.join(d, f"m{i:06d}.ftsimg"))
            with open(paths[-1], "wb") as f:
                f.write(img)
        exe = F.build_asan_loader(os.path.join(d, "load_images"))
        if exe is None:
            print("\n2. C loader under ASan: skipped (no gcc)")
        else:
            run = F.run_asan_loader(exe, paths)
            verdicts = collections.Counter(line.split(" ", 1)[0] for line in run.stdout.splitlines())
            print(f"\n2. C loader under ASan/UBSan: exit {run.returncode}, "
                  + ", ".join(f"{v} {k}" for k, v in sorted(verdicts.items())))
            if run.returncode != 0:
                print(run.stderr[-3000:])
                failed = True
        cli = collections.Counter(_cli(p) for p in paths[:args.cli])
        print(f"\n3. `ftstap --run IMAGE -T 1`, first {min(args.cli, len(paths))}: "
              + ", ".join(f"{v} {k}" for k, v in sorted(cli.items())))
        failed |= bool(cli["internal"] or cli["crash"] or cli["hang"])
    print(f"\n{'FAILED' if failed else 'passed'}: 0 internal errors and 0 crashes wanted ({time.time() - t0:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
