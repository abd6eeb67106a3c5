"""Pass 1: expressions: literals, every operator, precedence and associativity."""
import pytest

from ftstap.lang.ast import (Assign, Binary, Call, Crement, In, Index, Number, Regex, String,
                             Symbol, Ternary, Unary)

a, b, c, d = Symbol("a"), Symbol("b"), Symbol("c"), Symbol("d")
N1, N2, N3 = Number(1), Number(2), Number(3)


def B(op, left, right):
    return Binary(op, left, right)


# ---- literals and names -------------------------------------------------------------
@pytest.mark.parametrize("text, value", [
    ("0", 0), ("42", 42), ("0x1F", 31), ("0X10", 16), ("017", 15),
    ("18446744073709551615", 2**64 - 1),
])
def test_number_literals(stp, text, value):
    assert stp.expr(text) == Number(value)


@pytest.mark.parametrize("text, message", [
    ("0x", "malformed number"), ("09", "malformed number"), ("12ab", "malformed number"),
    ("18446744073709551616", "number out of range"),
])
def test_bad_number_literals(stp, text, message):
    err = stp.error("probe begin {\n  x = " + text + "\n}")
    assert (err.message, stp.at(err)) == (message, (2, 7))


def test_string_literal_keeps_escapes(stp):
    assert stp.expr(r'"a\n\"b\""') == String(r'a\n\"b\"')


def test_adjacent_string_literals_are_glued(stp):
    assert stp.expr('"a" "b"\n "c"') == String("abc")


def test_string_glue_across_comments(stp):
    assert stp.expr('"a" /* c */ "b" # d\n "c"') == String("abc")


def test_no_string_glue_across_comments_before_2_0(stp):
    # --compatible=1.8: the comment separates two statements
    (s1, s2) = stp.body('x = "a" /* c */ "b"', compatible="1.8")
    assert (s1.expr, s2.expr) == (Assign("=", Symbol("x"), String("a")), String("b"))


def test_symbol_and_call(stp):
    assert stp.expr("f(a, 1)") == Call("f", (a, N1))
    assert stp.expr("g()") == Call("g", ())


def test_array_index(stp):
    assert stp.expr("arr[a, 1]") == Index(Symbol("arr"), (a, N1))


# ---- unary, crements ------------------------------------------------------------------
@pytest.mark.parametrize("op", ["-", "+", "!", "~"])
def test_unary_operators(stp, op):
    assert stp.expr(f"x = {op}a") == Assign("=", Symbol("x"), Unary(op, a))


def test_negative_literal_is_unary_minus(stp):
    assert stp.expr("x = -1") == Assign("=", Symbol("x"), Unary("-", N1))


def test_unary_nesting(stp):
    assert stp.expr("x = ~-!a") == Assign("=", Symbol("x"), Unary("~", Unary("-", Unary("!", a))))


@pytest.mark.parametrize("text, node", [
    ("a++", Crement("++", a, True)), ("a--", Crement("--", a, True)),
    ("++a", Crement("++", a, False)), ("--a", Crement("--", a, False)),
    ("arr[1]++", Crement("++", Index(Symbol("arr"), (N1,)), True)),
])
def test_increments_and_decrements(stp, text, node):
    assert stp.expr(text) == node


def test_minus_binds_looser_than_postincrement(stp):
    assert stp.expr("x = -a++") == Assign("=", Symbol("x"), Unary("-", Crement("++", a, True)))


def test_post_and_pre_increment_in_sum(stp):
    assert stp.expr("x = a++ + ++b") == Assign(
        "=", Symbol("x"), B("+", Crement("++", a, True), Crement("++", b, False)))


# ---- every binary operator -------------------------------------------------------------
@pytest.mark.parametrize("op", ["*", "/", "%", "+", "-", ".", "<<", ">>", ">>>", "&", "^", "|",
                                "<", ">", "<=", ">=", "==", "!=", "&&", "||"])
def test_binary_operator(stp, op):
    assert stp.expr(f"x = a {op} b") == Assign("=", Symbol("x"), B(op, a, b))


@pytest.mark.parametrize("op", ["=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=",
                                "|=", ".=", "<<<"])
def test_assignment_operator(stp, op):
    assert stp.expr(f"a {op} b") == Assign(op, a, b)


@pytest.mark.parametrize("op", ["=~", "!~"])
def test_regex_match(stp, op):
    assert stp.expr(f'x = a {op} "^ab+" "c$"') == Assign("=", Symbol("x"), Regex(op, a, "^ab+c$"))


def test_regex_needs_a_literal(stp):
    err = stp.error("probe begin { x = a =~ b }")
    assert (err.message, stp.at(err)) == ("expected a literal string as the regular expression",
                                          (1, 24))


def test_ternary(stp):
    assert stp.expr("x = a ? 1 : 2") == Assign("=", Symbol("x"), Ternary(a, N1, N2))


def test_string_concat_and_append(stp):
    assert stp.expr('s .= "x" . a') == Assign(".=", Symbol("s"), B(".", String("x"), a))


