"""Pass 1: probes, probe points and probe aliases."""
import pytest

from ftstap.lang.ast import (Assign, Binary, Block, Component as C, ExprStmt, Number, Probe,
                             ProbeAlias, ProbePoint as PP, String, Symbol)


def points(stp, text, **kw):
    (probe,) = stp.parse(f"probe {text} {{ }}", **kw).items
    assert isinstance(probe, Probe)
    return probe.points


def test_simple_probe_with_body(stp):
    (probe,) = stp.parse("probe begin { x = 1 }").items
    assert probe == Probe((PP((C("begin"),)),),
                          Block((ExprStmt(Assign("=", Symbol("x"), Number(1))),)))
    assert probe.privileged is False


def test_dotted_components(stp):
    assert points(stp, "syscall.open.return") == (PP((C("syscall"), C("open"), C("return"))),)


def test_string_argument(stp):
    assert points(stp, 'kernel.function("vfs_read")') == (
        PP((C("kernel"), C("function", String("vfs_read")))),)


def test_string_argument_glued_from_adjacent_literals(stp):
    assert points(stp, 'process("/bin/" "ls").function("main")') == (
        PP((C("process", String("/bin/ls")), C("function", String("main")))),)


def test_number_argument(stp):
    assert points(stp, "timer.ms(100)") == (PP((C("timer"), C("ms", Number(100)))),)


def test_hex_and_octal_arguments(stp):
    assert points(stp, "a(0x10).b(010)") == (PP((C("a", Number(16)), C("b", Number(8)))),)


def test_negative_number_argument_wraps_to_64_bits(stp):
    assert points(stp, "a.b(-1)") == (PP((C("a"), C("b", Number(2**64 - 1)))),)


def test_component_with_argument_then_more(stp):
    assert points(stp, 'process("x").statement("*@a.c:12").nearest') == (
        PP((C("process", String("x")), C("statement", String("*@a.c:12")), C("nearest"))),)


def test_wildcard_components(stp):
    assert points(stp, "syscall.*") == (PP((C("syscall"), C("*"))),)
    assert points(stp, "a*b.**") == (PP((C("a*b"), C("**"))),)


def test_component_made_of_adjacent_ident_and_number(stp):
    assert points(stp, "sys_32.x") == (PP((C("sys_32"), C("x"))),)


def test_keywords_are_component_names(stp):
    assert points(stp, "a.return.in.global") == (
        PP((C("a"), C("return"), C("in"), C("global"))),)


def test_spaced_star_is_not_a_wildcard(stp):
    err = stp.error("probe a * b { }")
    assert err.message == "expected '.' or the end of the probe point"
    assert stp.at(err) == (1, 9)


def test_optional_point(stp):
    assert points(stp, "a.b?") == (PP((C("a"), C("b")), optional=True),)


def test_sufficient_point(stp):
    assert points(stp, "a.b!") == (PP((C("a"), C("b")), sufficient=True),)


def test_conditional_point(stp):
    assert points(stp, "a if (x > 1)") == (
        PP((C("a"),), condition=Binary(">", Symbol("x"), Number(1))),)


def test_optional_and_conditional_point(stp):
    assert points(stp, "a ? if (x)") == (PP((C("a"),), optional=True, condition=Symbol("x")),)


def test_several_points(stp):
    assert points(stp, "begin, end?, timer.s(1)!") == (
        PP((C("begin"),)), PP((C("end"),), optional=True),
        PP((C("timer"), C("s", Number(1))), sufficient=True))


def test_brace_expansion(stp):
    assert points(stp, "sys_{open,close}.return") == (
        PP((C("sys_open"), C("return"))), PP((C("sys_close"), C("return"))))


def test_brace_expansion_of_whole_components_and_nested(stp):
    assert points(stp, "{a,b}.{c,{d,e}}") == (
        PP((C("a"), C("c"))), PP((C("a"), C("d"))), PP((C("a"), C("e"))),
        PP((C("b"), C("c"))), PP((C("b"), C("d"))), PP((C("b"), C("e"))))


def test_brace_expansion_keeps_optional_mark_on_every_point(stp):
    assert points(stp, "x.{a,b}?") == (PP((C("x"), C("a")), optional=True),
                                       PP((C("x"), C("b")), optional=True))


def test_body_brace_glued_to_last_component(stp):
    (probe,) = stp.parse("probe begin{x=1}").items
    assert probe.points == (PP((C("begin"),)),)
    assert probe.body == Block((ExprStmt(Assign("=", Symbol("x"), Number(1))),))


def test_alias_prologue(stp):
    (alias,) = stp.parse("probe my.open = syscall.open, syscall.openat { fd = 1 }").items
    assert alias == ProbeAlias(
        (PP((C("my"), C("open"))),), False,
        (PP((C("syscall"), C("open"))), PP((C("syscall"), C("openat")))),
        Block((ExprStmt(Assign("=", Symbol("fd"), Number(1))),)))


def test_alias_epilogue(stp):
    (alias,) = stp.parse("probe my.x += kernel.function(\"f\") ? { }").items
    assert alias == ProbeAlias((PP((C("my"), C("x"))),), True,
                               (PP((C("kernel"), C("function", String("f"))), optional=True),),
                               Block(()))


def test_alias_with_several_names(stp):
    (alias,) = stp.parse("probe a, b.c = d { }").items
    assert alias.names == (PP((C("a"),)), PP((C("b"), C("c"))))
    assert alias.points == (PP((C("d"),)),)


def test_tapset_probes_are_privileged(stp):
    (probe,) = stp.parse("probe begin { }", privileged=True).items
    assert probe.privileged is True


def test_several_probes_in_order(stp):
    items = stp.parse("probe begin { } probe end { }").items
    assert [p.points[0].components[0].name for p in items] == ["begin", "end"]


# ---- errors ----------------------------------------------------------------
@pytest.mark.parametrize("text, message, at", [
    ("probe a? = b { }", "probe alias names cannot be optional, sufficient or conditional", (1, 10)),
    ("probe a?! { }", "expected only one of '?' or '!'", (1, 9)),
    ("probe a", "expected '{'", (1, 8)),
    ("probe a {\n x = 1\n", "expected '}'", (3, 1)),
    ('probe a.("x") { }', "expected a probe point component name", (1, 9)),
    ('probe a("x")("y") { }', "expected '.' or the end of the probe point", (1, 13)),
    ("probe a(x) { }", "expected a literal number or string as the probe point argument", (1, 9)),
    ("probe a{b,}.c { }", "empty alternative in a brace expansion", (1, 8)),
    ("probe a if x { }", "expected '('", (1, 12)),
    ("probe a.b} { }", "expected '{'", (1, 10)),
])
def test_probe_point_errors(stp, text, message, at):
    err = stp.error(text)
    assert err.message == message
    assert stp.at(err) == at
    assert err.kind == "parse error"


def test_errors_in_two_probes_are_both_reported(stp):
    errs = stp.errors("probe a { x = }\nprobe b { y = }\n")
    assert [(e.message, stp.at(e)) for e in errs] == [
        ("expected a value", (1, 15)), ("expected a value", (2, 15))]


def test_missing_declaration_keyword(stp):
    err = stp.error("\n  begin { }")
    assert err.message == "expected 'probe', 'global', 'private', 'function', or '%{'"
    assert stp.at(err) == (2, 3)
    assert err.saw == "identifier 'begin'"


def test_empty_input_is_an_error(stp):
    err = stp.error("# only a comment\n")
    assert err.message == "input file is empty or has no useful content"
