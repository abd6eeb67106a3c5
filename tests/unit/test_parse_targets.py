"""Pass 1: target variables, @-operators, aggregates and the print family."""
import pytest

from ftstap.lang.ast import (Assign, Binary, Cast, Embedded, Hist, Index, Member as M, Number,
                             Print, Special, Stat, String, Symbol, Target, VarRef)


# ---- target variables --------------------------------------------------------
def test_target_variable(stp):
    assert stp.expr("$fd") == Target("$fd")


def test_target_member_chain(stp):
    assert stp.expr("$var->a->b") == Target("$var", (M("a"), M("b")))


def test_target_array_index(stp):
    assert stp.expr("$var[i]") == Target("$var", (M(index=Symbol("i")),))


def test_target_mixed_members_and_indexes(stp):
    assert stp.expr("$p->a[2]->b") == Target("$p", (M("a"), M(index=Number(2)), M("b")))


def test_target_keyword_member_name(stp):
    assert stp.expr("$q->next->in") == Target("$q", (M("next"), M("in")))


def test_address_of_target(stp):
    assert stp.expr("&$x") == Target("$x", addr=True)
    assert stp.expr("&$x->y") == Target("$x", (M("y"),), addr=True)


def test_pretty_print_target(stp):
    assert stp.expr("$var$") == Target("$var", suffix="$")
    assert stp.expr("$var$$") == Target("$var", suffix="$$")


def test_pretty_print_after_member(stp):
    # stap reads `$p->comm$` as member `comm` printed pretty, not a member `comm$`.
    assert stp.expr("$prev->comm$") == Target("$prev", (M("comm"),), suffix="$")
    assert stp.expr("$a->b->c$$") == Target("$a", (M("b"), M("c")), suffix="$$")


def test_pretty_print_of_pointed_to_struct(stp):
    assert stp.expr("$p->$") == Target("$p", suffix="$")


def test_malformed_member_pretty_print_is_an_error(stp):
    err = stp.error("probe begin { $a->b$$$ }")
    assert err.message == "expected a field name after '->'"
    assert stp.at(err) == (1, 19)


@pytest.mark.parametrize("name", ["$$vars", "$$parms", "$$locals", "$$return", "$return"])
def test_context_variables(stp, name):
    assert stp.expr(name) == Target(name)


def test_context_variables_pretty(stp):
    assert stp.expr("$$vars$") == Target("$$vars", suffix="$")
    assert stp.expr("$$locals$$") == Target("$$locals", suffix="$$")


def test_lone_dollar_is_malformed(stp):
    err = stp.error("probe begin { x = $ }")
    assert (err.message, stp.at(err)) == ("malformed target variable", (1, 19))


def test_member_must_be_a_name(stp):
    err = stp.error("probe begin { $a->1 }")
    assert (err.message, stp.at(err)) == ("expected a field name after '->'", (1, 19))


def test_autocast_member_on_any_value(stp):
    assert stp.expr("(a + b)->c") == Target(Binary("+", Symbol("a"), Symbol("b")), (M("c"),))
    assert stp.expr("x->y[1]") == Target(Symbol("x"), (M("y"), M(index=Number(1))))


def test_autocast_needs_compatible_2_6(stp):
    err = stp.error("probe begin { x = p->y }", compatible="2.5")
    assert err.message == "expected a value"


# ---- @-operators --------------------------------------------------------------
def test_entry(stp):
    assert stp.expr("@entry($a)") == Special("@entry", (Target("$a"),))


def test_defined(stp):
    assert stp.expr("@defined($x->y)") == Special("@defined", (Target("$x", (M("y"),)),))


def test_cast(stp):
    assert stp.expr('@cast(p, "task_struct")->pid') == Target(Cast(Symbol("p"), "task_struct"),
                                                             (M("pid"),))


def test_cast_with_module_and_glued_type(stp):
    assert stp.expr('@cast(p, "struct " "sock", "kernel")') == Cast(Symbol("p"), "struct sock",
                                                                    "kernel")


def test_cast_needs_a_type(stp):
    err = stp.error("probe begin { @cast(p) }")
    assert (err.message, stp.at(err)) == ("expected ','", (1, 22))


def test_var(stp):
    assert stp.expr('@var("jiffies@kernel/time.c", "kernel")') == VarRef("jiffies@kernel/time.c",
                                                                         "kernel")
    assert stp.expr('@var("x")->y') == Target(VarRef("x"), (M("y"),))


def test_var_needs_a_literal(stp):
    err = stp.error("probe begin { @var(x) }")
    assert (err.message, stp.at(err)) == ("expected a literal string naming the variable", (1, 20))


def test_probewrite(stp):
    assert stp.expr("@probewrite(x)") == Special("@probewrite", (Symbol("x"),))


def test_const(stp):
    assert stp.expr('@const("O_RDONLY")') == Special("@const", (String("O_RDONLY"),))


def test_perf(stp):
    assert stp.expr('@perf("cycles")') == Special("@perf", (String("cycles"),))


def test_perf_needs_a_name(stp):
    err = stp.error('probe begin { @perf("") }')
    assert (err.message, stp.at(err)) == ("'@perf' needs a non-empty name", (1, 15))


