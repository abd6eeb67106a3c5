"""procfs probes: pass 2's checks and $value rewriting, and the files served
over --http and the session's Unix socket by real clients (curl, urllib,
prometheus_client's parser).  No kernel events: these run anywhere."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

FTSTAP = [sys.executable, "-m", "ftstap"]


def p2(script: str) -> subprocess.CompletedProcess:
    return subprocess.run(FTSTAP + ["-p2", "-e", script], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("script, message", [
    ('probe procfs.write { $value = "hi" }', "cannot be assigned"),
    ('probe procfs.read { x = $value; println(x) }', "cannot be read"),
    ('probe procfs("/foo").read { }', "invalid"),
    ('probe procfs("foo/").read { }', "invalid"),
    ('probe procfs("a/../b").read { }', "invalid"),
    ('probe procfs("a//c").read { }', "invalid"),
    ('probe procfs.read.maxsize(-1) { $value = "x" }', "maxsize"),
    ('probe procfs.umask(01000).read { $value = "x" }', "umask"),
    ('probe procfs.write { print($value[0]) }', ""),
    ('probe procfs { }', ""),
    ('probe procfs.read { $value += 1 }', ""),
])
def test_refused(script, message):
    r = p2(script)
    assert r.returncode != 0, r.stdout
    assert message in r.stderr


@pytest.mark.parametrize("script", [
    'probe procfs("foo").umask(0002).read { $value = "100\\n" }',
    'probe procfs("foo").umask(0040).write { printf("%s", $value) }',
    'probe procfs.write { println(@defined($value) ? 1 : 0) }',
    'probe procfs("a/b/c").read.maxsize(8192) { $value = "x"; $value .= "y" }',
    'probe prometheus { @prometheus_dump_array7(a, "m", "1", "2", "3", "4", "5", "6", "7") } '
    'global a; probe begin { a[1,2,3,4,5,6,"7"] = 1 }',
])
def test_accepted(script):
    r = p2(script)
    assert r.returncode == 0, r.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """`ftstap --http 127.0.0.1:PORT SCRIPT` running until close()."""

    def __init__(self, script: str, *args: str):
        self.port = free_port()
        self.proc = subprocess.Popen(FTSTAP + ["--http", f"127.0.0.1:{self.port}", *args, "-e", script],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()
        assert "serving procfs files" in line, line + self.proc.stderr.read()
        self.sock = line.rsplit(" ", 1)[1].strip()
        self.base = f"http://127.0.0.1:{self.port}"

    def get(self, path: str, data: bytes | None = None, method: str | None = None):
        req = urllib.request.Request(self.base + path, data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode(), r.headers
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), e.headers

    def close(self) -> tuple[str, str]:
        self.proc.terminate()
        out, err = self.proc.communicate(timeout=30)
        return out, err


@pytest.fixture
def served():
    made = []

    def start(script, *args):
        s = Served(script, *args)
        made.append(s)
        return s
    yield start
    for s in made:
        if s.proc.poll() is None:
            s.close()


SCRIPT = r'''
global saved = "100\n", writes
probe procfs("foo").read { $value = saved; $value .= sprintf("writes=%d\n", writes) }
probe procfs("foo").write { saved = $value; writes++; printf("wrote %s", $value) }
probe procfs("small").read.maxsize(4) { $value = "123456789" }
probe procfs("ro").umask(0444).read { $value = "nobody\n" }
probe procfs("sub/dir/f").read { $value = "deep\n" }
probe procfs("chunks").write { printf("[%d]", strlen($value)) }
'''


def test_read_write_semantics(served):
    s = served(SCRIPT, "-DMAXSTRINGLEN=64")
    assert s.get("/procfs/foo")[:2] == (200, "100\nwrites=0\n")
    status, _, _ = s.get("/procfs/foo", b"hello\n", "PUT")
    assert status == 204
    assert s.get("/procfs/foo")[1] == "hello\nwrites=1\n"       # the read probe runs on each read
    assert s.get("/procfs/foo", b"again\n", "POST")[0] == 204
    assert s.get("/procfs/foo")[1] == "again\nwrites=2\n"
    assert s.get("/procfs/small")[1] == "1234"                    # .maxsize(4)
    assert s.get("/procfs/ro")[0] == 403                           # umask 0444: no read bits
    assert s.get("/procfs/sub/dir/f")[1] == "deep\n"
    assert s.get("/procfs/nope")[0] == 404
    assert s.get("/procfs/small", b"x", "PUT")[0] == 405           # no write probe
    assert s.get("/metrics")[0] == 404                              # no prometheus probe
    assert s.get("/procfs/chunks", b"x" * 150, "PUT")[0] == 204    # split as stap's buffer splits it
    listing = s.get("/")[1]
    assert "read  foo 0600" in listing and "write foo 0600" in listing
    out, err = s.close()
    assert out == "wrote hello\nwrote again\n[63][63][24]"
    assert not os.path.exists(os.path.dirname(s.sock)), "the session directory is removed"


@pytest.mark.skipif(not shutil.which("curl"), reason="needs curl")
def test_curl_tcp_and_unix_socket(served):
    s = served(SCRIPT)
    r = subprocess.run(["curl", "-sS", "--unix-socket", s.sock, "http://x/procfs/foo"],
                       capture_output=True, text=True, timeout=30)
    assert r.stdout == "100\nwrites=0\n", r.stderr
    r = subprocess.run(["curl", "-sS", "-X", "PUT", "--data-binary", "via curl\n", f"{s.base}/procfs/foo"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["curl", "-sS", "-i", f"{s.base}/procfs/foo", f"{s.base}/procfs/foo"],
                       capture_output=True, text=True, timeout=30)   # two requests, one kept-alive connection
    assert r.stdout.count("via curl\nwrites=1\n") == 2
    assert os.stat(s.sock).st_mode & 0o777 == 0o666


def test_bad_requests_answered_and_bounded(served):
    s = served(SCRIPT)

    def raw(data: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", s.port), timeout=15) as c:
            c.sendall(data)
            c.shutdown(socket.SHUT_WR)
            chunks = []
            while (b := c.recv(65536)):
                chunks.append(b)
            return b"".join(chunks)
    assert raw(b"GARBAGE\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert raw(b"GET /procfs/foo HTTP/2.0\r\n\r\n").startswith(b"HTTP/1.1 505")
    assert raw(b"GET /procfs/foo HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n").startswith(b"HTTP/1.1 431")
    assert raw(b"PUT /procfs/foo HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n").startswith(b"HTTP/1.1 413")
    assert raw(b"PUT /procfs/foo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").startswith(b"HTTP/1.1 411")
    assert raw(b"DELETE /procfs/foo HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 405")
    # a client that sends half a request and stalls is answered 408 and closed
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", s.port), timeout=30) as c:
        c.sendall(b"GET /procfs/foo HTTP/1.1\r\n")
        got = c.recv(4096)
    assert got.startswith(b"HTTP/1.1 408") and 9 < time.monotonic() - t0 < 13
    assert s.get("/procfs/foo")[0] == 200                          # still serving


def test_prometheus_metrics_parse(served):
    prom = pytest.importorskip("prometheus_client.parser")
    script = r'''
global calls, lat, byname
probe begin {
  calls["read", 1] = 10; calls["we\"ird\\", 2] = 20
  lat[1] <<< 5; lat[1] <<< 7; lat[2] <<< 100
  for (i = 0; i < 7; i++) byname[i, "a", "b", "c", "d", "e", "f"] = i * 3
}
probe prometheus {
  @prometheus_dump_array2(calls, "calls_total", "name", "n")
  @prometheus_dump_array1_map(lat, "latency_avg", "cpu", @avg)
  @prometheus_dump_array1_map(lat, "latency_count", "cpu", @count)
  @prometheus_dump_array7_unquoted(byname, "seven", "k1", "k2", "k3", "k4", "k5", "k6", "k7")
}
'''
    s = served(script)
    status, text, headers = s.get("/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {(x.name, tuple(sorted(x.labels.items()))): x.value
               for fam in prom.text_string_to_metric_families(text) for x in fam.samples}
    assert samples[("calls_total", (("n", "1"), ("name", "read")))] == 10
    assert samples[("calls_total", (("n", "2"), ("name", 'we"ird\\')))] == 20
    assert samples[("latency_avg", (("cpu", "1"),))] == 6
    assert samples[("latency_count", (("cpu", "2"),))] == 1
    sevens = {k: v for k, v in samples.items() if k[0] == "seven"}
    assert len(sevens) == 7 and sorted(sevens.values()) == [i * 3 for i in range(7)]
