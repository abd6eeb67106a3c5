"""stap's command-line flags, through the real CLI (`python -m ftstap` in a
subprocess): exit codes, messages, and what reaches the script."""
import re
import os
import subprocess
import sys

import pytest


HELLO = 'probe begin { println("hi") }'
HELLO_P1 = 'probe begin {\n  println("hi");\n}\n'


def ftstap(*argv, stdin=None, env=None, cwd=None):
    r = subprocess.run([sys.executable, "-m", "ftstap", *argv], input=stdin, capture_output=True,
                       text=True, timeout=60, env=env, cwd=cwd)
    assert "Traceback" not in r.stderr, r.stderr
    return r


def usage_error(r) -> str:
    """The one line of a usage error (exit status 1, nothing on stdout)."""
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert lines, "no message"
    return lines[0]


# ---- where the script comes from ------------------------------------------------------
def test_dash_e():
    r = ftstap("-p1", "-e", HELLO)
    assert (r.returncode, r.stdout) == (0, HELLO_P1)


def test_script_file(tmp_path):
    f = tmp_path / "hello.stp"
    f.write_text(HELLO)
    r = ftstap("-p1", str(f))
    assert (r.returncode, r.stdout) == (0, HELLO_P1)


def test_stdin_dash():
    r = ftstap("-p1", "-", stdin=HELLO)
    assert (r.returncode, r.stdout) == (0, HELLO_P1)


def test_stdin_errors_are_named_input():
    r = ftstap("-p1", "-", stdin="probe begin { x = }")
    assert r.returncode == 1
    assert "saw: operator '}' at <input>:1:19" in r.stderr
    assert r.stderr.rstrip().endswith("Pass 1: parse failed.")


def test_two_dash_e_rejected():
    assert usage_error(ftstap("-e", HELLO, "-e", HELLO)) == "usage error: only one -e SCRIPT may be given"


def test_no_script():
    assert usage_error(ftstap("-p1")) == \
        "usage error: no script given: pass a FILE, '-' for stdin, or -e SCRIPT"


# ---- script arguments ------------------------------------------------------------------
def test_arguments_after_dash_e_reach_the_script():
    r = ftstap("-p1", "-e", "probe begin { x = $1; y = @2; n = $# }", "42", "two words")
    assert r.returncode == 0
    assert r.stdout == 'probe begin {\n  x = 42;\n  y = "two words";\n  n = 2;\n}\n'


def test_arguments_after_script_file(tmp_path):
    f = tmp_path / "a.stp"
    f.write_text("probe begin { x = @1 . $2 }")
    r = ftstap("-p1", str(f), "hello", '"w"')
    assert (r.returncode, r.stdout) == (0, 'probe begin {\n  x = ("hello" . "w");\n}\n')


def test_missing_argument_is_a_parse_error():
    r = ftstap("-p1", "-e", "probe begin { x = $1 }")
    assert r.returncode == 1
    assert "command line argument index 1 out of range [1-0]" in r.stderr


def test_dash_dash_ends_options():
    r = ftstap("-p1", "-e", "probe begin { x = @1 }", "--", "-p5")
    assert (r.returncode, r.stdout) == (0, 'probe begin {\n  x = "-p5";\n}\n')


# ---- -p --------------------------------------------------------------------------------
@pytest.mark.parametrize("n", ["0", "6", "-1", "99"])
def test_pass_out_of_range(n):
    assert usage_error(ftstap(f"-p{n}", "-e", HELLO)) == \
        f"usage error: -p expects a pass number from 1 to 5, not {int(n)}"


def test_pass_not_a_number():
    line = usage_error(ftstap("-pfoo", "-e", HELLO))
    assert line == "ftstap: Invalid value for '-p': 'foo' is not a valid integer."


def test_pass_with_separate_argument():
    r = ftstap("-p", "1", "-e", HELLO)
    assert (r.returncode, r.stdout) == (0, HELLO_P1)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_each_pass_stops_where_asked(n, tmp_path):
    # -p4's private directory goes under TMPDIR: the test's own, not /tmp
    r = ftstap(f"-p{n}", "-e", "probe begin { println(1) }", cwd=tmp_path,
               env=dict(os.environ, TMPDIR=str(tmp_path)))
    assert r.returncode == 0
    marker = {2: "# probes", 3: "PRINTF", 4: ".ftsimg"}[n]
    assert marker in r.stdout
    if n == 4:
        assert r.stdout.strip().startswith(str(tmp_path))