@pytest.mark.parametrize("text, node", [
    ("@kregister(0)", Special("@kregister", (Number(0),))),
    ("@uregister(7)", Special("@uregister", (Number(7),))),
    ("@kderef(4, p)", Special("@kderef", (Number(4), Symbol("p")))),
    ("@uderef(8, p + 1)", Special("@uderef", (Number(8), Binary("+", Symbol("p"), Number(1))))),
])
def test_guru_register_and_deref_operators(stp, text, node):
    assert stp.expr(text, guru=True) == node
    err = stp.error(f"probe begin {{ x = {text} }}")
    assert err.message == f"'{text.split('(')[0]}' is only allowed in guru mode (-g)"
    assert stp.at(err) == (1, 19)


def test_unknown_at_operator(stp):
    err = stp.error("probe begin { x = @nosuch(1) }")
    assert (err.message, stp.at(err)) == ("unknown macro or operator '@nosuch'", (1, 19))
    assert err.kind == "preprocessor error"


# ---- aggregates ---------------------------------------------------------------
def test_aggregate_append(stp):
    assert stp.expr("s <<< 5") == Assign("<<<", Symbol("s"), Number(5))
    assert stp.expr("a[k] <<< v") == Assign("<<<", Index(Symbol("a"), (Symbol("k"),)), Symbol("v"))


@pytest.mark.parametrize("op", ["@count", "@sum", "@min", "@max", "@avg", "@variance"])
def test_stat_extractors(stp, op):
    assert stp.expr(f"{op}(s)") == Stat(op, Symbol("s"))


def test_stat_of_array_element(stp):
    assert stp.expr("@sum(a[1, x])") == Stat("@sum", Index(Symbol("a"), (Number(1), Symbol("x"))))


def test_variance_with_shift(stp):
    assert stp.expr("@variance(s, 3)") == Stat("@variance", Symbol("s"), (3,))


def test_variance_shift_must_be_a_number(stp):
    err = stp.error("probe begin { @variance(s, x) }")
    assert (err.message, stp.at(err)) == ("expected a number", (1, 28))


def test_hist_log(stp):
    assert stp.expr("@hist_log(s)") == Hist("log", Symbol("s"))


def test_hist_linear(stp):
    assert stp.expr("@hist_linear(a[k], 0, 1000, 50)") == Hist(
        "linear", Index(Symbol("a"), (Symbol("k"),)), (Number(0), Number(1000), Number(50)))


def test_hist_linear_needs_three_parameters(stp):
    err = stp.error("probe begin { @hist_linear(s, 1, 2) }")
    assert (err.message, stp.at(err)) == ("expected ','", (1, 35))


def test_histogram_bucket_index(stp):
    assert stp.expr("@hist_log(s)[3]") == Index(Hist("log", Symbol("s")), (Number(3),))
    assert stp.expr("@hist_linear(s, 0, 10, 1)[i]") == Index(
        Hist("linear", Symbol("s"), (Number(0), Number(10), Number(1))), (Symbol("i"),))


# ---- print family ---------------------------------------------------------------
def test_print(stp):
    assert stp.expr("print(x, 1)") == Print("print", None, (Symbol("x"), Number(1)))


def test_println_without_arguments(stp):
    assert stp.expr("println()") == Print("println", None, ())


def test_printf_format_glued(stp):
    assert stp.expr('printf("%d" "\\n", x)') == Print("printf", "%d\\n", (Symbol("x"),))


def test_printf_format_only(stp):
    assert stp.expr('printf("hi\\n")') == Print("printf", "hi\\n", ())


@pytest.mark.parametrize("name", ["printd", "printdln", "sprintd", "sprintdln"])
def test_printd_family_delimiter(stp, name):
    assert stp.expr(f'{name}(",", a, b)') == Print(name, ",", (Symbol("a"), Symbol("b")))


@pytest.mark.parametrize("name", ["sprint", "sprintln"])
def test_sprint(stp, name):
    assert stp.expr(f"x = {name}(a)") == Assign("=", Symbol("x"), Print(name, None, (Symbol("a"),)))


def test_sprintf(stp):
    assert stp.expr('x = sprintf("%s-%d", a, 2)') == Assign(
        "=", Symbol("x"), Print("sprintf", "%s-%d", (Symbol("a"), Number(2))))


def test_print_of_histogram(stp):
    assert stp.expr("print(@hist_log(s))") == Print("print", None, (Hist("log", Symbol("s")),))


@pytest.mark.parametrize("text, message, col", [
    ("print()", "'print' needs at least one value", 15),
    ("printf(x)", "expected a literal string as the format", 22),
    ("printd(x, 1, 2)", "expected a literal string as the delimiter", 22),
    ('printd(",", 1)', "'printd' needs a delimiter and at least two values to join", 15),
    ('printf("%d" 1)', "expected ',' or ')'", 27),
])
def test_print_family_errors(stp, text, message, col):
    err = stp.error("probe begin { " + text + " }")
    assert (err.message, stp.at(err)) == (message, (1, col))


# ---- embedded C -------------------------------------------------------------------
def test_embedded_expression_in_guru_mode(stp):
    assert stp.expr("x = %{ jiffies %}", guru=True) == Assign("=", Symbol("x"), Embedded(" jiffies "))


def test_embedded_expression_needs_guru_mode(stp):
    err = stp.error("probe begin {\n  x = %{ 1 %}\n}")
    assert (err.message, stp.at(err)) == ("embedded code is only allowed in guru mode (-g)", (2, 7))


def test_embedded_expression_allowed_in_tapsets(stp):
    assert stp.expr("x = %{ 1 %}", privileged=True) == Assign("=", Symbol("x"), Embedded(" 1 "))
