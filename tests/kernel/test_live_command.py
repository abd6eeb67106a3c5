"""-c with `=` in a word (issue 14): exec'd directly, so target() is the
command itself and pid() == target() sees its events."""
import subprocess
import sys


def test_target_is_the_command_itself():
    r = subprocess.run([sys.executable, "-m", "ftstap", "-c", "dd if=/dev/null of=/dev/null count=1", "-e",
                        'probe kernel.trace("sched:sched_process_exec") { if (pid() == target()) println(execname()) }'],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout == "dd\n", r.stderr