def test_list_probes():
    r = ftstap("-l", "begin")
    assert (r.returncode, r.stdout) == (0, "begin\n")


def test_dump_probe_types_lists_begin_and_end():
    r = ftstap("--dump-probe-types")
    assert r.returncode == 0
    assert {"begin", "end"} <= set(r.stdout.split())


def test_run_missing_image_is_one_error(tmp_path):
    r = ftstap("--run", str(tmp_path / "missing.img"))
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1


# ---- combined short flags ----------------------------------------------------------------
def test_gp1_allows_embedded_c():
    script = "%{ #include <linux/sched.h> %}\nprobe begin { }"
    r = ftstap("-gp1", "-e", script)
    assert (r.returncode, r.stdout) == (0, "%{ #include <linux/sched.h> %}\nprobe begin {\n}\n")
    r = ftstap("-p1", "-e", script)
    assert r.returncode == 1
    assert "embedded code is only allowed in guru mode (-g)" in r.stderr


@pytest.mark.parametrize("flags", ["-wp9", "-up9", "-gp9", "-vp9", "-kp9"])
def test_combined_flags_split_into_flag_and_pass(flags):
    assert usage_error(ftstap(flags, "-e", HELLO)) == "usage error: -p expects a pass number from 1 to 5, not 9"


def test_wp1_suppresses_warnings():
    script = "@define count %( 1 %)\nprobe begin { x = @count }"
    loud = ftstap("-p1", "-e", script)
    assert (loud.returncode, "shadows a built-in operator" in loud.stderr) == (0, True)
    quiet = ftstap("-wp1", "-e", script)
    assert (quiet.returncode, quiet.stderr, quiet.stdout) == (0, "", loud.stdout)


def test_warnings_as_errors():
    r = ftstap("-W", "-p1", "-e", "@define count %( 1 %)\nprobe begin { x = @count }")
    assert r.returncode == 1
    assert "warnings are errors (-W)" in r.stderr


def test_vp1_reports_pass_1():
    r = ftstap("-vp1", "-e", HELLO)
    assert r.returncode == 0
    assert re.search(r"^Pass 1: parsed user script and \d+ library scripts using \d+virt/\d+res/\d+shr/\d+data kb, "
                     r"in \d+usr/\d+sys/\d+real ms\.$", r.stderr, re.M), r.stderr


def test_v_reports_every_pass_with_its_cost_as_stap():
    r = ftstap("-v", "--disable-cache", "-e", 'global g, h; function f() { return 1 } probe begin { g = f(); h = 2; exit() } probe end { }')
    assert r.returncode == 0, r.stderr
    passes = [l for l in r.stderr.splitlines() if l.startswith("Pass ")]
    assert [l.split(":")[0] for l in passes] == ["Pass 1", "Pass 2", "Pass 3", "Pass 4", "Pass 5", "Pass 5"], passes
    # what the program holds, counted as stap counts it (the end probe does nothing: elided)
    assert re.match(r"Pass 2: analyzed script: 1 probe, 1 function, 0 embeds, 2 globals using .* kb, "
                    r"in \d+usr/\d+sys/\d+real ms\.$", passes[1]), passes
    assert passes[4] == "Pass 5: starting run."
    assert re.match(r"Pass 5: run completed in \d+usr/\d+sys/\d+real ms\.$", passes[5]), passes


# ---- -D -I -G -----------------------------------------------------------------------------
def test_define_limit_accepted():
    r = ftstap("-p1", "-D", "MAXACTION=10000", "-DMAXMAPENTRIES=0x100", "-e", HELLO)
    assert (r.returncode, r.stdout) == (0, HELLO_P1)


def test_define_without_value():
    r = ftstap("-p1", "-D", "STP_NO_OVERLOAD", "-e", HELLO)
    assert r.returncode == 0


