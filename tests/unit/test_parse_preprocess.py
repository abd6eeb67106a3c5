"""Pass 1: the preprocessor (conditionals, macros, .stpm libraries, script
arguments) and lexical matters (comments, adjacent strings)."""
import pytest

from ftstap.lang import frontend
from ftstap.lang.ast import Assign, Binary, ExprStmt, Number, String, Symbol
from ftstap.lang.preprocess import PPContext
from ftstap.lang.source import Source


def X(n):
    return ExprStmt(Assign("=", Symbol("x"), Number(n) if isinstance(n, int) else n))


def ctx(**kw):
    base = dict(kernel_release="5.15.0-91-generic", arch="x86_64", runtime="kernel",
                systemtap_v="5.3", privilege="stapdev", guru=False)
    base.update(kw)
    return PPContext(**base)


def pick(stp, cond, **kw):
    """1 if COND holds in the context, else 2."""
    (s,) = stp.body(f"%( {cond} %? x = 1 %: x = 2 %)", ctx=ctx(**kw))
    return s.expr.value.value


# ---- conditionals ----------------------------------------------------------------
def test_conditional_then_branch(stp):
    assert stp.body("%( arch == \"x86_64\" %? x = 1 %: x = 2 %)", ctx=ctx()) == (X(1),)


def test_conditional_without_else_drops_everything(stp):
    assert stp.body('%( arch == "s390" %? x = 1 %) x = 2', ctx=ctx()) == (X(2),)


@pytest.mark.parametrize("cond, want", [
    ('kernel_v >= "5.15"', 1), ('kernel_v < "5.15"', 2), ('kernel_v == "5.15.0"', 1),
    ('kernel_v > "5.9"', 1),          # versions compare numerically, not as text
    ('kernel_v == "5.*"', 1), ('kernel_v != "5.*"', 2),
    ('kernel_vr == "5.15.0-91-generic"', 1), ('kernel_vr > "5.15.0-100-generic"', 2),
])
def test_kernel_version_conditions(stp, cond, want):
    assert pick(stp, cond) == want


@pytest.mark.parametrize("cond, want", [
    ('systemtap_v >= "4.0"', 1), ('systemtap_v < "2.6"', 2),
])
def test_systemtap_version_condition(stp, cond, want):
    assert pick(stp, cond) == want


def test_systemtap_version_follows_compatible(stp):
    assert pick(stp, 'systemtap_v < "2.6"', systemtap_v="2.5") == 1


@pytest.mark.parametrize("cond, want", [
    ('arch == "x86_64"', 1), ('arch == "x86*"', 1), ('arch != "arm64"', 1), ('arch == "i?86"', 2),
    ('runtime == "kernel"', 1), ('runtime == "bpf"', 2),
    ('systemtap_privilege == "stapdev"', 1), ('systemtap_privilege == "stapusr"', 2),
])
def test_string_valued_conditions(stp, cond, want):
    assert pick(stp, cond) == want


def test_guru_mode_condition(stp):
    assert pick(stp, "guru_mode == 1", guru=True) == 1
    assert pick(stp, "guru_mode == 1", guru=False) == 2
    assert pick(stp, "guru_mode != 1", guru=False) == 1


def test_config_conditions(stp):
    config = {"CONFIG_SMP": "y", "CONFIG_HZ": "250", "CONFIG_NR_CPUS": "512"}.get
    assert pick(stp, 'CONFIG_SMP == "y"', config=lambda n: config(n, "")) == 1
    assert pick(stp, 'CONFIG_DEBUG == "y"', config=lambda n: config(n, "")) == 2
    assert pick(stp, "CONFIG_HZ >= 100", config=lambda n: config(n, "")) == 1
    assert pick(stp, "CONFIG_NR_CPUS > CONFIG_HZ", config=lambda n: config(n, "")) == 1


def test_and_or_in_conditions(stp):
    assert pick(stp, 'arch == "x86_64" && kernel_v >= "6.0"') == 2
    assert pick(stp, 'arch == "x86_64" || kernel_v >= "6.0"') == 1
    assert pick(stp, 'arch == "a" && arch == "b" || arch == "x86_64"') == 1   # && binds tighter


def test_argument_count_conditions(stp):
    assert pick(stp, "$# == 2", args=["a", "b"]) == 1
    assert pick(stp, '@# == "2"', args=["a", "b"]) == 1
    assert pick(stp, "$# > 0", args=[]) == 2


def test_literal_comparisons(stp):
    assert pick(stp, "1 < 2") == 1
    assert pick(stp, '"b" < "a"') == 2


