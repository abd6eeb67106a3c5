"""Events: what tracing costs the traced program, against perf and bpftrace.

The generator (bench/c/getppid_loop.c, built with gcc here) calls getppid()
in a loop for SECONDS, pinned to the last CPU with taskset, and reports its
calls/s.  Every tracer starts it itself once its events are armed (ftstap
and bpftrace `-c`, perf `stat -a -- CMD`, the C reader's own fork/exec), so
each configuration measures the generator's whole run.  Rows, interleaved
round-robin so machine noise hits all of them alike, medians of RUNS:

  untraced                        the generator alone (the reference)
  C ring reader                   bench/c/ring_reader.c: the same tracepoint
                                  per CPU, ftstap's sample layout
                                  (IDENTIFIER|TID|TIME|RAW) and ring size, watermark wake-ups, only counts the
                                  records it drains: the floor of sampling
  ftstap n[execname()]++          probe syscall.getppid { n[execname()]++ }
  ftstap-run n[execname()]++      the same script's -p4 image run by the static
                                  ftstap-run (native/runner/, no Python)
  ftstap n++                      probe syscall.getppid { n++ }
  ftstap c[probefunc()]++         probe syscall.getppid { calls[probefunc()]++ }
                                  (counting mode, key from the probe point)
  ftstap seed if(execname)        probe syscall.* { if (execname() == "syslogd")
                                  syscalllist[name]++ }   (the seed script)
  perf stat                       perf stat -a -e syscalls:sys_enter_getppid
  bpftrace @[comm]=count()        when bpftrace runs here
  bpftrace @=count()

"added ns" is 1e9/rate - 1e9/untraced rate: what one traced call costs more.
"x reader" divides that by the C reader's added ns.  ftstap rows also check
the count the script printed against the generator's own count and report
records lost; the throughput row is records ftstap handled per second of the
generator's run with the generator saturating the other core.

Then, as wall times of whole processes (bytecode cached):
  startup         ftstap --disable-cache -e 'probe begin { exit() }' (passes 1-5),
                  and without --disable-cache: a cached program (passes 1-4 skipped)
  syscall.* attach+detach   ftstap --disable-cache -e 'global n; probe syscall.* { n[execname()]++ }
                  probe begin { exit() }', net of -p4 of the same script (passes 1-4);
                  each run waits for the previous session's background closer
  peak RSS        syscall.* tracing with a 1000-entry map, the generator
                  running (ru_maxrss of the ftstap process from wait4)

Standalone: `python -m bench events -n 5 --commands`."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from . import Result, cached_env, summarize

TITLE = "events (getppid overhead vs C reader, perf, bpftrace; throughput; startup; RSS)"
SECONDS = 1.0
HERE = os.path.dirname(os.path.abspath(__file__))
TRACEPOINT = "syscalls:sys_enter_getppid"
RING_BYTES = 16 << 20      # ftstap's default per-CPU ring on a 2-CPU machine (runtime/session.py)
TASKSET = os.path.realpath(shutil.which("taskset") or "/usr/bin/taskset")   # bpftrace -c wants one path
STARTUP_BUDGET, ATTACH_BUDGET, RSS_BUDGET_MB = 0.150, 0.500, 60

FT_COMM = 'global n; probe syscall.getppid { n[execname()]++ }'
FT_COUNT = 'global n; probe syscall.getppid { n++ }'
FT_PROBEFUNC = 'global calls; probe syscall.getppid { calls[probefunc()]++ }'
FT_SEED = 'global syscalllist; probe syscall.* { if (execname() == "syslogd") syscalllist[name]++ }'
BT_COMM = 'tracepoint:syscalls:sys_enter_getppid { @[comm] = count(); }'
BT_COUNT = 'tracepoint:syscalls:sys_enter_getppid { @ = count(); }'
RSS_SCRIPT = ('global m; probe begin { for (i = 0; i < 1000; i++) m[i] = i } '
              'probe syscall.* { m[tid() % 1000]++ }')


def build(tmp: str) -> dict:
    """Compile the generator and the C reader into tmp."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if not cc:
        raise RuntimeError("bench events needs gcc (apt-get install gcc)")
    out = {}
    for name in ("getppid_loop", "ring_reader"):
        exe = os.path.join(tmp, name)
        subprocess.run([cc, "-O2", "-Wall", "-o", exe, os.path.join(HERE, "c", name + ".c")], check=True)
        out[name] = exe
    # ftstap-run (native/runner/) and the n[execname()]++ image, for its row
    made = subprocess.run(["make", "-s", "-C", os.path.join(os.path.dirname(HERE), "native"), f"BIN={tmp}",
                           "ftstap-run-static"], capture_output=True)
    image = subprocess.run([sys.executable, "-m", "ftstap", "-p4", "-m", "comm", "-e", FT_COMM], cwd=tmp,
                           capture_output=True, text=True)
    if made.returncode == 0 and image.returncode == 0:
        out["ftstap-run"], out["comm_image"] = os.path.join(tmp, "ftstap-run-static"), image.stdout.strip()
    return out


