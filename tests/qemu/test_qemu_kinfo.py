"""Compiling here for the QEMU guest's kernel from its description (issue
17): the guest writes `ftstap --describe` (native/describe.c, as
ftstap-run --describe does) to its console, this machine -- which has no
kprobes -- compiles images for that kernel with -r, and a second guest runs
them: kernel.function("sys_sync") as a real kprobe there, and syscall.openat
whose filename the guest's kernel reads at the event (a kprobe with a
ustring fetch-arg: sema/syscall_strings.py), decided from the description."""
import base64
import gzip
import os
import re
import subprocess
import sys

import pytest

from qemutier import boot

SCRIPTS = {
    "sync": ('global count probe kernel.function("sys_sync") { count++; '
             'printf("sys_sync called %d times\\n", count) }'),
    "open": 'probe syscall.openat { if (pid() == target()) printf("%s %s\\n", name, argstr) }',
}
WORK = {"sync": "sh -c 'sync; sync; sync'", "open": "cat /etc/hostname"}


@pytest.fixture(scope="module")
def description(tmp_path_factory):
    g = boot(["/bin/sh", "-c", f"{sys.executable} -m ftstap --describe | gzip -1 | base64 -w0; echo; echo END"],
             timeout=600)
    m = re.search(r"^([A-Za-z0-9+/=]{1000,})\nEND$", g.output, re.M)
    assert g.rc == 0 and m, g.tail()
    path = tmp_path_factory.mktemp("kinfo") / "guest.kinfo"
    path.write_bytes(gzip.decompress(base64.b64decode(m.group(1))))
    return path


def test_images_compiled_here_run_in_the_guest(description, tmp_path):
    from ftstap.kernel.kinfo import load
    guest = load(str(description))
    assert guest.release != os.uname().release and guest.has_kprobes
    for name, script in SCRIPTS.items():
        p = subprocess.run([sys.executable, "-m", "ftstap", "-r", str(description), "-p4", "-m", name, "-e", script],
                           cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0 and "WARNING" not in p.stderr, p.stderr
    p3 = subprocess.run([sys.executable, "-m", "ftstap", "-r", str(description), "-p3", "-e", SCRIPTS["open"]],
                        capture_output=True, text=True, timeout=300)
    assert "__x64_sys_openat" in p3.stdout and ":ustring" in p3.stdout, p3.stdout    # the guest's kprobe
    lines = [f"cd {tmp_path}"]
    for name in SCRIPTS:
        lines += [f"echo '== {name}'", f"{sys.executable} -m ftstap --run {name}.ftsimg -c \"{WORK[name]}\" 2>&1",
                  "echo '== end'"]
    g = boot(["/bin/sh", "-c", "\n".join(lines)], timeout=600)
    out = {m.group(1): m.group(2) for m in re.finditer(r"^== (\w+)\n(.*?)^== end$", g.output, re.M | re.S)}
    assert out.get("sync", "").splitlines() == [f"sys_sync called {n} times" for n in (1, 2, 3)], g.tail()
    assert 'openat AT_FDCWD, "/etc/hostname", O_RDONLY' in out.get("open", "").splitlines(), g.tail()
