"""ftstap-exporter: stap-exporter for ftstap.  Serves a directory of scripts
over HTTP (default 127.0.0.1:9900): `GET /NAME.stp` starts NAME.stp as an
ftstap session on its first request, keeps it running and relays its
`prometheus` probe (the session's own Unix socket, runtime/sidecar.py, path
/metrics); `--keepalive SECONDS` (stap-exporter's -k) stops a session that
no request has asked for in that long.  `GET /` lists the scripts.

Every request ends with a status, never a hang:
  200  the script's metrics;
  404  no such script (names are NAME.stp, no directories);
  500  the script failed to start (compile error): its messages, again at
       once until the file changes;
  502  the session exited or its answer was unusable; the next request
       starts the script again;
  503  the session did not open its socket within --start-timeout (a script
       without procfs probes never does), or too many requests at once;
  504  the session took longer than --timeout to answer.
A session is started from one long-lived thread (so its parent-death
signal follows the exporter, not a request thread) and ended with SIGTERM,
which makes ftstap remove its kernel events and /run/ftstap directory;
the exporter ends every session on SIGTERM, SIGINT and normal exit."""
from __future__ import annotations

import argparse
import collections
import ctypes
import http.client
import http.server
import os
import queue
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

from .runtime.sidecar import SOCKET, _root

NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}\.stp")
MAX_BODY = 2 * 1024 * 1024          # a session's metrics (it sends at most 1 MiB)
MAX_CONCURRENT = 64
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Failed(Exception):
    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status, self.text = status, text


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def _die_with_parent():             # in the child, before exec: SIGTERM when the exporter's spawner dies
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG


class Spawner:
    """Starts processes from one thread that lives as long as the exporter."""

    def __init__(self):
        self.jobs: queue.Queue = queue.Queue()
        threading.Thread(target=self._run, daemon=True, name="spawner").start()

    def _run(self):
        while True:
            argv, box, done = self.jobs.get()
            try:
                box.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.PIPE, preexec_fn=_die_with_parent))
            except OSError as e:
                box.append(e)
            done.set()

    def start(self, argv: list[str]) -> subprocess.Popen:
        box: list = []
        done = threading.Event()
        self.jobs.put((argv, box, done))
        done.wait()
        if isinstance(box[0], Exception):
            raise Failed(500, f"cannot start ftstap: {box[0]}")
        return box[0]


class Script:
    """One script's session: started on demand, at most one at a time."""

    def __init__(self, path: str):
        self.path = path
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.sock = ""
        self.errors: collections.deque = collections.deque(maxlen=200)
        self.failure: tuple[float, str] | None = None   # (mtime, messages) of a failed start
        self.last_used = time.monotonic()

    def _drain(self, proc: subprocess.Popen):
        for line in proc.stderr:
            self.errors.append(line.decode(errors="replace"))

    def ensure(self, exp: "Exporter") -> str:
        """The socket of a running session, started if need be."""
        with self.lock:
            self.last_used = time.monotonic()
            if self.proc is not None and self.proc.poll() is not None:
                status = self.proc.returncode
                self.proc = None
                raise Failed(502, f"{os.path.basename(self.path)} exited with status {status}; "
                                  f"the next request starts it again\n" + "".join(self.errors))
            if self.proc is not None:
                return self.sock
            mtime = _check_file(self.path)
            if self.failure and self.failure[0] == mtime:
                raise Failed(500, self.failure[1])
            self.errors.clear()
            proc = exp.spawner.start(exp.ftstap + [self.path])
            threading.Thread(target=self._drain, args=(proc,), daemon=True).start()
            sock = os.path.join(_root(), f"ftstap_{proc.pid}", SOCKET)
            deadline = time.monotonic() + exp.start_timeout
            while not os.path.exists(sock):
                if proc.poll() is not None:
                    time.sleep(0.05)     # the rest of its messages
                    text = (f"{os.path.basename(self.path)} failed to start (status {proc.returncode}):\n"
                            + "".join(self.errors))
                    self.failure = (mtime, text)
                    raise Failed(500, text)
                if time.monotonic() > deadline:
                    stop(proc)
                    raise Failed(503, f"{os.path.basename(self.path)} opened no procfs socket in "
                                      f"{exp.start_timeout:g} s (does it have a prometheus probe?)\n"
                                 + "".join(self.errors))
                time.sleep(0.02)
            self.proc, self.sock, self.failure = proc, sock, None
            return sock

    def stop(self):
        with self.lock:
            if self.proc is not None:
                stop(self.proc)
                self.proc = None


def stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM (ftstap tears its session down), then SIGKILL after grace s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _check_file(path: str) -> float:
    """mtime of a script fit to run as root: a regular file, not a symlink,
    the exporter's user's or root's, not writable by others."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise Failed(404, f"no script {os.path.basename(path)}") from None
    if not stat.S_ISREG(st.st_mode):
        raise Failed(404, f"{os.path.basename(path)} is not a regular file")
    if st.st_uid not in (0, os.geteuid()) or st.st_mode & 0o022:
        raise Failed(403, f"{os.path.basename(path)} is writable by others or not ours: not running it")
    return st.st_mtime


class Exporter:
    def __init__(self, directory: str, keepalive: float | None, start_timeout: float, timeout: float,
                 ftstap_args: list[str]):
        self.dir = os.path.abspath(directory)
        self.keepalive, self.start_timeout, self.timeout = keepalive, start_timeout, timeout
        self.ftstap = [sys.executable, "-m", "ftstap", *ftstap_args]
        self.scripts: dict[str, Script] = {}
        self.lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(MAX_CONCURRENT)
        self.spawner = Spawner()
        self.closing = threading.Event()

    def script(self, name: str) -> Script:
        if not NAME.fullmatch(name):
            raise Failed(404, f"no script {name!r}: names are NAME.stp")
        with self.lock:
            if name not in self.scripts:
                self.scripts[name] = Script(os.path.join(self.dir, name))
            return self.scripts[name]

    def metrics(self, name: str) -> bytes:
        sock = self.script(name).ensure(self)
        conn = _UnixConnection(sock, self.timeout)
        try:
            conn.request("GET", "/metrics")
            resp = conn.getresponse()
            body = resp.read(MAX_BODY + 1)
        except (socket.timeout, TimeoutError):
            raise Failed(504, f"{name} did not answer in {self.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as e:
            raise Failed(502, f"{name}: {e}") from None
        finally:
            conn.close()
        if len(body) > MAX_BODY:
            raise Failed(502, f"{name}: its metrics are larger than {MAX_BODY} bytes")
        if resp.status != 200:
            raise Failed(502 if resp.status >= 500 else resp.status, body.decode(errors="replace"))
        return body

    def listing(self) -> bytes:
        names = sorted(n for n in os.listdir(self.dir) if NAME.fullmatch(n))
        return "".join(f"{n}\n" for n in names).encode()

    def reap(self):
        """--keepalive: stop sessions idle that long; every second."""
        while not self.closing.wait(1.0):
            if self.keepalive is None:
                continue
            for s in list(self.scripts.values()):
                if s.proc is not None and time.monotonic() - s.last_used > self.keepalive:
                    s.stop()

    def close(self):
        self.closing.set()
        for s in list(self.scripts.values()):
            s.stop()


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "ftstap-exporter"
    timeout = 10                     # a client that takes longer to send its request is dropped
    exporter: Exporter

    def log_message(self, fmt, *args):   # quiet: one line per error only
        pass

    def _send(self, status: int, body: bytes, ctype: str = "text/plain; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if status == 503:
            self.send_header("Retry-After", "5")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if not self.exporter.slots.acquire(blocking=False):
            return self._send(503, b"too many requests at once\n")
        try:
            if path == "/":
                return self._send(200, self.exporter.listing())
            return self._send(200, self.exporter.metrics(path.lstrip("/")), CONTENT_TYPE)
        except Failed as e:
            return self._send(e.status, (e.text.rstrip("\n") + "\n").encode())
        finally:
            self.exporter.slots.release()

    do_HEAD = do_GET


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="ftstap-exporter",
        description="Serve a directory of SystemTap scripts as Prometheus endpoints (stap-exporter): "
                    "GET /NAME.stp starts NAME.stp on first request and relays its prometheus probe.",
        epilog="examples:\n  ftstap-exporter -d /etc/ftstap/exporter\n"
               "  ftstap-exporter -d scripts -k 300 --address 0.0.0.0 --port 9900 -- -DMAXMAPENTRIES=10000\n"
               "  curl http://127.0.0.1:9900/syscalls_by_proc.stp",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-d", "--scripts", default=".", metavar="DIR", help="directory of NAME.stp scripts (default .)")
    p.add_argument("-p", "--port", type=int, default=9900, help="port (default 9900)")
    p.add_argument("-a", "--address", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("-k", "--keepalive", type=float, default=None, metavar="SECONDS",
                   help="stop a script no request has asked for in SECONDS (default: keep it running)")
    p.add_argument("--start-timeout", type=float, default=60.0, metavar="SECONDS",
                   help="how long a script may take to start serving (default 60)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                   help="how long a running script may take to answer (default 30)")
    p.add_argument("ftstap_args", nargs="*", help="options for each ftstap session, after --")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not os.path.isdir(args.scripts):
        sys.exit(f"ftstap-exporter: {args.scripts} is not a directory")
    exp = Exporter(args.scripts, args.keepalive, args.start_timeout, args.timeout, args.ftstap_args)
    Handler.exporter = exp
    server_cls = http.server.ThreadingHTTPServer
    if ":" in args.address:
        server_cls = type("V6Server", (server_cls,), {"address_family": socket.AF_INET6})
    try:
        server = server_cls((args.address, args.port), Handler)
    except OSError as e:
        sys.exit(f"ftstap-exporter: cannot listen on {args.address}:{args.port}: {e.strerror}")
    server.daemon_threads = True
    threading.Thread(target=exp.reap, daemon=True).start()

    def _end(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, _end)
    signal.signal(signal.SIGINT, _end)
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"ftstap-exporter: serving {exp.dir} on http://{shown}:{port}/", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        exp.close()


if __name__ == "__main__":
    main()
