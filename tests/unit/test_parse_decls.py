"""Pass 1: declarations: globals, functions, private, top-level embedded C."""
import pytest

from ftstap.lang.ast import (Block, Embedded, Function, Global, Number, Param, Return, String,
                             Symbol, TopEmbedded)
from ftstap.lang import frontend
from ftstap.lang.source import Source


# ---- globals ------------------------------------------------------------------
def test_global_scalar(stp):
    assert stp.parse("global x").items == (Global("x"),)


def test_global_list_with_semicolon(stp):
    assert stp.parse("global a, b;").items == (Global("a"), Global("b"))


def test_global_array_size(stp):
    assert stp.parse("global a[100]").items == (Global("a", size=100),)


def test_global_wrap_before_size(stp):
    assert stp.parse("global a%[10]").items == (Global("a", size=10, wrap=True),)


def test_global_wrap_after_size(stp):
    assert stp.parse("global a[10]%").items == (Global("a", size=10, wrap=True),)


def test_global_wrap_without_size(stp):
    assert stp.parse("global a%").items == (Global("a", wrap=True),)


def test_global_number_init(stp):
    assert stp.parse("global n = 0x20").items == (Global("n", init=Number(32)),)


def test_global_negative_init_wraps(stp):
    assert stp.parse("global n = -3").items == (Global("n", init=Number(2**64 - 3)),)


def test_global_string_init_glued(stp):
    assert stp.parse('global s = "a" "b"').items == (Global("s", init=String("ab")),)


def test_private_global(stp):
    assert stp.parse("private global p, q = 1").items == (
        Global("p", private=True), Global("q", init=Number(1), private=True))


@pytest.mark.parametrize("text, message, at", [
    ("global a[0]", "expected a positive array size", (1, 10)),
    ("global a[n]", "expected a positive array size", (1, 10)),
    ("global a[10] = 1", "arrays cannot be initialized", (1, 14)),
    ("global x = y", "expected a literal number or string", (1, 12)),
    ("global 1", "expected a global variable name", (1, 8)),
    ("global probe", "expected a global variable name", (1, 8)),
    ("global a,\n  a", "duplicate global variable 'a'", (2, 3)),
    ("private probe begin { }", "expected 'global' or 'function' after 'private'", (1, 9)),
])
def test_global_errors(stp, text, message, at):
    err = stp.error(text)
    assert (err.message, stp.at(err)) == (message, at)


# ---- functions ----------------------------------------------------------------
def test_function_untyped(stp):
    (f,) = stp.parse("function f(a, b) { return a }").items
    assert f == Function("f", (Param("a"), Param("b")), None, Block((Return(Symbol("a")),)))


def test_function_no_params(stp):
    (f,) = stp.parse("function f() { }").items
    assert f == Function("f", (), None, Block(()))


def test_function_typed(stp):
    (f,) = stp.parse("function f:string (n:long, s:string) { return s }").items
    assert f == Function("f", (Param("n", "long"), Param("s", "string")), "string",
                         Block((Return(Symbol("s")),)))


def test_function_priority(stp):
    (f,) = stp.parse("function f:long () :5 { return 1 }").items
    assert (f.rtype, f.prio) == ("long", 5)


def test_function_priority_without_type(stp):
    (f,) = stp.parse("function f() :2 { }").items
    assert (f.rtype, f.prio) == (None, 2)


def test_private_function(stp):
    (f,) = stp.parse("private function g() { }").items
    assert f == Function("g", (), None, Block(()), private=True)


def test_function_embedded_body_in_guru_mode(stp):
    (f,) = stp.parse("function f:long () %{ STAP_RETURN(1); %}", guru=True).items
    assert f == Function("f", (), "long", Embedded(" STAP_RETURN(1); "))


def test_function_embedded_body_in_tapset(stp):
    (f,) = stp.parse("function f() %{ /* pure */ %}", privileged=True).items
    assert f.body == Embedded(" /* pure */ ")


def test_return_without_value(stp):
    (f,) = stp.parse("function f() { return; }").items
    assert f.body == Block((Return(None),))


@pytest.mark.parametrize("text, message, at", [
    ("function f() %{ x %}", "embedded code is only allowed in guru mode (-g)", (1, 14)),
    ("function f(a, a) { }", "duplicate parameter 'a'", (1, 15)),
    ("function f:int () { }", "expected 'long' or 'string'", (1, 12)),
    ("function f(a:int) { }", "expected 'long' or 'string'", (1, 14)),
    ("function f(a b) { }", "expected ',' or ')'", (1, 14)),
    ("function f() :x { }", "expected a number as the function priority", (1, 15)),
    ("function 1() { }", "expected a function name", (1, 10)),
    ("function f(1) { }", "expected a parameter name", (1, 12)),
    ("probe begin {\n  return 1\n}", "found 'return' not in function context", (2, 3)),
])
def test_function_errors(stp, text, message, at):
    err = stp.error(text)
    assert (err.message, stp.at(err)) == (message, at)


# ---- embedded C at the top level -------------------------------------------------
def test_top_level_embedded_in_guru_mode(stp):
    assert stp.parse("%{ #include <linux/sched.h> %}", guru=True).items == (
        TopEmbedded(" #include <linux/sched.h> "),)


def test_top_level_embedded_needs_guru_mode(stp):
    err = stp.error("\n%{ #include <x.h> %}")
    assert (err.message, stp.at(err)) == ("embedded code is only allowed in guru mode (-g)", (2, 1))


def test_unterminated_embedded_code(stp):
    err = stp.error("probe begin { }\n%{ int x;\n", guru=True)
    assert (err.message, stp.at(err)) == ("unterminated embedded code", (2, 1))


def test_tapset_file_may_use_embedded_c_without_guru(tmp_path, monkeypatch):
    monkeypatch.delenv("SYSTEMTAP_TAPSET", raising=False)
    (tmp_path / "mine.stp").write_text("function answer:long () %{ STAP_RETURN(42); %}\n"
                                       "probe mine.begin = begin { }\n")
    result = frontend.run_pass1(Source("<input>", "probe mine.begin { println(answer()) }"), [],
                                include=[str(tmp_path)])
    (lib,) = [t for t in result.tapsets if t.items and isinstance(t.items[0], Function)
              and t.items[0].name == "answer"]
    assert lib.items[0].body == Embedded(" STAP_RETURN(42); ")
    assert result.warnings == []


def test_mixed_declarations_keep_order(stp):
    items = stp.parse("global a\nfunction f() { }\nprobe begin { }\nglobal b").items
    assert [type(i).__name__ for i in items] == ["Global", "Function", "Probe", "Global"]