def tracepoint_id() -> int:
    from ftstap.kernel.tracefs import find_tracefs
    system, event = TRACEPOINT.split(":")
    with open(os.path.join(find_tracefs(), "events", system, event, "id")) as f:
        return int(f.read())


def ftstap(*args: str) -> list[str]:
    return [sys.executable, "-m", "ftstap", *args]


class Row:
    """One configuration of the overhead benchmark."""

    def __init__(self, label: str, argv, count_re: str | None = None, ftstap_row: bool = False):
        self.label, self.argv, self.count_re, self.ftstap_row = label, argv, count_re, ftstap_row
        self.rates: list[float] = []
        self.handled: list[float] = []       # records/s the tracer reported handling
        self.lost: list[int] = []
        self.counts: list[tuple[int, int]] = []   # (the tracer's count, the generator's calls)
        self.error = ""
        self.command = ""


def run_row(row: Row, gen: str, outfile: str, env: dict) -> None:
    gen_argv = [TASKSET, "-c", str(os.cpu_count() - 1), gen, str(SECONDS), outfile]
    argv = row.argv(gen_argv)
    row.command = shlex.join(argv)
    if os.path.exists(outfile):
        os.unlink(outfile)
    r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    try:
        with open(outfile) as f:
            calls, secs = f.read().split()
    except (OSError, ValueError):
        row.error = f"exited {r.returncode}: {(r.stderr or r.stdout).strip()[-300:]}"
        return
    calls, secs = int(calls), float(secs)
    row.rates.append(calls / secs)
    both = r.stdout + r.stderr
    lost = sum(int(m) for m in re.findall(r"(\d+) events lost", both))
    m = re.search(r"records (\d+) lost (\d+)", both)
    if m:                                        # the C reader
        lost = int(m.group(2))
        row.handled.append(int(m.group(1)) / secs)
        row.counts.append((int(m.group(1)), calls))
    row.lost.append(lost)
    if row.count_re:
        m = re.search(row.count_re, both)
        got = int(m.group(1)) if m else -1
        row.handled.append(got / secs)
        row.counts.append((got, calls))


def overhead_rows(exe: dict, tp_id: int) -> list[Row]:
    rows = [
        Row("untraced", lambda g: g),
        Row("C ring reader", lambda g: [exe["ring_reader"], str(tp_id), str(RING_BYTES), *g]),
        Row("ftstap n[execname()]++", lambda g: ftstap("-e", FT_COMM, "-c", shlex.join(g)),
            r'n\["getppid_loop"\]=(\d+)', True),
        *([Row("ftstap-run n[execname()]++", lambda g: [exe["ftstap-run"], "-c", shlex.join(g), exe["comm_image"]],
               r'n\["getppid_loop"\]=(\d+)', True)] if "ftstap-run" in exe else []),
        Row("ftstap n++", lambda g: ftstap("-e", FT_COUNT, "-c", shlex.join(g)), r"n=(\d+)", True),
        Row("ftstap c[probefunc()]++", lambda g: ftstap("-e", FT_PROBEFUNC, "-c", shlex.join(g)),
            r'calls\[[^\]]*\]=(\d+)', True),
        Row("ftstap seed if(execname)", lambda g: ftstap("-e", FT_SEED, "-c", shlex.join(g)), None, True),
    ]
    perf = shutil.which("perf")
    if perf:
        rows.append(Row("perf stat (counting)",
                        lambda g: [perf, "stat", "-a", "-x", ",", "-e", TRACEPOINT, "--", *g],
                        r"(\d+),,?[^,\n]*," + re.escape(TRACEPOINT)))
    bt = shutil.which("bpftrace")
    if bt:
        rows.append(Row("bpftrace @[comm]=count()", lambda g: [bt, "-e", BT_COMM, "-c", shlex.join(g)],
                        r"@\[getppid_loop\]: (\d+)"))
        rows.append(Row("bpftrace @=count()", lambda g: [bt, "-e", BT_COUNT, "-c", shlex.join(g)],
                        r"@: (\d+)"))
    return rows


