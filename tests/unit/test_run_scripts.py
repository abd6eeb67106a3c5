"""Whole scripts through the real command line (passes 1-5, no kernel
events): the output a stap user expects, byte for byte."""
import subprocess
import sys


def ftstap(*args, input=None):
    p = subprocess.run([sys.executable, "-m", "ftstap", *args], capture_output=True, text=True,
                       input=input, timeout=60)
    return p.returncode, p.stdout, p.stderr


def test_hello():
    assert ftstap("-e", 'probe begin { println("hi"); exit() }') == (0, "hi\n", "")


def test_foreach_sorted_by_value_with_limit():
    rc, out, err = ftstap("-e", "global a; probe begin { for (i = 0; i < 20; i++) a[i] = (i * 7) % 13; "
                                "foreach (k in a- limit 3) printf(\"%d %d\\n\", k, a[k]); exit() }")
    assert (rc, out) == (0, "11 12\n9 11\n7 10\n")


def test_hist_log_of_1_to_1000():
    rc, out, _ = ftstap("-e", "global s; probe begin { for (i = 1; i <= 1000; i++) s <<< i; "
                              "print(@hist_log(s)); exit() }")
    lines = out.split("\n")
    assert lines[0] == "value |-------------------------------------------------- count"
    assert lines[1] == "    0 |                                                     0"
    assert lines[2] == "    1 |                                                     1"
    assert lines[11] == "  512 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@   489"
    assert lines[12] == " 1024 |                                                     0"
    assert lines[13] == " 2048 |                                                     0"
    assert lines[14:] == ["", ""]


def test_hist_linear():
    rc, out, _ = ftstap("-e", "global s; probe begin { for (i = 0; i < 100; i++) s <<< i; "
                              "print(@hist_linear(s, 0, 100, 10)); exit() }")
    lines = out.split("\n")
    assert lines[1] == "    0 |@@@@@@@@@@                                         10"
    assert lines[10] == "   90 |@@@@@@@@@@                                         10"
    assert lines[11] == "  100 |                                                    0"


def test_printf_flags():
    rc, out, _ = ftstap("-e", 'probe begin { printf("%-10s|%5d|%#x|%b\\n", "abc", 42, 255, 65); exit() }')
    assert out == "abc       |   42|0xff|A\0\0\0\0\0\0\0\n"


def test_array_overflow_error():
    rc, out, err = ftstap("-e", "global a[3]; probe begin { for (i = 0; i < 5; i++) a[i] = i; exit() }")
    assert rc == 1
    assert "ERROR: Array overflow, check MAXMAPENTRIES near identifier 'a' at <input>:1:52" in err


def test_division_by_zero_caught():
    rc, out, err = ftstap("-e", "probe begin { try { x = 1; y = 0; z = x / y } catch (msg) "
                                "{ println(\"caught: \", msg) } exit() }")
    assert (rc, out, err) == (0, "caught: division by zero\n", "")


def test_division_by_zero_uncaught_names_the_place():
    rc, out, err = ftstap("-e", "probe begin { y = 0; z = 1 / y; exit() }")
    assert rc == 1
    assert "ERROR: division by zero near operator '/' at <input>:1:28" in err


def test_end_probe_and_autoprint():
    rc, out, _ = ftstap("-e", 'global done; probe begin { exit() } probe end { done = 1; println("bye") }')
    assert out.startswith("bye\n")


def test_increment_used_as_a_value_is_a_read():
    """`++c` in an expression reads c (no autoprint); a bare `c++;` only writes it."""
    rc, out, _ = ftstap("-e", 'global c; probe begin { if (++c >= 1) println("x"); exit() }')
    assert (rc, out) == (0, "x\n")
    rc, out, _ = ftstap("-e", 'global c, d; probe begin { c++; for (i = 0; i < 1; i++) d[i]--; exit() }')
    assert (rc, out) == (0, "c=1\nd[0]=-1\n")


def test_script_arguments_and_globals_from_the_command_line():
    rc, out, _ = ftstap("-G", "g=5", "-e", 'global g = 1; probe begin { printf("%d %s\\n", g + $1, @2); exit() }',
                        "10", "x")
    assert (rc, out) == (0, "15 x\n")


def test_timer_probe_counts_then_exits():
    rc, out, _ = ftstap("-e", "global n; probe timer.ms(10) { n++; if (n == 5) exit() } "
                              "probe end { printf(\"n=%d\\n\", n) }")
    assert (rc, out) == (0, "n=5\n")


def test_recursion_limit():
    rc, out, err = ftstap("-e", "function f(n) { if (n < 0) return 0; return f(n + 1) } probe begin { f(0) }")
    assert rc == 1 and "MAXNESTING exceeded" in err


def test_unresolvable_return_type_is_an_error_not_a_crash():
    rc, out, err = ftstap("-e", "function f(n) { return f(n + 1) } probe begin { f(0) }")
    assert rc == 1 and "unresolved" in err and "Traceback" not in err


def test_maxaction():
    rc, out, err = ftstap("-DMAXACTION=100", "-e", "global n; probe timer.ms(1) { while (1) n++ }")
    assert rc == 1 and "MAXACTION exceeded" in err


def test_in_a_histogram_is_a_nonzero_bucket():
    """stap: `b in @hist_log(s)` is true when @hist_log(s)[b] != 0."""
    rc, out, err = ftstap("-e", "global s, t; probe begin { s <<< 1; s <<< 5; s <<< 5; s <<< 12; t <<< 7; "
                                "for (b = 0; b < 140; b++) if (b in @hist_log(s)) printf(\"%d:%d \", b, @hist_log(s)[b]); "
                                "printf(\"| %d %d\\n\", 1 in @hist_linear(t, 0, 20, 5), 2 in @hist_linear(t, 0, 20, 5)); "
                                "exit() }")
    assert (rc, out, err) == (0, "65:1 67:2 68:1 | 0 1\n", "")   # linear: bucket 0 is the underflow
    rc, _, err = ftstap("-p1", "-e", "global s; probe begin { if ([1, 2] in @hist_log(s)) exit() }")
    assert rc == 1 and "a histogram has one index" in err
