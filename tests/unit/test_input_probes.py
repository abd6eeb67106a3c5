"""input.char and input.line (tapsets/input.stp, native/stdin.c): ftstap's
standard input, a character or a line at a time, as stap offers it."""
import os
import pty
import resource
import subprocess
import sys
import termios
import time

SCRIPT = ('global n probe input.char { n++; printf("[%s]", char) } '
          'probe input.line { printf("<%s>", line); if (line == "stop\\n") exit() } '
          'probe end { printf("\\n%d chars\\n", n) }')


def test_characters_and_lines_from_a_pipe():
    r = subprocess.run([sys.executable, "-m", "ftstap", "-e", SCRIPT], input="ab\nstop\nnever\n",
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "[a][b][\n]<ab\n>[s][t][o][p][\n]<stop\n>\n8 chars\n"


def test_end_of_input_is_not_a_busy_loop():
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run([sys.executable, "-m", "ftstap", "-e",
                        'probe input.char { printf("%s", char) } probe timer.ms(1500) { exit() }'],
                       input="xy", capture_output=True, text=True, timeout=60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert r.returncode == 0 and r.stdout == "xy", r.stderr
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu < 1.2, cpu            # start-up costs ~0.3 s; spinning at EOF would cost the whole 1.5 s


def test_a_terminal_is_read_without_line_buffering_and_restored():
    master, slave = pty.openpty()
    canonical = termios.tcgetattr(slave)[3] & termios.ICANON
    p = subprocess.Popen([sys.executable, "-m", "ftstap", "-e",
                          'probe input.char { printf("got %s\\n", char); if (char == "q") exit() }'],
                         stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and termios.tcgetattr(slave)[3] & termios.ICANON:
            time.sleep(0.05)                          # armed: the terminal left canonical mode
        assert not termios.tcgetattr(slave)[3] & termios.ICANON
        os.write(master, b"q")                        # no newline: a line discipline would hold it
        out, err = p.communicate(timeout=30)
        assert p.returncode == 0 and out == "got q\n", err
        assert termios.tcgetattr(slave)[3] & termios.ICANON == canonical    # put back as it was
    finally:
        p.kill()
        os.close(master)
        os.close(slave)