def test_nested_conditionals(stp):
    text = ('%( arch == "x86_64" %? %( kernel_v >= "6.0" %? x = 1 %: x = 2 %) '
            '%: %( 1 == 1 %? x = 3 %) %)')
    assert stp.body(text, ctx=ctx()) == (X(2),)


def test_conditional_inside_expression(stp):
    assert stp.expr('x = 1 + %( arch == "x86_64" %? 2 %: 3 %)', ctx=ctx()) == Assign(
        "=", Symbol("x"), Binary("+", Number(1), Number(2)))


def test_unchosen_branch_is_not_parsed(stp):
    assert stp.body('%( arch == "none" %? this is ) not stap %: x = 1 %)', ctx=ctx()) == (X(1),)


@pytest.mark.parametrize("text, message, at", [
    ("%( x %)", "expected a comparison operator", (2, 6)),
    ("%( kernel_v > 3 %? %)", "expected a string as right value of the comparison", (2, 15)),
    ('%( arch < "x" %? %)', "expected '==' or '!='", (2, 9)),
    ("%( guru_mode == 2 %? %)", "expected 0 or 1 for guru_mode", (2, 17)),
    ("%( a == 1 %? %)", "expected kernel_v, kernel_vr, arch, runtime, systemtap_v, systemtap_privilege, "
                        "guru_mode, CONFIG_..., $#, @# or a literal in the condition", (2, 4)),
    ("%( 1 == 1 x = 1 %)", "expected '%?' after the condition", (2, 11)),
    ("%?", "incomplete conditional: '%?' without '%('", (2, 1)),
    ("%( 1 == 1 %? x = 1 %: x = 2 %: x = 3 %)", "duplicate '%:' in conditional", (2, 29)),
    ("%( 1 == 1 %? x = 1", "incomplete conditional at end of input", (2, 1)),
])
def test_conditional_errors(stp, text, message, at):
    err = stp.error("probe begin {\n" + text + "\n}", ctx=ctx())
    assert (err.message, stp.at(err), err.kind) == (message, at, "preprocessor error")


# ---- @define macros --------------------------------------------------------------------
def test_macro_without_parameters(stp):
    assert stp.body("@define ten %( 10 %) x = @ten") == (X(10),)


def test_macro_with_parameters_is_token_substitution(stp):
    # like stap, no implicit parentheses: @a * 2 with a = `1 + 1` is 1 + 1 * 2
    assert stp.body("@define twice(a) %( @a * 2 %) x = @twice(1 + 1)") == (
        X(Binary("+", Number(1), Binary("*", Number(1), Number(2)))),)


def test_macro_arguments_with_commas_inside_brackets(stp):
    assert stp.body("@define first(a, b) %( @a %) x = @first(f(1, 2), 3)")[0].expr.value.args == (
        Number(1), Number(2))


def test_macro_using_another_macro(stp):
    assert stp.body("@define one %( 1 %) @define two %( (@one + @one) %) x = @two") == (
        X(Binary("+", Number(1), Number(1))),)


def test_macro_shadowing_a_builtin_warns(monkeypatch):
    monkeypatch.delenv("SYSTEMTAP_TAPSET", raising=False)
    result = frontend.run_pass1(Source("t.stp", "@define count %( 3 %)\nprobe begin { x = @count }"),
                                [], with_tapsets=False)
    assert result.script.items[0].body.body == (X(3),)
    assert result.warnings == ["WARNING: macro '@count' at t.stp:1:9 shadows a built-in operator"]


@pytest.mark.parametrize("text, message, col", [
    ("@define f(a) %( @a %) x = @f", "macro '@f' takes 1 argument(s)", 27),
    ("@define f(a) %( @a %) x = @f(1, 2)", "macro '@f' takes 1 argument(s), got 2", 27),
    ("@define f(a, a) %( 1 %)", "duplicate macro parameter 'a'", 14),
    ("@define f %( 1 %) @define f %( 2 %)", "attempt to redefine macro '@f' in the same file", 27),
    ("@define f %( @f %) x = @f", "macro or argument expansion too deep (recursive?)", 14),
    ("@define 1 %( %)", "expected a macro name after '@define'", 9),
    ("@define f 1", "expected '%(' to begin the macro body", 11),
    ("x = @undefined", "unknown macro or operator '@undefined'", 5),
])
def test_macro_errors(stp, text, message, col):
    err = stp.error("probe begin {\n" + text + "\n}")
    assert (err.message, stp.at(err)) == (message, (2, col))


def _stpm_dir(tmp_path):
    d = tmp_path / "lib"
    d.mkdir()
    (d / "units.stpm").write_text("@define KB(n) %( (@n * 1024) %)\n")
    return d


