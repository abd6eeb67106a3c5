"""Pass 1: statements."""
import pytest

from ftstap.lang.ast import (Assign, Binary, Block, Break, Continue, Crement, Delete, ExprStmt,
                             For, Foreach, Hist, If, Index, Next, Null, Number, Return, Symbol,
                             Try, Unary, While)

X1 = ExprStmt(Assign("=", Symbol("x"), Number(1)))
X2 = ExprStmt(Assign("=", Symbol("x"), Number(2)))


def fe(keys, array, *, value=None, slice_=None, col=0, direction=1, stat=None, limit=None,
       body=Block(())):
    return Foreach(tuple(Symbol(k) for k in keys), Symbol(value) if value else None, array,
                   slice_, col, direction, stat, limit, body)


# ---- simple statements ----------------------------------------------------------
def test_expression_statement(stp):
    assert stp.stmt("x = 1") == X1


def test_semicolons_are_optional_between_statements(stp):
    assert stp.body("x = 1 x = 2") == (X1, X2)


def test_null_statement(stp):
    assert stp.body(";") == (Null(),)


def test_nested_block(stp):
    assert stp.stmt("{ x = 1; { } }") == Block((X1, Block(())))


def test_break_continue_next(stp):
    assert stp.body("break; continue; next;") == (Break(), Continue(), Next())


def test_next_without_semicolon(stp):
    assert stp.body("next") == (Next(),)


# ---- if / while / for -----------------------------------------------------------
def test_if(stp):
    assert stp.stmt("if (x) x = 1") == If(Symbol("x"), X1)


def test_if_else(stp):
    assert stp.stmt("if (x > 0) { x = 1 } else x = 2") == If(
        Binary(">", Symbol("x"), Number(0)), Block((X1,)), X2)


def test_else_if_chain(stp):
    assert stp.stmt("if (a) x = 1 else if (b) x = 2") == If(Symbol("a"), X1, If(Symbol("b"), X2))


def test_dangling_else_binds_to_inner_if(stp):
    assert stp.stmt("if (a) if (b) x = 1 else x = 2") == If(Symbol("a"), If(Symbol("b"), X1, X2))


def test_if_needs_parentheses(stp):
    err = stp.error("probe begin { if x {} }")
    assert (err.message, stp.at(err)) == ("expected '('", (1, 18))


def test_while(stp):
    assert stp.stmt("while (i < 3) i++") == While(
        Binary("<", Symbol("i"), Number(3)), ExprStmt(Crement("++", Symbol("i"), True)))


def test_for_full(stp):
    assert stp.stmt("for (i = 0; i < 10; i++) { }") == For(
        Assign("=", Symbol("i"), Number(0)), Binary("<", Symbol("i"), Number(10)),
        Crement("++", Symbol("i"), True), Block(()))


def test_for_empty_clauses(stp):
    assert stp.stmt("for (;;) break") == For(None, None, None, Break())


def test_for_needs_two_semicolons(stp):
    err = stp.error("probe begin { for (i = 0; i < 1) {} }")
    assert (err.message, stp.at(err)) == ("expected ';'", (1, 32))


# ---- foreach ----------------------------------------------------------------------
def test_foreach_single_key(stp):
    assert stp.stmt("foreach (k in a) { }") == fe(["k"], Symbol("a"))


def test_foreach_key_tuple(stp):
    assert stp.stmt("foreach ([a, b] in arr) { }") == fe(["a", "b"], Symbol("arr"))


def test_foreach_value_and_key(stp):
    assert stp.stmt("foreach (v = k in a) { }") == fe(["k"], Symbol("a"), value="v")


def test_foreach_value_and_key_tuple(stp):
    assert stp.stmt("foreach (v = [a, b] in arr) { }") == fe(["a", "b"], Symbol("arr"), value="v")


def test_foreach_sort_by_key_ascending(stp):
    assert stp.stmt("foreach (k+ in a) { }") == fe(["k"], Symbol("a"), col=1, direction=1)


def test_foreach_sort_by_second_key_descending(stp):
    assert stp.stmt("foreach ([a, b-] in arr) { }") == fe(["a", "b"], Symbol("arr"), col=2,
                                                         direction=-1)


def test_foreach_sort_by_value_after_array(stp):
    assert stp.stmt("foreach (k in a-) { }") == fe(["k"], Symbol("a"), col=-1, direction=-1)


def test_foreach_sort_by_value_variable(stp):
    assert stp.stmt("foreach (v+ = k in a) { }") == fe(["k"], Symbol("a"), value="v", col=-1,
                                                       direction=1)


def test_foreach_sort_stats_by_aggregate(stp):
    assert stp.stmt("foreach (k in s @count-) { }") == fe(["k"], Symbol("s"), col=-1,
                                                          direction=-1, stat="@count")


def test_foreach_limit(stp):
    assert stp.stmt("foreach (k in a- limit 5) { }") == fe(["k"], Symbol("a"), col=-1,
                                                           direction=-1, limit=Number(5))


