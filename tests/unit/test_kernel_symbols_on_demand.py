"""symname()/symdata() of a kernel address where no event loaded the symbol
table (a begin probe): native/backtrace.c reads /proc/kallsyms on first use."""
import subprocess
import sys

import pytest


def kallsyms_address(name: str) -> int | None:
    with open("/proc/kallsyms") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[2] == name and parts[1] in "tT":
                return int(parts[0], 16) or None
    return None


def test_symname_in_a_begin_probe():
    addr = kallsyms_address("do_sys_openat2") or kallsyms_address("schedule")
    if addr is None:
        pytest.skip("/proc/kallsyms shows no addresses here (kptr_restrict, or not root)")
    name = "do_sys_openat2" if kallsyms_address("do_sys_openat2") == addr else "schedule"
    r = subprocess.run([sys.executable, "-m", "ftstap", "-e",
                        f'probe begin {{ println(symname({addr})); println(symdata({addr} + 1)); exit() }}'],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == name and lines[1].startswith(f"{name}+0x1/0x"), r.stdout
