"""Arithmetic, strings and builtins, run through the VM with exact output."""
import pytest

from test_vm_asm import begin
from ftstap.image.builder import ImageBuilder

INT64_MIN = -(1 << 63)


def calc(a, b, op):
    st, out, err = begin(f"PUSHI {a}\nPUSHI {b}\n{op}\nPRINTI")
    assert (st, err) == (0, ""), err
    return int(out)


@pytest.mark.parametrize("a,b,op,want", [
    (7, 3, "ADD", 10), (7, 3, "SUB", 4), (7, 3, "MUL", 21),
    (7, 2, "DIV -", 3), (-7, 2, "DIV -", -3), (-7, 2, "MOD -", -1), (7, -2, "MOD -", 1),
    ((1 << 63) - 1, 1, "ADD", INT64_MIN),                 # wraps
    (INT64_MIN, -1, "DIV -", INT64_MIN), (INT64_MIN, -1, "MOD -", 0),
    (1, 63, "SHL", INT64_MIN), (1, 64, "SHL", 1),         # count taken mod 64
    (-16, 2, "SHR", -4), (-16, 60, "SHRL", 15),
    (12, 10, "BAND", 8), (12, 10, "BOR", 14), (12, 10, "BXOR", 6),
    (3, 3, "EQ", 1), (3, 4, "NE", 1), (3, 4, "LT", 1), (4, 4, "LE", 1), (3, 4, "GT", 0), (4, 4, "GE", 1),
])
def test_integer_ops(a, b, op, want):
    assert calc(a, b, op) == want


def test_unary():
    assert begin("PUSHI 5\nNEG\nPRINTI\nPUSHI 0\nNOT\nPRINTI\nPUSHI 0\nBNOT\nPRINTI")[1] == "-51-1"


def test_division_by_zero_reports_like_stap_and_ends_the_session():
    b = ImageBuilder()
    loc = b.location("div.stp", 3, 9, "operator '/'")
    from test_vm_asm import probe, run
    probe(b, "begin", 'PUSHS "before\\n"\nPRINTS\nPUSHI 1\nPUSHI 0\nDIV L\nPRINTI', L=loc)
    probe(b, "end", 'PUSHS "end\\n"\nPRINTS')
    probe(b, "error", 'PUSHS "error probe\\n"\nPRINTS')
    st, out, err = run(b)
    assert st == 1
    assert out == "before\nerror probe\n"       # end probes are skipped after errors
    assert err == ("ERROR: division by zero near operator '/' at div.stp:3:9\n"
                   "WARNING: Number of errors: 1, skipped probes: 0\n")


def test_modulo_by_zero():
    st, out, err = begin("PUSHI 1\nPUSHI 0\nMOD -\nPRINTI")
    assert st == 1 and err.startswith("ERROR: division by zero\n")


def test_strings_compare_and_concat():
    st, out, err = begin('PUSHS "ab"\nPUSHS "b"\nSLT\nPRINTI\nPUSHS "b"\nPUSHS "b"\nSEQ\nPRINTI\n'
                         'PUSHS "x"\nPUSHS "y"\nCONCAT\nPUSHI -42\nITOS\nCONCAT\nPRINTS')
    assert out == "11xy-42"


def test_strings_truncate_at_maxstringlen():
    # MAXSTRINGLEN 8 keeps 7 bytes, in constants, concatenation and sprintf
    st, out, err = begin('PUSHS "abcdefghij"\nPRINTS\nPUSHS "\\n"\nPRINTS\n'
                         'PUSHS "abcde"\nPUSHS "fghij"\nCONCAT\nPRINTS\nPUSHS "\\n"\nPRINTS\n'
                         'PUSHI 123456789\nSPRINTF "%d"\nPRINTS', defines={"MAXSTRINGLEN": 8})
    assert out == "abcdefg\nabcdefg\n1234567"


def test_locals_and_a_loop():
    # for (i = 0; i < 5; i++) s = s . sprint(i)
    st, out, err = begin("""
        PUSHI 0
        STI l0
    top:
        LDI l0
        PUSHI 5
        JGE done
        LDS l1
        LDI l0
        ITOS
        CONCAT
        STS l1
        INCLI l0 1
        JMP top
    done:
        LDS l1
        PRINTS
    """, locals_="is")
    assert out == "01234"


