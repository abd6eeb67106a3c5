"""--target-namespaces: how a target is described to the C core
(runtime/namespaces.py) and the ns_* tapset without a target."""
import os
import subprocess
import sys

import pytest

from ftstap.errors import UsageError
from ftstap.runtime import namespaces


def test_own_namespace_is_described():
    level, dev, ino, uids, gids = namespaces.describe(os.getpid())
    with open("/proc/self/status") as f:
        nspid = next(l for l in f if l.startswith("NSpid:")).split()[1:]
    assert level == len(nspid) - 1
    assert (dev, ino) == (os.stat("/proc/self/ns/pid").st_dev, os.stat("/proc/self/ns/pid").st_ino)
    assert len(uids) % 3 == 0 and len(gids) % 3 == 0 and uids


def test_missing_process_is_a_usage_error():
    with pytest.raises(UsageError, match="no process 999999999"):
        namespaces.describe(999999999)


def test_ns_functions_without_target_are_the_plain_ones():
    script = ('probe begin { printf("%d %d %d %d %d\\n", ns_pid() == pid(), ns_tid() == tid(), '
              'ns_ppid() == ppid(), ns_uid() == uid(), ns_pgid() == pgrp()); exit() }')
    r = subprocess.run([sys.executable, "-m", "ftstap", "-e", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "1 1 1 1 1\n"


def test_help_names_the_option():
    r = subprocess.run([sys.executable, "-m", "ftstap", "-h"], capture_output=True, text=True, timeout=60)
    assert "--target-namespaces" in r.stdout
