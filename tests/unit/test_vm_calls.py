"""Calls, recursion and MAXNESTING, MAXACTION, try/catch, next, exit(),
probe order, MAXERRORS and --suppress-handler-errors."""
from test_vm_asm import asm, begin, probe, run
from ftstap.image.builder import ImageBuilder


def fib_program(n, defines=None):
    b = ImageBuilder()
    loc = b.location("f.stp", 2, 3, "identifier 'fib'")
    fib = b.function("fib", "i", "i")
    asm(fib, """
        LDI 0
        PUSHI 2
        JGE rec
        LDI 0
        RETI
    rec:
        LDI 0
        PUSHI 1
        SUB
        CALL fib L
        LDI 0
        PUSHI 2
        SUB
        CALL fib L
        ADD
        RETI
    """, L=loc)
    probe(b, "begin", f"PUSHI {n}\nCALL fib L\nPRINTI", L=loc)
    return run(b, defines)


def test_recursion():
    assert fib_program(10) == (0, "55", "")


def test_maxnesting():
    st, out, err = fib_program(12)     # depth 11 > MAXNESTING 10
    assert st == 1
    assert err.startswith("ERROR: MAXNESTING exceeded near identifier 'fib' at f.stp:2:3\n")
    assert fib_program(12, {"MAXNESTING": 20})[1] == "144"


def test_string_function_and_args():
    b = ImageBuilder()
    f = b.function("greet", "s", "si")
    asm(f, 'PUSHS "hi "\nLDS 0\nCONCAT\nLDI 1\nITOS\nCONCAT\nRETS')
    probe(b, "begin", 'PUSHS "bob"\nPUSHI 3\nCALL greet -\nPRINTS')
    assert run(b) == (0, "hi bob3", "")


def test_maxaction():
    b = ImageBuilder()
    loc = b.location("a.stp", 1, 20, "keyword 'while'")
    probe(b, "begin", "top:\nACTION 1 L\nJMP top", L=loc)
    probe(b, "end", 'PUSHS "end"\nPRINTS')
    st, out, err = run(b)
    assert st == 1 and out == ""
    assert err.startswith("ERROR: MAXACTION exceeded near keyword 'while' at a.stp:1:20\n")


def test_maxaction_counts_per_handler_run():
    b = ImageBuilder()
    probe(b, "begin", "ACTION 600 -")
    probe(b, "begin", "ACTION 600 -\nPUSHS \"ok\"\nPRINTS")
    assert run(b) == (0, "ok", "")
    b = ImageBuilder()
    probe(b, "begin", "ACTION 600 -\nACTION 600 -")
    assert run(b, {"MAXACTION": 1200})[0] == 0


def test_try_catch_with_message_across_frames():
    b = ImageBuilder()
    f = b.function("boom", "i", "")
    asm(f, "PUSHI 1\nPUSHI 0\nDIV -\nRETI")
    probe(b, "begin", """
        PUSHI 99            # left on the stack: the catch sees the stack as at TRY
        TRY caught
        CALL boom -
        PRINTI
        ENDTRY
        JMP done
    caught:
        ERRMSG
        STS l0
        PUSHS "caught: "
        LDS l0
        CONCAT
        PRINTS
    done:
        PRINTI
    """, locals_="s")
    assert run(b) == (0, "caught: division by zero99", "")


def test_try_catch_error_builtin_and_nested():
    st, out, err = begin("""
        TRY outer
        TRY inner
        PUSHS "first"
        CALLB error -
        ENDTRY
    inner:
        ERRMSG
        PRINTS
        PUSHS "second"
        CALLB error -
        ENDTRY
        JMP done
    outer:
        PUSHS "/"
        PRINTS
        ERRMSG
        PRINTS
    done:
    """)
    assert (st, out, err) == (0, "first/second", "")


def test_maxaction_is_not_catchable():
    st, out, err = begin("TRY c\ntop:\nACTION 1 -\nJMP top\nc:\nPUSHS \"caught\"\nPRINTS")
    assert st == 1 and "MAXACTION exceeded" in err and out == ""


def test_next_leaves_the_handler_from_a_function():
    b = ImageBuilder()
    f = b.function("leave", "v", "")
    asm(f, "NEXT")
    probe(b, "begin", 'PUSHS "a"\nPRINTS\nCALL leave -\nPUSHS "b"\nPRINTS')
    probe(b, "begin", 'PUSHS "c"\nPRINTS', priority=1)
    assert run(b) == (0, "ac", "")


def test_probe_order_by_priority():
    b = ImageBuilder()
    probe(b, "end", 'PUSHS "end0 "\nPRINTS')
    probe(b, "begin", 'PUSHS "b5 "\nPRINTS', priority=5)
    probe(b, "begin", 'PUSHS "b-1 "\nPRINTS', priority=-1)
    probe(b, "begin", 'PUSHS "b0 "\nPRINTS')
    probe(b, "end", 'PUSHS "end-3 "\nPRINTS', priority=-3)
    probe(b, "begin", 'PUSHS "b0second "\nPRINTS')
    assert run(b) == (0, "b-1 b0 b0second b5 end-3 end0 ", "")


def test_exit_finishes_the_handler_then_runs_end():
    b = ImageBuilder()
    probe(b, "begin", 'CALLB exit -\nPUSHS "still "\nPRINTS')
    probe(b, "begin", 'PUSHS "second begin "\nPRINTS', priority=1)
    probe(b, "end", 'PUSHS "end"\nPRINTS')
    probe(b, "timer", 'PUSHS "timer"\nPRINTS', interval_ns=1_000_000)
    # begin probes all run (stap runs every begin probe); no timer fires after exit()
    assert run(b) == (0, "still second begin end", "")


def test_maxerrors_lets_the_session_continue():
    b = ImageBuilder()
    probe(b, "begin", 'PUSHS "x"\nCALLB error -')
    probe(b, "begin", 'PUSHS "y"\nCALLB error -')
    probe(b, "end", 'PUSHS "end"\nPRINTS')
    st, out, err = run(b, {"MAXERRORS": 5})
    assert (st, out) == (1, "end")
    assert err == "ERROR: x\nERROR: y\nWARNING: Number of errors: 2, skipped probes: 0\n"
    # the default MAXERRORS 0: the first error ends it; later begin probes are skipped
    st, out, err = run(b)
    assert (st, out, err) == (1, "", "ERROR: x\nWARNING: Number of errors: 1, skipped probes: 0\n")


def test_suppress_handler_errors():
    b = ImageBuilder()
    probe(b, "begin", 'PUSHS "x"\nCALLB error -')
    probe(b, "end", 'PUSHS "end"\nPRINTS')
    assert run(b, suppress_handler_errors=True) == (0, "end", "")