@pytest.mark.parametrize("arg, line", [
    ("MAXACTION=abc", "usage error: -D MAXACTION expects a number from 1 to 9223372036854775807, not 'abc'"),
    ("=1", "usage error: -D expects NAME=VALUE, not '=1'"),
    ("1X=2", "usage error: -D expects NAME=VALUE, not '1X=2'"),
])
def test_define_rejected(arg, line):
    assert usage_error(ftstap("-D", arg, "-e", HELLO)) == line


def test_include_dir_supplies_macros(tmp_path):
    (tmp_path / "m.stpm").write_text("@define KB(n) %( (@n * 1024) %)\n")
    r = ftstap("-p1", "-I", str(tmp_path), "-e", "probe begin { x = @KB(2) }")
    assert (r.returncode, r.stdout) == (0, "probe begin {\n  x = (2 * 1024);\n}\n")


def test_systemtap_tapset_env_supplies_macros(tmp_path):
    import os
    (tmp_path / "m.stpm").write_text("@define TWO %( 2 %)\n")
    env = dict(os.environ, SYSTEMTAP_TAPSET=str(tmp_path))
    r = ftstap("-p1", "-e", "probe begin { x = @TWO }", env=env)
    assert (r.returncode, r.stdout) == (0, "probe begin {\n  x = 2;\n}\n")


def test_global_setting_accepted():
    r = ftstap("-p1", "-G", "lim=5", "-G", "name=foo", "-e", "global lim, name\n" + HELLO)
    assert r.returncode == 0


@pytest.mark.parametrize("arg", ["1x=2", "=3", "a-b=1"])
def test_global_setting_rejected(arg):
    assert usage_error(ftstap("-G", arg, "-e", HELLO)) == f"usage error: -G expects NAME=VALUE, not {arg!r}"


# ---- other checks --------------------------------------------------------------------------
def test_version():
    r = ftstap("-V")
    assert r.returncode == 0
    assert re.match(r"ftstap \d+\.\d+\.\d+: SystemTap-compatible tracer \(language of SystemTap 5\.3\)",
                    r.stdout)


def test_version_follows_compatible():
    r = ftstap("-V", "--compatible=4.0")
    assert "(language of SystemTap 4.0)" in r.stdout


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help(flag):
    r = ftstap(flag)
    assert r.returncode == 0
    assert r.stdout.startswith("Usage: ftstap [OPTIONS]")
    for opt in ("-e SCRIPT", "-p NUM", "-D NAME=VALUE", "-c CMD", "-x PID"):
        assert opt in r.stdout


def test_c_with_x_rejected():
    assert usage_error(ftstap("-c", "ls", "-x", "1", "-e", HELLO)) == \
        "usage error: -c and -x cannot be used together"


def test_x_must_be_a_pid():
    assert usage_error(ftstap("-x", "abc", "-e", HELLO)) == \
        "ftstap: Invalid value for '-x': 'abc' is not a valid integer."


@pytest.mark.parametrize("size", ["0", "4096", "-1"])
def test_buffer_size_rejected(size):
    assert usage_error(ftstap("-s", size, "-e", HELLO)) == \
        f"usage error: -s expects a buffer size from 1 to 4095 MB, not {int(size)}"


def test_buffer_size_accepted():
    assert ftstap("-s", "4095", "-p1", "-e", HELLO).returncode == 0


@pytest.mark.parametrize("name", ["bad-name", "with space", "", "x" * 61, "dot.ted"])
def test_module_name_rejected(name):
    assert usage_error(ftstap("-m", name, "-e", HELLO)) == \
        "usage error: -m expects a name of 1 to 60 characters from [A-Za-z0-9_]"


@pytest.mark.parametrize("name", ["ok_name", "A1", "x" * 60])
def test_module_name_accepted(name):
    assert ftstap("-m", name, "-p1", "-e", HELLO).returncode == 0


def test_timeout_must_be_positive():
    assert usage_error(ftstap("-T", "0", "-e", HELLO)) == "usage error: -T expects a positive number of seconds"


@pytest.mark.parametrize("argv", [["-r", "5.14.0-elsewhere"], ["-r5.14.0-elsewhere"]])
def test_another_release_needs_its_description(argv):
    """-r RELEASE: only the running kernel; another is compiled for from the
    description written there (kernel/kinfo.py)."""
    line = usage_error(ftstap(*argv, "-p2", "-e", HELLO))
    assert line.startswith("usage error: -r 5.14.0-elsewhere: not the running kernel") and "--describe" in line


