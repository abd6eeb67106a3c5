"""process(PID).syscall[.return] and process(PID).end: the probes of every
process (raw_syscalls, sched_process_exit) run for that one process only
(process(PID).begin & co.: test_live_process_lifecycle.py).  Ground truth: a child that
makes exactly 25 getppid calls when told to, then exits (each returning this test's pid, its parent)."""
import os
import subprocess
import sys

GETPPID = 110      # x86_64


def test_syscalls_and_end_of_one_process(tfs):
    child = subprocess.Popen([sys.executable, "-c", "import os, sys\nsys.stdin.readline()\n"
                              "for _ in range(25): os.getppid()\nsys.stdin.readline()\n"],
                             stdin=subprocess.PIPE, text=True)
    script = (f'global n, r; probe begin {{ println("ready") }} '
              f'probe process({child.pid}).syscall {{ if ($syscall == {GETPPID}) n++ }} '
              f'probe process({child.pid}).syscall.return {{ if ($syscall == {GETPPID} && $return == {os.getpid()}) r++ }} '
              f'probe process({child.pid}).end {{ printf("%d %d %s\\n", n, r, pp()); exit() }}')
    p = subprocess.Popen([sys.executable, "-m", "ftstap", "-e", script], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "ready\n", p.stderr.read()
        child.stdin.write("go\n")
        child.stdin.flush()
        child.stdin.close()
        child.wait(timeout=60)
        out, err = p.communicate(timeout=120)
    finally:
        p.kill()
        child.kill()
    assert p.returncode == 0, err
    assert out == f"25 25 process({child.pid}).end\n", (out, err)