# ---- precedence: each level against the next ---------------------------------------------
@pytest.mark.parametrize("text, node", [
    ("a + b * c", B("+", a, B("*", b, c))),
    ("a * b + c", B("+", B("*", a, b), c)),
    ("a % b - c", B("-", B("%", a, b), c)),
    ("a . b + c", B(".", a, B("+", b, c))),                 # + binds tighter than .
    ("a << b . c", B("<<", a, B(".", b, c))),               # . binds tighter than shifts
    ("a < b << c", B("<", a, B("<<", b, c))),
    ("a >>> b + c", B(">>>", a, B("+", b, c))),
    ("a == b < c", B("<", B("==", a, b), c)),               # one comparison level
    ("a & b == c", B("&", a, B("==", b, c))),
    ("a ^ b & c", B("^", a, B("&", b, c))),
    ("a | b ^ c", B("|", a, B("^", b, c))),
    ("a && b | c", B("&&", a, B("|", b, c))),
    ("a || b && c", B("||", a, B("&&", b, c))),
    ("a && b || c && d", B("||", B("&&", a, b), B("&&", c, d))),
    ("-a * b", B("*", Unary("-", a), b)),
    ("!a && b", B("&&", Unary("!", a), b)),
    ("(a + b) * c", B("*", B("+", a, b), c)),
])
def test_precedence(stp, text, node):
    assert stp.expr("x = " + text) == Assign("=", Symbol("x"), node)


def test_regex_binds_tighter_than_logical_and(stp):
    assert stp.expr('x = a =~ "r" && b') == Assign("=", Symbol("x"), B("&&", Regex("=~", a, "r"), b))


def test_in_binds_looser_than_comparison(stp):
    assert stp.expr("x = a < b in arr") == Assign("=", Symbol("x"), In((B("<", a, b),), Symbol("arr")))


def test_in_binds_tighter_than_bitwise_and(stp):
    assert stp.expr("x = a in arr & 1") == Assign("=", Symbol("x"), B("&", In((a,), Symbol("arr")), N1))


def test_ternary_binds_looser_than_or(stp):
    assert stp.expr("x = a || b ? c : d") == Assign("=", Symbol("x"), Ternary(B("||", a, b), c, d))


# ---- associativity -----------------------------------------------------------------------
@pytest.mark.parametrize("op", ["-", "/", ".", "<<", "&&", "||", "|", "==", "<"])
def test_binary_operators_are_left_associative(stp, op):
    assert stp.expr(f"x = a {op} b {op} c") == Assign("=", Symbol("x"), B(op, B(op, a, b), c))


def test_assignment_is_right_associative(stp):
    assert stp.expr("a = b += c") == Assign("=", a, Assign("+=", b, c))


def test_ternary_is_right_associative(stp):
    assert stp.expr("x = a ? 1 : b ? 2 : 3") == Assign(
        "=", Symbol("x"), Ternary(a, N1, Ternary(b, N2, N3)))


def test_ternary_branches_are_full_expressions(stp):
    assert stp.expr("x = a ? b = 1 : c") == Assign("=", Symbol("x"), Ternary(a, Assign("=", b, N1), c))


# ---- in ------------------------------------------------------------------------------------
def test_in_single_key(stp):
    assert stp.expr("x = k in arr") == Assign("=", Symbol("x"), In((Symbol("k"),), Symbol("arr")))


def test_in_tuple(stp):
    assert stp.expr("x = [a, 1] in arr") == Assign("=", Symbol("x"), In((a, N1), Symbol("arr")))


def test_in_tuple_with_wildcards(stp):
    assert stp.expr("x = [*, a, *] in arr") == Assign("=", Symbol("x"), In((None, a, None), Symbol("arr")))


def test_not_in(stp):
    assert stp.expr("x = !(k in arr)") == Assign(
        "=", Symbol("x"), Unary("!", In((Symbol("k"),), Symbol("arr"))))


def test_in_needs_an_array(stp):
    err = stp.error("probe begin { x = k in 3 }")
    assert (err.message, stp.at(err)) == ("expected an array name or histogram", (1, 24))


def test_tuple_without_in(stp):
    err = stp.error("probe begin { [1, 2] x }")
    assert (err.message, stp.at(err)) == ("expected 'in'", (1, 22))


# ---- expression errors --------------------------------------------------------------------
@pytest.mark.parametrize("text, message, col", [
    ("1 = 2", "expected an lvalue on the left of the assignment", 17),
    ("f() += 1", "expected an lvalue on the left of the assignment", 19),
    ("x = ", "expected a value", 20),
    ("(1", "expected ')'", 18),
    ("f(1 2)", "expected ',' or ')'", 19),
    ("a[1", "expected ',' or ']'", 19),
    ("x ? y", "expected ':'", 21),
    ("x = if", "expected a value", 19),
    ("x = )", "expected a value", 19),
])
def test_expression_errors(stp, text, message, col):
    err = stp.error("probe begin { " + text + " }")
    assert (err.message, stp.at(err)) == (message, (1, col))
    assert err.kind == "parse error"


def test_error_reports_what_was_seen(stp):
    err = stp.error("probe begin { x = ; }")
    assert err.saw == "operator ';'"
    assert "saw: operator ';' at t.stp:1:19" in err.render()