def overhead(runs: int, exe: dict, env: dict) -> list[Row]:
    rows = overhead_rows(exe, tracepoint_id())
    outfile = os.path.join(os.path.dirname(exe["getppid_loop"]), "gen.out")
    for i in range(runs + 1):                    # the first round is a warm-up
        for row in rows:
            if row.error:
                continue
            n = len(row.rates)
            run_row(row, exe["getppid_loop"], outfile, env)
            if i == 0 and not row.error:         # drop the warm-up's samples
                for lst in (row.rates, row.handled, row.lost, row.counts):
                    del lst[n:]
    return rows


def count_note(counts: list[tuple[int, int]]) -> str:
    """Exact, or how far off; counts of system-wide scripts also include
    other processes' getppid calls (never fewer than the generator's)."""
    short = [c - g for c, g in counts if c < g]
    over = [c - g for c, g in counts if c > g]
    if short:
        return f"count SHORT in {len(short)}/{len(counts)} runs (by up to {-min(short)})"
    if over:
        return f"count exact or more (+{max(over)}: other processes) in {len(counts)}/{len(counts)} runs"
    return f"count exact in {len(counts)}/{len(counts)} runs"


def overhead_table(rows: list[Row]) -> str:
    base = next(r for r in rows if r.label == "untraced")
    reader = next((r for r in rows if r.label == "C ring reader" and r.rates), None)
    base_ns = 1e9 / statistics.median(base.rates)
    reader_added = 1e9 / statistics.median(reader.rates) - base_ns if reader else None
    head = (f"| {'what':<26} | {'calls/s':>9} | {'min':>9} | {'max':>9} | {'ns/call':>7} | "
            f"{'added ns':>8} | {'x reader':>8} | {'lost':>5} | notes")
    lines = [head, "|" + "|".join("-" * w for w in (28, 11, 11, 11, 9, 10, 10, 7, 7))]
    for r in rows:
        if not r.rates:
            lines.append(f"| {r.label:<26} | {'-':>9} | {'-':>9} | {'-':>9} | {'-':>7} | {'-':>8} | "
                         f"{'-':>8} | {'-':>5} | skipped: {r.error}")
            continue
        med = statistics.median(r.rates)
        ns = 1e9 / med
        added = ns - base_ns
        ratio = f"{added / reader_added:8.2f}" if reader_added and r is not base else f"{'':>8}"
        notes = []
        if r.handled:
            notes.append(f"handled {statistics.median(r.handled) / 1e6:.2f} M/s")
        if r.counts:
            notes.append(count_note(r.counts))
        lost = max(r.lost) if r.lost else 0
        lines.append(f"| {r.label:<26} | {med / 1e6:7.2f} M | {min(r.rates) / 1e6:7.2f} M | "
                     f"{max(r.rates) / 1e6:7.2f} M | {ns:7.1f} | {added if r is not base else 0:8.1f} | "
                     f"{ratio} | {lost:>5} | {'; '.join(notes)}")
    return "\n".join(lines)


