"""Pass 3: the opcode sequences codegen emits for each construct."""
import pytest

from codegen_support import ops

from ftstap.errors import FtstapError


def test_local_assignment_and_arithmetic():
    assert ops("probe begin { x = 1 + 2 * 3 }") == ["PUSHI", "PUSHI", "PUSHI", "MUL", "ADD", "STI", "RET"]


def test_division_carries_a_location():
    assert ops("probe begin { a = 4; x = a / 2 }") == ["PUSHI", "STI", "LDI", "PUSHI", "DIV", "STI", "RET"]


def test_string_concatenation_and_comparison():
    assert ops('probe begin { s = "a" . "b"; x = s == "ab" }') == [
        "PUSHS", "PUSHS", "CONCAT", "STS", "LDS", "PUSHS", "SEQ", "STI", "RET"]


def test_increment_of_a_local_is_one_instruction():
    assert ops("probe begin { i = 0; i++ }") == ["PUSHI", "STI", "INCLI", "RET"]


def test_array_add_assign_uses_aaddi():
    assert ops("global a; probe begin { a[1] += 5 }") == ["PUSHI", "PUSHI", "AADDI", "RET"]


def test_array_other_compound_assign_reads_modifies_writes():
    assert ops("global a; probe begin { a[1] *= 5 }") == [
        "PUSHI", "AREF", "DUPI", "EGETI", "PUSHI", "MUL", "ESETI", "RET"]


def test_array_increment_in_a_value_context_undoes_post():
    assert ops("global a; probe begin { x = a[1]++ }") == [
        "PUSHI", "PUSHI", "AADDI", "PUSHI", "SUB", "STI", "RET"]


def test_membership_with_and_without_wildcards():
    assert ops("global a; probe begin { a[1,2] = 1; x = [1,2] in a; y = [*,2] in a }") == [
        "PUSHI", "PUSHI", "PUSHI", "ASETI",
        "PUSHI", "PUSHI", "AEXISTS", "STI",
        "PUSHI", "AIN", "STI", "RET"]


def test_if_else_jumps():
    assert ops("probe begin { if (1) x = 1 else x = 2 }") == [
        "PUSHI", "JZ", "PUSHI", "STI", "JMP", "PUSHI", "STI", "RET"]


def test_logical_and_short_circuits():
    assert ops("probe begin { x = 1 && 0 }") == [
        "PUSHI", "JZ", "PUSHI", "JZ", "PUSHI", "JMP", "PUSHI", "STI", "RET"]


def test_while_loop_with_break_and_continue():
    # inverted loop: jump to the test at the bottom, which jumps back while true
    assert ops("probe begin { while (1) { if (0) break; continue } }") == [
        "JMP", "PUSHI", "JZ", "JMP", "JMP", "PUSHI", "JNZ", "RET"]


def test_counted_loop_tests_local_against_constant_in_one_instruction():
    assert ops("probe begin { for (i = 0; i < 10; i++) x = i }") == [
        "PUSHI", "STI", "JMP", "LDI", "STI", "INCLI", "JCMPLI", "RET"]
    assert ops("probe begin { n = 3; for (i = 0; i <= n; i++) x = i }") == [
        "PUSHI", "STI", "PUSHI", "STI", "JMP", "LDI", "STI", "INCLI", "LDI", "LDI", "JLE", "RET"]


def test_foreach_sorted_by_value_with_limit():
    assert ops('global a; probe begin { a[1] = 1; foreach (k in a- limit 2) println(k) }') == [
        "PUSHI", "PUSHI", "ASETI",
        "PUSHI", "FEBEGIN", "FENEXT", "FEKEYI", "STI", "LDI", "PRINTF", "JMP", "RET"]


def test_statistics_add_extract_and_histogram():
    assert ops("global s; probe begin { s <<< 3; x = @count(s); print(@hist_log(s)) }") == [
        "PUSHI", "STADD", "STGET", "STI", "STHIST", "RET"]


def test_print_family_becomes_formats():
    assert ops('probe begin { println("a", 1) }') == ["PUSHS", "PUSHI", "PRINTF", "RET"]
    assert ops('probe begin { s = sprintf("%d", 1) }') == ["PUSHI", "SPRINTF", "STS", "RET"]


def test_try_catch_binds_the_message():
    assert ops('probe begin { try { error("x") } catch (m) { println(m) } }') == [
        "TRY", "PUSHS", "CALLB", "ENDTRY", "JMP", "ERRMSG", "STS", "LDS", "PRINTF", "RET"]


def test_script_function_call_and_return():
    # function 0 is the probe handler, function 1 the script function
    assert ops("function f(a) { return a + 1 } probe begin { x = f(2) }") == ["PUSHI", "CALL", "STI", "RET"]
    assert ops("function f(a) { return a + 1 } probe begin { x = f(2) }", function=1) == [
        "LDI", "PUSHI", "ADD", "RETI", "PUSHI", "RETI"]


def test_delete_forms():
    assert ops("global a; probe begin { a[1,2] = 3; delete a[1,2]; delete a[*,2]; delete a }") == [
        "PUSHI", "PUSHI", "PUSHI", "ASETI", "PUSHI", "PUSHI", "ADEL", "PUSHI", "ADELM", "GCLR", "RET"]


def test_next_statement():
    assert ops("probe begin { next }") == ["NEXT", "RET"]


def test_embedded_c_never_runs():
    with pytest.raises(FtstapError):
        ops("probe begin { x = %{ 1 %} }")