def test_foreach_limit_expression(stp):
    assert stp.stmt("foreach (k in a limit n + 1) { }") == fe(
        ["k"], Symbol("a"), limit=Binary("+", Symbol("n"), Number(1)))


def test_foreach_slice(stp):
    assert stp.stmt("foreach ([a, b] in arr[*, 3]) { }") == fe(
        ["a", "b"], Symbol("arr"), slice_=(None, Number(3)))


def test_foreach_slice_with_sort_and_limit(stp):
    assert stp.stmt("foreach ([a, b+] in arr[x, *] limit 2) next") == fe(
        ["a", "b"], Symbol("arr"), slice_=(Symbol("x"), None), col=2, direction=1,
        limit=Number(2), body=Next())


def test_foreach_over_histogram(stp):
    assert stp.stmt("foreach (b in @hist_log(s)) { }") == fe(["b"], Hist("log", Symbol("s")))


@pytest.mark.parametrize("text, message, col", [
    ("foreach ([a-, b+] in x) {}", "multiple sort directives in foreach", 29),
    ("foreach (v- = k in x+) {}", "multiple sort directives in foreach", 35),
    ("foreach (k in x @count) {}", "expected '+' or '-' after the aggregate", 37),
    ("foreach (k in x @variance+) {}", "expected an aggregate (@count, @sum, @min, @max, @avg) to sort by", 31),
    ("foreach (k of x) {}", "expected 'in'", 26),
    ("foreach ([a b] in x) {}", "expected ',' or ']'", 27),
    ("foreach (k in x limit) {}", "expected a value", 36),
    ("foreach (k in 3) {}", "expected an array name or histogram", 29),
])
def test_foreach_errors(stp, text, message, col):
    err = stp.error("probe begin { " + text + " }")
    assert (err.message, stp.at(err)) == (message, (1, col))


# ---- delete ------------------------------------------------------------------------
def test_delete_whole_array_or_scalar(stp):
    assert stp.stmt("delete a") == Delete(Symbol("a"))


def test_delete_element(stp):
    assert stp.stmt("delete a[1, k]") == Delete(Index(Symbol("a"), (Number(1), Symbol("k"))))


def test_delete_wildcard_slice(stp):
    assert stp.stmt("delete a[*, 2]") == Delete(Index(Symbol("a"), (None, Number(2))))


def test_delete_needs_a_target(stp):
    err = stp.error("probe begin { delete }")
    assert (err.message, stp.at(err)) == ("expected a value", (1, 22))


# ---- return -------------------------------------------------------------------------
def test_return_value_in_function(stp):
    (f,) = stp.parse("function f() { return -x; }").items
    assert f.body.body == (Return(Unary("-", Symbol("x"))),)


def test_bare_return_before_brace(stp):
    (f,) = stp.parse("function f() { if (x) return }").items
    assert f.body.body == (If(Symbol("x"), Return(None)),)


# ---- try / catch ---------------------------------------------------------------------
def test_try_catch_without_variable(stp):
    assert stp.stmt("try { x = 1 } catch { x = 2 }") == Try(Block((X1,)), None, Block((X2,)))


def test_try_catch_with_message_variable(stp):
    assert stp.stmt("try { } catch (msg) { }") == Try(Block(()), Symbol("msg"), Block(()))


@pytest.mark.parametrize("text, message, col", [
    ("try { }", "expected 'catch'", 23),
    ("try { } catch (1) { }", "expected a variable name for the error message", 30),
    ("try x = 1 catch { }", "expected '{'", 19),
    ("try { } catch (m { }", "expected ')'", 32),
])
def test_try_errors(stp, text, message, col):
    err = stp.error("probe begin { " + text + " }")
    assert (err.message, stp.at(err)) == (message, (1, col))


# ---- nesting ------------------------------------------------------------------------
def test_deeply_nested_blocks_parse(stp):
    (probe,) = stp.parse("probe begin " + "{" * 400 + "}" * 400).items
    depth, block = 0, probe.body
    while block.body:
        (block,) = block.body
        depth += 1
    assert depth == 399


def test_deeply_nested_expression_parses(stp):
    e = stp.expr("x = " + "(1 + " * 300 + "1" + ")" * 300)
    depth, node = 0, e.value
    while isinstance(node, Binary):
        node, depth = node.right, depth + 1
    assert depth == 300


def test_too_deeply_nested_blocks_is_a_clean_error(stp):
    err = stp.error("probe begin " + "{" * 600 + "}" * 600)
    assert err.message == "statements nested too deeply"
    assert stp.at(err) == (1, 13 + 500)


def test_too_deeply_nested_parentheses_is_a_clean_error(stp):
    err = stp.error("probe begin { x = " + "(" * 5000 + "1" + ")" * 5000 + " }")
    assert err.message == "expressions nested too deeply"
    assert stp.at(err)[0] == 1


def test_too_deeply_nested_unary_is_a_clean_error(stp):
    err = stp.error("probe begin { x = " + "- " * 5000 + "1 }")
    assert err.message == "expressions nested too deeply"
