"""process.function("f") without a program: with -c CMD it means CMD's
executable, with -x PID that process's (as stap); without either, one clear
error.  (It used to end in an internal error, then in 'no match'.)"""
import os
import shutil
import subprocess
import sys


def ftstap(*args, timeout=120):
    p = subprocess.run([sys.executable, "-m", "ftstap", *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def test_c_names_the_program(tfs):
    true = os.path.realpath(shutil.which("true"))
    rc, out, err = ftstap("-p2", "-c", "true", "-e", 'probe process.function("main") { println(1) }')
    assert rc == 0, err
    assert f'process("{true}").function("main")' in out, out


def test_x_names_the_program(tfs):
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        rc, out, err = ftstap("-p2", "-x", str(sleeper.pid), "-e", 'probe process.function("main") { println(1) }')
    finally:
        sleeper.kill()
        sleeper.wait()
    assert rc == 0, err
    assert f'process("{os.path.realpath(shutil.which("sleep"))}").function("main")' in out, out


def test_the_command_runs_its_main_once(tfs):
    rc, out, err = ftstap("-c", "ls /", "-e", 'probe process.function("main") { printf("main of %s\\n", execname()) }')
    assert rc == 0, err
    assert [l for l in out.splitlines() if l.startswith("main of")] == ["main of ls"], out


def test_without_c_or_x_it_is_refused_clearly(tfs):
    rc, out, err = ftstap("-p2", "-e", 'probe process.function("main") { println(1) }')
    assert rc == 1
    assert "process.function(\"main\") names no program" in err and "<input>:1:7" in err, err
    assert "internal error" not in err
