"""`@cast(task_current(), "task_struct")->pid|tgid|comm` without reading
kernel memory: the event carries the current task's ids and name, so they
equal tid(), pid() and execname() in every probe; other fields are an
error at pass 3, never a wrong value."""
import subprocess
import sys

SCRIPT = r'''
probe syscall.getppid {
    if (pid() == target())
        printf("%s|%s|%d|%d|%d|%d\n", execname(), kernel_string(@cast(task_current(), "task_struct")->comm),
               pid(), @cast(task_current(), "task_struct")->tgid,
               tid(), @cast(task_current(), "task_struct")->pid)
}
'''


def ftstap(*args):
    p = subprocess.run([sys.executable, "-m", "ftstap", *args], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in p.stderr, p.stderr
    return p


def test_current_task_fields_equal_the_context(tfs, need, cc):
    prog = cc("#include <unistd.h>\nint main(void) { getppid(); getppid(); return 0; }\n", "two_getppid")
    p = ftstap("-c", prog, "-e", SCRIPT)
    assert p.returncode == 0, p.stderr
    rows = [l.split("|") for l in p.stdout.splitlines()]
    assert len(rows) == 2, p.stdout
    for name, comm, pid, tgid, tid, tpid in rows:
        assert name == comm == "two_getppid" and pid == tgid and tid == tpid


def test_other_current_task_fields_are_refused(tfs):
    p = ftstap("-p3", "-e", 'probe syscall.getppid { println(@cast(task_current(), "task_struct")->prio) }')
    assert p.returncode != 0
    assert "reads kernel memory through a pointer" in p.stderr
