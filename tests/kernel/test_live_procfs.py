"""procfs probes while kernel events flow: a bounded loopback load test with
exact event counts, a real Prometheus server scraping --http, and nothing
left behind (events, the session directory)."""
from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import pytest

from leftovers import leftovers

FTSTAP = [sys.executable, "-m", "ftstap"]
CALLS = 200_000
CLIENTS, REQUESTS = 50, 200

SCRIPT = r'''
global n, reads
probe kernel.trace("syscalls:sys_enter_getppid") { if (pid() == target()) n++ }
probe procfs("count").read { reads++; $value = sprintf("%d\n", n) }
probe prometheus { $value = sprintf("ftstap_test_getppid_total %d\n", n) }
probe end { printf("n=%d reads=%d\n", n, reads) }
'''

WORKLOAD = "import os, sys\nsys.stdin.readline()\nfor _ in range(%d): os.getppid()\nprint('done', flush=True)\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(script: str, *args: str):
    port = free_port()
    proc = subprocess.Popen(FTSTAP + ["--http", f"127.0.0.1:{port}", *args, "-e", script],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    assert "serving procfs files" in line, line + proc.stderr.read()
    return proc, port, line.rsplit(" ", 1)[1].strip()


def client(port: int, n: int, lat: list, errors: list) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(n):
        t0 = time.perf_counter()
        try:
            conn.request("GET", "/procfs/count")
            r = conn.getresponse()
            body = r.read()
            if r.status != 200 or not body.strip().isdigit():
                errors.append((r.status, body))
        except OSError as e:
            errors.append(repr(e))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        lat.append(time.perf_counter() - t0)
    conn.close()


def test_load_while_events_flow(tfs):
    work = subprocess.Popen([sys.executable, "-c", WORKLOAD % CALLS], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    proc, port, sock = start(SCRIPT, "-x", str(work.pid))
    try:
        lat, errors = [], []
        threads = [threading.Thread(target=client, args=(port, REQUESTS, lat, errors)) for _ in range(CLIENTS)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        work.stdin.write("go\n")
        work.stdin.flush()
        assert work.stdout.readline().strip() == "done"
        for t in threads:
            t.join(120)
        elapsed = time.perf_counter() - t0
        assert not errors, errors[:5]
        assert len(lat) == CLIENTS * REQUESTS
        lat.sort()
        print(f"\n{len(lat)} requests in {elapsed:.2f} s: {len(lat) / elapsed:.0f}/s, latency "
              f"p50 {lat[len(lat) // 2] * 1e3:.2f} ms, p99 {lat[len(lat) * 99 // 100] * 1e3:.2f} ms, "
              f"max {lat[-1] * 1e3:.2f} ms, mean {statistics.mean(lat) * 1e3:.2f} ms")
        time.sleep(0.1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/procfs/count", timeout=10) as r:
            assert int(r.read()) == CALLS            # every event handled before the read
    finally:
        work.wait(30)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.startswith(f"n={CALLS} reads={CLIENTS * REQUESTS + 1}\n"), out
    assert "lost" not in err and "WARNING" not in err, err
    assert not os.path.exists(os.path.dirname(sock))
    assert leftovers(tfs, proc.pid) == []


@pytest.mark.skipif(not shutil.which("prometheus"), reason="needs Debian's prometheus package")
def test_real_prometheus_scrapes(tfs, need):
    work = subprocess.Popen([sys.executable, "-c", WORKLOAD % 1000], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    proc, port, _ = start(SCRIPT, "-x", str(work.pid))
    pport = free_port()
    tmp = tempfile.mkdtemp(prefix="ftstap-prom")
    prom = None
    try:
        work.stdin.write("go\n")
        work.stdin.flush()
        assert work.stdout.readline().strip() == "done"
        with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: ftstap\n"
                    f"    static_configs:\n      - targets: ['127.0.0.1:{port}']\n")
        prom = subprocess.Popen(["prometheus", f"--config.file={tmp}/prometheus.yml",
                                 f"--storage.tsdb.path={tmp}/data", f"--web.listen-address=127.0.0.1:{pport}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline, result = time.monotonic() + 60, []
        while time.monotonic() < deadline and not result:
            time.sleep(1)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{pport}/api/v1/query?"
                                            "query=ftstap_test_getppid_total", timeout=5) as r:
                    result = json.load(r)["data"]["result"]
            except OSError:
                continue
        assert result, "Prometheus returned no series within 60 s"
        assert result[0]["metric"]["job"] == "ftstap"
        assert int(float(result[0]["value"][1])) == 1000
        print(f"\nPrometheus query result: {result}")
    finally:
        if prom is not None:
            prom.terminate()
            prom.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)
        work.wait(30)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert leftovers(tfs, proc.pid) == []
