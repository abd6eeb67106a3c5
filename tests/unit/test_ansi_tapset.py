"""stap's ansi tapset: the escape sequences each function writes, with
ansi_set_color's 1-, 2- and 3-argument forms (stap >= 3.0) the same as
ansi_set_color2/3."""
import subprocess
import sys


def out(script: str) -> bytes:
    p = subprocess.run([sys.executable, "-m", "ftstap", "-e", f"probe begin {{ {script} exit() }}"],
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_set_color_in_one_two_and_three_arguments():
    assert out("ansi_set_color(31);") == b"\x1b[31m"
    assert out("ansi_set_color(31, 42);") == out("ansi_set_color2(31, 42);") == b"\x1b[42;31m"
    assert out("ansi_set_color(31, 42, 1);") == out("ansi_set_color3(31, 42, 1);") == b"\x1b[1;42;31m"
    assert out("ansi_reset_color();") == b"\x1b[0;0m"
