"""String and printf builtins through the real command line: the exact
text stap prints (cases modelled on stap's own string/printf tests)."""
import subprocess
import sys


def run(script: str, *flags: str) -> str:
    p = subprocess.run([sys.executable, "-m", "ftstap", *flags, "-e", script], capture_output=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout.decode("latin-1")


def lines(script: str, *flags: str) -> list[str]:
    return run(script, *flags).split("\n")[:-1]


def test_strtol_is_the_kernels_simple_strtol():
    out = lines('probe begin { println(strtol("1", 10)); println(strtol("-1", 10)); '
                'println(strtol(" 1 2", 10)); println(strtol("", 10)); println(strtol("abc", 10)); '
                'println(strtol("12ab", 10)); println(strtol("0x1f", 16)); println(strtol("0x1f", 0)); '
                'println(strtol("017", 0)); println(strtol("1000", 2)); println(strtol("ff", 16)); exit() }')
    assert out == ["1", "-1", "0", "0", "0", "12", "31", "31", "15", "8", "255"]


def test_strpos():
    out = lines('probe begin { println(strpos("foo", "abcfoobad")); println(strpos("abcfoobad", "foo")); '
                'println(strpos("foo", "")); println(strpos("", "foo")); println(strpos("", "")); exit() }')
    assert out == ["-1", "3", "0", "-1", "0"]


def test_str_replace_and_nul_in_literals():
    out = lines('probe begin { s = "hello system tap"; println(str_replace(s, "system", "pointer")); '
                'println(str_replace(s, "system", "\\0")); println(str_replace(s, "\\0", "x")); '
                'println(str_replace("aaa", "a", "bb")); println(str_replace("", "", "x")); exit() }')
    assert out == ["hello pointer tap", "hello  tap", "hello system tap", "bbbbbb", ""]


def test_str_replace_truncates_at_maxstringlen():
    out = lines('probe begin { println(str_replace("abcdefghij", "j", "JKLMNOP")); exit() }',
                "-DMAXSTRINGLEN=12")
    assert out == ["abcdefghiJK"]


def test_text_str_escapes_and_text_strn_truncation():
    script = ('probe begin { a = "\\n\\nXYZZY\\031"; b = "\\077\\231\\a\\n\\n\\r\\n"; c = a.b; '
              'println(text_str(c)); println(text_strn(a, 10, 0)); println(text_strn(b, 12, 0)); '
              'println(text_strn(c, 0, 1)); println(text_strn(a, 10, 1)); println(text_strn(b, 15, 1)); '
              'println(text_strn(a, 15, 1)); println(string_quoted("say \\"hi\\"\\\\")); '
              'println(text_strn("1234567890", 10, 1)); println(text_strn("1234567890", 12, 1)); exit() }')
    assert lines(script) == [
        "\\n\\nXYZZY\\031?\\231\\a\\n\\n\\r\\n",
        "\\n\\nXYZZY",
        "?\\231\\a\\n\\n",
        '"\\n\\nXYZZY\\031?\\231\\a\\n\\n\\r\\n"',
        '"\\n\\nX"...',
        '"?\\231\\a\\n"...',
        '"\\n\\nXYZZY\\031"',
        '"say \\"hi\\"\\\\"',
        '"12345"...',
        '"1234567890"',
    ]


def test_octal_and_hex_escapes_are_single_bytes():
    assert run('probe begin { printf("%s|%d\\n", "\\231\\xff", strlen("\\231\\xff")); exit() }') \
        == "\x99\xff|2\n"


def test_print_char():
    assert run("probe begin { print_char(65); print_char(66); for (i = 67; i < 70; i++) print_char(i); "
               "print_char(10); exit() }") == "ABCDE\n"


def test_sprint_of_histograms():
    out = run("global l, m; probe begin { for (i = 0; i < 128; i++) l <<< 0; m[1] <<< 4; "
              "s = sprint(@hist_linear(l, 0, 0, 1)); print(s); "
              'print(sprintln("m:", @hist_log(m[1]))); exit() }')
    assert out == ("value |-------------------------------------------------- count\n"
                   "    0 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@         128\n\n"
                   "m:value |-------------------------------------------------- count\n"
                   "    1 |                                                   0\n"
                   "    2 |                                                   0\n"
                   "    4 |@                                                  1\n"
                   "    8 |                                                   0\n"
                   "   16 |                                                   0\n\n\n")


def test_prints_macros():
    out = lines("global a, b, h; probe begin { a <<< 1; b[1] <<< 2; b[1] <<< 3; b[2] <<< 4; "
                "h[1,1,1,1,1,1,1] <<< 2; exit() } probe end { @prints(a); @prints1(b); @prints7(h) }")
    assert out == ["@count=1 @min=1 @max=1 @sum=1 @avg=1",
                   "[1] @count=2 @min=2 @max=3 @sum=5 @avg=2",
                   "[2] @count=1 @min=4 @max=4 @sum=4 @avg=4",
                   "[1,1,1,1,1,1,1,] @count=1 @min=2 @max=2 @sum=2 @avg=2"]


def test_autoprint_of_integers_is_decimal():
    out = lines("global x, a%[3], s; probe begin { x = 5; s = \"q\"; for (i = 0; i < 5; i++) a[i] = i; exit() }")
    assert "x=5" in out and 's="q"' in out
    i = out.index("a[4]=4")                 # by value, descending; a% keeps the last 3
    assert out[i:i + 3] == ["a[4]=4", "a[3]=3", "a[2]=2"] and len(out) == 5
