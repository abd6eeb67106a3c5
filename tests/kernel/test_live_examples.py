"""The scripts the README points a newcomer at run and print what they say."""
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def run_example(name, *extra):
    p = subprocess.run([sys.executable, "-m", "ftstap", *extra, os.path.join(ROOT, "examples", name)],
                       capture_output=True, text=True, timeout=120)
    assert "Traceback" not in p.stderr
    return p


def test_hello():
    p = run_example("hello.stp")
    assert (p.returncode, p.stdout) == (0, "hello from ftstap on this kernel\n")


def test_syscalls_by_process_lists_itself():
    p = run_example("syscalls_by_process.stp")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["PROCESS", "PID", "SYSCALLS"]
    rows = [re.match(r"^(\S.*?)\s+(\d+)\s+(\d+)$", line) for line in lines[1:]]
    assert rows and all(rows), p.stdout
    counts = [int(r.group(3)) for r in rows]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0
