"""ftstap-exporter (ftstap/exporter.py) with real clients: two scripts for
concurrent urllib clients, metrics parsed with prometheus_client and equal
to what a workload did, a script that fails to compile, one that exits, a
missing one, --keepalive, and nothing left when the exporter ends."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from leftovers import leftovers

SCRIPTS = {
    "ppid.stp": 'global n\nprobe syscall.getppid { n[execname()]++ }\n'
                'probe prometheus { @prometheus_dump_array1(n, "ftstap_getppid_total", "execname") }\n',
    "sid.stp": 'global n\nprobe syscall.getsid { n[execname(), "sid"]++ }\n'
               'probe prometheus { @prometheus_dump_array2(n, "ftstap_getsid_total", "execname", "call") }\n',
    "bad.stp": 'probe begin { no_such_function() }\n',
    "quits.stp": 'probe prometheus { $value = "ftstap_up 1\\n" }\nprobe timer.ms(500) { exit() }\n',
}
WORKLOAD = ("import ctypes, os\nctypes.CDLL(None).prctl(15, b'ftsexp_wl')\n"
            "for _ in range(%d): os.getppid()\nfor _ in range(%d): os.getsid(0)\n")
CLIENTS, REQUESTS = 20, 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sessions() -> set[str]:
    return {n for n in os.listdir("/run/ftstap") if n.startswith("ftstap_") and "." not in n} \
        if os.path.isdir("/run/ftstap") else set()


def start(tmp_path, *args: str):
    d = tmp_path / "scripts"
    d.mkdir(exist_ok=True)
    for name, text in SCRIPTS.items():
        (d / name).write_text(text)
        os.chmod(d / name, 0o644)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ftstap.exporter", "-d", str(d), "-p", str(port), *args],
                            stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    assert "serving" in line, line + proc.stderr.read()
    return proc, f"http://127.0.0.1:{port}"


def get(url: str, timeout: float = 90) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def samples(text: str) -> dict:
    from prometheus_client.parser import text_string_to_metric_families
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def end(proc) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0


def test_two_scripts_concurrent_clients(tmp_path, tfs):
    pytest.importorskip("prometheus_client")
    before = sessions()
    proc, base = start(tmp_path)
    try:
        results, lock = [], threading.Lock()

        def client(k):
            for i in range(REQUESTS):
                t0 = time.monotonic()
                status, _ = get(f"{base}/{'ppid.stp' if (k + i) % 2 else 'sid.stp'}")
                with lock:
                    results.append((status, time.monotonic() - t0))
        threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.monotonic() - t0
        assert [s for s, _ in results] == [200] * CLIENTS * REQUESTS
        print(f"{len(results)} requests by {CLIENTS} clients in {took:.2f} s (both scripts started by them)")
        mine = sessions() - before
        assert len(mine) == 2, mine          # one session per script, however many asked at once

        subprocess.run([sys.executable, "-c", WORKLOAD % (3000, 2000)], check=True)
        want = {("ftstap_getppid_total", (("execname", "ftsexp_wl"),)): 3000.0,
                ("ftstap_getsid_total", (("call", "sid"), ("execname", "ftsexp_wl"))): 2000.0}
        got = {}
        for _ in range(50):                  # the records reach the sessions within ms
            got = {**samples(get(f"{base}/ppid.stp")[1]), **samples(get(f"{base}/sid.stp")[1])}
            if all(got.get(k) == v for k, v in want.items()):
                break
            time.sleep(0.1)
        assert all(got.get(k) == v for k, v in want.items()), got

        status, text = get(f"{base}/bad.stp")
        assert status == 500 and "no_such_function" in text and "Pass 2: analysis failed" in text
        assert get(f"{base}/bad.stp")[0] == 500          # again, at once
        assert get(f"{base}/missing.stp")[0] == 404
        assert get(f"{base}/../etc/passwd")[0] == 404
        status, text = get(f"{base}/quits.stp")
        assert status == 200 and samples(text) == {("ftstap_up", ()): 1.0}
        time.sleep(1.5)
        status, text = get(f"{base}/quits.stp")
        assert status == 502 and "exited with status 0" in text
        listing = get(f"{base}/")[1].split()
        assert listing == sorted(SCRIPTS)
    finally:
        end(proc)
    assert sessions() - before == set()
    for name in mine:
        pid = int(name.split("_")[1])
        assert not os.path.exists(f"/proc/{pid}"), f"session {pid} still runs"
        assert leftovers(tfs, pid) == []


def test_keepalive_stops_idle_sessions(tmp_path):
    before = sessions()
    proc, base = start(tmp_path, "-k", "1")
    try:
        assert get(f"{base}/ppid.stp")[0] == 200
        assert len(sessions() - before) == 1
        deadline = time.monotonic() + 15
        while sessions() - before and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sessions() - before == set()
        assert get(f"{base}/ppid.stp")[0] == 200      # started again
    finally:
        end(proc)
    assert sessions() - before == set()