def wait_for_closers(limit_s: float = 30.0) -> None:
    """Static tracepoint events are closed by a detached `ftstap-close`
    process after the session exits (runtime/session.py); while it runs, it
    holds the kernel's event mutex and slows the next session's tracefs
    reads.  Wait for it so each run measures only itself."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        if subprocess.run(["pgrep", "-x", "ftstap-close"], stdout=subprocess.DEVNULL).returncode != 0:
            return
        time.sleep(0.1)


def wall(argv: list[str], runs: int, env: dict, quiet: bool = False) -> list[float]:
    out = []
    for i in range(runs + 1):
        if quiet:
            wait_for_closers()
        t0 = time.perf_counter()
        r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"{shlex.join(argv)} exited {r.returncode}: {r.stderr.decode()[-300:]}")
        if i:
            out.append(time.perf_counter() - t0)
    return out


def peak_rss_mb(argv: list[str], env: dict) -> float:
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, _, ru = os.wait4(p.pid, 0)
    p.returncode = 0
    return ru.ru_maxrss / 1024


def process_rows(runs: int, exe: dict, env: dict) -> list[Result]:
    py = [sys.executable, "-c", "pass"]
    base = summarize("python -c pass", shlex.join(py), wall(py, runs, env))
    rows = [base]
    # Cold: passes 1-5 every run.  Cached: the warm-up run filled the program
    # cache (ftstap/imagecache.py), so passes 1-4 are skipped, as for a user
    # running the same script again.
    for label, flags in (("startup", ("--disable-cache",)), ("startup, cached program", ())):
        start = ftstap(*flags, "-e", "probe begin { exit() }")
        s = summarize(label, shlex.join(start), wall(start, runs, env), "python -c pass")
        s.notes.append(("within" if s.median <= STARTUP_BUDGET else "OVER")
                       + f" the {STARTUP_BUDGET * 1000:.0f} ms budget; "
                       f"{(s.median - base.median) * 1000:.0f} ms more than python -c pass")
        rows.append(s)
    script = "global n; probe syscall.* { n[execname()]++ } probe begin { exit() }"
    compiled = ftstap("-p4", "-e", script)
    with tempfile.TemporaryDirectory() as images:     # each -p4 writes a private directory under TMPDIR
        c = summarize("syscall.* passes 1-4 (-p4)", shlex.join(compiled),
                      wall(compiled, runs, dict(env, TMPDIR=images), True), "startup")
    attach = ftstap("--disable-cache", "-e", script)
    a = summarize("syscall.* attach+detach", shlex.join(attach), wall(attach, runs, env, True),
                  "syscall.* passes 1-4 (-p4)")
    net = a.median - c.median
    a.notes.append(f"attach+detach (net of -p4) {net * 1000:.0f} ms; "
                   + ("within" if net <= ATTACH_BUDGET else "OVER") + f" the {ATTACH_BUDGET * 1000:.0f} ms budget")
    cached = ftstap("-e", script)
    w = summarize("syscall.* run, cached program", shlex.join(cached), wall(cached, runs, env, True),
                  "syscall.* attach+detach")
    rows += [c, a, w]
    gen = [TASKSET, "-c", str(os.cpu_count() - 1), exe["getppid_loop"], str(SECONDS), os.devnull]
    rss_argv = ftstap("-e", RSS_SCRIPT, "-c", shlex.join(gen))
    rss = [peak_rss_mb(rss_argv, env) for _ in range(max(3, runs // 2))]
    r = Result("peak RSS syscall.* 1000-map", shlex.join(rss_argv), statistics.median(rss) / 1000,
               min(rss) / 1000, max(rss) / 1000)
    r.notes.append(f"MB (shown as 'ms'); {'within' if r.median * 1000 <= RSS_BUDGET_MB else 'OVER'} "
                   f"the {RSS_BUDGET_MB} MB budget")
    return rows + [r]


_LAST: dict = {}


def run(runs: int) -> list[Result]:
    """Overhead rows are printed by table(); Results here are the process rows."""
    with tempfile.TemporaryDirectory(prefix="ftstap-bench-events-") as tmp:
        exe = build(tmp)
        env = cached_env(os.path.join(tmp, "pyc"))
        rows = overhead(runs, exe, env)
        _LAST["rows"] = rows
        return process_rows(runs, exe, env)


def table(results: list[Result]) -> str:
    from .__main__ import table as plain
    rows = _LAST.get("rows", [])
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    parts = [f"load average at the end: {load}\n"]
    parts += [f"overhead: getppid loop for {SECONDS:g} s on CPU {os.cpu_count() - 1}, "
             f"medians of {len(rows[0].rates) if rows else 0} runs\n", overhead_table(rows)] if rows else []
    thr = [r for r in rows if r.label == "ftstap n[execname()]++" and r.handled]
    if thr:
        r = thr[0]
        parts.append(f"\nthroughput: ftstap handled {statistics.median(r.handled) / 1e6:.2f} M records/s "
                     f"(median; max {max(r.handled) / 1e6:.2f} M/s) with the generator saturating CPU "
                     f"{os.cpu_count() - 1}; lost {sum(r.lost)} in {len(r.lost)} runs; {count_note(r.counts)}")
    parts.append("\nprocesses (wall; RSS row in MB):\n")
    parts.append(plain(results))
    return "\n".join(parts)


def command_listing() -> str:
    rows = _LAST.get("rows", [])
    return "\n".join(f"  {r.label}: {r.command}" for r in rows)
