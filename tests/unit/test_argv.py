"""argc, argv[N], argv_N (lang/argv.py): the script's arguments as data."""
import subprocess
import sys


def run(script, *args):
    r = subprocess.run([sys.executable, "-m", "ftstap", "-e", script, *args], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_arguments_as_globals_and_an_array():
    out = run('probe begin { printf("%d|%s|%s|%s\\n", argc, argv_1, argv_2, argv_3) '
              'foreach (i+ in argv) printf("%d=%s\\n", i, argv[i]) exit() }', "one", 'two "quoted" \\ \t')
    assert out == '2|one|two "quoted" \\ \t|\n1=one\n2=two "quoted" \\ \t\n'


def test_no_arguments():
    assert run('probe begin { printf("%d %d %s.\\n", argc, [1] in argv, argv_1) exit() }') == "0 0 .\n"


def test_a_script_that_names_none_of_them_gets_none():
    r = subprocess.run([sys.executable, "-m", "ftstap", "-p2", "-e", "probe begin { exit() }", "x"],
                       capture_output=True, text=True, timeout=60)
    assert "argv" not in r.stdout and "begin(-9223372036854775808)" not in r.stdout