@pytest.mark.parametrize("argv, opt", [
    (["-R", "/usr/share/systemtap/runtime"], "-R"),
    (["--runtime=bpf"], "--runtime"),
    (["--runtime", "dyninst"], "--runtime"),
])
def test_unsupported_stap_options_say_why(argv, opt):
    line = usage_error(ftstap(*argv, "-e", HELLO))
    assert line.startswith(f"ftstap: option '{opt}' is not supported: ")
    assert len(line) > len(f"ftstap: option '{opt}' is not supported: ") + 20   # a real reason


def test_unknown_option():
    r = ftstap("--no-such-flag", "-e", HELLO)
    assert r.returncode == 1
    assert r.stderr.splitlines() == ["ftstap: No such option '--no-such-flag'.", "Try 'ftstap -h' for help."]


def test_compatible_disables_autocast():
    script = "probe begin { x = p->y }"
    assert ftstap("-p1", "-e", script).returncode == 0
    r = ftstap("-p1", "--compatible=2.5", "-e", script)
    assert r.returncode == 1
    assert "parse error: expected a value" in r.stderr


def test_prologue_searching_value_checked():
    assert ftstap("-p1", "--prologue-searching=never", "-e", HELLO).returncode == 0
    r = ftstap("--prologue-searching=sometimes", "-e", HELLO)
    assert r.returncode == 1
    assert "expects always, never or auto" in r.stderr


def test_p4_image_runs_with_run(tmp_path):
    r = ftstap("-p4", "-m", "img", "-e", 'probe begin { println("from image"); exit() }', cwd=tmp_path)
    assert r.returncode == 0
    path = r.stdout.strip()
    assert path.endswith("img.ftsimg")
    r = ftstap("--run", path)
    assert (r.returncode, r.stdout) == (0, "from image\n")


def test_w_suppresses_the_warnings_that_W_would_make_errors():
    """-W alone: the warning, then pass 2 fails; -wW: stap prints no
    warning, so none can be an error (it used to fail silently)."""
    script = "global x; probe begin { exit() }"
    r = ftstap("-W", "-p2", "-e", script)
    assert r.returncode == 1 and "Eliding unused variable 'x'" in r.stderr
    assert "warnings are errors" in r.stderr
    for flags in (["-wW"], ["-w", "-W"], ["-Ww"]):
        r = ftstap(*flags, "-p2", "-e", script)
        assert r.returncode == 0 and r.stderr == "", (flags, r.stderr)


def test_skip_badvars_reads_unknown_context_variables_as_zero():
    script = 'probe begin { println($nosuch, "|", $x$, "|", @defined($y), "|", $z->f); exit() }'
    r = ftstap("-e", script)
    assert r.returncode == 1 and "'$nosuch' cannot be resolved" in r.stderr
    r = ftstap("--skip-badvars", "-e", script)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "0||0|0\n"          # @defined still says it does not exist


def test_d_and_ldd_are_accepted():
    r = ftstap("-d", "/bin/ls", "--ldd", "-d", "kernel", "-e", 'probe begin { println("ok"); exit() }')
    assert r.returncode == 0 and r.stdout == "ok\n", r.stderr
    r = ftstap("-d", "-e", "x")            # -d takes a value, as in stap: the script is missing
    assert r.returncode == 1


def test_check_version_and_all_modules_are_accepted():
    r = ftstap("--check-version", "--all-modules", "--compatible=1.5", "-p2", "-e",
               'probe begin { println("x") }')
    assert r.returncode == 0 and "begin" in r.stdout, r.stderr
    r = ftstap("--check-version=1", "-p2", "-e", 'probe begin { println("x") }')
    assert r.returncode == 1 and "does not take a value" in r.stderr


def test_example_runs_a_shipped_example_by_name(tmp_path):
    r = ftstap("--example", "helloworld.stp", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, "hello world\n"), r.stderr
    for name in ("no-such-example.stp", "../setup.py"):
        r = ftstap("--example", name, cwd=tmp_path)
        assert r.returncode == 1 and r.stdout == ""
        assert f"no example script named '{name}'" in r.stderr
