"""-b (bulk mode) on the real kernel: a tracepoint handler's output lands in
the file of the CPU the event fired on, in stap-merge's framing, and nothing
of the script's output reaches the terminal.  Also -o FILE without -b, with
-c and -T."""
import os
import subprocess
import sys

import pytest

from ftstap.runtime.outputs import merge, read_frames
from ftstap.runtime.session import online_cpus

PINNED_GETPPID = r"""
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
/* getppid() N times on each CPU it may run on, pinned there first */
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0)
            continue;
        for (int i = 0; i < n; i++)
            syscall(SYS_getppid);
        printf("pinned %d\n", cpu);
    }
    return 0;
}
"""

SCRIPT = ('probe begin { printf("begin %d\\n", cpu()) } '
          'probe syscall.getppid { if (pid() == target()) printf("%d %d\\n", cpu(), pid()) } '
          'probe end { printf("end %d\\n", cpu()) }')


@pytest.fixture
def getppid_tp(tfs, need):
    need(os.path.isdir(os.path.join(tfs, "events", "syscalls", "sys_enter_getppid")),
         "syscalls:sys_enter_getppid tracepoint")


def ftstap(*argv, cwd=None):
    r = subprocess.run([sys.executable, "-m", "ftstap", *argv], capture_output=True, text=True,
                       timeout=120, cwd=cwd)
    assert "Traceback" not in r.stderr, r.stderr
    return r


def test_each_line_in_the_file_of_its_cpu(getppid_tp, cc, tmp_path):
    prog = cc(PINNED_GETPPID, "pinned_getppid")
    r = ftstap("-b", "-o", str(tmp_path / "trace"), "-c", f"{prog} 25", "-e", SCRIPT)
    assert r.returncode == 0, r.stderr
    pinned = [int(line.split()[1]) for line in r.stdout.splitlines()]
    assert r.stdout == "".join(f"pinned {cpu}\n" for cpu in pinned)   # only the command's own output
    assert len(pinned) >= 1

    files = {cpu: (tmp_path / f"trace_{cpu}").read_bytes() for cpu in online_cpus()}
    per_cpu, seqs = {}, []
    for cpu, data in files.items():
        for seq, text in read_frames(data):
            seqs.append(seq)
            for line in text.decode().splitlines():
                words = line.split()
                named = int(words[1] if words[0] in ("begin", "end") else words[0])
                assert named == cpu, f"{line!r} in the file of CPU {cpu}"
                if words[0] not in ("begin", "end"):
                    per_cpu[cpu] = per_cpu.get(cpu, 0) + 1
    assert per_cpu == {cpu: 25 for cpu in pinned}
    assert sorted(seqs) == list(range(1, len(seqs) + 1))     # one sequence over all files

    lines = merge(list(files.values())).decode().splitlines()   # stap-merge's order: the run's order
    assert lines[0].startswith("begin ") and lines[-1].startswith("end ")
    assert sorted(int(line.split()[0]) for line in lines[1:-1]) == [cpu for cpu in pinned for _ in range(25)]


def test_stpd_cpu_files_without_o_and_t_report_in_them(getppid_tp, cc, tmp_path):
    prog = cc(PINNED_GETPPID, "pinned_getppid")
    r = ftstap("-b", "-t", "-c", f"{prog} 5", "-e",
               'global n; probe syscall.getppid { if (pid() == target()) n++ }', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    names = sorted(f"stpd_cpu{cpu}" for cpu in online_cpus())
    assert sorted(n for n in os.listdir(tmp_path) if n.startswith("stpd_")) == names
    text = merge([(tmp_path / n).read_bytes() for n in names]).decode()
    assert "n=" in text and "probe hit report" in text


def test_o_without_b_with_c(getppid_tp, cc, tmp_path):
    prog = cc(PINNED_GETPPID, "pinned_getppid")
    out = tmp_path / "plain.txt"
    r = ftstap("-o", str(out), "-c", f"{prog} 3", "-e", SCRIPT)
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    assert lines[0].startswith("begin ") and lines[-1].startswith("end ")
    assert len(lines) == 2 + 3 * len(r.stdout.splitlines())


def test_o_without_b_with_T(tmp_path):
    out = tmp_path / "ticks.txt"
    r = ftstap("-o", str(out), "-T", "1", "-e", 'probe timer.ms(200) { println("tick") }')
    assert (r.returncode, r.stdout) == (0, ""), r.stderr
    assert set(out.read_text().splitlines()) == {"tick"}