def test_scalar_globals_and_init():
    b = ImageBuilder()
    b.add_global("n", "i", init=5)
    b.add_global("s", "s", init="hello")
    from test_vm_asm import probe, run
    probe(b, "begin", 'LDGI n\nPUSHI 1\nADD\nSTGI n\nLDGI n\nPRINTI\nLDGS s\nPUSHS "!"\nCONCAT\nSTGS s\nLDGS s\nPRINTS')
    assert run(b) == (0, "6hello!", "")


def test_printf_and_sprintf():
    st, out, err = begin('PUSHI 255\nPUSHS "x"\nPUSHI 7\nPRINTF "%#x|%-3s|%5d\\n"\n'
                         'PUSHS "a"\nPUSHI 2\nSPRINTF "%s=%d"\nPRINTS')
    assert out == "0xff|x  |    7\na=2"


def b_call(name, *args):
    """Push args (int or str), call builtin name, print its result."""
    lines = []
    for a in args:
        lines.append(f'PUSHS "{a}"' if isinstance(a, str) else f"PUSHI {a}")
    from ftstap.image import isa
    ret = isa.builtin(name).ret
    lines.append(f"CALLB {name} -")
    lines.append({"i": "PRINTI", "s": "PRINTS", "v": "NOP"}[ret])
    st, out, err = begin("\n".join(lines))
    assert err == "" or name in ("warn", "error"), err
    return out


def test_string_builtins():
    assert b_call("strlen", "hello") == "5"
    assert b_call("substr", "hello world", 6, 3) == "wor"
    assert b_call("substr", "hello", 3, 100) == "lo"
    assert b_call("substr", "hello", 9, 1) == ""
    assert b_call("isinstr", "hello", "ll") == "1"
    assert b_call("isinstr", "hello", "x") == "0"
    assert b_call("str_replace", "a-b-c", "-", "+=") == "a+=b+=c"
    assert b_call("strtol", "ff", 16) == "255"
    assert b_call("strtol", "-12", 10) == "-12"
    assert b_call("stringat", "abc", 1) == "98"
    assert b_call("text_str", "a\\tb\\n") == "a\\tb\\n"
    assert b_call("string_quoted", "a\\tb") == '"a\\tb"'
    assert b_call("str_upper", "aBc") == "ABC"
    assert b_call("isdigit", "7x") == "1"


def test_tokenize_keeps_state():
    st, out, err = begin('PUSHS "a,b,,c"\nPUSHS ","\nCALLB tokenize -\nPRINTS\n'
                         'PUSHS ""\nPUSHS ","\nCALLB tokenize -\nPRINTS\n'
                         'PUSHS ""\nPUSHS ","\nCALLB tokenize -\nPRINTS\n'
                         'PUSHS ""\nPUSHS ","\nCALLB tokenize -\nPRINTS')
    assert out == "abc"


def test_context_builtins_for_begin_are_this_process():
    import os
    st, out, err = begin('CALLB pid -\nPRINTI\nPUSHS " "\nPRINTS\nCALLB execname -\nPRINTS')
    pid, comm = out.split(" ")
    assert int(pid) == os.getpid() and comm and len(comm) <= 15


def test_warn_and_log():
    st, out, err = begin('PUSHS "careful"\nCALLB warn -\nPUSHS "logged"\nCALLB log -')
    assert (st, out, err) == (0, "logged\n", "WARNING: careful\n")


def test_error_builtin():
    b = ImageBuilder()
    from test_vm_asm import probe, run
    loc = b.location("<input>", 1, 15, "identifier 'error'")
    probe(b, "begin", 'PUSHS "oops"\nCALLB error L\nPUSHS "not reached"\nPRINTS', L=loc)
    st, out, err = run(b)
    assert st == 1 and out == ""
    assert err.splitlines()[0] == "ERROR: oops near identifier 'error' at <input>:1:15"
