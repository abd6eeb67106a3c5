"""process[(PATH|PID)].begin/.end/.thread.begin/.thread.end and
process("PATH").syscall on the real kernel (probes/process_lifecycle.py).

Ground truth is what the workloads report about themselves: their pids,
their threads' ids, the pid of a subshell read from its own /proc/self/stat.
Each probe prints what it saw; the test keeps the lines of the workload's
processes (other processes of the machine fire the unnamed probes too)."""
import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

READ = 0            # x86_64 syscall numbers
pytestmark = pytest.mark.skipif(os.uname().machine != "x86_64", reason="x86_64 syscall numbers")


def _ftstap(script: str, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ftstap", *args, "-e", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def _lines(out: str, word: str) -> list[list[str]]:
    return [line.split()[1:] for line in out.splitlines() if line.startswith(word + " ")]


WORKLOAD = textwrap.dedent("""\
    import os, threading, time
    kids = []
    for _ in range(2):                       # two plain forks
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        kids.append(pid)
    pid = os.fork()                          # a fork that execs /bin/true
    if pid == 0:
        os.execv("/bin/true", ["true"])
    kids.append(pid)
    for k in kids:
        os.waitpid(k, 0)
    ts = [threading.Thread(target=time.sleep, args=(0.1,)) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("REPORT", os.getpid(), *kids, "/", *(t.native_id for t in ts), flush=True)
    time.sleep(0.3)                          # its children's records are in before it exits
""")


def test_every_process_begin_end_and_threads(tfs, tracepoints, tmp_path):
    tracepoints("raw_syscalls:sys_exit", "sched:sched_process_exec", "sched:sched_process_exit")
    work = tmp_path / "work.py"
    work.write_text(WORKLOAD)
    mine = "(pid() == target() || ppid() == target())"
    script = (f'probe process.begin {{ if {mine} printf("begin %d %d %s\\n", pid(), tid(), execname()) }} '
              f'probe process.end {{ if {mine} printf("end %d %d %s\\n", pid(), tid(), execname()) }} '
              f'probe process.thread.begin {{ if {mine} printf("tbegin %d %d\\n", pid(), tid()) }} '
              f'probe process.thread.end {{ if {mine} printf("tend %d %d\\n", pid(), tid()) }}')
    p = _ftstap(script, "-c", f"{sys.executable} {work}")
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    report = next(line.split() for line in out.splitlines() if line.startswith("REPORT"))
    me, forked, execed, tids = int(report[1]), report[2:4], report[4], report[6:]
    assert len(tids) == 3
    begins, ends = _lines(out, "begin"), _lines(out, "end")
    for kid in forked:          # once each, in the child, after the fork; its exit
        assert [b for b in begins if b[0] == kid] == [[kid, kid, "python3"]], out
        assert [e for e in ends if e[0] == kid] == [[kid, kid, "python3"]], out
    # the execing child: begins after the fork and after the exec; ends at the exec and at its exit
    assert [b for b in begins if b[0] == execed] == [[execed, execed, "python3"], [execed, execed, "true"]], out
    assert len([e for e in ends if e[0] == execed]) == 2, out
    # the workload's own threads: thread.begin/.end for each, never for a process's first thread
    assert sorted(t for pid_, t in _lines(out, "tbegin") if pid_ == str(me)) == sorted(tids), out
    assert sorted(t for pid_, t in _lines(out, "tend") if pid_ == str(me)) == sorted(tids), out
    assert not [t for t in _lines(out, "tbegin") if t[1] in forked + [execed]], out
    # no .begin for a thread, no .thread.begin for a first thread
    assert not [b for b in begins if b[1] in tids], out


def test_program_begin_end_and_syscalls(tfs, tracepoints, tmp_path):
    """process("PATH"): a copy of cat and one of dash, so only this test runs them."""
    tracepoints("raw_syscalls:sys_enter", "raw_syscalls:sys_exit", "task:task_newtask",
                "sched:sched_process_exec", "sched:sched_process_exit")
    cat, sh = tmp_path / "mycat", tmp_path / "mysh"
    shutil.copy("/bin/cat", cat)
    shutil.copy(os.path.realpath("/bin/sh"), sh)
    # running before the session: fires when it next returns to user space (a line to read)
    before = subprocess.Popen([str(cat)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    script = (f'global reads, other; probe begin {{ println("ready") }} '
              f'probe process("{cat}").begin, process("{sh}").begin {{ printf("begin %d %s\\n", pid(), pp()) }} '
              f'probe process("{cat}").end, process("{sh}").end {{ printf("end %d %s\\n", pid(), pp()) }} '
              f'probe process("{cat}").syscall {{ if ($syscall == {READ}) reads[pid()]++ }} '
              f'probe end {{ foreach (p in reads) printf("reads %d %d\\n", p, reads[p]) }}')
    p = _ftstap(script)
    try:
        assert p.stdout.readline() == "ready\n", p.stderr.read()
        before.stdin.write("x\n")
        before.stdin.flush()
        assert before.stdout.readline() == "x\n"
        # a new cat: begins at its entry point, ends at its exit
        new = subprocess.run([str(cat)], input="y\n", capture_output=True, text=True, timeout=30)
        assert new.stdout == "y\n"
        # a new shell that forks a subshell (its pid from its own /proc/self/stat)
        shell = subprocess.run([str(sh), "-c", 'echo main $$; (read p rest < /proc/self/stat; echo sub $p); exit 0'],
                               capture_output=True, text=True, timeout=30)
        words = dict(line.split() for line in shell.stdout.splitlines())
        before.stdin.close()
        before.wait(timeout=30)
        time.sleep(0.5)
        p.send_signal(2)
        out, err = p.communicate(timeout=60)
    finally:
        p.kill()
        before.kill()
    assert p.returncode == 0, err
    begins, ends = _lines(out, "begin"), _lines(out, "end")
    want_cat = f'process("{cat}")'
    want_sh = f'process("{sh}")'
    for pid, prog in ((before.pid, want_cat), (words["main"], want_sh), (words["sub"], want_sh)):
        assert [b for b in begins if b[0] == str(pid)] == [[str(pid), prog + ".begin"]], out
        assert [e for e in ends if e[0] == str(pid)] == [[str(pid), prog + ".end"]], out
    assert len([b for b in begins if b[1] == want_cat + ".begin"]) == 2, out     # before and new
    assert len([e for e in ends if e[1] == want_cat + ".end"]) == 2, out
    # read() entries of the cats alone: the one running before entered its first read before the
    # session, so one is seen (after the line, the read that meets the end of its input)
    reads = {int(a): int(b) for a, b in _lines(out, "reads")}
    cats = {int(b[0]) for b in begins if b[1] == want_cat + ".begin"}
    assert set(reads) == cats and reads[before.pid] == 1, out
    assert all(n >= 2 for pid, n in reads.items() if pid != before.pid), out     # its line, its end


def test_one_process_begin_threads_and_end(tfs, tracepoints):
    """process(PID): a process running before the session; .begin fires once,
    when it next returns to user space, .thread.begin for the threads it
    starts, .end once."""
    tracepoints("raw_syscalls:sys_exit", "sched:sched_process_exec", "sched:sched_process_exit")
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""\
        import sys, threading, time
        sys.stdin.readline()
        ts = [threading.Thread(target=time.sleep, args=(0.1,)) for _ in range(2)]
        for t in ts: t.start()
        for t in ts: t.join()
        print(*(t.native_id for t in ts), flush=True)
        sys.stdin.readline()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    pid = child.pid
    script = (f'probe begin {{ println("ready") }} '
              f'probe process({pid}).begin {{ printf("begin %d %d %s\\n", pid(), tid(), pp()) }} '
              f'probe process({pid}).thread.begin {{ printf("tbegin %d %d\\n", pid(), tid()) }} '
              f'probe process({pid}).thread.end {{ printf("tend %d %d\\n", pid(), tid()) }} '
              f'probe process({pid}).end {{ printf("end %d %s\\n", pid(), pp()); exit() }}')
    p = _ftstap(script)
    try:
        assert p.stdout.readline() == "ready\n", p.stderr.read()
        child.stdin.write("go\n")
        child.stdin.flush()
        tids = child.stdout.readline().split()
        child.stdin.write("end\n")
        child.stdin.close()
        child.wait(timeout=60)
        out, err = p.communicate(timeout=120)
    finally:
        p.kill()
        child.kill()
    assert p.returncode == 0, err
    assert _lines(out, "begin") == [[str(pid), str(pid), f"process({pid}).begin"]], out
    assert sorted(t for _, t in _lines(out, "tbegin")) == sorted(tids), out
    assert sorted(t for _, t in _lines(out, "tend")) == sorted(tids), out
    assert _lines(out, "end") == [[str(pid), f"process({pid}).end"]], out