def test_stpm_macro_library_via_include(tmp_path, monkeypatch):
    monkeypatch.delenv("SYSTEMTAP_TAPSET", raising=False)
    d = _stpm_dir(tmp_path)
    result = frontend.run_pass1(Source("<input>", "probe begin { x = @KB(4) }"), [],
                                include=[str(d)], with_tapsets=False)
    (probe,) = result.script.items
    assert probe.body.body == (X(Binary("*", Number(4), Number(1024))),)


def test_stpm_macro_library_via_systemtap_tapset(tmp_path, monkeypatch):
    monkeypatch.setenv("SYSTEMTAP_TAPSET", str(_stpm_dir(tmp_path)))
    result = frontend.run_pass1(Source("<input>", "probe begin { x = @KB(1) }"), [],
                                with_tapsets=False)
    (probe,) = result.script.items
    assert probe.body.body == (X(Binary("*", Number(1), Number(1024))),)


def test_user_macro_may_shadow_library_macro_with_warning(tmp_path, monkeypatch):
    monkeypatch.delenv("SYSTEMTAP_TAPSET", raising=False)
    d = _stpm_dir(tmp_path)
    result = frontend.run_pass1(Source("<input>", "@define KB(n) %( @n %) probe begin { x = @KB(2) }"),
                                [], include=[str(d)], with_tapsets=False)
    assert result.script.items[0].body.body == (X(2),)
    assert len(result.warnings) == 1 and "shadows a library macro" in result.warnings[0]


def test_macro_library_without_the_include_is_unknown(stp):
    err = stp.error("probe begin { x = @KB(4) }")
    assert err.message == "unknown macro or operator '@KB'"


# ---- script arguments ------------------------------------------------------------------
def test_dollar_argument_is_tokens(stp):
    assert stp.expr("x = $1", args=["2 + 3"]) == Assign(
        "=", Symbol("x"), Binary("+", Number(2), Number(3)))


def test_at_argument_is_a_string(stp):
    assert stp.expr("x = @1", args=['say "hi"']) == Assign("=", Symbol("x"), String('say \\"hi\\"'))


def test_argument_counts(stp):
    assert stp.body("x = $#; x = @#", args=["a", "b", "c"]) == (X(3), X(String("3")))


def test_argument_in_probe_point(stp):
    (probe,) = stp.parse('probe timer.ms($1) { }', args=["250"]).items
    assert probe.points[0].components[1].arg == Number(250)


@pytest.mark.parametrize("text, args, message", [
    ("x = $2", ["a"], "command line argument index 2 out of range [1-1]"),
    ("x = @1", [], "command line argument index 1 out of range [1-0]"),
    ("x = $0", ["a"], "invalid command line argument reference '$0'"),
    ("x = $1", ["$2"], "command line argument 1 refers to another argument ('$2')"),
])
def test_argument_errors(stp, text, args, message):
    err = stp.error("probe begin {\n  " + text + "\n}", args=args)
    assert (err.message, stp.at(err)) == (message, (2, 7))


def test_bad_argument_text_points_at_the_reference(stp):
    err = stp.error("probe begin {\n  x = $1\n}", args=["1 + )"])
    assert err.message == "expected a value"
    assert str(err.span) == "<command line argument 1>:1:5"
    assert str(err.span.via) == "t.stp:2:7"
    assert "in expansion at t.stp:2:7" in err.render()


# ---- comments and strings --------------------------------------------------------------
@pytest.mark.parametrize("comment", ["# hash", "// slashes", "/* block */", "/* multi\n line */"])
def test_comments_are_ignored(stp, comment):
    assert stp.body(f"x = 1 {comment}\n x = 2") == (X(1), X(2))


def test_comment_markers_inside_strings_are_text(stp):
    assert stp.expr('x = "# not // a /* comment */"') == Assign(
        "=", Symbol("x"), String("# not // a /* comment */"))


def test_shebang_line_is_a_comment(stp):
    assert stp.parse("#! /usr/bin/env stap\nglobal x").items[0].name == "x"


@pytest.mark.parametrize("text, message, at", [
    ('x = "abc', "unterminated string", (2, 5)),
    ("x = 1 /* oops", "unterminated comment", (2, 7)),
    ("x = `a", "invalid character '`' in input", (2, 5)),
])
def test_lexical_errors(stp, text, message, at):
    err = stp.error("probe begin {\n" + text + "\n}")
    assert (err.message, stp.at(err)) == (message, at)


def test_nul_byte_is_an_invalid_character(stp):
    err = stp.error("probe begin { x = \x00 }")
    assert (err.message, stp.at(err), err.saw) == ("invalid character '\\x00' in input", (1, 19),
                                                   "character 0x00")


def test_location_counts_columns_after_tabs_as_characters(stp):
    err = stp.error("probe begin {\n\tx = \n}")
    assert stp.at(err) == (3, 1)
